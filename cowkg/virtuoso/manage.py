"""A private Virtuoso: start it, wait until it answers, load the project's graphs, stop it cleanly.

Stage: beside the store. Input: a directory (the instance's home: database, log, ini, staged
files) and, for ``load``, the project root. Output: a running ``virtuoso-t`` bound to 127.0.0.1 on
two free ports, holding the ontology, data, meta and inferred graphs as named graphs.

- ``up`` writes a minimal ``virtuoso.ini`` (the recipe of virtuoso-notes.md §2) and starts the
  server in its own session, so it outlives the command that started it; the ports and pid are
  kept in ``cowkg-instance.json``. ``up`` on a directory whose server runs returns that server.
- ``load`` writes each graph as N-Triples into ``<dir>/stage`` and runs the bulk loader
  (``ld_dir`` + ``rdf_loader_run`` + ``checkpoint``). Reloading replaces: each graph is cleared
  first and its LOAD_LIST rows deleted (P6: the list is keyed by file path, and a second load of
  the same file would do nothing, or duplicate blank-node triples).
- ``down`` sends ``shutdown;`` through isql, which checkpoints (P5: SIGTERM exits without a
  checkpoint and bulk loads are not in the transaction log, so they would be lost).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox
import requests

from ..errors import BackendError, BackendUnavailable, InputError
from ..files import write_atomically
from ..progress import Progress, report
from ..vocab import ALL_GRAPHS, check_iri
from .isql import run_isql, sql_string

log = logging.getLogger(__name__)

VIRTUOSO = shutil.which("virtuoso-t") or "/usr/bin/virtuoso-t"
STATE_FILE = "cowkg-instance.json"
INI_FILE = "virtuoso.ini"
LOG_FILE = "virtuoso.log"
#: Settings of the private instance's ini. Buffers are 8 KiB pages: 170,000 ≈ 1.3 GiB, the
#: recipe's value for ~1M triples; tests pass fewer.
DEFAULT_BUFFERS = 170_000
DEFAULT_MAX_ROWS = 100_000
DEFAULT_MAX_QUERY_SECONDS = 120

#: Bytes a transaction may write before Virtuoso refuses to commit it (SR325; its default, 50 MB,
#: stopped ``load --reason`` at 10M triples, where one rule's INSERT adds millions of triples).
AFTER_IMAGE_LIMIT = 2_000_000_000
_PROCESSES: dict[int, subprocess.Popen] = {}


@dataclass
class Instance:
    """Where a Virtuoso listens, and (for a private one) its directory and process id."""

    directory: Path | None
    sql_port: int | None
    http_port: int
    pid: int | None = None
    host: str = "127.0.0.1"
    started: float = field(default_factory=time.time)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.http_port}/sparql"

    @property
    def sql_address(self) -> str:
        if self.sql_port is None:
            raise InputError("this Virtuoso has no known SQL port", hint="start a private one with `cowkg virtuoso up`")
        return f"{self.host}:{self.sql_port}"

    @property
    def stage(self) -> Path:
        """The directory the bulk loader may read (listed in DirsAllowed)."""
        if self.directory is None:
            raise InputError("bulk loading needs a private instance directory")
        return self.directory / "stage"

    def alive(self) -> bool:
        """Whether the recorded server process still runs (a zombie counts as gone)."""
        return self.pid is not None and _process_alive(self.pid)

    def save(self) -> None:
        assert self.directory is not None
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
        write_atomically(self.directory / STATE_FILE, json.dumps(data, indent=2) + "\n")


def find_instance(directory: str | Path) -> Instance | None:
    """The instance recorded in ``directory`` (running or not), or None when there is none."""
    path = Path(directory).resolve() / STATE_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    data["directory"] = Path(data["directory"])
    return Instance(**data)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def write_ini(directory: Path, sql_port: int, http_port: int, *, buffers: int = DEFAULT_BUFFERS,
              max_rows: int = DEFAULT_MAX_ROWS, max_query_seconds: int = DEFAULT_MAX_QUERY_SECONDS) -> Path:
    """The private instance's ini: every path under ``directory``, both ports on loopback."""
    d = directory
    text = f"""; written by cowkg virtuoso up; see docs/VIRTUOSO.md
[Database]
DatabaseFile       = {d}/virtuoso.db
ErrorLogFile       = {d}/{LOG_FILE}
LockFile           = {d}/virtuoso.lck
TransactionFile    = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa

[TempDatabase]
DatabaseFile    = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx

[Parameters]
ServerPort       = 127.0.0.1:{sql_port}
DirsAllowed      = ., {d}, {d}/stage
NumberOfBuffers  = {buffers}
MaxDirtyBuffers  = {buffers * 3 // 4}
MaxSortedTopRows = {max_rows}
TransactionAfterImageLimit = {AFTER_IMAGE_LIMIT}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}

[SPARQL]
ResultSetMaxRows      = {max_rows}
MaxQueryExecutionTime = {max_query_seconds}
"""
    path = d / INI_FILE
    path.write_text(text, encoding="utf-8")
    return path


