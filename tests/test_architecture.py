"""The data flow is the layout (docs/ARCHITECTURE.md): library stages import neither Flask nor click,
only the backends hold the store, nothing imports web/, web/ does not manage Virtuoso, test helpers
live under tests/, and every setting is documented in the README."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cowkg.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cowkg"
LIBRARY = ["load", "reason", "validate", "store", "query", "serialize", "export", "coverage", "media", "vocab",
           "settings", "errors"]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ("." * node.level) + (node.module or "")
            found.add(base)
    return found


@pytest.mark.parametrize("module", LIBRARY)
def test_library_stage_imports_no_web_framework(module):
    names = imports(PACKAGE / f"{module}.py")
    assert not {n for n in names if n.split(".")[0] in {"flask", "click", "werkzeug", "gunicorn"}}
    assert not {n for n in names if n.lstrip(".").startswith("web")}


def module_name(path: Path) -> str:
    """``cowkg.web.sparql`` for cowkg/web/sparql.py (``cowkg.web`` for its __init__.py)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def absolute_imports(path: Path) -> set[str]:
    """The modules ``path`` imports, relative imports resolved (``from ..store import x`` → cowkg.store)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # from . import store
    return found


def package_modules():
    return sorted(PACKAGE.rglob("*.py"))


def importers_of(target: str) -> list[str]:
    return [str(p.relative_to(PACKAGE)) for p in package_modules()
            if any(n == target or n.startswith(target + ".") for n in absolute_imports(p))]


def test_only_the_backends_import_the_store():
    """Every reader of the graph goes through a Backend (cowkg.backends): the module that holds the
    project's pyoxigraph store is imported by the backends alone."""
    offenders = [m for m in importers_of("cowkg.store") if not m.startswith("backends/")]
    assert not offenders, f"import cowkg.store outside cowkg/backends/: {offenders}"


def test_only_the_backends_and_the_loading_stages_reach_into_a_store():
    """No ``<x>.store.query(...)`` or ``<x>.store.quads_for_pattern(...)`` outside the backends, the
    store module and the Wikibase view (built from the store while the store is being built)."""
    allowed = {"store.py", "wikibase.py"}
    offenders = []
    for path in package_modules():
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "backends" or str(rel) in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "store":
                offenders.append(f"{rel}:{node.lineno}")
    assert not offenders


def test_web_does_not_manage_virtuoso():
    """Starting, loading and stopping Virtuoso is cowkg.virtuoso's (and the CLI's); web/ only queries
    a backend."""
    offenders = [m for m in importers_of("cowkg.virtuoso") if m.startswith("web/")]
    assert not offenders


def test_test_helpers_live_under_tests():
    """Nothing in the package starts servers for tests or imports from tests/."""
    assert not (PACKAGE / "web" / "launch.py").exists()
    offenders = [str(p.relative_to(PACKAGE)) for p in package_modules()
                 if any(n.split(".")[0] in {"tests", "conftest", "servers", "pytest"} for n in absolute_imports(p))]
    assert not offenders


def test_resolving_relative_imports():
    """The resolver the tests above rely on."""
    assert "cowkg.store" in absolute_imports(PACKAGE / "backends" / "__init__.py")
    assert "cowkg.backends" in absolute_imports(PACKAGE / "export.py")
    assert "cowkg.query" in absolute_imports(PACKAGE / "backends" / "embedded.py")


def test_nothing_outside_web_imports_web_but_the_serve_command():
    """The web layer sits on top: only ``cowkg serve`` (cowkg/cli/serve.py), which runs it, imports it."""
    offenders = [m for m in importers_of("cowkg.web") if not m.startswith("web/") and m != "cli/serve.py"]
    assert not offenders


def test_cli_modules_form_no_import_cycle():
    """cowkg/cli/: the command modules import ``base`` (and ``progress``), never each other at import
    time; only the package's __init__ imports them all."""
    cli = PACKAGE / "cli"
    edges = {}
    for path in cli.glob("*.py"):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.level == 1]
        edges[path.stem] = {n.module for n in top if n.module}
    assert all(targets <= {"base", "progress"} for name, targets in edges.items() if name not in {"base", "progress"})
    assert not edges["base"] and not edges["progress"]


