"""Apache Jena 4.5 as a second engine for the tests: ARQ for SPARQL, jena-shacl for SHACL.

Jena runs through ``../shared/tools/jena`` (Debian's libapache-jena-java made startable; its
header explains why). Each call is one JVM, so callers batch their work and run calls side by
side. Where Jena is missing the caller's test skips, and fails under ``CI=true``
(``conftest.require``).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import rdflib
from conftest import SHARED, require
from rdflib.namespace import SH

JENA = SHARED / "tools" / "jena"
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
    report = rdflib.Graph().parse(data=jena("shacl.shacl", "validate", "--shapes", str(shapes),
                                            "--data", str(data)), format="turtle")
    return sorted((str(report.value(r, SH.focusNode)),
                   str(report.value(r, SH.resultPath)) if report.value(r, SH.resultPath) else None,
                   str(report.value(r, SH.sourceConstraintComponent)))
                  for r in report.subjects(rdflib.RDF.type, SH.ValidationResult))
