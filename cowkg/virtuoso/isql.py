"""Run SQL scripts through Virtuoso's ``isql-vt`` client and notice its errors.

isql exits 0 even when a statement fails (pitfall P1): only a connection or login failure
gives exit code 3. So the output is scanned for ``*** Error`` lines. isql also expands ``$name``
macros everywhere, even inside SPARQL strings (P2): every script starts with
``SET MACRO_SUBSTITUTION OFF;``.

Only private instances are driven through isql, with Virtuoso's default ``dba`` login (the
instance listens on 127.0.0.1 only). Credentials of other servers never go on a command line:
those are reached over HTTP with Digest authentication (``graphstore``).
"""

from __future__ import annotations

import re
import shutil
import subprocess

from ..errors import BackendError, BackendUnavailable

ISQL = shutil.which("isql-vt") or "/usr/bin/isql-vt"
#: The default login of a fresh Virtuoso database (changed only by ``SET PASSWORD``).
DEFAULT_USER = "dba"
DEFAULT_PASSWORD = "dba"

_ERROR_RE = re.compile(r"^\*\*\* Error (\S+): (.*)$", re.MULTILINE)
_LOGIN_FAILED = 3


def sql_string(value: str) -> str:
    """A SQL string literal: single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def run_isql(address: str, script: str, *, timeout: float = 600) -> str:
    """Run ``script`` (statements ending in ``;``) on the server at ``host:port``; return the output.

    Raises BackendUnavailable when isql cannot connect or log in, or runs past ``timeout`` seconds,
    and BackendError for the first ``*** Error`` the server reported (message and SQL state kept).
    """
    cmd = [ISQL, address, DEFAULT_USER, DEFAULT_PASSWORD, "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF", "ECHO=OFF"]
    body = "SET MACRO_SUBSTITUTION OFF;\n" + script.rstrip() + "\n"
    try:
        proc = subprocess.run(cmd, input=body, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise BackendUnavailable(f"{ISQL} not found", hint="install Debian's virtuoso-opensource-7") from None
    except subprocess.TimeoutExpired:
        raise BackendUnavailable(f"isql at {address} did not finish within {timeout:g} s") from None
    out = proc.stdout + proc.stderr
    if proc.returncode == _LOGIN_FAILED:
        raise BackendUnavailable(f"cannot connect to Virtuoso at {address}: {_first_error(out) or 'no answer'}")
    m = _ERROR_RE.search(out)
    if m:
        detail = out[m.end():].strip().splitlines()
        raise BackendError(f"Virtuoso error {m.group(1)}: {m.group(2).strip()}",
                           details={"sql_state": m.group(1), "statement": " ".join(detail[1:2])[:300]})
    return out


def _first_error(out: str) -> str | None:
    m = _ERROR_RE.search(out)
    return m.group(2).strip() if m else None


