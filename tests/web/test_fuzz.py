"""Bounded fuzzing of the live server (hypothesis): malformed and mutated queries, headers,
parameters and paths. 0 answers may be a 500, and the server must be alive after.

The case count is ``COWKG_FUZZ_CASES`` (default 2,000); ``bench/fuzz_endpoint.py`` runs longer.
"""

from __future__ import annotations

import importlib.util
import os

import requests
from conftest import ROOT


def _fuzzer():
    spec = importlib.util.spec_from_file_location("fuzz_endpoint", ROOT / "bench" / "fuzz_endpoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fuzzed_requests_never_get_a_500_and_the_server_survives(tight_server):
    base, proc = tight_server
    cases = int(os.environ.get("COWKG_FUZZ_CASES", "2000"))
    statuses = _fuzzer().run(base, cases)
    print(f"fuzz statuses: {dict(statuses)}")
    assert statuses[500] == 0
    assert statuses["failures"] == 0
    assert sum(v for k, v in statuses.items() if k != "failures") == cases
    assert proc.poll() is None
    assert requests.get(base + "/health", timeout=10).json()["status"] == "ok"