def up(directory: str | Path, *, buffers: int = DEFAULT_BUFFERS, max_rows: int = DEFAULT_MAX_ROWS,
       max_query_seconds: int = DEFAULT_MAX_QUERY_SECONDS, wait: float = 120,
       die_with_parent: bool = False) -> Instance:
    """Start a private Virtuoso in ``directory`` (created if needed) and wait until it answers.

    Returns the running instance; if one already runs there, returns it unchanged. With
    ``die_with_parent`` (tests) the server gets SIGTERM when the calling process dies, so a killed
    test run leaves no server behind. Raises BackendUnavailable when the server exits or does not
    answer within ``wait`` seconds (the end of its log is in the message).
    """
    directory = Path(directory).resolve()
    existing = find_instance(directory)
    if existing is not None and existing.alive():
        wait_ready(existing, wait)
        return existing
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stage").mkdir(exist_ok=True)
    last: Exception | None = None
    for _attempt in range(3):  # a free port can be taken between the check and the bind
        sql_port, http_port = free_port(), free_port()
        write_ini(directory, sql_port, http_port, buffers=buffers, max_rows=max_rows,
                  max_query_seconds=max_query_seconds)
        with open(directory / "stdout.log", "ab") as out:
            proc = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", str(directory / INI_FILE)],
                                    cwd=directory, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True,
                                    preexec_fn=_confined({sql_port, http_port}, die_with_parent))
        _PROCESSES[proc.pid] = proc
        instance = Instance(directory, sql_port, http_port, proc.pid)
        instance.save()
        try:
            wait_ready(instance, wait)
        except BackendUnavailable as exc:
            last = exc
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if "Failed to start listening" not in str(exc):
                raise
            continue
        log.info("virtuoso %d ready: %s (SQL %s)", proc.pid, instance.endpoint, instance.sql_address)
        return instance
    raise last or BackendUnavailable("virtuoso did not start")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _confined(own_ports: set[int], die_with_parent: bool):
    """What runs in the server's process between fork and exec: TCP connections only to its own
    two ports (it checks it can reach itself at start), so Virtuoso's URL-fetching built-ins
    (``bif:http_get``, which its permissions cannot take from the SPARQL user) and its sponger
    reach nothing else, loopback included; and optionally death with the parent."""
    def setup() -> None:  # pragma: no cover - runs in the child between fork and exec
        from ..sandbox import restrict_connect

        restrict_connect(own_ports)
        if die_with_parent:
            _die_with_parent()

    return setup


def wait_ready(instance: Instance, wait: float = 120) -> None:
    """Poll until the HTTP endpoint answers ``ASK {}`` (and the SQL port, for a private instance).

    Raises BackendUnavailable when the process exits or ``wait`` seconds pass.
    """
    deadline = time.monotonic() + wait
    while True:
        if instance.pid is not None and not instance.alive():
            raise BackendUnavailable(f"virtuoso exited during start-up: {_log_tail(instance)}")
        if _http_ready(instance.endpoint):
            if instance.sql_port is None:
                return
            with contextlib.suppress(BackendUnavailable, BackendError):
                run_isql(instance.sql_address, "SELECT 1;", timeout=10)
                return
        if time.monotonic() > deadline:
            raise BackendUnavailable(f"virtuoso at {instance.endpoint} not ready after {wait:g} s: "
                                     f"{_log_tail(instance)}")
        time.sleep(0.2)


def _http_ready(endpoint: str) -> bool:
    try:
        r = requests.get(endpoint, params={"query": "ASK {}"}, timeout=2,
                         headers={"Accept": "application/sparql-results+json"})
    except requests.RequestException:
        return False
    return r.status_code == 200


