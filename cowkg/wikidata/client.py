"""The Wikidata client: the only code in cowkg that talks to the network.

Stage: used by ``reconcile``, ``check`` and the QuickStatements export. Speaks to three
services, each at a configurable URL (settings ``wikidata_api``, ``wikidata_entitydata``,
``wikidata_sparql``; tests point them at a local replay server):

* the Action API: ``wbsearchentities`` (candidates by label and alias) and ``wbgetentities``
  (entities, at most 50 IDs per request, redirects followed and reported, missing IDs reported);
* ``Special:EntityData/<id>.json`` (one entity; a redirected ID answers with its target);
* the Query Service (SPARQL 1.1, results as JSON).

Manners, as Wikimedia asks: a descriptive User-Agent with a contact, ``maxlag`` on every Action
API call, and retries with backoff on 429/503/maxlag that honour ``Retry-After``.

Distrust, as a client of any remote service should: each HTTP exchange has ONE deadline
(``wikidata_timeout`` for the whole answer, not per read: a server dripping a byte every few
seconds is cut off), the decompressed answer is capped (``MAX_ANSWER_BYTES``: a gzip bomb is
stopped after that many bytes, not expanded), and every answer is checked against the shape its
API documents before it is used or cached — a malformed answer is an error (``WikidataError``),
never "entity deleted", and is never cached. Answers are
cached on disk (``DiskCache``); when Wikidata cannot be reached the client falls back to cached
answers of any age and says so in ``notices``; with nothing cached it raises BackendUnavailable
(exit code 4, HTTP 502) naming the URL and the last failure.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import requests
import urllib3

from .. import __version__
from ..errors import BackendUnavailable, InputError
from ..vocab import BASE
from .cache import CacheEntry, DiskCache
from .model import Entity, is_entity_id

log = logging.getLogger(__name__)

BATCH_SIZE = 50  # wbgetentities refuses more than 50 IDs per request for ordinary clients
#: Largest (decompressed) answer read from Wikidata: 50 full entities are ~5 MB.
MAX_ANSWER_BYTES = 32 << 20
ENTITY_PROPS = ("labels", "descriptions", "aliases", "claims")
_INVALID_ID_RE = re.compile(r"Invalid id: ([^)\s]+)")


class WikidataError(BackendUnavailable):
    """Wikidata answered, but not with something usable (an API error, an unexpected status)."""

    kind = "wikidata-error"


@dataclass
class SearchHit:
    """One ``wbsearchentities`` result."""

    id: str
    label: str
    description: str
    match_type: str
    match_text: str
    aliases: list[str] = field(default_factory=list)


@dataclass
class EntityBatch:
    """Entities keyed by the ID asked for, plus what happened to the others.

    ``redirects`` maps an asked-for ID to the ID it now redirects to (its entity is the target's);
    ``missing`` lists IDs that do not exist (deleted, never created, or malformed).
    """

    entities: dict[str, Entity] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def get(self, qid: str) -> Entity | None:
        return self.entities.get(qid)


def user_agent(contact: str) -> str:
    """``cowkg-bot/<version> (<contact>) python-requests/<version>``: the form Wikimedia's policy asks for."""
    return f"cowkg-bot/{__version__} ({contact}; Coalition of the Willing knowledge graph) " \
           f"python-requests/{requests.__version__}"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _Retry(Exception):
    """Internal: this attempt failed in a way worth retrying."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class WikidataClient:
    """A polite, caching client for the Wikidata Action API, Special:EntityData and WDQS.

    ``offline=True`` never touches the network (cached answers of any age, else
    BackendUnavailable). ``sleep`` and ``backoff`` are injectable so tests run fast and can
    check the waits the client chose.
    """

    def __init__(self, *, api_url: str, entitydata_url: str, sparql_url: str, cache: DiskCache | None = None,
                 timeout: float = 20.0, retries: int = 4, maxlag: int = 5, max_wait: float = 60.0,
                 contact: str = BASE, backoff: float = 1.0, offline: bool = False,
                 session: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.api_url = api_url
        self.entitydata_url = entitydata_url if entitydata_url.endswith("/") else entitydata_url + "/"
        self.sparql_url = sparql_url
        self.cache = cache
        self.timeout = timeout
        self.retries = retries
        self.maxlag = maxlag
        self.max_wait = max_wait
        self.backoff = backoff
        self.offline = offline
        self.sleep = sleep
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent(contact)
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.notices: list[str] = []
        self.requests_made = 0

    @classmethod
    def from_settings(cls, cfg: dict[str, Any], *, offline: bool = False, **kwargs) -> WikidataClient:
        """A client configured from the settings registry (``wikidata_*``)."""
        cache = DiskCache(cfg["wikidata_cache_dir"], cfg["wikidata_cache_ttl"]) if cfg["wikidata_cache_dir"] else None
        return cls(api_url=cfg["wikidata_api"], entitydata_url=cfg["wikidata_entitydata"],
                   sparql_url=cfg["wikidata_sparql"], cache=cache, timeout=cfg["wikidata_timeout"],
                   retries=cfg["wikidata_retries"], maxlag=cfg["wikidata_maxlag"],
                   max_wait=cfg["wikidata_max_wait"], contact=cfg["wikidata_contact"], offline=offline, **kwargs)

    def close(self) -> None:
        """Close the HTTP connections this client keeps open."""
        self.session.close()

    def __enter__(self) -> WikidataClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def notice(self, message: str) -> None:
        """Record something the user should know (a redirect, a missing ID, cached answers used)."""
        if message not in self.notices:
            self.notices.append(message)
            log.info(message)

    # -- transport --------------------------------------------------------------------------

    def _attempt(self, method: str, url: str, params: dict | None, data: dict | None,
                 headers: dict | None, api: bool) -> Any:
        self.requests_made += 1
        deadline = time.monotonic() + self.timeout
        try:
            resp = self.session.request(method, url, params=params, data=data, headers=headers, timeout=self.timeout,
                                        stream=True)
            body = _read_within(resp, deadline, MAX_ANSWER_BYTES, url)
        except requests.Timeout:
            raise _Retry(f"no answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise _Retry(f"connection failed ({type(exc).__name__}: {_short(exc)})") from None
        status = resp.status_code
        if status == 404 and not api:
            return None  # Special:EntityData answers 404 for an ID that does not exist
        if status == 429 or status >= 500:
            wait = parse_retry_after(resp.headers.get("Retry-After"))
            raise _Retry(f"HTTP {status} {resp.reason or ''}".strip(), wait)
        if status >= 400:
            snippet = body[:200].decode("utf-8", "replace").strip().replace("\n", " ")
            if url == self.sparql_url and status == 400:
                raise InputError(f"the Wikidata Query Service rejected the query: {snippet}")
            raise WikidataError(f"Wikidata refused the request: HTTP {status} from {url}: {snippet}")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _Retry(f"malformed JSON from {url} (HTTP {status}, {len(body)} bytes)") from None
        if api and isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            err = payload["error"]
            if err.get("code") == "maxlag":
                wait = parse_retry_after(resp.headers.get("Retry-After"))
                if wait is None:
                    try:
                        wait = max(1.0, float(err.get("lag", 5)))
                    except (TypeError, ValueError):
                        wait = 5.0
                raise _Retry(f"Wikidata is lagging (maxlag): {err.get('info', '')}".strip(), wait)
        return payload

    def _request(self, method: str, url: str, *, params: dict | None = None, data: dict | None = None,
                 headers: dict | None = None, api: bool = False, what: str = "") -> Any:
        """One logical request, retried. Raises BackendUnavailable once the retries are spent."""
        if self.offline:
            raise _offline_miss(what or url)
        last = "no attempt made"
        for attempt in range(self.retries + 1):
            try:
                return self._attempt(method, url, params, data, headers, api)
            except _Retry as retry:
                last = retry.reason
                if attempt == self.retries:
                    break
                wait = retry.wait if retry.wait is not None else self.backoff * (2 ** attempt)
                if wait > self.max_wait:
                    last += f"; asked to wait {wait:g} s, more than wikidata_max_wait ({self.max_wait:g} s)"
                    break
                log.info("Wikidata: %s; retrying in %.1f s", last, wait)
                self.sleep(wait)
        raise BackendUnavailable(f"Wikidata is unreachable: {last} ({url})",
                                 hint="check the network or the wikidata_* settings; answers already in the "
                                      "cache are used when Wikidata cannot be reached",
                                 details={"url": url})

    def _cached(self, key: str, what: str, fetch: Callable[[], Any]) -> Any:
        """A fresh cached value, else ``fetch()`` (stored), else a stale cached value with a notice.

        Offline, a stale value is used without trying ``fetch``; with none, BackendUnavailable.
        """
        if self.cache is not None:
            entry = self.cache.get(key)
            if entry is not None:
                return entry.value
        if self.offline:
            stale = self.cache.get(key, allow_stale=True) if self.cache is not None else None
            if stale is None:
                raise _offline_miss(what)
            self.notice(f"offline: {what} answered from the cache, {self._age(stale)} old{self._past_ttl()}")
            return stale.value
        try:
            value = fetch()
        except BackendUnavailable as exc:
            if isinstance(exc, WikidataError) or self.cache is None:
                raise
            stale = self.cache.get(key, allow_stale=True)
            if stale is None:
                raise
            self.notice(f"{exc.message}; using the cached answer, {self._age(stale)} old")
            return stale.value
        if self.cache is not None:
            self.cache.put(key, value)
        return value

    def _age(self, entry: CacheEntry) -> str:
        """How old a cache entry is, by the cache's own clock."""
        assert self.cache is not None
        return _age(entry.age(self.cache.clock()))

    def _past_ttl(self) -> str:
        return f" (older than wikidata_cache_ttl, {_age(self.cache.ttl)})" if self.cache is not None else ""

    def _api(self, params: dict[str, Any], what: str) -> dict[str, Any]:
        full = {**params, "format": "json", "maxlag": self.maxlag}
        payload = self._request("GET", self.api_url, params=full, api=True, what=what)
        if not isinstance(payload, dict):
            raise WikidataError(f"unexpected answer to {what}: not a JSON object")
        if "error" in payload and not isinstance(payload["error"], dict):
            raise WikidataError(f"unexpected answer to {what}: 'error' is not an object")
        return payload

    # -- wbsearchentities -------------------------------------------------------------------

    def search(self, text: str, *, language: str = "en", limit: int = 7) -> list[SearchHit]:
        """Items whose label or alias starts with ``text`` (Wikidata's own ranking). Empty list when none."""
        text = text.strip()
        if not text:
            return []

        def fetch():
            payload = self._api({"action": "wbsearchentities", "search": text, "language": language,
                                 "uselang": language, "type": "item", "limit": limit}, f"search {text!r}")
            if "error" in payload:
                raise WikidataError(f"search {text!r} failed: {payload['error'].get('info', payload['error'])}")
            hits = payload.get("search", [])
            if not isinstance(hits, list) or not all(_is_search_hit(h) for h in hits):
                raise WikidataError(f"search {text!r}: the answer is not a list of search results")
            return hits

        hits = self._cached(f"search|{language}|{limit}|{text}", f"search {text!r}", fetch)
        out = []
        for h in hits:
            if not is_entity_id(h.get("id", "")):
                continue
            match = h.get("match") or {}
            out.append(SearchHit(h["id"], h.get("label", ""), h.get("description", ""),
                                 match.get("type", ""), match.get("text", ""), list(h.get("aliases", []))))
        return out

    # -- wbgetentities ----------------------------------------------------------------------

    def get_entities(self, ids: Iterable[str], *, props: tuple[str, ...] = ENTITY_PROPS,
                     report: bool = True) -> EntityBatch:
        """Fetch entities, 50 per request. Redirects are followed (and noted), missing IDs listed.

        ``report=False`` keeps redirects and missing IDs out of ``notices`` (for label look-ups).

        Raises BackendUnavailable when Wikidata cannot be reached and an ID is not cached.
        """
        wanted = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
        batch = EntityBatch()
        todo = []
        prop_key = "|".join(props)
        for qid in wanted:
            if not is_entity_id(qid):
                batch.missing.append(qid)
                self.notice(f"{qid!r} is not a Wikidata ID")
                continue
            entry = self.cache.get(f"entity|{prop_key}|{qid}") if self.cache else None
            if entry is not None:
                self._record(batch, qid, entry.value, report)
            else:
                todo.append(qid)
        if self.offline and todo:
            results = self._offline_entities(todo, prop_key)
            for qid in todo:
                self._record(batch, qid, results[qid], report)
            return batch
        for start in range(0, len(todo), BATCH_SIZE):
            chunk = todo[start:start + BATCH_SIZE]
            try:
                results = self._fetch_chunk(chunk, props)
            except BackendUnavailable as exc:
                if isinstance(exc, WikidataError) or self.cache is None:
                    raise
                stale = {q: self.cache.get(f"entity|{prop_key}|{q}", allow_stale=True) for q in chunk}
                if any(v is None for v in stale.values()):
                    raise
                oldest = max(stale.values(), key=lambda v: v.age(self.cache.clock()))
                self.notice(f"{exc.message}; using cached entities (up to {self._age(oldest)} old)")
                results = {q: v.value for q, v in stale.items()}
            else:
                if self.cache is not None:
                    for qid, rec in results.items():
                        self.cache.put(f"entity|{prop_key}|{qid}", rec)
            for qid, rec in results.items():
                self._record(batch, qid, rec, report)
        return batch

    def _offline_entities(self, ids: list[str], prop_key: str) -> dict[str, dict[str, Any]]:
        """Stale cached records for ``ids`` (with a notice saying so); BackendUnavailable naming any not cached."""
        stale = {q: self.cache.get(f"entity|{prop_key}|{q}", allow_stale=True) if self.cache else None for q in ids}
        missing = [q for q, v in stale.items() if v is None]
        if missing:
            raise _offline_miss(", ".join(missing), plural=len(missing) > 1)
        oldest = max(stale.values(), key=lambda v: v.age(self.cache.clock()))
        count = f"{len(ids)} entit{'y' if len(ids) == 1 else 'ies'}"
        self.notice(f"offline: {count} answered from the cache, up to {self._age(oldest)} old{self._past_ttl()}")
        return {q: v.value for q, v in stale.items()}

    def _record(self, batch: EntityBatch, qid: str, rec: dict[str, Any], report: bool = True) -> None:
        if rec["status"] == "missing":
            batch.missing.append(qid)
            if report:
                self.notice(f"{qid} does not exist on Wikidata (deleted or never created)")
            return
        entity = Entity.from_json(rec["doc"])
        if rec.get("target") and rec["target"] != qid:
            batch.redirects[qid] = rec["target"]
            if report:
                self.notice(f"{qid} redirects to {rec['target']} (followed)")
        batch.entities[qid] = entity

    def _fetch_chunk(self, chunk: list[str], props: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        """``{id: {"status": "ok"|"missing", "target": id, "doc": {...}}}`` for one request of ≤ 50 IDs."""
        results: dict[str, dict[str, Any]] = {}
        pending = list(chunk)
        while pending:
            payload = self._api({"action": "wbgetentities", "ids": "|".join(pending), "props": "|".join(props),
                                 "redirects": "yes"}, f"wbgetentities ({len(pending)} IDs)")
            err = payload.get("error")
            if err:
                # An unknown-but-well-formed ID is reported per entity; a malformed one fails the
                # whole request. Drop the ID it names and ask again.
                m = _INVALID_ID_RE.search(str(err.get("info", "")))
                if err.get("code") == "no-such-entity" and m and m.group(1) in pending:
                    bad = m.group(1)
                    results[bad] = {"status": "missing"}
                    pending.remove(bad)
                    continue
                if err.get("code") == "no-such-entity" and len(pending) > 1:
                    for qid in pending:
                        results.update(self._fetch_chunk([qid], props))
                    return results
                if err.get("code") == "no-such-entity":
                    results[pending[0]] = {"status": "missing"}
                    return results
                raise WikidataError(f"wbgetentities failed: {err.get('code')}: {err.get('info', '')}")
            entities = payload.get("entities")
            if not isinstance(entities, dict):
                raise WikidataError("wbgetentities answered without an 'entities' object")
            by_redirect = {(d.get("redirects") or {}).get("from"): d for d in entities.values()
                           if isinstance(d, dict) and isinstance(d.get("redirects") or {}, dict)}
            for qid in pending:
                doc = entities.get(qid) or by_redirect.get(qid)
                if doc is None:
                    raise WikidataError(f"wbgetentities did not answer for {qid} (every ID asked is answered, "
                                        "found or missing)")
                results[qid] = _classify(qid, doc)
            break
        return results

    # -- Special:EntityData -----------------------------------------------------------------

    def entity_data(self, qid: str) -> EntityBatch:
        """One entity through ``Special:EntityData/<id>.json`` (the linked-data view). Same result shape."""
        batch = EntityBatch()
        if not is_entity_id(qid):
            batch.missing.append(qid)
            self.notice(f"{qid!r} is not a Wikidata ID")
            return batch

        def fetch():
            payload = self._request("GET", f"{self.entitydata_url}{qid}.json", what=f"Special:EntityData/{qid}")
            if payload is None:
                return {"status": "missing"}
            entities = payload.get("entities") if isinstance(payload, dict) else None
            if not isinstance(entities, dict) or not entities:
                raise WikidataError(f"Special:EntityData/{qid} answered without entities")
            # A redirected ID answers with the target entity, keyed by the target's ID.
            doc = entities.get(qid) or next(iter(entities.values()))
            return _classify(qid, doc)

        self._record(batch, qid, self._cached(f"entitydata|{qid}", f"Special:EntityData/{qid}", fetch))
        return batch

    # -- Wikidata Query Service --------------------------------------------------------------

    def sparql(self, query: str) -> dict[str, Any]:
        """SPARQL results JSON from WDQS. GET for short queries (cacheable upstream), POST for long ones."""
        headers = {"Accept": "application/sparql-results+json"}

        def fetch():
            if len(query) < 1500:
                payload = self._request("GET", self.sparql_url, params={"query": query, "format": "json"},
                                        headers=headers, what="a SPARQL query")
            else:
                payload = self._request("POST", self.sparql_url, data={"query": query},
                                        params={"format": "json"}, headers=headers, what="a SPARQL query")
            if not isinstance(payload, dict) or not ("boolean" in payload or "results" in payload):
                raise WikidataError("the Query Service answer is not SPARQL results JSON")
            return payload

        return self._cached(f"sparql|{query}", "a SPARQL query", fetch)


def _offline_miss(what: str, plural: bool = False) -> BackendUnavailable:
    """The error for an answer ``--offline`` cannot give: nothing cached, at any age."""
    return BackendUnavailable(f"offline: {what} {'are' if plural else 'is'} not in the cache",
                              hint="run once with network access, or drop --offline")


def _classify(qid: str, doc: Any) -> dict[str, Any]:
    """Found (with the ID it resolves to) or missing — or WikidataError for anything else: only an
    entity object that says ``missing`` is a deleted entity."""
    if isinstance(doc, dict) and "missing" in doc and set(doc) <= {"id", "missing", "type"}:
        return {"status": "missing"}
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not is_entity_id(doc["id"]):
        raise WikidataError(f"malformed entity in Wikidata's answer for {qid}")
    redirects = doc.get("redirects") or {}
    if not isinstance(redirects, dict):
        raise WikidataError(f"malformed redirect in Wikidata's answer for {qid}")
    try:
        Entity.from_json(doc)
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise WikidataError(f"malformed entity {qid} in Wikidata's answer ({type(exc).__name__})") from None
    target = redirects.get("to") or doc["id"]
    return {"status": "ok", "target": target, "doc": doc}


def _is_search_hit(hit: Any) -> bool:
    return isinstance(hit, dict) and isinstance(hit.get("id", ""), str) and isinstance(hit.get("match") or {}, dict) \
        and all(isinstance(hit.get(k, ""), str) for k in ("label", "description")) \
        and isinstance(hit.get("aliases", []), list)


def _read_within(resp: requests.Response, deadline: float, limit: int, url: str) -> bytes:
    """The whole body, decompressed here step by step, or _Retry past ``deadline`` (checked after
    every read, which returns as soon as any bytes arrive) / WikidataError past ``limit`` bytes
    (decompression never produces more than the room left, so a gzip bomb costs ``limit``)."""
    encoding = (resp.headers.get("Content-Encoding") or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflate = zlib.decompressobj()
    elif encoding in ("", "identity"):
        inflate = None
    else:
        resp.close()
        raise WikidataError(f"the answer from {url} is encoded as {encoding!r}, which cowkg does not read")
    out = bytearray()

    def take(data: bytes) -> None:
        if inflate is None:
            out.extend(data)
        else:
            data = inflate.decompress(data, limit - len(out) + 1)
            out.extend(data)
            while inflate.unconsumed_tail and len(out) <= limit:
                out.extend(inflate.decompress(inflate.unconsumed_tail, limit - len(out) + 1))
        if len(out) > limit:
            raise WikidataError(f"the answer from {url} is larger than {limit >> 20} MiB once decompressed: "
                                "not read further")

    try:
        while True:
            chunk = resp.raw.read1(65536, decode_content=False)
            if not chunk:
                break
            take(chunk)
            if time.monotonic() > deadline:
                raise _Retry("the answer did not arrive in full within wikidata_timeout")
        if inflate is not None:
            take(inflate.flush())
    except zlib.error:
        raise _Retry(f"a corrupt {encoding} answer from {url}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise _Retry(f"connection cut while reading the answer ({type(exc).__name__})") from None
    finally:
        resp.close()
    return bytes(out)


def _short(exc: Exception) -> str:
    """The last, most specific part of a requests/urllib3 error message, shortened."""
    text = str(exc).rsplit(": ", 1)[-1].strip("')\" ")
    return text[:120] or type(exc).__name__


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"

