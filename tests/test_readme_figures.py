"""The README quotes its measured figures from bench/results, never typed by hand.

A figure the README gives for the exports is the one ``bench/results/export_speed.txt`` holds, and
the part of that file that does not depend on the machine (how many files a release has) is
today's: a release that grew since the last measurement makes this fail until the bench is re-run.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "results" / "export_speed.txt"


def exports_paragraph() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("**Exports**")
    return " ".join(readme[start:readme.index("\n\n", start)].split())


def bench_figures() -> dict:
    text = BENCH.read_text(encoding="utf-8")
    rows = {m.group(1): m.groups()[1:] for m in re.finditer(
        r"^(ttl|nt|jsonld|trig|nq)\s+([\d,]+)\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.-]+)\s+([\d.]+)"
        r"\s+([\d.-]+)", text, re.M)}
    release = re.search(r"release_files: (\d+) files, ([\d,]+) bytes in ([\d.]+) s wall / ([\d.]+) s CPU", text)
    return {"rows": rows, "files": int(release.group(1)), "bytes": int(release.group(2).replace(",", "")),
            "wall": float(release.group(3)), "cpu": float(release.group(4)),
            "triples": re.search(r"graph: ([\d,]+) triples", text).group(1),
            "load": re.search(r"load ([\d.]+) at start", text).group(1)}


def test_the_export_figures_are_quoted_from_the_bench_file():
    para, bench = exports_paragraph(), bench_figures()
    assert f"{bench['triples']} triples" in para and f"load {bench['load']}" in para
    names = {"ttl": "Turtle", "nt": "N-Triples", "jsonld": "JSON-LD", "trig": "TriG", "nq": "N-Quads"}
    for fmt, name in names.items():
        cpu = float(bench["rows"][fmt][3])
        assert f"{name} {cpu:.2f} s" in para, name
        if fmt in ("ttl", "jsonld"):  # the README sets rdflib's writer beside these two
            assert f"(rdflib {float(bench['rows'][fmt][7]):.1f}× slower)" in para, f"{name} rdflib"
    megabytes = round(bench["bytes"] / 1e6)
    assert (f"a whole release of {bench['files']} files ({megabytes} MB) in {bench['cpu']:.2f} s CPU "
            f"({bench['wall']:.1f} s wall)") in para


def test_the_bench_file_counts_the_files_a_release_has_today(kg):
    """The machine-independent part of the measurement is current (a release had 60 files when the
    bench ran and 62 by the time issue 16 was filed)."""
    import datetime as dt

    from cowkg.dump import release_files

    files = release_files(kg, version="bench", issued=dt.date(2026, 1, 1))
    assert len(files) == bench_figures()["files"]


SCALE = ROOT / "bench" / "results" / "scale_pipeline.txt"


def readme_table(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after ``heading`` in the README, as lists of cells."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = readme[readme.index(heading):].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_shacl_engine_figures_are_quoted_from_the_bench_file():
    """Each size's row of the README's SHACL engines table gives the seconds, ratios and peak RSS
    that bench/results/scale_pipeline.txt measured, and the file says turbo's results were pySHACL's."""
    text = SCALE.read_text(encoding="utf-8")
    runs = {(m["size"], m["engine"]): m.groupdict() for m in re.finditer(
        r"^\| (?P<size>[\d,]+) \| (?P<engine>pyshacl|turbo) \| [\d.]+ \| (?P<engine_s>[\d.]+) \| "
        r"(?P<validate>[\d.]+) \| \d+ → (?P<peak>\d+) \| [\d,]+ \| (?P<same>[^|]+) \|$", text, re.M)}
    ratios = {m[1]: (m[2], m[3]) for m in re.finditer(
        r"^([\d,]+) triples: turbo ([\d.]+)x faster \(engine\), ([\d.]+)x \(validate\)", text, re.M)}
    rows = readme_table("**SHACL engines**")
    assert rows and len(rows) == len(ratios)
    for size, pyshacl_cell, turbo_cell, engine_ratio, validate_ratio, peaks in rows:
        ref, turbo = runs[(size, "pyshacl")], runs[(size, "turbo")]
        assert turbo["same"].strip() == "**yes**", size
        assert pyshacl_cell == f"{ref['engine_s']} s / {ref['validate']} s"
        assert turbo_cell == f"{turbo['engine_s']} s / {turbo['validate']} s"
        assert (engine_ratio, validate_ratio) == tuple(f"{r}×" for r in ratios[size])
        assert peaks == f"{int(ref['peak']):,} / {int(turbo['peak']):,} MiB"
    sparql = [m.groups() for m in re.finditer(
        r"^\| [\d,]+ \| sparql \| [\d.]+ \| [\d.]+ \| ([\d.]+) \| \d+ → (\d+) \| [\d,]+ \| \*\*yes\*\* \|$",
        text, re.M)]
    versus = re.findall(r"^[\d,]+ triples: sparql vs turbo [\d.]+x \(engine\), ([\d.]+)x \(validate", text, re.M)
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert len(sparql) == len(versus) == 3
    assert (f"validates in {sparql[0][0]} s, {sparql[1][0]} s and {sparql[2][0]} s (copy included; "
            f"{versus[0]}×, {versus[1]}× and {versus[2]}× turbo) with a peak of {sparql[0][1]}, {sparql[1][1]} "
            f"and {sparql[2][1]} MiB") in readme


def test_the_build_pipeline_figures_are_quoted_from_the_bench_file():
    text = SCALE.read_text(encoding="utf-8")
    measured = {m[1]: [c.strip() for c in m[2].split("|")] for m in re.finditer(
        r"^\| ([\d,]+) \| ([^\n]*\|[^\n]*) \|$", text, re.M) if "(" in m[2] and "pyshacl" not in m[2]}
    rows = readme_table("Building the graph as `cowkg serve` does")
    assert rows and len(rows) == len(measured)
    for size, *cells in rows:
        view, load, reason, shacl, index, total, virtuoso, peak = measured[size]
        assert [c.replace("**", "") for c in cells] == [
            view, f"{load} s", reason.replace(" (", " s ("), shacl.replace(" (", " s ("), f"{index} s", f"{total} s",
            f"{virtuoso} s", f"{int(peak):,} MiB"]
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    exponents = dict(re.findall(r"^  (load|reason|validate|index|virtuoso) +([\d.]+)", text, re.M))
    assert (f"load {exponents['load']}, reasoning {exponents['reason']} (100k → 1M, same reasoner), SHACL "
            f"{exponents['validate']}, indexing {exponents['index']}, Virtuoso bulk load {exponents['virtuoso']}"
            ) in readme


def test_the_build_with_the_view_beside_is_quoted_from_the_bench_file():
    text = (ROOT / "bench" / "results" / "scale_pipeline_view.txt").read_text(encoding="utf-8")
    measured = {(m[1], m[2]): [c.strip() for c in m[3].split("|")] for m in re.finditer(
        r"^\| ([\d,]+) \| (beside \(helper\)|in index|none) \| ([^\n]*) \|$", text, re.M)}
    rows = readme_table("**The 1M build in under a minute")
    assert rows and len(rows) == len(measured) == 6
    for size, view, *cells in rows:
        load, reason, shacl, index, total, _virtuoso, peak = measured[(size, view)]
        assert [c.replace("**", "") for c in cells] == [
            f"{load} s", reason.replace(" (", " s ("), shacl.split(",")[0].replace(" (", " s ("), f"{index} s",
            f"{total} s", f"{int(peak):,} MiB"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("**The 1M build in under a minute")
    para = " ".join(readme[start:readme.index("**Reasoners**", start)].split())
    m = re.search(r"1,000,000 triples: total ([\d.]+) s vs ([\d.]+) s \(([\d.]+)x faster; the view itself "
                  r"([\d.]+) s vs ([\d.]+) s\)", text)
    alone = re.search(r"1,000,000 triples without the view \(issue 15's pipeline, one process\): total ([\d.]+) s",
                      text)
    helper = re.search(r'"size": 1000000, [^\n]*"view": "beside"[^\n]*', (
        ROOT / "bench" / "results" / "scale_pipeline_view.jsonl").read_text(encoding="utf-8"))
    peak = float(re.search(r'"helper_peak_rss_mib": ([\d.]+)', helper[0])[1])
    assert (f"take {alone[1]} s" in para and f"in the helper it takes {m[4]} s" in para
            and f"adds {m[5]} s of Python" in para
            and f"the build with it takes {m[1]} s instead of {m[2]} s ({m[3]}x faster)" in para
            and f"peak RSS was {peak:,.0f} MiB" in para and "load 0.81 at start" in para
            and "# 2026-12-04T07:59Z, 2 cores, load 0.81 at start" in text)


def test_the_serve_start_figures_are_quoted_from_the_bench_file():
    text = (ROOT / "bench" / "results" / "serve_start.txt").read_text(encoding="utf-8")
    median = {(m[2], m[1]): m[3] for m in re.finditer(r"^\| ([^|]+?) \| ([^|]+?) \| ([\d.]+) \(", text, re.M)}
    added = dict(re.findall(r"^(auto|turbo|pyshacl): validating at start adds ([\d.]+) s", text, re.M))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("**Serve start**")
    para = " ".join(readme[start:readme.index("\n\n", start)].split())
    load = re.search(r"load ([\d.]+) at start", text)[1]
    assert f"load {load};" in para
    assert (f"server's store) {median[('auto', 'validated')]} s, with turbo {median[('turbo', 'validated')]} s, "
            f"with pySHACL {median[('pyshacl', 'validated')]} s") in para
    assert f"default engine) {median[('auto', 'cached verdict')]} s; without any check" in para
    assert f"(`--allow-invalid`) {median[('-', '--allow-invalid')]} s" in para
    assert (f"adds {added['auto']} s with the default engine, {added['turbo']} s with turbo and "
            f"{added['pyshacl']} s with pySHACL") in para


def test_the_reasoner_figures_are_quoted_from_the_bench_file():
    """The README's reasoners table gives bench/results/reasoners.txt's seconds and peaks, and the
    file says each compiled evaluator gave the reference's closure."""
    text = (ROOT / "bench" / "results" / "reasoners.txt").read_text(encoding="utf-8")
    runs = {(m["size"], m["name"]): m.groupdict() for m in re.finditer(
        r"^\| (?P<size>[\d,]+) \| (?P<name>\w+) \| (?P<wall>[\d.]+) \| (?P<cpu>[\d.]+) \| (?P<inferred>[\d,]+) \| "
        r"\d+ → (?P<peak>\d+) \| (?P<same>[^|]+) \|$", text, re.M)}
    rows = readme_table("**Reasoners**")
    assert rows and len(rows) == len({size for size, _ in runs})
    for size, *cells, peaks in rows:
        names = ("reasonable", "sparql", "rules")
        assert cells == [f"{runs[(size, n)]['wall']} s / {runs[(size, n)]['cpu']} s" for n in names]
        assert peaks == " / ".join(f"{int(runs[(size, n)]['peak']):,}" for n in names) + " MiB"
        assert all(runs[(size, n)]["same"].startswith("**yes**") for n in names[1:])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    load = re.search(r"load ([\d.]+) at start", text)[1]
    assert f"load {load} at start" in readme
    assert f"({runs[('1,000,000', 'rules')]['inferred']} inferred triples at 1M)" in readme


