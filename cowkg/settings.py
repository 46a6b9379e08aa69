"""The settings registry: one place that names every knob, its default and its help text.

Stage: shared. The CLI, the web app, the README and a test that every setting is documented all
read ``SETTINGS``. Values come from defaults, then ``COWKG_<NAME>`` environment variables, then
explicit overrides (CLI options, ``create_app(settings=...)``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from .files import rename_directory, temporary_directory

#: The directories of a knowledge graph root, as the repository holds them and the wheel ships them.
GRAPH_DIRS = ("ontology", "data", "shapes", "queries")


def is_checkout(path: Path) -> bool:
    """Whether ``path`` is a cowkg source tree: pyproject.toml beside ontology/ and data/."""
    return (path / "pyproject.toml").is_file() and (path / "ontology").is_dir() and (path / "data").is_dir()


def _checkout() -> Path | None:
    here = Path(__file__).resolve().parent.parent
    return here if is_checkout(here) else None


def _user_cache() -> Path:
    """``$XDG_CACHE_HOME/cowkg`` (``~/.cache/cowkg``): where an installed cowkg keeps its caches."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cowkg"


#: The checkout this package runs from (a source tree or an editable install), or None when cowkg
#: is installed from a wheel: then the graph is the copy shipped inside the package.
CHECKOUT = _checkout()
#: Default cache directory: the checkout's .cache, or the user's cache directory.
CACHE = CHECKOUT / ".cache" if CHECKOUT else _user_cache()


def default_root(cache_dir: str | Path = CACHE) -> Path:
    """The knowledge graph read when neither ``--root`` nor ``COWKG_ROOT`` names one.

    In a checkout (source tree, ``pip install -e .``) the checkout itself, so curators' edits
    count at once; in an installed wheel the ontology, data, shapes and queries shipped in the
    package as ``cowkg/graph/``, read through importlib.resources (and, when the package is
    imported from a zip, extracted once under ``cache_dir``).
    """
    if CHECKOUT is not None:
        return CHECKOUT
    graph = resources.files("cowkg") / "graph"
    return graph if isinstance(graph, Path) else _extracted(graph, Path(cache_dir) / "graph")