def _log_tail(instance: Instance, lines: int = 5) -> str:
    if instance.directory is None:
        return "(no log)"
    for name in (LOG_FILE, "stdout.log"):
        path = instance.directory / name
        if path.is_file():
            tail = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:]
            if tail:
                return " | ".join(tail)
    return "(empty log)"


def _process_alive(pid: int) -> bool:
    proc = _PROCESSES.get(pid)
    if proc is not None:
        return proc.poll() is None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    if state == "Z":
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"virtuoso" in fh.read()
    except FileNotFoundError:
        return False


def down(instance: Instance, *, wait: float = 120, purge: bool = False) -> float:
    """Stop a private instance with ``shutdown;`` (checkpoint first), wait for the process to end.

    Returns the seconds it took. With ``purge`` the directory is removed afterwards. Raises
    BackendUnavailable when the server does not exit within ``wait`` seconds (it is then left
    running: killing it would lose unflushed bulk loads, P5).
    """
    start = time.monotonic()
    if instance.alive():
        with contextlib.suppress(BackendUnavailable, BackendError):
            # The connection drops when the server exits, which isql may report as an error.
            run_isql(instance.sql_address, "shutdown;", timeout=wait)
        deadline = start + wait
        while instance.alive():
            if time.monotonic() > deadline:
                raise BackendUnavailable(f"virtuoso {instance.pid} still running {wait:g} s after shutdown",
                                         hint=f"inspect {instance.directory}/{LOG_FILE}; kill -TERM {instance.pid} "
                                              "loses bulk loads since the last checkpoint")
            time.sleep(0.1)
        proc = _PROCESSES.pop(instance.pid, None) if instance.pid else None
        if proc is not None:
            proc.wait()
    if instance.directory is not None:
        if purge:
            shutil.rmtree(instance.directory, ignore_errors=True)
        else:
            (instance.directory / STATE_FILE).unlink(missing_ok=True)
    return time.monotonic() - start


def kill(instance: Instance) -> None:
    """SIGKILL a private instance (tests' last resort; unflushed loads are lost)."""
    if instance.alive() and instance.pid:
        os.kill(instance.pid, signal.SIGKILL)
        proc = _PROCESSES.pop(instance.pid, None)
        if proc is not None:
            proc.wait()


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

@dataclass
class LoadReport:
    """What a load put where: triples expected and found per graph, and the seconds it took."""

    expected: dict[str, int]
    loaded: dict[str, int]
    seconds: float
    method: str

    @property
    def complete(self) -> bool:
        return all(self.loaded.get(g, 0) == n for g, n in self.expected.items())