def test_the_virtuoso_reasoning_figures_are_quoted_from_the_bench_file():
    text = (ROOT / "bench" / "results" / "virtuoso_reason.txt").read_text(encoding="utf-8")
    bulk = re.search(r"^\| 1,000,000 \| [\d,]+ \| ([\d.]+) \|", text, re.M)[1]
    reason, rounds, inferred, total, peak, same = re.search(
        r"^\| 1,000,000 \| ([\d.]+) \| (\d+) \| ([\d,]+) \| ([\d.]+) \| (\d+) \| ([^|]+) \|$", text, re.M).groups()
    assert same.startswith("**yes**")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("**Reasoning inside Virtuoso**")
    para = " ".join(readme[start:readme.index("\n\n", start)].split())
    load = re.search(r"load ([\d.]+) at start", text)[1]
    assert f"load {load} at start" in para
    assert (f"bulk load {bulk} s, reasoning {reason} s in {rounds} rounds, {inferred} inferred triples" in para)
    assert f"total {total} s, Virtuoso's peak RSS {int(peak):,} MiB" in para


SPARQL_SCALE = ROOT / "bench" / "results" / "scale_pipeline_sparql.txt"


def test_the_sparql_validation_figures_are_quoted_from_the_bench_file():
    """The README's table of SHACL as SPARQL (in process, beside turbo) and its Virtuoso figures are
    those of bench/results/scale_pipeline_sparql.txt, where every engine gave pySHACL's results."""
    text = SPARQL_SCALE.read_text(encoding="utf-8")
    runs = {(m["size"], m["engine"]): m.groupdict() for m in re.finditer(
        r"^\| (?P<size>[\d,]+) \| (?P<engine>pyshacl|turbo|sparql) \| (?P<copy>[\d.]+) \| (?P<engine_s>[\d.]+) \| "
        r"(?P<validate>[\d.]+) \| \d+ → (?P<peak>\d+) \| [\d,]+ \| (?P<same>[^|]+) \|$", text, re.M)}
    pipeline = {m[1]: m[2] for m in re.finditer(r"^\| ([\d,]+) \| [\d.]+ \| [^|]+ \| ([\d.]+) \(sparql\), after index",
                                                text, re.M)}
    rows = readme_table("**SHACL as SPARQL**")
    assert rows and len(rows) == len(pipeline)
    for size, turbo_cell, sparql_cell, in_pipeline, same in rows:
        turbo, sparql = runs[(size, "turbo")], runs[(size, "sparql")]
        assert turbo["same"].strip() == sparql["same"].strip() == "**yes**" and same == "yes", size
        assert turbo_cell == f"{turbo['engine_s']} s / {turbo['validate']} s"
        assert sparql_cell == f"{sparql['engine_s']} s / {sparql['validate']} s"
        assert in_pipeline == f"{pipeline[size]} s"
    inside = {m[1]: m.groups()[1:] for m in re.finditer(
        r"^\| ([\d,]+) \| [\d,]+ \| [\d.]+ \| [\d,]+ \| [\d,]+ ms \| [^|]+ \| ([\d.]+) \| ([\d,]+) \| ([^|]+) \| "
        r"(\d+) \|$", text, re.M)}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("**SHACL inside Virtuoso**")
    para = " ".join(readme[start:readme.index("\n\n", start)].split())
    load = re.search(r"load ([\d.]+) at start", text)[1]
    assert inside and f"load {load} at start" in para
    alone = (ROOT / "bench" / "results" / "scale_virtuoso_sparql.txt").read_text(encoding="utf-8")
    inside.update({m[1]: m.groups()[1:] for m in re.finditer(
        r"^\| ([\d,]+) \| [\d,]+ \| [\d.]+ \| [\d,]+ \| ([\d.]+) \| ([\d,]+) \| ([^|]+) \| (\d+) \|$", alone, re.M)})
    assert f"load {re.search(r'load ([0-9.]+) at start', alone)[1]} at start" in para
    assert {"1,000,000", "10,000,000"} <= set(inside)
    for size, (seconds, results, same, rss) in inside.items():
        assert f"{size} triples: {seconds} s, {results} results" in para, size
        assert f"peak RSS {int(rss):,} MiB" in para, size
        if same.strip() != "- (not run in process)":
            assert same.strip() == "**yes**", size


