"""HTTP throughput of `cowkg serve` against `oxigraph serve-read-only` and an rdflib-based server.

Same data (the asserted graphs of the shipped project, as one default graph for the other
servers), same client (C processes, keep-alive HTTP/1.1, GET with Accept JSON), same
concurrency, in one run. The competency queries of ``queries/*.rq`` are the mix, each sent with
the project's PREFIX lines so every server understands it. Three rounds per server:

- ``mix``: the queries repeated, as real clients repeat them (cowkg answers repeats from its
  response cache: the data is read-only, so that is safe);
- ``mix-unique``: every request made unique with a trailing ``VALUES ?cowkg_nonce { 123 }`` (a
  variable nothing uses: the same answer, checked in the tests), so nothing is cached and each
  query is evaluated: the engine plus HTTP cost. A comment would not do: cowkg's cache keys on
  the query as the engine reads it, without comments and layout;
- ``heavy-unique``: the slowest third of the queries (by in-process time), unique.

Servers: ``cowkg`` (``cowkg serve`` as shipped: the native front where ``scripts/setup.sh`` built
it, else granian), ``oxigraph``, ``rdflib``; ``cowkg-granian`` and ``cowkg-native`` are ``cowkg
serve`` with the ``front`` setting named; and on request variants of ``cowkg serve`` with one
change made by this script, never by the product (``VARIANTS``, measured behind granian):
``cowkg-in-worker`` evaluates each query in the worker process itself instead of an evaluator
process (so no query timeout and no memory limit: only a measurement; beside ``cowkg`` it gives the
cost of the evaluator hop, beside ``oxigraph`` what the Python front costs without it),
``cowkg-uvloop`` runs the workers on uvloop (why the server names asyncio's loop), and
``cowkg-bare`` answers each query with no checks at all: the query string's text straight to
pyoxigraph in an evaluator and back (the fastest the Python request path could be), and
``cowkg-no-native`` reads every query in Python (``COWKG_NATIVE=off``: without the native scanner's
plain decisions, ``cowkg.native``).

Two more servers answer the question what a native front would give (``bench/native_front``, a
measurement prototype built with cargo, never shipped): a Rust front that hands each request to
evaluator processes over a Unix socket, killing one that overruns the time limit, with
``native-full`` doing in the evaluator what cowkg does for a query (read and check the protocol
request, cache, evaluate, headers) and ``native-bare`` only the engine.

Prints req/s, p50/p99 latency, each server's CPU time per request (all its processes, from
/proc), the per-request overhead (HTTP p50 minus the in-process median of the same queries), and
the ratios cowkg / Oxigraph and cowkg / rdflib.
Also the bounded load test: ``--only cowkg --clients 8 --seconds 30`` (0 errors expected).

Usage: .venv/bin/python bench/http_throughput.py [--seconds 10] [--clients 4] [--only cowkg,oxigraph,rdflib]
       .venv/bin/python bench/http_throughput.py --only cowkg,cowkg-granian,oxigraph,rdflib
       .venv/bin/python bench/http_throughput.py --only cowkg,cowkg-in-worker,oxigraph --rounds mix-unique
       .venv/bin/python bench/http_throughput.py --only cowkg,cowkg-bare,native-full,native-bare,oxigraph \
           --rounds mix-unique,heavy-unique
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, path: str, proc: subprocess.Popen, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"server on {port} not up")


# ---------------------------------------------------------------------------------------------
# The rdflib-based server: Flask + rdflib Graph under gunicorn (2 sync workers), the usual recipe.

def serve_rdflib(port: int, data: str, workers: int) -> None:
    from flask import Flask, Response, request
    from gunicorn.app.base import BaseApplication
    from rdflib import Graph

    graph = Graph().parse(data, format="nt")
    app = Flask("rdflib-server")

    @app.route("/sparql", methods=["GET", "POST"])
    def sparql():
        try:
            result = graph.query(request.values["query"])
        except Exception as exc:  # the baseline's error handling, on purpose minimal
            return Response(str(exc), status=400)
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            return Response(result.serialize(format="turtle"), content_type="text/turtle")
        return Response(result.serialize(format="json"), content_type="application/sparql-results+json")

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"127.0.0.1:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", None)
            self.cfg.set("timeout", 120)

        def load(self):
            return app

    Server().run()


# ---------------------------------------------------------------------------------------------
# The client.

def client(args: tuple) -> tuple[list[float], int, int]:
    port, path, queries, seconds, unique, offset = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies, errors, n = [], 0, offset
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        query = queries[n % len(queries)]
        if unique:  # a value no other request has; the answer is the same (nothing uses ?cowkg_nonce)
            query += f"\nVALUES ?cowkg_nonce {{ {os.getpid() * 1_000_000 + n} }}"
        n += 1
        url = f"{path}?query={quote(query)}"
        start = time.perf_counter()
        try:
            conn.request("GET", url, headers={"Accept": ACCEPT})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors += 1
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies.append(time.perf_counter() - start)
    conn.close()
    return latencies, errors, n - offset


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the server's workers and evaluator processes)."""
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out += process_tree(int(child))
    return out