def stage_graphs(instance: Instance, graphs: Mapping[str, Iterable[ox.Triple]]) -> dict[str, Path]:
    """Write each graph as ``<stage>/<short name>.nt`` (``cowkg.files.write_atomically``); return the paths."""
    stage = instance.stage
    stage.mkdir(parents=True, exist_ok=True)
    out = {}
    for graph, triples in graphs.items():
        path = stage / f"{graph.rstrip('/#').rsplit('/', 1)[-1] or 'graph'}.nt"
        write_atomically(path, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
        out[graph] = path
    return out


def bulk_load(instance: Instance, files: Mapping[str, Path | Iterable[Path]], *, timeout: float = 3600) -> float:
    """Replace each graph with the content of its files (under ``instance.stage``) via the bulk loader.

    Returns the seconds taken (clear + load + checkpoint). Raises BackendError when the loader
    recorded an error for a file (LOAD_LIST.ll_error), with the file and Virtuoso's message.
    """
    statements = ["log_enable(3, 1);"]
    for graph, paths in files.items():
        paths = [paths] if isinstance(paths, Path) else list(paths)
        statements.append(f"SPARQL CLEAR GRAPH <{check_iri(graph, what='a valid graph IRI')}>;")
        statements.append(f"DELETE FROM DB.DBA.LOAD_LIST WHERE ll_graph = {sql_string(graph)};")
        for path in paths:
            path = Path(path).resolve()
            statements.append(f"DELETE FROM DB.DBA.LOAD_LIST WHERE ll_file = {sql_string(str(path))};")
            statements.append(f"ld_dir({sql_string(str(path.parent))}, {sql_string(path.name)}, {sql_string(graph)});")
    statements += ["rdf_loader_run();", "checkpoint;"]
    start = time.perf_counter()
    run_isql(instance.sql_address, "\n".join(statements), timeout=timeout)
    seconds = time.perf_counter() - start
    errors = run_isql(instance.sql_address, "SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST "
                                            "WHERE ll_error IS NOT NULL;")
    failed = [line for line in errors.splitlines() if "/" in line]
    if failed:
        raise BackendError(f"bulk loader failed: {failed[0].strip()[:300]}",
                           hint="see virtuoso-notes.md P6b for the column-store insert bug",
                           details={"failed_files": len(failed)})
    return seconds


def graph_counts(endpoint: str, graphs: Iterable[str] = (str(g) for g in ALL_GRAPHS), *,
                 timeout: float = 120) -> dict[str, int]:
    """Triples per graph, counted by the endpoint itself (anonymous, read-only)."""
    graphs = list(graphs)
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    data = [("query", query)] + [("named-graph-uri", g) for g in graphs] + [("default-graph-uri", "urn:cowkg:empty")]
    try:
        r = requests.post(endpoint, data=data, timeout=timeout, headers={"Accept": "application/sparql-results+json"})
    except requests.RequestException as exc:
        raise BackendUnavailable(f"cannot reach {endpoint}: {exc.__class__.__name__}") from None
    if r.status_code != 200:
        raise BackendError(f"{endpoint} answered {r.status_code}: {r.text[:200]}")
    counts = {g: 0 for g in graphs}
    for b in r.json()["results"]["bindings"]:
        counts[b["g"]["value"]] = int(b["n"]["value"])
    return counts


def project_graphs(root: str | Path, *, reasoner: str = "auto", cache_dir: str | Path | None = None,
                   with_inference: bool = True) -> dict[str, list[ox.Triple]]:
    """The project's graphs as the embedded store holds them: asserted ones, the inferred one and
    the Wikibase view (cowkg.wikibase)."""
    from ..load import load_project
    from ..reason import infer
    from ..vocab import ASSERTED_GRAPHS, GRAPH_INFERRED, GRAPH_WIKIBASE
    from ..wikibase import build_view

    sources = load_project(root)
    graphs = {str(g): list(sources.graphs.get(str(g), [])) for g in ASSERTED_GRAPHS}
    inference = infer(sources, reasoner, cache_dir) if with_inference else None
    if inference is not None:
        graphs[str(GRAPH_INFERRED)] = inference.triples
    graphs[str(GRAPH_WIKIBASE)] = build_view(sources, cache_dir).triples
    return graphs


def load(instance: Instance, graphs: Mapping[str, list[ox.Triple]], progress: Progress | None = None) -> LoadReport:
    """Replace the named graphs in ``graphs`` on a private instance (bulk loader) and count them.

    ``progress`` hears "stage", "bulk load" and "count" (one step each)."""
    start = time.perf_counter()
    report(progress, "stage", 0, 1)
    files = stage_graphs(instance, graphs)
    report(progress, "bulk load", 0, 1)
    bulk_load(instance, files)
    report(progress, "count", 0, 1)
    loaded = graph_counts(instance.endpoint, graphs, timeout=600)
    report(progress, "count", 1, 1)
    expected = {g: len(set(t)) for g, t in graphs.items()}
    return LoadReport(expected, loaded, time.perf_counter() - start, "bulk loader")


def status(instance: Instance | None, endpoint: str | None = None) -> dict:
    """What runs where: pid, ports, server version and triples per project graph.

    ``running`` is False (and nothing else is asked) when the server does not answer.
    """
    endpoint = endpoint or (instance.endpoint if instance else None)
    out: dict = {"endpoint": endpoint, "running": False}
    if instance is not None:
        out.update({"directory": str(instance.directory), "pid": instance.pid, "sql": f"{instance.host}:"
                    f"{instance.sql_port}", "process": instance.alive()})
    if endpoint is None or not _http_ready(endpoint):
        return out
    out["running"] = True
    try:
        r = requests.post(endpoint, data={"query": "SELECT (bif:sys_stat('st_dbms_ver') AS ?v) {}"}, timeout=10,
                          headers={"Accept": "application/sparql-results+json"})
        out["version"] = r.json()["results"]["bindings"][0]["v"]["value"]
    except (requests.RequestException, ValueError, KeyError, IndexError):
        out["version"] = None
    out["graphs"] = graph_counts(endpoint)
    return out