def test_the_100k_virtuoso_equality_is_quoted_from_the_bench_file():
    text = (ROOT / "bench" / "results" / "virtuoso_100k.txt").read_text(encoding="utf-8")
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    closure = re.search(r"^\| 100,000 \| [\d.]+ \| \d+ \| ([\d,]+) \| [\d.]+ \| \d+ \| "
                        r"\*\*yes\*\* \(([\d,]+) triples\) \|$", text, re.M)
    shacl = re.search(r"^\| 100,000 \| [\d,]+ \| [\d.]+ \| [\d,]+ \| [^|]+ \| [^|]+ \| [\d.]+ \| "
                      r"([\d,]+) \| \*\*yes\*\* \|", text, re.M)
    pyshacl = re.search(r"^\| 100,000 \| sparql \|[^\n]*\| ([\d,]+) \| \*\*yes\*\* \|$", text, re.M)
    assert closure and shacl and pyshacl and closure[1] == closure[2] and shacl[1] == pyshacl[1]
    assert (f"At 100k (`bench/scale_pipeline.py --sizes 100k --virtuoso-sizes 100k --shacl-engine sparql`, "
            f"`bench/results/virtuoso_100k.txt`, 2026-12-04, load 0.73 at start) Virtuoso inferred {closure[1]} "
            f"triples, the in-process closure, and its SHACL gave {shacl[1]} results") in readme