#: Processes that belong to a server without being its descendants: the native front prototype's
#: evaluators (front pid -> evaluators' parent pid), counted in the front's CPU time.
COMPANIONS: dict[int, int] = {}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid``'s process tree (Linux /proc; 0 elsewhere),
    with its companion's tree (``COMPANIONS``)."""
    total = 0.0
    for p in process_tree(pid) + (process_tree(COMPANIONS[pid]) if pid in COMPANIONS else []):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def load(port: int, path: str, queries: list[str], clients: int, seconds: float, unique: bool,
         server_pid: int | None = None) -> dict:
    """Run ``clients`` client processes for ``seconds``; throughput, latency percentiles and the
    server's CPU time (all its processes)."""
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        start = time.monotonic()
        parts = pool.map(client, [(port, path, queries, seconds, unique, i * 7) for i in range(clients)])
        elapsed = time.monotonic() - start
    cpu = cpu_seconds(server_pid) - cpu_before if server_pid else 0.0
    latencies = sorted(x for lat, _, _ in parts for x in lat)
    errors = sum(e for _, e, _ in parts)
    return {"rps": len(latencies) / elapsed, "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "errors": errors, "requests": len(latencies), "seconds": elapsed, "latencies": latencies, "cpu": cpu}


def merge(parts: list[dict]) -> dict:
    """One result from interleaved slices: total requests over total time, pooled latencies."""
    latencies = sorted(x for p in parts for x in p["latencies"])
    seconds = sum(p["seconds"] for p in parts)
    return {"rps": len(latencies) / seconds, "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "errors": sum(p["errors"] for p in parts), "requests": len(latencies),
            "cpu_per_request": sum(p["cpu"] for p in parts) / max(1, len(latencies))}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# ---------------------------------------------------------------------------------------------

def prepare(tmp: Path) -> tuple[list[tuple[str, str]], list[str], Path]:
    """(name, query) of the mix, the heavy subset, and the data as N-Triples."""
    sys.path.insert(0, str(ROOT))
    import pyoxigraph as ox

    from cowkg.backends.embedded import run_query
    from cowkg.store import open_project
    from cowkg.vocab import ASSERTED_GRAPHS, sparql_prologue
    from cowkg.web.catalog import load_examples

    kg = open_project(ROOT)
    triples = {q.triple for g in ASSERTED_GRAPHS for q in kg.store.quads_for_pattern(None, None, None,
                                                                                      ox.NamedNode(str(g)))}
    data = tmp / "data.nt"
    data.write_bytes(ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.N_TRIPLES))
    prologue = sparql_prologue()
    mix, timings = [], {}
    from cowkg.errors import CowkgError

    for ex in load_examples(ROOT / "queries"):
        text = prologue + ex.query
        samples = []
        try:
            run_query(kg, text)
        except CowkgError as exc:  # e.g. an example of a SERVICE query, which cowkg refuses
            print(f"skipping {ex.name}: {exc.message}")
            continue
        for _ in range(5):
            start = time.perf_counter()
            run_query(kg, text)
            samples.append(time.perf_counter() - start)
        timings[ex.name] = statistics.median(samples)
        mix.append((ex.name, text))
    ranked = sorted(timings, key=timings.get, reverse=True)
    heavy = [text for name, text in mix if name in ranked[: max(1, len(ranked) // 3)]]
    print(f"data: {len(triples):,} triples; mix: {len(mix)} queries; in-process median per query "
          f"{statistics.median(timings.values()) * 1e3:.2f} ms; heavy third: {', '.join(ranked[:len(heavy)])}")
    IN_PROCESS["mix"] = statistics.median(timings.values())
    IN_PROCESS["heavy"] = statistics.median(timings[name] for name in ranked[:len(heavy)])
    return mix, heavy, data


#: Median in-process time per query (pyoxigraph in this process) of the mix and of the heavy third.
IN_PROCESS: dict[str, float] = {}


def in_process_median(round_name: str) -> float:
    return IN_PROCESS["heavy" if round_name.startswith("heavy") else "mix"]


#: Code run before ``cowkg serve`` for the variants this script measures (never shipped):
#: ``cowkg-in-worker`` evaluates each query in the worker itself (the process that reads the
#: request, on its event loop), skipping the evaluator process; ``cowkg-uvloop`` runs the workers
#: on uvloop instead of asyncio's loop (``pip install uvloop`` first).
VARIANTS = {
    "cowkg-in-worker": """
from cowkg.web.evaluator import EvaluatorPool
async def _in_worker(self, payload, timeout):
    return self._work(payload)
EvaluatorPool.run_async = _in_worker
""",
    "cowkg-bare": """
import pyoxigraph as ox
from urllib.parse import parse_qs
import cowkg.web.front as front
from cowkg.answer import Answer
from cowkg.web.evaluator import EvaluatorPool
from cowkg.web.state import app_state
_init = EvaluatorPool.__init__
def _bare_pool(self, work, *args, **kwargs):
    store = work.args[0].kg.store
    def bare(text):
        result = store.query(text)
        json = "application/sparql-results+json"
        if isinstance(result, ox.QuerySolutions):
            return Answer(result.serialize(format=ox.QueryResultsFormat.JSON), json, "solutions", 0, False, 0.0)
        if isinstance(result, ox.QueryTriples):
            return Answer(result.serialize(format=ox.RdfFormat.TURTLE), "text/turtle", "graph", 0, False, 0.0)
        return Answer(b'{"head":{},"boolean":%s}' % (b"true" if result else b"false"), json, "boolean", 0, False, 0.0)
    _init(self, bare, *args, **kwargs)
EvaluatorPool.__init__ = _bare_pool
async def _bare_respond(app, environ):
    found = await app_state(app).pool.run_async(parse_qs(environ["QUERY_STRING"])["query"][0], 30)
    return 200, [("Content-Type", found.content_type), ("Content-Length", str(len(found.body)))], found.body
front.respond_directly = _bare_respond
""",
    "cowkg-no-native": """
import os
os.environ["COWKG_NATIVE"] = "off"
""",
    "cowkg-granian": """
import os
os.environ["COWKG_FRONT"] = "granian"
""",
    "cowkg-native": """
import os
os.environ["COWKG_FRONT"] = "native"
""",
    "cowkg-uvloop": """
import uvloop, granian.server
from granian.constants import Loops
_init = granian.server.Server.__init__
def _on_uvloop(self, *args, **kwargs):
    _init(self, *args, **{**kwargs, "loop": Loops.uvloop})
granian.server.Server.__init__ = _on_uvloop
""",
}


#: Variants that patch the granian front's code path (the native front would not run it).
GRANIAN_VARIANTS = ("cowkg-in-worker", "cowkg-bare", "cowkg-no-native", "cowkg-uvloop")


def start_servers(names: list[str], data: Path, tmp: Path, workers: int) -> dict:
    servers = {}
    if "cowkg-uvloop" in names:
        import importlib.util

        if importlib.util.find_spec("uvloop") is None:
            sys.exit("cowkg-uvloop runs the workers on uvloop, which is not installed: .venv/bin/pip install uvloop")
    for name in ("cowkg", *VARIANTS):
        if name not in names:
            continue
        port = free_port()
        exe = VENV_BIN / "cowkg"
        if name == "cowkg" and exe.exists():
            cmd = [str(exe)]
        else:  # the variants that change the granian path run behind granian (``GRANIAN_VARIANTS``)
            pin = "import os; os.environ['COWKG_FRONT'] = 'granian'\n" if name in GRANIAN_VARIANTS else ""
            cmd = [sys.executable, "-c", pin + VARIANTS.get(name, "") + "\nfrom cowkg.cli import main; main()"]
        proc = subprocess.Popen([*cmd, "serve", "--port", str(port), "--workers", str(workers), "--no-access-log"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers[name] = (proc, port, "/sparql")
    native = [name for name in ("native-full", "native-bare") if name in names]
    if native:
        front = build_native_front()
    for name in native:
        socket_path = str(tmp / f"{name}.sock")
        mode = name.split("-")[1]
        evaluators = subprocess.Popen([sys.executable, str(NATIVE / "evaluators.py"), socket_path,
                                       str(NATIVE_EVALUATORS), mode], cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = free_port()
        proc = subprocess.Popen([str(front), str(port), socket_path, str(NATIVE_EVALUATORS), "30"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        COMPANIONS[proc.pid] = evaluators.pid
        servers[name] = (proc, port, "/sparql")
        servers[name + " evaluators"] = (evaluators, None, None)
    if "oxigraph" in names:
        oxi = shutil.which("oxigraph", path=str(VENV_BIN)) or shutil.which("oxigraph")
        location = tmp / "oxigraph"
        subprocess.run([oxi, "load", "--location", str(location), "--file", str(data)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = free_port()
        proc = subprocess.Popen([oxi, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers["oxigraph"] = (proc, port, "/query")
    if "rdflib" in names:
        port = free_port()
        proc = subprocess.Popen([sys.executable, __file__, "--serve-rdflib", str(port), str(data),
                                 "--workers", str(workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers["rdflib"] = (proc, port, "/sparql")
    for _name, (proc, port, path) in servers.items():
        if port is not None:
            wait_up(port, path + "?query=" + quote("ASK {}"), proc)
    return servers


#: The native front prototype (measurement only, never shipped): ``bench/native_front``.
NATIVE = ROOT / "bench" / "native_front"
#: Evaluator processes behind it: one front instead of two workers, with as many evaluators as one
#: worker of ``cowkg serve`` has (the ``evaluators`` setting, 8).
NATIVE_EVALUATORS = 8


def build_native_front() -> Path:
    """The prototype's binary, built with cargo (offline: it needs no crate)."""
    cargo = shutil.which("cargo")
    if cargo is None:
        sys.exit("the native-* servers need cargo to build bench/native_front: apt-get install cargo")
    subprocess.run([cargo, "build", "--release", "--offline", "--quiet"], cwd=NATIVE, check=True)
    return NATIVE / "target" / "release" / "cowkg-native-front-prototype"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2, help="worker processes of cowkg and the rdflib server")
    ap.add_argument("--only", default="cowkg,oxigraph,rdflib")
    ap.add_argument("--rounds", default="mix,mix-unique,heavy-unique")
    ap.add_argument("--slices", type=int, default=3, help="interleaved slices per server and round")
    ap.add_argument("--serve-rdflib", nargs=2, metavar=("PORT", "DATA"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_rdflib:
        serve_rdflib(int(args.serve_rdflib[0]), args.serve_rdflib[1], args.workers)
        return
    names = args.only.split(",")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        mix, heavy, data = prepare(tmp)
        servers = start_servers(names, data, tmp, args.workers)
        results: dict[tuple[str, str], dict] = {}
        try:
            for round_name in args.rounds.split(","):
                queries = heavy if round_name.startswith("heavy") else [q for _, q in mix]
                unique = round_name.endswith("unique")
                for name in names:  # warm-up
                    _proc, port, path = servers[name]
                    load(port, path, queries, args.clients, 1.0, unique)
                # Interleaved slices, so a burst of load from elsewhere on the machine hits every server.
                slices: dict[str, list[dict]] = {name: [] for name in names}
                for _ in range(args.slices):
                    for name in names:
                        proc, port, path = servers[name]
                        slices[name].append(load(port, path, queries, args.clients, args.seconds / args.slices,
                                                 unique, proc.pid))
                inner = in_process_median(round_name)
                for name in names:
                    results[(round_name, name)] = r = merge(slices[name])
                    print(f"{round_name:<13} {name:<15} {r['rps']:>9.1f} req/s  p50 {r['p50'] * 1e3:>8.2f} ms  "
                          f"p99 {r['p99'] * 1e3:>8.2f} ms  errors {r['errors']}/{r['requests']}  "
                          f"server CPU {r['cpu_per_request'] * 1e3:.2f} ms/request  "
                          f"overhead (p50 - in-process median {inner * 1e3:.2f} ms) {(r['p50'] - inner) * 1e3:.2f} ms",
                          flush=True)
        finally:
            for proc, _, _ in servers.values():
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print(f"\nratios ({args.clients} clients, {args.seconds:g} s per server and round in {args.slices} interleaved "
          "slices, one run on this machine):")
    for round_name in args.rounds.split(","):
        for ours, other in (("cowkg", "oxigraph"), ("cowkg", "rdflib"), ("cowkg", "cowkg-in-worker"),
                            ("cowkg-in-worker", "oxigraph"), ("cowkg-uvloop", "cowkg"),
                            ("cowkg-bare", "oxigraph"), ("native-full", "oxigraph"), ("native-bare", "oxigraph"),
                            ("native-full", "cowkg"), ("cowkg", "cowkg-no-native"),
                            ("cowkg-no-native", "oxigraph"), ("cowkg-native", "oxigraph"),
                            ("cowkg-granian", "oxigraph"), ("cowkg-native", "cowkg-granian")):
            cow, o = results.get((round_name, ours)), results.get((round_name, other))
            if cow and o:
                cpu = f"{cow['cpu_per_request'] / o['cpu_per_request']:>6.2f}x" if o["cpu_per_request"] else "     -"
                print(f"  {round_name:<13} {ours + '/' + other:<25} throughput {cow['rps'] / o['rps']:>6.2f}x  "
                      f"p50 {cow['p50'] / o['p50']:>6.2f}x  p99 {cow['p99'] / o['p99']:>6.2f}x  "
                      f"server CPU per request {cpu}")
    cow_errors = sum(r["errors"] for (_, name), r in results.items() if name.startswith(("cowkg", "native")))
    print(f"cowkg errors: {cow_errors} (rdflib's baseline server fails some queries; its errors are only counted)")
    if cow_errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
