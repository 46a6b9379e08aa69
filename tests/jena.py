"""Apache Jena 4.5 as a second engine for the tests: ARQ for SPARQL, jena-shacl for SHACL.

Jena runs through ``../shared/tools/jena`` (Debian's libapache-jena-java made startable; its
header explains why). Each call is one JVM, so callers batch their work and run calls side by
side. Where Jena is missing the caller's test skips, and fails under ``CI=true``
(``conftest.require``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import rdflib
from conftest import SHARED, require
from rdflib.namespace import SH

JENA = SHARED / "tools" / "jena"
BATCH = Path(__file__).with_name("JenaBatch.java")
#: A small heap and the quick JIT tier: each JVM answers one small query and exits.
JAVA_OPTS = "-Xmx1g -XX:+UseSerialGC -XX:TieredStopAtLevel=1"


def require_jena() -> None:
    """Skip (fail under CI) unless the Jena wrapper and Debian's Jena jars are installed."""
    require(JENA.is_file() and Path("/usr/share/java/jena-arq.jar").is_file(),
            "Apache Jena is not installed (apt-get install libapache-jena-java libslf4j-java)")


def jena(*args: str, timeout: float = 300) -> str:
    """Run one Jena main class; its stdout, or AssertionError with its stderr."""
    env = {**os.environ, "JENA_JAVA_OPTS": JAVA_OPTS}
    proc = subprocess.run([str(JENA), *args], capture_output=True, text=True, env=env, timeout=timeout)
    assert proc.returncode == 0, f"jena {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc.stdout


def shacl_results(shapes: Path, data: Path) -> list[tuple[str, str | None, str]]:
    """jena-shacl's validation results as (focus, path, constraint component) IRIs, one per result."""
    return report_results(jena("shacl.shacl", "validate", "--shapes", str(shapes), "--data", str(data)))


def report_results(turtle: str) -> list[tuple[str, str | None, str]]:
    """The (focus, path, constraint component) IRIs of a SHACL validation report in Turtle, sorted."""
    report = rdflib.Graph().parse(data=turtle, format="turtle")
    return sorted((str(report.value(r, SH.focusNode)),
                   str(report.value(r, SH.resultPath)) if report.value(r, SH.resultPath) else None,
                   str(report.value(r, SH.sourceConstraintComponent)))
                  for r in report.subjects(rdflib.RDF.type, SH.ValidationResult))


class Output(NamedTuple):
    """What one job of a ``batch`` printed, or why it failed (Jena's stack trace)."""

    job: tuple[str, ...]
    text: str | None
    error: str | None

    def value(self) -> str:
        """The job's output; AssertionError with Jena's message when the job failed."""
        assert self.error is None, f"jena {self.job[0]} {' '.join(self.job[1:])} failed:\n{self.error[-3000:]}"
        return self.text


def batch(jobs: Sequence[tuple[str, str | Path, str | Path]], workdir: Path, timeout: float = 900) -> list[Output]:
    """Run ``jobs`` in one JVM, in order; one ``Output`` per job.

    A job is ("sparql", data, query): what ``jena arq.sparql --data DATA --query QUERY
    --results=json`` prints; or ("shacl", shapes, data): what ``jena shacl.shacl validate --shapes
    SHAPES --data DATA`` prints. A failing job fails only the test that reads its output."""
    workdir.mkdir(parents=True, exist_ok=True)
    lines, outs = [], []
    for n, (kind, first, second) in enumerate(jobs):
        out = workdir / f"job-{n}.out"
        for stale in (out, out.with_name(out.name + ".error")):
            stale.unlink(missing_ok=True)
        assert "\t" not in f"{first}{second}" and "\n" not in f"{first}{second}", "paths with tabs or newlines"
        lines.append(f"{kind}\t{first}\t{second}\t{out}")
        outs.append(out)
    listing = workdir / "jobs.tsv"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "JENA_JAVA_OPTS": JAVA_OPTS}
    proc = subprocess.run([str(JENA), str(BATCH), str(listing)], capture_output=True, text=True, env=env,
                          timeout=timeout)
    results = []
    for job, out in zip(jobs, outs, strict=True):
        error = out.with_name(out.name + ".error")
        job = tuple(str(j) for j in job)
        if error.is_file():
            results.append(Output(job, None, error.read_text(encoding="utf-8")))
        elif out.is_file() and proc.returncode in (0, 1):
            results.append(Output(job, out.read_text(encoding="utf-8"), None))
        else:
            results.append(Output(job, None, f"the batch exited {proc.returncode}:\n{proc.stderr[-3000:]}"))
    return results