def test_the_evaluator_hop_figures_are_quoted_from_the_bench_file():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    hop = (ROOT / "bench" / "results" / "http_hop.txt").read_text(encoding="utf-8")
    load = re.search(r"load ([\d.]+) at start", hop).group(1)

    def ratio(pair: str, what: str) -> str:
        line = re.search(rf"^\s+mix-unique\s+{re.escape(pair)}\s.*$", hop, re.M).group(0)
        return re.search(rf"{what}\s+([\d.]+)x", line).group(1)

    para = readme[readme.index("**The evaluator hop, measured**"):]
    para = para[:para.index("(`bench/results/event_loop.txt`")]
    assert f"load {load} at start" in para
    assert f"{ratio('cowkg-in-worker/oxigraph', 'throughput')}× Oxigraph's throughput" in para
    assert f"p50 of {ratio('cowkg-in-worker/oxigraph', 'p50')}×" in para
    assert f"{ratio('cowkg/cowkg-in-worker', 'server CPU per request')}× the server CPU" in para
    assert f"no throughput ({ratio('cowkg/cowkg-in-worker', 'throughput')}×)" in para
    before = (ROOT / "bench" / "results" / "event_loop_before_fix.txt").read_text(encoding="utf-8")
    errors, total = re.search(r"^mix-unique\s+cowkg-uvloop .* errors (\d+)/(\d+)", before, re.M).groups()
    assert f"{errors} of {int(total):,} unique queries" in para
    after = (ROOT / "bench" / "results" / "event_loop.txt").read_text(encoding="utf-8")
    tail = readme[readme.index("(`bench/results/event_loop.txt`"):][:120]
    for round_name in ("mix-unique", "mix"):
        line = re.search(rf"^\s+{round_name}\s+cowkg-uvloop/cowkg\s.*$", after, re.M).group(0)
        assert re.search(r"throughput\s+([\d.]+)x", line).group(1) + "×" in tail


