"""What the web pages know about the dataset beyond single queries: its version, labels, examples.

Stage: web, built once per app from the backend (the data is read-only while a server runs).
``Catalog.version`` keys ETags and the response cache; ``search`` ranks labels for the search
box and ``/api/search``; ``examples`` reads the example queries of ``queries/*.rq`` with the
``# title:`` and ``# description:`` lines of their headers.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..vocab import COWR, RDF, RDFS, SKOS, entity_slug, shorten

#: Label properties and how much a match on each counts (lower ranks first).
LABEL_WEIGHTS = {str(SKOS.prefLabel): 0.0, str(RDFS.label): 0.1, str(SKOS.altLabel): 0.5}

_LABELS_QUERY = f"""SELECT ?s ?p ?label WHERE {{
  VALUES ?p {{ <{SKOS.prefLabel}> <{RDFS.label}> <{SKOS.altLabel}> }}
  ?s ?p ?label . FILTER(isLiteral(?label))
}}"""
_TYPES_QUERY = f"SELECT ?s ?t WHERE {{ ?s <{RDF.type}> ?t . FILTER(isIRI(?s)) }}"


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for matching (Zelenskyy = zelenskyy, Sébastien = sebastien)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


@dataclass
class Label:
    """One label of one IRI, with its folded form for matching."""

    iri: str
    prop: str
    text: str
    lang: str
    folded: str


@dataclass
class Example:
    """One example query from ``queries/<name>.rq``."""

    name: str
    title: str
    description: str
    query: str


@dataclass
class Catalog:
    """Labels, types, examples and data version of one backend, computed once and shared."""

    backend: object
    root: Path
    _labels: list[Label] | None = None
    _types: dict[str, list[str]] = field(default_factory=dict)
    _named: set[str] = field(default_factory=set)
    _iri_index: dict[str, list[Label]] | None = None
    _version: str | None = None
    _release: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def warm(self) -> None:
        """Compute everything once (the server calls this before forking, so workers share it)."""
        self.version  # noqa: B018 - computing the property fills the cache
        self.release  # noqa: B018
        self.labels()

    @property
    def version(self) -> str:
        """A short hash of the dataset: changes whenever any triple does."""
        if self._version is None:
            self._version = self.backend.version()
        return self._version

    @property
    def release(self) -> str | None:
        """The dataset's release number (dcat:version, else owl:versionInfo, in the meta graph)."""
        if self._release is None:
            rows = self.backend.query(_RELEASE_QUERY, timeout=60).rows
            self._release = rows[0]["v"].value if rows else ""
        return self._release or None

    def labels(self) -> list[Label]:
        """Every rdfs:label / skos:prefLabel / skos:altLabel of the asserted graphs (loaded once)."""
        with self._lock:
            if self._labels is None:
                rows = self.backend.query(_LABELS_QUERY, timeout=60).records()
                self._labels = [Label(str(r["s"].value), str(r["p"].value), r["label"].value,
                                      r["label"].language or "", fold(r["label"].value)) for r in rows]
                types: dict[str, list[str]] = {}
                for r in self.backend.query(_TYPES_QUERY, timeout=60).records():
                    types.setdefault(r["s"].value, []).append(shorten(r["t"].value))
                self._types = {k: sorted(set(v)) for k, v in types.items()}
                self._named = {lab.iri for lab in self._labels if lab.prop == str(SKOS.prefLabel)}
            return self._labels

    def display_label(self, iri: str) -> str:
        """The English (else any) preferred label of ``iri``, or its CURIE."""
        best = None
        for lab in self.labels_of(iri):
            key = (LABEL_WEIGHTS[lab.prop], 0 if lab.lang.startswith("en") else 1 if not lab.lang else 2)
            if best is None or key < best[0]:
                best = (key, lab.text)
        return best[1] if best else shorten(iri)

    def labels_of(self, iri: str) -> list[Label]:
        """The labels of ``iri``."""
        if self._iri_index is None:
            index: dict[str, list[Label]] = {}
            for lab in self.labels():
                index.setdefault(lab.iri, []).append(lab)
            self._iri_index = index
        return self._iri_index.get(iri, [])

    def types_of(self, iri: str) -> list[str]:
        """The asserted classes of ``iri`` as CURIEs (``cow:Person``)."""
        self.labels()
        return self._types.get(iri, [])

    def search(self, q: str, limit: int = 10) -> list[dict]:
        """Entities whose labels match ``q``, best first.

        Rank: exact label, then label prefix, then a word of the label starting with ``q``, then
        substring; named entities (with a skos:prefLabel) count one and a half tiers better than
        records; then preferred before alternative labels, dataset entities before ontology terms,
        English first, shorter labels first.
        """
        needle = fold(q)
        if not needle:
            return []
        best: dict[str, tuple[tuple, Label]] = {}
        word_start = re.compile(r"(?:^|[\s\-(/,.'’])" + re.escape(needle))
        for lab in self.labels():
            pos = lab.folded.find(needle)
            if pos < 0:
                continue
            if lab.folded == needle:
                tier = 0
            elif pos == 0:
                tier = 1
            elif word_start.search(lab.folded):
                tier = 2
            else:
                tier = 3
            # Named entities (those with a skos:prefLabel) outrank records one tier down.
            score = tier + (0 if lab.iri in self._named else 1.5) + LABEL_WEIGHTS[lab.prop]
            key = (score, 0 if entity_slug(lab.iri) else 1, 0 if lab.lang.startswith("en") else 1,
                   len(lab.folded), lab.folded, tier)
            if lab.iri not in best or key < best[lab.iri][0]:
                best[lab.iri] = (key, lab)
        ranked = sorted(best.values(), key=lambda kv: kv[0])[:limit]
        out = []
        for key, lab in ranked:
            slug = entity_slug(lab.iri)
            out.append({"iri": lab.iri, "label": self.display_label(lab.iri), "matched": lab.text,
                        "matched_property": shorten(lab.prop), "lang": lab.lang or None,
                        "match": ("exact", "prefix", "word", "substring")[key[-1]],
                        "types": self._types.get(lab.iri, []),
                        "page": f"/page/{slug}" if slug else None})
        return out

    def examples(self) -> list[Example]:
        """The example queries shipped in ``queries/*.rq``, sorted by file name."""
        return load_examples(self.root / "queries")


def load_examples(directory: Path) -> list[Example]:
    """Example queries of ``directory/*.rq``; title/description from ``# title:`` / ``# description:``."""
    out = []
    for path in sorted(directory.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        header = {}
        for line in text.splitlines():
            if not line.startswith("#"):
                if line.strip():
                    break
                continue
            m = re.match(r"#\s*(title|description)\s*:\s*(.*)", line, re.IGNORECASE)
            if m:
                header[m.group(1).lower()] = m.group(2).strip()
        out.append(Example(path.stem, header.get("title") or path.stem, header.get("description", ""), text))
    return out


_RELEASE_QUERY = """SELECT ?v WHERE { GRAPH cowg:meta { ?d ?p ?v
    VALUES (?p ?rank) { (<http://www.w3.org/ns/dcat#version> 0) (owl:versionInfo 1) } } } ORDER BY ?rank ?v LIMIT 1"""


def entity_iri(slug: str) -> str:
    """The dataset IRI of an entity slug."""
    return str(COWR) + slug


__all__ = ["Catalog", "Example", "entity_iri", "fold", "load_examples"]