def _extracted(graph: Traversable, under: Path) -> Path:
    """A directory copy of ``graph`` under ``under``, named by a digest of what it holds."""
    files: list[tuple[str, bytes]] = []

    def walk(node: Traversable, rel: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{rel}{child.name}/")
            else:
                files.append((rel + child.name, child.read_bytes()))

    walk(graph, "")
    files.sort()
    digest = hashlib.sha256(b"".join(name.encode() + b"\0" + hashlib.sha256(data).digest()
                                     for name, data in files)).hexdigest()[:16]
    target = under / digest
    if not target.is_dir():
        under.mkdir(parents=True, exist_ok=True)
        tmp = temporary_directory(under, f".partial-{os.getpid()}-")
        for name, data in files:
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(data)
        if not rename_directory(tmp, target):  # another process extracted the same content first
            shutil.rmtree(tmp, ignore_errors=True)
    return target


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str

    def parse(self, raw: str) -> Any:
        """Turn an environment string into the type of the default.

        >>> Setting("workers", 2, "").parse("4"), Setting("infer_default", False, "").parse("yes")
        (4, True)
        """
        if isinstance(self.default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(self.default, int):
            return int(raw)
        if isinstance(self.default, float):
            return float(raw)
        return raw


SETTINGS: tuple[Setting, ...] = (
    Setting("root", "", "Directory holding ontology/, data/, shapes/ and queries/ (a working copy to curate). "
            "Empty: the checkout cowkg runs from, else the graph shipped inside the installed package."),
    Setting("cache_dir", str(CACHE), "Where derived data is cached by input hash: the inferred graph, the "
            "Wikibase view, SHACL verdicts, VoID statistics."),
    Setting("query_timeout", 10.0, "Seconds a query may run before it is stopped (HTTP 503)."),
    Setting("max_rows", 100_000,
            "Most result rows (or triples) returned; longer results are cut and say so in the body (the results' "
            "head link, a Turtle comment) and the X-Cowkg-Truncated header. The default holds the whole dataset."),
    Setting("max_request_bytes", 100_000, "Largest accepted query or request body, in bytes (HTTP 413)."),
    Setting("max_answer_bytes", 64 << 20, "Largest answer body sent, in bytes; a larger answer is refused (HTTP 413)."),
    Setting("query_memory", 1 << 30,
            "Bytes of memory one query evaluation may take beyond the server's own (HTTP 503 past it). The default "
            "fits a 2-core, 24 GiB machine: 2 workers x 8 evaluators x 1 GiB = 16 GiB at most for queries."),
    Setting("evaluators", 8, "Query evaluator processes per worker: how many queries one worker runs at once."),
    Setting("request_timeout", 10.0,
            "Seconds a request that computes outside the query evaluators (a reconciliation batch) may take "
            "(HTTP 503 past it)."),
    Setting("header_timeout", 10.0, "Seconds a client may take to send a request's line and headers."),
    Setting("body_timeout", 10.0, "Seconds a client may take to send a request body (HTTP 503 past it)."),
    Setting("queue_wait", 0.5,
            "Seconds a query waits for a free evaluator before it is refused with 503 and Retry-After."),
    Setting("infer_default", False, "Whether queries see the inferred graph when a request does not say."),
    Setting("reasoner", "auto",
            "OWL 2 RL reasoner: owlrl, reasonable, sparql (the compiled rules in a store), rules (the same rules "
            "over Python sets), or auto (by input size)."),
    Setting("shacl_engine", "auto",
            "SHACL engine of `validate`, `stats` and `serve`'s check at start: sparql (the shapes compiled to "
            "SPARQL, run by pyoxigraph on the store: the fastest, no rdflib copy of the data), turbo "
            "(pyshacl-turbo, Rust), pyshacl (the reference), or auto: sparql when the compiler translates the "
            "shapes, else turbo, with a warning. All give exactly pySHACL's results on this project. If turbo "
            "cannot be imported or fails, pySHACL validates instead, with a warning."),
    Setting("allow_invalid", False,
            "Serve data that does not conform to the SHACL shapes (`cowkg serve` refuses to, by default)."),
    Setting("workers", 2, "Worker processes of the production server started by `cowkg serve`."),
    Setting("front", "auto",
            "HTTP front of `cowkg serve`: native (the Rust front of native/front before forked Python workers: "
            "the fastest, built by scripts/setup.sh, Linux, embedded backend), granian (Python: the Flask app "
            "behind an asyncio front), or auto (native where it is built and the backend is embedded, else "
            "granian)."),
    Setting("native", "",
            "The native query-text scanner (native/querytext, Rust), which decides plain queries for the endpoint "
            "(the same decisions as the Python parse, faster): empty = the checkout's build when there is one, a "
            "path to a libcowkg_querytext.so built elsewhere, or off. Without it queries are read in Python."),
    Setting("backend", "embedded", "Query backend: embedded (pyoxigraph) or virtuoso (remote SPARQL)."),
    Setting("endpoint", "", "URL of the remote SPARQL endpoint when backend is virtuoso."),
    Setting("virtuoso_dir", str(CACHE / "virtuoso"),
            "Directory of the private Virtuoso started by `cowkg virtuoso up` (database, logs, staged files)."),
    Setting("public_base", "",
            "Public URL of the service (e.g. https://cowkg.example.org), used for every URL it generates: VoID, "
            "the service description, the UI's endpoint, downloads. Empty: the request's (allowed) host."),
    Setting("allowed_hosts", "",
            "Host names the service answers for, comma-separated (a request naming another Host gets 400). "
            "Empty: the bound host, localhost, 127.0.0.1, ::1 and public_base's host; * accepts any."),
    Setting("release_dir", "",
            "Where `cowkg dump -o` writes releases; /download/ serves the one its `latest` points to (or the "
            "directory itself if it is a release), byte for byte. Empty: <root>/dist. With no release there, "
            "/download/ builds the files from the store, dated by the dataset."),
    Setting("wikidata_api", "https://www.wikidata.org/w/api.php",
            "Wikidata Action API (wbsearchentities, wbgetentities); tests point it at a local replay server."),
    Setting("wikidata_entitydata", "https://www.wikidata.org/wiki/Special:EntityData/",
            "Base URL of Wikidata's Special:EntityData (one entity as JSON, redirects followed)."),
    Setting("wikidata_sparql", "https://query.wikidata.org/sparql", "Wikidata Query Service SPARQL endpoint."),
    Setting("wikidata_cache_dir", str(CACHE / "wikidata"),
            "On-disk cache of Wikidata answers; used when fresh, and when Wikidata is unreachable."),
    Setting("wikidata_cache_ttl", 7 * 24 * 3600, "Seconds a cached Wikidata answer counts as fresh."),
    Setting("wikidata_timeout", 20.0, "Seconds to wait for one Wikidata HTTP response."),
    Setting("wikidata_retries", 4, "Retries after 429, 503, maxlag, 5xx, timeouts and broken answers."),
    Setting("wikidata_maxlag", 5, "maxlag sent to the Action API: Wikidata refuses work while lagging more."),
    Setting("wikidata_max_wait", 60.0, "Longest pause (seconds) honoured from one Retry-After before giving up."),
    Setting("wikidata_contact", "https://w3id.org/cowkg/",
            "Contact (URL or e-mail) put in the User-Agent, as Wikimedia's User-Agent policy asks."),
    Setting("wikidata_reference",
            str(CHECKOUT.parent / "shared" / "reference" / "wikidata-qids.tsv") if CHECKOUT else "",
            "Verified QID table: `reconcile check` accepts links listed there as verified."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def load_settings(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Resolve every setting from defaults, ``COWKG_*`` variables and ``overrides``.

    Raises KeyError for an override that names no setting, so typos fail loudly.

    >>> s = load_settings({"max_rows": 50}, environ={"COWKG_QUERY_TIMEOUT": "2.5", "COWKG_ROOT": "/srv/cowkg"})
    >>> s["max_rows"], s["query_timeout"], s["root"]
    (50, 2.5, '/srv/cowkg')
    """
    env = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    for s in SETTINGS:
        raw = env.get(f"COWKG_{s.name.upper()}")
        if raw is not None:
            values[s.name] = s.parse(raw)
    for key, value in (overrides or {}).items():
        if key not in _BY_NAME:
            raise KeyError(f"unknown setting {key!r}; known: {', '.join(sorted(_BY_NAME))}")
        if value is not None:
            values[key] = value
    if not values["root"]:
        values["root"] = str(default_root(values["cache_dir"]))
    return values


def project_paths(root: str | Path) -> dict[str, Path]:
    """The standard source directories under ``root``.

    >>> project_paths("/srv/cowkg")["shapes"]
    PosixPath('/srv/cowkg/shapes')
    """
    return {name: Path(root) / name for name in GRAPH_DIRS}