def test_cli_commands_are_thin():
    """Every click command's body (docstring aside) is about 15 lines: parse, call the library, render."""
    long = []
    for path in (PACKAGE / "cli").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef) or not any(
                    "command" in ast.unparse(d) or "group" in ast.unparse(d) for d in node.decorator_list):
                continue
            body = node.body[1:] if isinstance(node.body[0], ast.Expr) else node.body
            lines = body[-1].end_lineno - body[0].lineno + 1 if body else 0  # a group may be a docstring only
            if lines > 20:
                long.append(f"{path.name}:{node.name} ({lines} lines)")
    assert not long


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert not missing, f"settings missing from the README's settings table: {missing}"


def test_the_readme_settings_table_is_the_registry():
    """The table is generated (scripts/settings_table.py --write): it says what the code says."""
    import subprocess
    import sys

    table = subprocess.run([sys.executable, str(ROOT / "scripts" / "settings_table.py")], capture_output=True,
                           text=True, check=True).stdout
    assert table in (ROOT / "README.md").read_text(encoding="utf-8")


def _calls(path: Path, module: str, names: set[str]) -> list[str]:
    """Where ``path`` calls ``<module>.<name>(...)`` for a name in ``names`` (as file:line)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == module:
            found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_files_are_put_in_place_by_cowkg_files_alone():
    """One way to replace a file, a directory or a link (cowkg/files.py: written beside the target,
    moved into place by one rename, orphans of killed writers removed): no other module renames
    into place or makes temporary files itself."""
    offenders = []
    for path in package_modules():
        if path == PACKAGE / "files.py":
            continue
        offenders += _calls(path, "os", {"replace", "rename", "renames"})
        # (a TemporaryDirectory is scratch space, removed whole: nothing is moved out of it)
        offenders += _calls(path, "tempfile", {"mkstemp", "mkdtemp", "NamedTemporaryFile"})
    assert not offenders, f"use cowkg.files (write_atomically, rename_directory, ...): {offenders}"


def test_one_iri_check():
    """IRIs from users are checked by ``cowkg.vocab.check_iri`` alone: no other module spells the
    characters an IRI may not hold (the SPARQL lexer of cowkg/querytext.py reads IRIs and the
    Turtle writer of cowkg/export.py escapes them: neither checks them)."""
    allowed = {PACKAGE / "vocab.py", PACKAGE / "querytext.py", PACKAGE / "export.py"}
    offenders = []
    for path in package_modules():
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and '<>"{}|^`' in node.value:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, f"use cowkg.vocab.check_iri: {offenders}"
    assert _calls(PACKAGE / "release.py", "os", {"replace"}) == []  # the helper above sees calls
    assert _calls(PACKAGE / "files.py", "os", {"replace"})


def test_serving_the_embedded_store_imports_no_http_client():
    """``requests`` (with urllib3 and charset_normalizer, ~0.4 s) is only for talking to Virtuoso
    and Wikidata: a server on the embedded store must start without it (issue 15: ready in < 1 s)."""
    import subprocess
    import sys

    code = ("import sys, cowkg.web, cowkg.cli, cowkg.answer, cowkg.backends.embedded, cowkg.backends.virtuoso; "
            "print(sorted(m for m in ('requests', 'urllib3', 'charset_normalizer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_bench_file_the_repository_cites_exists():
    """A figure's source must be there to check: every ``bench/results/...`` file and ``bench/*.py``
    script named in the code, docs and tests is committed (server.py once cited a results file
    that never was)."""
    cited = set()
    for path in [*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("bench/*.md"), *ROOT.glob("bench/*.py"),
                 *ROOT.glob("cowkg/**/*.py"), *ROOT.glob("tests/**/*.py")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        cited |= set(re.findall(r"bench/results/[A-Za-z0-9_.-]+\.(?:txt|jsonl|log)", text))
        cited |= set(re.findall(r"bench/[a-z_]+\.py", text))
        if path.name == "README.md" and path.parent.name == "bench":
            cited |= {f"bench/{m}" for m in re.findall(r"`(results/[A-Za-z0-9_.-]+\.(?:txt|jsonl))`", text)}
    missing = sorted(c for c in cited if not (ROOT / c).exists())
    assert not missing, missing