def test_the_native_front_figures_are_quoted_from_the_bench_file():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    text = (ROOT / "bench" / "results" / "native_front.txt").read_text(encoding="utf-8")

    def ratio(round_name: str, pair: str, what: str) -> str:
        line = re.search(rf"^\s+{round_name}\s+{re.escape(pair)}\s.*$", text, re.M).group(0)
        return re.search(rf"{what}\s+([\d.]+)x", line).group(1)

    def cpu(name: str) -> float:
        return float(re.search(rf"^mix-unique\s+{name}\s.* server CPU ([\d.]+) ms/request", text, re.M).group(1))

    para = readme[readme.index("**A native front, measured**"):]
    para = para[:para.index("The server was chosen the same way")]
    assert re.search(r"load ([\d.]+) at start", text).group(1) in para
    assert re.search(r"^cowkg errors: 0 ", text, re.M), "every cowkg and native server answered every request"
    for name in ("cowkg-bare", "native-full", "native-bare"):
        said = para[para.index(f"`{name}` is"):][:600]  # what the README says of this server
        pair = f"{name}/oxigraph"
        assert f"{ratio('mix-unique', pair, 'throughput')}× " in said, name
        assert re.search(rf"p50 (of )?{re.escape(ratio('mix-unique', pair, 'p50'))}×", said), name
    assert f"{cpu('native-full') - cpu('native-bare'):.2f} ms of server CPU" in para
    assert f"gave {ratio('heavy-unique', 'cowkg/oxigraph', 'throughput')}× (p50 " \
           f"{ratio('heavy-unique', 'cowkg/oxigraph', 'p50')}×)" in para
    assert f"`native-full` {ratio('heavy-unique', 'native-full/oxigraph', 'throughput')}×" in para


