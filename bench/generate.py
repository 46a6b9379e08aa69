"""Synthetic data graphs shaped like cowkg's, at 10k, 100k, 1M or 10M triples, deterministic by seed.

The question: how do loading, reasoning, validation, indexing and querying grow with size? The
synthetic graph answers it with the project's own vocabulary (so the real ontology, shapes and
competency queries apply): repeated "editions" of a coalition, each with states, people and their
roles, numbered coalition meetings (leaders' summits and ministerial meetings) with attendance
records, memberships, pledges and attributed statements, every record with a status, provenance
(prov:wasDerivedFrom) and citations with markers and source lines, labels in English and some in
French. The same seed and size always give the same bytes (about 8,400 triples an edition; the last
edition is cut at the requested size).

Usage: .venv/bin/python bench/generate.py --size 100k [--seed 1] [-o .cache/bench]
Prints the file written and its triple count. The file is the data graph only (N-Triples); the
benchmarks load it with the project's ontology.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
COW = "https://w3id.org/cowkg/ontology#"
ID = "https://w3id.org/cowkg/id/"
VOCAB = "https://w3id.org/cowkg/vocab/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
XSD = "http://www.w3.org/2001/XMLSchema#"
SOURCE = ID + "source-wikipedia-article"

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
STATES, PEOPLE, MEETINGS, PLEDGES, STATEMENTS = 40, 50, 14, 20, 40
LEVELS = ["headOfState", "headOfGovernment", "minister", "ministerialRepresentative", "official", "levelUnknown"]
STATUSES = ["fact", "fact", "fact", "claim", "report", "view"]
SYLLABLES = ["al", "ba", "cor", "da", "el", "fin", "ga", "hor", "is", "ka", "lu", "mar", "no", "pol", "ri", "sa", "tu",
             "va", "wen", "zel"]

_nodes: dict[str, ox.NamedNode] = {}


def iri(value: str) -> ox.NamedNode:
    node = _nodes.get(value)
    if node is None:
        node = _nodes[value] = ox.NamedNode(value)
    return node


def lit(value, datatype: str | None = None, lang: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(str(value), language=lang)
    if datatype:
        return ox.Literal(str(value), datatype=iri(XSD + datatype))
    return ox.Literal(str(value))


def name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


class Edition:
    """One synthetic coalition: its entities and records, under IRIs that carry the edition number."""

    def __init__(self, n: int, rng: random.Random) -> None:
        self.n, self.rng = n, rng
        self.year = 2025 + n % 50
        self.cites = 0

    def id(self, kind: str, i: int | str) -> ox.NamedNode:
        return iri(f"{ID}e{self.n}-{kind}-{i}")

    def record(self, s: ox.NamedNode, status: str = "fact") -> Iterator[tuple]:
        """Status, provenance and one or two citations with marker and source line."""
        yield s, iri(COW + "status"), iri(VOCAB + status)
        yield s, iri(DERIVED), iri(SOURCE)
        for _ in range(1 + (self.rng.random() < 0.4)):
            self.cites += 1
            c = self.id("cite", self.cites)
            yield s, iri(COW + "citation"), c
            yield c, iri(RDF_TYPE), iri(COW + "Citation")
            yield c, iri(LABEL), lit(f"citation [{self.cites}]", lang="en")
            yield c, iri(COW + "marker"), lit(f"[{self.cites}]")
            yield c, iri(COW + "sourceLine"), lit(self.rng.randint(1, 2000), "integer")
            yield c, iri(DERIVED), iri(SOURCE)

    def triples(self) -> Iterator[tuple]:
        rng, t = self.rng, iri(RDF_TYPE)
        if self.n == 0:
            yield iri(SOURCE), t, iri(COW + "Source")
            yield iri(SOURCE), iri(LABEL), lit("Coalition of the willing (synthetic source)", lang="en")
        coalition = self.id("coalition", 0)
        yield coalition, t, iri(COW + "Coalition")
        yield coalition, iri(LABEL), lit(f"Coalition {self.n}", lang="en")
        yield from self.record(coalition)
        states = [self.id("state", i) for i in range(STATES)]
        for i, s in enumerate(states):
            label = name(rng, 3)
            yield s, t, iri(COW + "State")
            yield s, iri(LABEL), lit(label, lang="en")
            yield s, iri(PREF), lit(label, lang="en")
            if i % 4 == 0:
                yield s, iri(LABEL), lit(label + "e", lang="fr")
            yield s, iri(SAME_AS), iri(f"http://www.wikidata.org/entity/Q{self.n * 1000 + i + 1}")
            yield from self.record(s)
        people = [self.id("person", i) for i in range(PEOPLE)]
        for i, p in enumerate(people):
            yield p, t, iri(COW + "Person")
            yield p, iri(LABEL), lit(f"{name(rng)} {name(rng, 3)}", lang="en")
            yield from self.record(p)
            role = self.id("role", i)
            yield role, t, iri(COW + "Role")
            yield role, iri(LABEL), lit(f"Role {i} in coalition {self.n}", lang="en")
            yield role, iri(COW + "holder"), p
            yield role, iri(COW + "roleIn"), states[i % STATES]
            yield role, iri(COW + "title"), lit(rng.choice(["Prime Minister", "President", "Defence Minister",
                                                            "Foreign Minister"]), lang="en")
            yield from self.record(role)
        for i, s in enumerate(states[:30]):
            m = self.id("membership", i)
            yield m, t, iri(COW + "CoalitionMembership")
            yield m, iri(LABEL), lit(f"Membership {i} of coalition {self.n}", lang="en")
            yield m, iri(COW + "member"), s
            yield m, iri(COW + "membershipOf"), coalition
            yield m, iri(COW + "asOf"), lit(f"{self.year}-11", "gYearMonth")
            yield from self.record(m)
        for k in range(MEETINGS):
            m = self.id("meeting", k + 1)
            leaders = k % 3 != 2
            yield m, t, iri(COW + "CoalitionMeeting")
            yield m, t, iri(COW + ("LeadersSummit" if leaders else "MinisterialMeeting"))
            yield m, iri(LABEL), lit(f"Coalition {self.n} meeting {k + 1}", lang="en")
            yield m, iri(COW + "meetingNumber"), lit(k + 1, "integer")
            yield m, iri(COW + "date"), lit(f"{self.year}-{(k % 12) + 1:02d}-{(k * 7) % 28 + 1:02d}", "date")
            yield m, iri(COW + "hostOrChair"), people[k % 2]
            yield m, iri(COW + "partOf"), coalition
            if k % 4 == 1:
                yield m, iri(COW + "attendanceMode"), iri("https://schema.org/OnlineEventAttendanceMode")
            yield from self.record(m)
            for j in rng.sample(range(STATES), 25):
                a = self.id(f"attendance-{k + 1}", j)
                yield a, t, iri(COW + "Attendance")
                yield a, iri(LABEL), lit(f"Attendance {j} at meeting {k + 1} of coalition {self.n}", lang="en")
                yield a, iri(COW + "ofMeeting"), m
                yield a, iri(COW + "represents"), states[j]
                yield a, iri(COW + "attendee"), people[j % PEOPLE]
                yield a, iri(COW + "attendanceLevel"), iri(VOCAB + rng.choice(LEVELS))
                yield from self.record(a)
        for i in range(PLEDGES):
            p = self.id("pledge", i)
            yield p, t, iri(COW + "Pledge")
            yield p, iri(LABEL), lit(f"Pledge {i} of coalition {self.n}", lang="en")
            yield p, iri(COW + "pledgedBy"), states[rng.randrange(STATES)]
            yield p, iri(COW + "amount"), lit(f"{rng.randint(1, 900) * 1e6:.1f}", "decimal")
            yield p, iri(COW + "currency"), lit(rng.choice(["EUR", "GBP", "USD"]))
            yield from self.record(p, rng.choice(["fact", "plan"]))
        for i in range(STATEMENTS):
            s = self.id("statement", i)
            yield s, t, iri(COW + "Statement")
            yield s, iri(LABEL), lit(f"Statement {i} of coalition {self.n}", lang="en")
            yield s, iri(COW + "attributedTo"), people[rng.randrange(PEOPLE)]
            yield s, iri(COW + "date"), lit(f"{self.year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "date")
            yield s, iri(COW + "about"), self.id("meeting", rng.randint(1, MEETINGS))
            yield s, iri(COW + "content"), lit(" ".join(name(rng) for _ in range(12)), lang="en")
            yield from self.record(s, rng.choice(STATUSES))


def generate(size: int, seed: int = 1) -> Iterator[list[ox.Triple]]:
    """Editions as lists of triples, exactly ``size`` triples in all (the last edition is cut short)."""
    produced, n = 0, 0
    while produced < size:
        edition = Edition(n, random.Random(f"{seed}-{n}"))
        block = [ox.Triple(*t) for t in edition.triples()][: size - produced]
        produced += len(block)
        n += 1
        yield block


def parse_size(text: str) -> int:
    key = text.lower()
    if key in SIZES:
        return SIZES[key]
    return int(text.replace("_", ""))


def write(size: int, seed: int, out_dir: Path) -> tuple[Path, int]:
    """Write ``synthetic-<size>-s<seed>.nt`` under ``out_dir`` (reused when it exists); return it and its count."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"synthetic-{size}-s{seed}.nt"
    count_file = path.with_suffix(".count")
    if path.is_file() and count_file.is_file():
        return path, int(count_file.read_text())
    tmp = path.with_suffix(".nt.tmp")
    count = 0
    with open(tmp, "wb") as fh:
        for block in generate(size, seed):
            ox.serialize(block, fh, format=ox.RdfFormat.N_TRIPLES)
            count += len(block)
    tmp.replace(path)
    count_file.write_text(str(count))
    return path, count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="10k", help="10k, 100k, 1m, 10m or a number of triples")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--out", default=str(ROOT / ".cache" / "bench"))
    args = ap.parse_args()
    start = time.perf_counter()
    path, count = write(parse_size(args.size), args.seed, Path(args.out))
    print(f"{path}: {count:,} triples ({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    print(path)


if __name__ == "__main__":
    main()
