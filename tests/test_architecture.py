"""The data flow is the layout: library stages import neither Flask nor click, nothing imports web/,
and every setting is documented in the README."""

from __future__ import annotations

import ast
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


def test_nothing_outside_web_and_cli_imports_web():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "web" or rel.name.startswith("cli"):
            continue
        if any(n.lstrip(".").startswith("web") or n.startswith("cowkg.web") for n in imports(path)):
            offenders.append(str(rel))
    assert not offenders


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