def test_the_native_scanner_figures_are_quoted_from_the_bench_files():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    para = readme[readme.index("**The native query-text scanner**"):]
    para = para[:para.index("The server was chosen the same way")]
    speed = (ROOT / "bench" / "results" / "querytext_native.txt").read_text(encoding="utf-8")
    code = re.search(r"^code tokens .* native is (\d+)x faster", speed, re.M).group(1)
    readings = re.search(r"^all readings .* native is (\d+)x faster", speed, re.M).group(1)
    assert f"{code}× faster for the code tokens and {readings}× for every reading" in para
    text = (ROOT / "bench" / "results" / "native_plain.txt").read_text(encoding="utf-8")
    assert re.search(r"^cowkg errors: 0 ", text, re.M)

    def ratio(round_name: str, pair: str, what: str) -> str:
        line = re.search(rf"^\s+{round_name}\s+{re.escape(pair)}\s.*$", text, re.M).group(0)
        return re.search(rf"{what}\s+([\d.]+)x", line).group(1)

    load = re.search(r"load ([\d.]+) at start", text).group(1)
    assert f"load {load} at start" in para
    assert f"gave {ratio('mix-unique', 'cowkg/cowkg-no-native', 'throughput')}× its own throughput" in para
    assert f"{ratio('mix-unique', 'cowkg/oxigraph', 'throughput')}× Oxigraph's (p50 " \
           f"{ratio('mix-unique', 'cowkg/oxigraph', 'p50')}×)" in para
    assert f"{ratio('mix-unique', 'native-full/oxigraph', 'throughput')}× Oxigraph's with a p50 of " \
           f"{ratio('mix-unique', 'native-full/oxigraph', 'p50')}×" in para
    assert f"and {ratio('heavy-unique', 'native-full/oxigraph', 'throughput')}× on the heaviest third" in para
    text = (ROOT / "bench" / "results" / "native_plain_rerun.txt").read_text(encoding="utf-8")
    load = re.search(r"load ([\d.]+) at start", text).group(1)
    rerun = para[para.index("A second run later that day"):]
    assert f"load {load} at start" in rerun
    assert f"gave {ratio('mix-unique', 'cowkg/cowkg-no-native', 'throughput')}× for the scanner" in rerun
    assert f"cowkg {ratio('mix-unique', 'cowkg/oxigraph', 'throughput')}× Oxigraph's" in rerun
    assert f"`native-full` {ratio('mix-unique', 'native-full/oxigraph', 'throughput')}× with a p50 of " \
           f"{ratio('mix-unique', 'native-full/oxigraph', 'p50')}×" in rerun


