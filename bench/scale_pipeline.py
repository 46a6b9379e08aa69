"""Load + reason + validate + index time vs size (10k → 1M), with the growth exponent fitted.

The question: does building the knowledge graph stay linear as the data grows? Each size runs in
a fresh process (so sizes do not share memory) on the synthetic graph of ``bench/generate.py``
plus the project's ontology and shapes, through the same library calls as ``cowkg serve``:

- load: parse ontology + data (``cowkg.load.load_files``);
- reason: the OWL 2 RL closure (``cowkg.reason.infer``, ``auto`` picks the reasoner by size and
  the table says which ran);
- validate: SHACL with ``--shacl-engine`` (default auto, as ``serve``; ``cowkg.validate``),
  skipped above ``--validate-max`` triples (the table says when it was skipped); with ``sparql``
  or ``auto`` it runs after the index, on the store just built (no rdflib copy), and the table
  says which engine ran;
- index: the pyoxigraph store with its named graphs (``cowkg.store.build_store``) and the Wikibase
  view; ``--view beside`` builds the view as ``cowkg serve`` does (``cowkg.wikibase.PendingView``:
  from 50,000 triples in a forked helper, during reasoning and validation, the index stage then
  waiting for it), ``--view serial`` in the index stage, ``--view none`` not at all (the pipeline
  as issue 15 measured it, before the view existed: its 285 s at 1M had none), ``--view both``
  (the default) runs each size beside and serial and says how much faster the build is beside,
  ``--view all`` the three;
- virtuoso: the same graphs (asserted + inferred) into a private Virtuoso with the bulk loader.

Sizes given with ``--virtuoso-sizes`` (10M here) go to Virtuoso alone: one process no longer holds
them (the in-process pipeline peaks at 1.8 GiB for 1M triples, plus 1.6 GiB in the Wikibase view's helper,
growing about linearly). The synthetic N-Triples file
and the ontology are bulk-loaded as they are (no in-process reasoning or SHACL), then the
competency queries that need no inferred graph run on it through ``RemoteSparqlBackend``, and
Virtuoso validates the graphs itself (the shapes compiled to SPARQL, ``cowkg.virtuoso.validate``);
the table gives the load time, the validation time, Virtuoso's peak RSS and the query mix's time
next to the same at the smaller Virtuoso-only size (give two, e.g. ``1m,10m``). Virtuoso's result
set is compared with the in-process ``sparql`` engine's at the same size when that ran too. Then
the inferred graph is computed inside Virtuoso (``cowkg.virtuoso.reason``, as ``cowkg virtuoso load
--reason``): seconds, rounds, inferred triples, bulk load + reasoning, Virtuoso's peak RSS; up to
``--compare-max`` triples the in-process closure (reasoner ``rules``, which bench/reasoners.py
checks against reasonable) is bulk-loaded beside it and the two graphs are compared inside
Virtuoso (a difference fails the run).

For each stage the exponent b of time ≈ a·size^b is fitted by least squares on log-log (b = 1
is linear). Ratios come from one run on this machine.

The SHACL engines side by side (``--engines``, on by default): for each size up to
``--validate-max``, pySHACL (the reference), pyshacl-turbo and the shapes compiled to SPARQL on
pyoxigraph (``sparql``) each validate the same asserted graphs in a fresh process of their own
(``--one-shacl``): seconds (the copy each engine reads: an rdflib graph, or for ``sparql`` a
pyoxigraph store; engine; report), peak RSS, and whether the verdict and result set
(``cowkg.validate.result_set``, blank nodes compared by content) are exactly pySHACL's; a
difference fails the run.

Usage: .venv/bin/python bench/scale_pipeline.py [--sizes 10k,100k,1m] [--virtuoso-sizes 1m,10m] [--no-virtuoso]
       [--no-engines] [--shacl-engine sparql]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

STAGES = ("load", "reason", "validate", "index", "virtuoso")
ENGINES = ("pyshacl", "turbo", "sparql")


def one(size: int, seed: int, validate_max: int, virtuoso: bool, engine: str = "auto", view: str = "beside") -> dict:
    """Run the pipeline once on ``size`` synthetic triples; seconds per stage (None = skipped).

    ``view``: "beside" builds the Wikibase view as ``cowkg serve`` does (in a forked helper from
    ``BESIDE_MIN_TRIPLES``, during reasoning and validation), "serial" in this process, in the
    index stage, "none" not at all."""
    from generate import write

    from cowkg.load import default_layout, load_files
    from cowkg.reason import infer
    from cowkg.settings import project_paths
    from cowkg.store import build_store
    from cowkg.validate import load_shapes, validate
    from cowkg.vocab import GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY
    from cowkg.wikibase import PendingView

    path, count = write(size, seed, ROOT / ".cache" / "bench")
    layout = [(p, g) for p, g in default_layout(ROOT) if g == str(GRAPH_ONTOLOGY)] + [(path, str(GRAPH_DATA))]
    out: dict = {"size": count}
    t = time.perf_counter()
    sources = load_files(layout)
    out["load"] = time.perf_counter() - t
    pending = PendingView(sources, beside=None if view == "beside" else False) if view != "none" else None
    out["view"] = "none" if pending is None else "beside" if pending.beside else "serial"
    t = time.perf_counter()
    inference = infer(sources, "auto")
    out["reason"] = time.perf_counter() - t
    out["reasoner"], out["inferred"] = inference.reasoner, len(inference.triples)
    out["validate"] = None
    if sources.count() <= validate_max and engine not in ("sparql", "auto"):
        t = time.perf_counter()
        report = validate(sources, load_shapes(project_paths(ROOT)["shapes"]), engine=engine)
        out["validate"], out["violations"] = time.perf_counter() - t, len(report.violations)
        out["validate_engine"] = report.engine
    t = time.perf_counter()
    kg = build_store(sources, inference, wikibase=False)
    out["index"] = time.perf_counter() - t
    if sources.count() <= validate_max and engine in ("sparql", "auto"):  # on the store just built: no copy
        t = time.perf_counter()
        report = validate(sources, load_shapes(project_paths(ROOT)["shapes"]), engine=engine, store=kg.store)
        out["validate"], out["violations"] = time.perf_counter() - t, len(report.violations)
        out["validate_engine"] = report.engine
    if pending is not None:
        t = time.perf_counter()  # the view (waited for, when a helper builds it) is part of the index
        kg.attach_view(pending.result(kg.store))
        out["index"] += time.perf_counter() - t
        out["view_seconds"], out["view_triples"] = kg.wikibase.seconds, len(kg.wikibase.triples)
        helper = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the view's helper, the only child yet
        out["helper_peak_rss_mib"] = helper if pending.beside else None
    out["quads"] = sum(1 for _ in kg.named_quads())
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["virtuoso"] = None
    if virtuoso:
        from cowkg.virtuoso import manage

        graphs = {g: list(t) for g, t in sources.graphs.items()}
        graphs[str(GRAPH_INFERRED)] = inference.triples
        del kg
        with tempfile.TemporaryDirectory(prefix="cowkg-bench-vt-") as tmp:
            instance = manage.up(tmp, die_with_parent=True)
            try:
                files = manage.stage_graphs(instance, graphs)
                t = time.perf_counter()
                manage.bulk_load(instance, files)
                out["virtuoso"] = time.perf_counter() - t
            finally:
                manage.down(instance)
    return out


def one_shacl(size: int, seed: int, engine: str, results_dir: Path) -> dict:
    """Validate ``size`` synthetic triples + the ontology with one SHACL engine, in this process
    alone: seconds per step, peak RSS, and the canonical result set pickled under ``results_dir``
    (the parent compares the engines' sets)."""
    from generate import write

    from cowkg.load import default_layout, load_files, to_rdflib
    from cowkg.settings import project_paths
    from cowkg.validate import (
        asserted_store,
        build_report,
        engine_version,
        load_shapes,
        result_set,
        run_shacl,
        run_shacl_store,
    )
    from cowkg.vocab import ASSERTED_GRAPHS, GRAPH_DATA, GRAPH_ONTOLOGY

    path, count = write(size, seed, ROOT / ".cache" / "bench")
    layout = [(p, g) for p, g in default_layout(ROOT) if g == str(GRAPH_ONTOLOGY)] + [(path, str(GRAPH_DATA))]
    sources = load_files(layout)
    shapes = load_shapes(project_paths(ROOT)["shapes"])
    out: dict = {"size": count, "mode": "shacl", "requested": engine, "version": engine_version(engine),
                 "loaded_rss_mib": _rss_mib()}
    t = time.perf_counter()
    if engine == "sparql":
        data, store = None, asserted_store(sources)
    else:
        data, store = to_rdflib(sources.triples(str(g) for g in ASSERTED_GRAPHS)), None
    out["convert"] = time.perf_counter() - t
    t = time.perf_counter()
    run = run_shacl_store(store, shapes) if engine == "sparql" else run_shacl(data, shapes, engine)
    out["engine_s"] = time.perf_counter() - t
    t = time.perf_counter()
    report = build_report(run, sources, shapes, data)
    out["report"] = time.perf_counter() - t
    out["validate"] = out["convert"] + out["engine_s"] + out["report"]
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results = result_set(run.results)
    out.update(engine=run.engine, conforms=run.conforms, results=len(results), violations=len(report.violations))
    with open(results_dir / f"{count}-{engine}.pickle", "wb") as fh:
        pickle.dump((run.conforms, results), fh)
    return out


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


#: Virtuoso's page buffers (8 KiB each) for the Virtuoso-only sizes: ~5.2 GiB, a quarter of the machine.
LARGE_BUFFERS = 680_000
#: The server's limit on one query (MaxQueryExecutionTime) for the Virtuoso-only sizes: a SHACL query over
#: 10M triples may take minutes (the default, 120 s, is for serving).
VALIDATE_SECONDS = 3600


def virtuoso_only(size: int, seed: int, repeat: int = 3, results_dir: Path | None = None,
                  compare_max: int = 0, queries: bool = True, reason: bool = True) -> dict:
    """Bulk-load ``size`` synthetic triples + the ontology into a private Virtuoso, time the
    competency queries that need no inferred graph, then let Virtuoso validate the graphs (the shapes
    compiled to SPARQL); seconds, Virtuoso's peak RSS, query medians, and the validation's result set
    pickled under ``results_dir`` (the parent compares it with the in-process engines'). Then reason
    inside Virtuoso (``cowkg virtuoso load --reason``): seconds, inferred triples, Virtuoso's peak
    RSS after it; up to ``compare_max`` triples the in-process closure (reasoner ``rules``) is
    loaded beside it and the two graphs are compared inside Virtuoso. ``queries`` / ``reason``
    false: no competency mix / no reasoning (``--no-queries``, ``--no-reason``)."""
    from generate import write

    from cowkg.backends.virtuoso import RemoteSparqlBackend
    from cowkg.load import default_layout, load_files
    from cowkg.reason import infer
    from cowkg.settings import project_paths
    from cowkg.validate import load_shapes, result_set
    from cowkg.virtuoso import manage
    from cowkg.virtuoso.reason import reason_in_virtuoso
    from cowkg.virtuoso.validate import shacl_endpoint
    from cowkg.vocab import GRAPH_DATA, GRAPH_ONTOLOGY

    path, count = write(size, seed, ROOT / ".cache" / "bench")
    ontology = load_files([(p, g) for p, g in default_layout(ROOT) if g == str(GRAPH_ONTOLOGY)])
    out: dict = {"size": count, "mode": "virtuoso-only"}
    with tempfile.TemporaryDirectory(prefix="cowkg-bench-vt-") as tmp:
        instance = manage.up(tmp, buffers=LARGE_BUFFERS, die_with_parent=True,
                             max_query_seconds=VALIDATE_SECONDS)
        try:
            files = manage.stage_graphs(instance, {str(GRAPH_ONTOLOGY): list(ontology.triples())})
            staged = instance.stage / "data.nt"
            try:
                os.link(path, staged)
            except OSError:
                shutil.copy(path, staged)
            files[str(GRAPH_DATA)] = staged
            t = time.perf_counter()
            manage.bulk_load(instance, files, timeout=4 * 3600)
            out["virtuoso"] = time.perf_counter() - t
            out["quads"] = sum(manage.graph_counts(instance.endpoint, files, timeout=1800).values())
            backend = RemoteSparqlBackend(instance.endpoint)
            medians = {}
            for q in sorted((ROOT / "queries").glob("*.rq")) if queries else []:
                sparql = q.read_text(encoding="utf-8")
                if "wdt:" in sparql or "SERVICE" in sparql:
                    continue
                backend.query(sparql, timeout=1800)
                samples = []
                for _ in range(repeat):
                    t = time.perf_counter()
                    backend.query(sparql, timeout=1800)
                    samples.append(time.perf_counter() - t)
                medians[q.stem] = statistics.median(samples)
                print(f"  {count:,} {q.stem:<36} {medians[q.stem] * 1e3:10.1f} ms", file=sys.stderr, flush=True)
            out["queries"] = medians
            out["query_rss_mib"] = _hwm_mib(instance.pid)
            t = time.perf_counter()
            run = shacl_endpoint(instance.endpoint, load_shapes(project_paths(ROOT)["shapes"]),
                                 [str(GRAPH_ONTOLOGY), str(GRAPH_DATA)])
            out["validate"] = time.perf_counter() - t
            results = result_set(run.results)
            out.update(conforms=run.conforms, results=len(results), validate_text=run.text)
            if results_dir is not None:
                with open(results_dir / f"{count}-virtuoso.pickle", "wb") as fh:
                    pickle.dump((run.conforms, results), fh)
            out["virtuoso_rss_mib"] = _hwm_mib(instance.pid)
            if not reason:
                return out
            if count <= compare_max:  # the in-process closure, loaded beside (not timed)
                expected = infer(load_files([(p, g) for p, g in default_layout(ROOT) if g == str(GRAPH_ONTOLOGY)]
                                            + [(path, str(GRAPH_DATA))]), "rules").triples
                out["expected"] = len(expected)
                manage.bulk_load(instance, manage.stage_graphs(instance, {EXPECTED: expected}), timeout=3600)
                del expected
            t = time.perf_counter()
            done = reason_in_virtuoso(instance)
            out["reason"], out["inferred"], out["rounds"] = time.perf_counter() - t, done.triples, done.rounds
            out["reason_rss_mib"] = _hwm_mib(instance.pid)
            if "expected" in out:
                out["differences"] = _differences(instance.endpoint)
        finally:
            manage.down(instance)
    return out


EXPECTED = "urn:cowkg:bench:expected"


def _differences(endpoint: str) -> int:
    """Triples in one of Virtuoso's inferred graph and the in-process closure but not the other."""
    import requests

    from cowkg.vocab import GRAPH_INFERRED

    total = 0
    for a, b in ((GRAPH_INFERRED, EXPECTED), (EXPECTED, GRAPH_INFERRED)):
        query = (f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{a}> {{ ?s ?p ?o }} "
                 f"FILTER NOT EXISTS {{ GRAPH <{b}> {{ ?s ?p ?o }} }} }}")
        r = requests.post(endpoint, data={"query": query}, timeout=3600,
                          headers={"Accept": "application/sparql-results+json"})
        r.raise_for_status()
        total += int(r.json()["results"]["bindings"][0]["n"]["value"])
    return total


def _hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fit_exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(time) on log(size)."""
    pts = [(math.log(s), math.log(t)) for s, t in points if t and t > 0]
    if len(pts) < 2:
        return None
    mx, my = sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / den if den else None


def main() -> None:
    from generate import parse_size

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10k,100k,1m")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--validate-max", default="1m", help="skip SHACL above this many triples")
    ap.add_argument("--no-virtuoso", action="store_true")
    ap.add_argument("--virtuoso-sizes", default="", help="sizes bulk-loaded into Virtuoso alone, e.g. 1m,10m")
    ap.add_argument("--no-engines", action="store_true", help="skip the SHACL engines side by side")
    ap.add_argument("--shacl-engine", choices=("auto", *ENGINES), default="auto",
                    help="the pipeline's SHACL engine (default: serve's, auto: sparql when the shapes compile)")
    ap.add_argument("--view", choices=("beside", "serial", "none", "both", "all"), default="both",
                    help="the Wikibase view built in a helper beside the pipeline (as cowkg serve does), "
                         "in its index stage, not at all (as issue 15 measured), each size beside and in the "
                         "index (both), or the three (all)")
    ap.add_argument("--compare-max", default="1m",
                    help="Virtuoso-only sizes up to this compare the closure reasoned in Virtuoso with the in-process")
    ap.add_argument("--no-queries", action="store_true", help="Virtuoso-only sizes: no competency mix")
    ap.add_argument("--no-reason", action="store_true", help="Virtuoso-only sizes: no reasoning inside Virtuoso")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--one-virtuoso", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--one-shacl", nargs=3, metavar=("SIZE", "ENGINE", "DIR"), help=argparse.SUPPRESS)
    ap.add_argument("--report", metavar="JSONL", help="print the tables from the JSON lines a run wrote to stderr")
    args = ap.parse_args()
    validate_max = parse_size(args.validate_max) + 100_000  # the ontology's triples come on top
    if args.one:
        print(json.dumps(one(parse_size(args.one), args.seed, validate_max, not args.no_virtuoso, args.shacl_engine,
                             args.view)))
        return
    if args.one_virtuoso:
        size, *results_dir = args.one_virtuoso
        print(json.dumps(virtuoso_only(parse_size(size), args.seed,
                                       results_dir=Path(results_dir[0]) if results_dir else None,
                                       compare_max=parse_size(args.compare_max) + 100_000,
                                       queries=not args.no_queries, reason=not args.no_reason)))
        return
    if args.one_shacl:
        size, engine, results_dir = args.one_shacl
        print(json.dumps(one_shacl(parse_size(size), args.seed, engine, Path(results_dir))))
        return
    if args.report:
        lines = Path(args.report).read_text(encoding="utf-8").splitlines()
        report([json.loads(line) for line in lines if line.startswith("{")])
        return
    views = {"both": ("beside", "serial"), "all": ("beside", "serial", "none")}.get(args.view, (args.view,))
    runs = [["--one", size, "--validate-max", args.validate_max, "--shacl-engine", args.shacl_engine, "--view", view]
            + (["--no-virtuoso"] if args.no_virtuoso or view != views[0] else [])
            for size in args.sizes.split(",") if size for view in views]
    results_dir = Path(tempfile.mkdtemp(prefix="cowkg-bench-shacl-"))
    if not args.no_engines:
        runs += [["--one-shacl", size, engine, str(results_dir)]
                 for size in args.sizes.split(",") if size and parse_size(size) <= parse_size(args.validate_max)
                 for engine in ENGINES]
    runs += [["--one-virtuoso", size, str(results_dir), "--compare-max", args.compare_max]
             + (["--no-queries"] if args.no_queries else []) + (["--no-reason"] if args.no_reason else [])
             for size in args.virtuoso_sizes.split(",") if size]
    rows = []
    for run in runs:
        cmd = [sys.executable, __file__, "--seed", str(args.seed), *run]
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode:
            sys.exit(f"{' '.join(run)} failed:\n{result.stderr[-2000:]}")
        row = json.loads(result.stdout.strip().splitlines()[-1])
        row["wall"] = time.perf_counter() - start
        if row.get("mode") == "shacl" and row["requested"] != "pyshacl":
            row["same_as_pyshacl"] = same_results(results_dir, row["size"], row["requested"])
        if row.get("mode") == "virtuoso-only":
            row["same_as_sparql"] = same_results(results_dir, row["size"], "virtuoso", "sparql")
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    shutil.rmtree(results_dir, ignore_errors=True)
    report(rows)
    different = [(r["size"], r.get("requested", "virtuoso")) for r in rows
                 if (r.get("mode") == "shacl" and (r["engine"] != r["requested"] or r.get("same_as_pyshacl") is False))
                 or (r.get("mode") == "virtuoso-only" and r.get("same_as_sparql") is False)]
    if different:
        sys.exit(f"an engine did not give pySHACL's results (or did not run): {different}")
    unequal = [r["size"] for r in rows if r.get("differences")]
    if unequal:
        sys.exit(f"the closure reasoned inside Virtuoso is not the in-process one at {unequal}")


def same_results(results_dir: Path, size: int, engine: str, reference: str = "pyshacl") -> bool | None:
    """Whether ``engine``'s verdict and result set at ``size`` are exactly ``reference``'s (None:
    the reference did not run at that size)."""
    def read(name: str):
        with open(results_dir / f"{size}-{name}.pickle", "rb") as fh:
            return pickle.load(fh)

    if not (results_dir / f"{size}-{reference}.pickle").is_file():
        return None
    return read(reference) == read(engine)


def report(rows: list[dict]) -> None:
    """The tables, the growth exponents and the overall ratios."""
    large = [r for r in rows if r.get("mode") == "virtuoso-only"]
    shacl = [r for r in rows if r.get("mode") == "shacl"]
    rows = [r for r in rows if r.get("mode") is None]
    if rows:
        report_pipeline(rows)
    if shacl:
        report_engines(shacl)
    if large:
        report_virtuoso_only(large)


def report_engines(rows: list[dict]) -> None:
    """pySHACL, pyshacl-turbo and the shapes as SPARQL on pyoxigraph side by side per size: time,
    peak memory, same results."""
    by_size: dict[int, dict[str, dict]] = {}
    for r in rows:
        by_size.setdefault(r["size"], {})[r["requested"]] = r
    versions = ", ".join(f"{e} {r['version']}" for e, r in next(iter(by_size.values())).items())
    print(f"\nSHACL engines side by side, each in a fresh process ({versions}; one run, "
          f"{date.today().isoformat()}, {_machine()}). Validate = copy + engine + report, the copy being an "
          "rdflib graph (pyshacl, turbo) or a pyoxigraph store (sparql; in the pipeline the store is built "
          "anyway); RSS after loading the data, then peak\n")
    print("| data triples | engine | copy s | engine s | validate s | RSS loaded → peak MiB | results | "
          "same verdict and results as pySHACL |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for size, engines in sorted(by_size.items()):
        for name in ENGINES:
            r = engines.get(name)
            if r is None:
                continue
            same = "reference" if name == "pyshacl" else ("**yes**" if r.get("same_as_pyshacl") else "**NO**")
            if r["engine"] != name:
                same += f" (ran {r['engine']})"
            print(f"| {size:,} | {name} | {_s(r['convert'])} | {_s(r['engine_s'])} | {_s(r['validate'])} | "
                  f"{r['loaded_rss_mib']:.0f} → {r['peak_rss_mib']:.0f} | {r['results']:,} | {same} |")
    print()
    for size, engines in sorted(by_size.items()):
        ref = engines.get("pyshacl")
        for name in ("turbo", "sparql"):
            if ref is None or name not in engines:
                continue
            other = engines[name]
            grow = [(e["peak_rss_mib"] - e["loaded_rss_mib"]) for e in (ref, other)]
            print(f"{size:,} triples: {name} {ref['engine_s'] / other['engine_s']:.1f}x faster (engine), "
                  f"{ref['validate'] / other['validate']:.1f}x (validate); memory above the loaded data "
                  f"{grow[1]:.0f} MiB vs {grow[0]:.0f} MiB ({grow[1] / grow[0]:.2f}x)")
        if {"turbo", "sparql"} <= set(engines):
            turbo, sparql = engines["turbo"], engines["sparql"]
            print(f"{size:,} triples: sparql vs turbo {turbo['engine_s'] / sparql['engine_s']:.1f}x (engine), "
                  f"{turbo['validate'] / sparql['validate']:.1f}x (validate with the copy)")


def report_virtuoso_only(rows: list[dict]) -> None:
    """Bulk load, the asserted-only competency mix and SHACL inside Virtuoso, per size."""
    common = sorted(set.intersection(*(set(r["queries"]) for r in rows)))
    if not common:  # --no-queries
        report_validation_inside(rows)
        return
    print(f"\nVirtuoso alone: bulk load of data + ontology, then the {len(common)} competency queries that need "
          f"no inferred graph (sum of medians of 3), then SHACL inside Virtuoso (the shapes compiled to SPARQL; "
          f"one run, {date.today().isoformat()}, {_machine()})\n")
    print("| data triples | quads loaded | bulk load s | triples/s | query mix | slowest query | SHACL in Virtuoso s | "
          "results | same as in-process sparql | Virtuoso peak RSS MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        mix = sum(r["queries"][q] for q in common)
        slow = max(common, key=lambda q: r["queries"][q])
        same = {True: "**yes**", False: "**NO**"}.get(r.get("same_as_sparql"), "- (not run in process)")
        print(f"| {r['size']:,} | {r['quads']:,} | {_s(r['virtuoso'])} | {r['quads'] / r['virtuoso']:,.0f} | "
              f"{mix * 1e3:,.0f} ms | {slow} {r['queries'][slow] * 1e3:,.0f} ms | {_s(r.get('validate'))} | "
              f"{r.get('results', 0):,} | {same} | {r['virtuoso_rss_mib']:.0f} |")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        b = fit_exponent([(r["size"], r["virtuoso"]) for r in rows])
        mix = [sum(r["queries"][q] for q in common) for r in (first, last)]
        print(f"\n{last['size'] / first['size']:.0f}x the data: bulk load x{last['virtuoso'] / first['virtuoso']:.1f} "
              f"(growth exponent {b:.2f}), query mix x{mix[1] / mix[0]:.1f}, "
              + (f"SHACL x{last['validate'] / first['validate']:.1f}, " if first.get("validate") else "")
              + f"Virtuoso peak RSS x{last['virtuoso_rss_mib'] / first['virtuoso_rss_mib']:.1f}")
    if any("reason" in r for r in rows):
        report_virtuoso_reasoning([r for r in rows if "reason" in r])


def report_validation_inside(rows: list[dict]) -> None:
    """Bulk load and SHACL inside Virtuoso per size, without the competency mix (--no-queries)."""
    print(f"\nVirtuoso alone: bulk load of data + ontology, then SHACL inside Virtuoso (the shapes compiled to "
          f"SPARQL; no competency queries; one run, {date.today().isoformat()}, {_machine()})\n")
    print("| data triples | quads loaded | bulk load s | triples/s | SHACL in Virtuoso s | results | "
          "same as in-process sparql | Virtuoso peak RSS MiB |")
    print("|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        same = {True: "**yes**", False: "**NO**"}.get(r.get("same_as_sparql"), "- (not run in process)")
        print(f"| {r['size']:,} | {r['quads']:,} | {_s(r['virtuoso'])} | {r['quads'] / r['virtuoso']:,.0f} | "
              f"{_s(r.get('validate'))} | {r.get('results', 0):,} | {same} | {r['virtuoso_rss_mib']:.0f} |")
    if any("reason" in r for r in rows):
        report_virtuoso_reasoning([r for r in rows if "reason" in r])


def report_virtuoso_reasoning(rows: list[dict]) -> None:
    """Reasoning inside Virtuoso after the bulk load, per size."""
    print("\nReasoning inside Virtuoso after the bulk load (`cowkg virtuoso load --reason`: the compiled OWL 2 RL "
          "rules as SPARQL updates to a fixpoint; total = bulk load + reasoning)\n")
    print("| data triples | reasoning s | rounds | inferred triples | total s | Virtuoso peak RSS MiB | "
          "same closure as in process |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        same = "not compared" if "differences" not in r else (
            f"**yes** ({r['expected']:,} triples)" if r["differences"] == 0 else f"**NO** ({r['differences']:,})")
        print(f"| {r['size']:,} | {_s(r['reason'])} | {r['rounds']} | {r['inferred']:,} | "
              f"{_s(r['virtuoso'] + r['reason'])} | {r['reason_rss_mib']:.0f} | {same} |")


def report_pipeline(rows: list[dict]) -> None:
    """The in-process pipeline table, the growth exponents and the overall ratio."""
    print(f"\nBuild pipeline vs size (seconds; one run, {date.today().isoformat()}, {_machine()})\n")
    print("| data triples | view | load | reason (reasoner) | validate (engine) | index | total in-process |"
          " Virtuoso bulk load | peak RSS MiB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        total = sum(r[s] or 0 for s in ("load", "reason", "validate", "index"))
        validated = f"{_s(r['validate'])} ({r.get('validate_engine', 'pyshacl')})" if r["validate"] is not None \
            else "skipped"
        if r.get("validate_engine") == "sparql":
            validated += ", after index"
        cells = [f"{r['size']:,}", _view(r), _s(r["load"]), f"{_s(r['reason'])} ({r['reasoner']})",
                 validated, _s(r["index"]), _s(total),
                 _s(r["virtuoso"]) if r["virtuoso"] is not None else "-", f"{r['peak_rss_mib']:.0f}"]
        print("| " + " | ".join(cells) + " |")
    both = _view_pairs(rows)
    if both:
        print("\nThe Wikibase view built beside (a forked helper, during reasoning, indexing and validation) "
              "vs in the index stage, same process otherwise:")
        for size, (beside, serial) in both.items():
            print(f"  {size:,} triples: total {_s(_total(beside))} s vs {_s(_total(serial))} s "
                  f"({_total(serial) / _total(beside):.2f}x faster; the view itself {_s(beside['view_seconds'])} s "
                  f"vs {_s(serial['view_seconds'])} s)")
    for size, r in _view_rows(rows, "none").items():
        print(f"  {size:,} triples without the view (issue 15's pipeline, one process): total {_s(_total(r))} s")
    fitted: dict[int, tuple[int, dict]] = {}
    for r in rows:  # one row per size for the fit: the build as serve does it, when a size ran several ways
        rank = ("beside", "serial", "none").index(r.get("view", "serial"))
        if r["size"] not in fitted or rank < fitted[r["size"]][0]:
            fitted[r["size"]] = (rank, r)
    rows = [r for _, r in sorted(fitted.values(), key=lambda pair: pair[1]["size"])]
    print("\nGrowth exponent b (time ≈ a·size^b; 1 = linear):")
    for stage in STAGES:
        same = [r for r in rows if stage != "reason" or r["reasoner"] == rows[-1]["reasoner"]]
        b = fit_exponent([(r["size"], r[stage]) for r in same if r.get(stage)])
        if b is not None:
            note = f" (sizes reasoned with {rows[-1]['reasoner']} only)" if len(same) < len(rows) else ""
            print(f"  {stage:<9} {b:.2f}{note}")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth = last["size"] / first["size"]
        print(f"\n{growth:.0f}x the data: total time x{_total(last) / _total(first):.1f}, "
              f"peak memory x{last['peak_rss_mib'] / first['peak_rss_mib']:.1f}")


def _view(r: dict) -> str:
    """Where the row's Wikibase view was built (rows from before the helper existed: in the index)."""
    return {"beside": "beside (helper)", "serial": "in index", "none": "none"}.get(r.get("view", "serial"), "?")


def _view_rows(rows: list[dict], view: str) -> dict[int, dict]:
    return {r["size"]: r for r in rows if r.get("view", "serial") == view}


def _view_pairs(rows: list[dict]) -> dict[int, tuple[dict, dict]]:
    """Sizes run both ways: size → (beside row, serial row)."""
    by: dict[int, dict[str, dict]] = {}
    for r in rows:
        by.setdefault(r["size"], {})[r.get("view", "serial")] = r
    return {size: (v["beside"], v["serial"]) for size, v in by.items() if "beside" in v and "serial" in v}


def _total(r: dict) -> float:
    return sum(r[s] or 0 for s in ("load", "reason", "validate", "index"))


def _s(x: float | None) -> str:
    return "-" if x is None else (f"{x:.2f}" if x < 10 else f"{x:.1f}")


def _machine() -> str:
    import os

    return f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    main()