def test_the_plain_share_of_the_competency_queries_is_todays(native_querytext, kg):
    """The README's "27 of the 30 competency queries" are plain today, counted over the mix the
    HTTP bench sends (every example the endpoint runs, with the project's PREFIX lines)."""
    from cowkg import native
    from cowkg.backends.embedded import run_query
    from cowkg.errors import CowkgError
    from cowkg.querytext import parse_plain
    from cowkg.vocab import sparql_prologue
    from cowkg.web.catalog import load_examples

    native.library.cache_clear()
    mix = []
    for ex in load_examples(ROOT / "queries"):
        try:
            run_query(kg, sparql_prologue() + ex.query)
        except CowkgError:
            continue
        mix.append(sparql_prologue() + ex.query)
    plain = sum(parse_plain(text) is not None for text in mix)
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"{plain} of the {len(mix)} competency queries" in readme


def test_the_http_table_is_quoted_from_the_bench_file():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    text = (ROOT / "bench" / "results" / "http_throughput.txt").read_text(encoding="utf-8")
    para = readme[readme.index("**HTTP serving**"):readme.index("**The evaluator hop, measured**")]
    assert f"load {re.search(r'load ([0-9.]+) at start', text).group(1)} at start" in para
    assert re.search(r"^cowkg errors: 0 ", text, re.M)
    rows = {"mix": "competency mix, repeated", "mix-unique": "competency mix, every request unique",
            "heavy-unique": "heaviest third, every request unique"}
    for round_name, label in rows.items():
        line = re.search(rf"^{round_name}\s+cowkg\s+([\d.]+) req/s\s+p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms",
                         text, re.M)
        rps, p50, p99 = (float(x) for x in line.groups())
        row = para[para.index(f"| {label}"):]
        row = row[:row.index("|", row.index("|", row.index("|", 1) + 1) + 1) + 200]

        def ratio(pair: str, what: str, round_name: str = round_name) -> str:
            found = re.search(rf"^\s+{round_name}\s+{re.escape(pair)}\s.*$", text, re.M).group(0)
            return re.search(rf"{what}\s+([\d.]+)x", found).group(1)

        assert f"{rps:,.0f} ({p50:.1f} / {p99:.1f} ms)" in row, label
        assert f"| {ratio('cowkg/oxigraph', 'throughput')}×" in row, label
        assert f"| {float(ratio('cowkg/rdflib', 'throughput')):.0f}× |" in row, label
        p50s = f"{ratio('cowkg/oxigraph', 'p50')}× / {ratio('cowkg/oxigraph', 'p99')}× "
        assert p50s in para, label
    cpu = {(r, name): m for r in rows for name in ("cowkg", "oxigraph")
           for m in re.findall(rf"^{r}\s+{name}\s.* server CPU ([\d.]+) ms/request", text, re.M)}
    assert (f"cowkg {cpu['mix-unique', 'cowkg']} ms against Oxigraph's {cpu['mix-unique', 'oxigraph']} ms on the "
            "unique mix") in para
    assert f"{cpu['heavy-unique', 'cowkg']} against {cpu['heavy-unique', 'oxigraph']} ms on the heaviest third" in para


def test_the_attack_soak_figures_are_quoted_from_the_bench_file():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    text = (ROOT / "bench" / "results" / "attack_soak.txt").read_text(encoding="utf-8")
    para = readme[readme.index("Measured in one 120 s soak"):readme.index("## Settings")]
    assert re.search(r"^status 500 answers: 0$", text, re.M) and "0 answers with status 500" in para
    assert re.search(r"^connections that reached the canary: 0$", text, re.M) and "0 connections to the canary" in para
    attacks = re.search(r"^attacks sent: (\d+) ", text, re.M).group(1)
    normal = r"^normal client: (\d+) requests, p50 ([\d.]+) ms, p99 ([\d.]+) ms, .* errors \{\}$"
    requests_, p50, p99 = re.search(normal, text, re.M).groups()
    peak = re.search(r"peak memory \(PSS of the process tree\): (\d+) MiB", text).group(1)
    assert f"load {re.search(r'load ([0-9.]+) at start', text).group(1)} at start" in para
    assert f"{attacks} attacks of eight kinds" in para
    assert f"({int(requests_):,} requests, p50 {p50} ms, p99 {p99} ms)" in para
    assert f"peak memory {int(peak):,} MiB PSS" in para


def test_the_serving_stack_figures_are_quoted_from_the_bench_file():
    text = (ROOT / "bench" / "results" / "serving_stack.txt").read_text(encoding="utf-8")
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    para = readme[readme.index("The server was chosen the same way"):]
    para = para[:para.index("Workers run asyncio's own loop")]
    load = re.search(r"load ([\d.]+) at start", text)[1]
    ratio = re.search(r"^  gunicorn-gthread\s+unique throughput\s+([\d.]+)x", text, re.M)[1]
    slow = re.search(r"^granian .* beside (\d+) slow clients: .* p50\s+([\d.]+) ms\s+errors 0/", text, re.M)
    gthread = re.search(r"^gunicorn-gthread .* beside \d+ slow clients:\s+0\.0 req/s", text, re.M)
    assert f"load {load} at start" in para and f"gave {ratio}× granian's throughput" in para
    assert gthread and f"beside {slow[1]} slow clients they answered nothing" in para
    assert f"p50 of {slow[2]} ms" in para


def test_the_native_front_s_second_run_granian_and_the_dataset_view_are_quoted():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    first = (ROOT / "bench" / "results" / "http_throughput.txt").read_text(encoding="utf-8")
    second = (ROOT / "bench" / "results" / "http_throughput_rerun.txt").read_text(encoding="utf-8")
    para = readme[readme.index("**HTTP serving**"):readme.index("**The evaluator hop, measured**")]

    def ratio(text: str, round_name: str, pair: str, what: str) -> str:
        found = re.search(rf"^\s+{round_name}\s+{re.escape(pair)}\s.*$", text, re.M).group(0)
        return re.search(rf"{what}\s+([\d.]+)x", found).group(1)

    assert f"load {re.search(r'load ([0-9.]+) at start', second).group(1)} at start" in para
    assert (f"gave {ratio(second, 'mix-unique', 'cowkg/oxigraph', 'throughput')}× with a p50 of "
            f"{ratio(second, 'mix-unique', 'cowkg/oxigraph', 'p50')}× on the unique mix and "
            f"{ratio(second, 'heavy-unique', 'cowkg/oxigraph', 'throughput')}× on the heaviest third") in para
    granian = "cowkg-granian/oxigraph"
    cpu = re.search(r"^mix-unique\s+cowkg-granian\s.* server CPU ([\d.]+) ms/request", first, re.M).group(1)
    assert (f"gave {ratio(first, 'mix-unique', granian, 'throughput')}× with a p50 of "
            f"{ratio(first, 'mix-unique', granian, 'p50')}× on the unique mix and "
            f"{ratio(first, 'heavy-unique', granian, 'throughput')}× on the heaviest third "
            f"({ratio(second, 'mix-unique', granian, 'throughput')}× / {ratio(second, 'mix-unique', granian, 'p50')}× "
            f"and {ratio(second, 'heavy-unique', granian, 'throughput')}× in the second run), at {cpu} ms") in para
    views = (ROOT / "bench" / "results" / "dataset_views.txt").read_text(encoding="utf-8")
    faster = re.search(r"whole store / view: ([\d.]+)x on the sum", views).group(1)
    assert f"{faster}× less engine time" in para
    over_granian = []
    for text in (first, second):
        rps = dict(re.findall(r"^mix-unique\s+(cowkg|cowkg-granian)\s+([\d.]+) req/s", text, re.M))
        over_granian.append(float(rps["cowkg"]) / float(rps["cowkg-granian"]))
    assert f"{min(over_granian):.1f}× to {max(over_granian):.1f}× granian's throughput on unique queries" in readme
