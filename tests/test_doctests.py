"""The examples in docstrings are tests: every ``>>>`` example in the cowkg package runs here, one
test per docstring named by the function it documents (as Oxigraph's Python tests run theirs)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import cowkg

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def docstring_examples() -> list[doctest.DocTest]:
    """Every docstring with examples in every module of the package (``__main__`` would run the CLI)."""
    finder = doctest.DocTestFinder()
    found: dict[str, doctest.DocTest] = {}
    package = Path(cowkg.__file__).parent
    for path in sorted(package.rglob("*.py")):  # files, not pkgutil: cowkg.wikidata has no __init__.py
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        module = importlib.import_module(name)
        for test in finder.find(module, name):
            if test.examples and test.name not in found:  # a name re-exported elsewhere is found once
                found[test.name] = test
    return sorted(found.values(), key=lambda t: t.name)


EXAMPLES = docstring_examples()


@pytest.mark.parametrize("test", EXAMPLES, ids=[t.name for t in EXAMPLES])
def test_docstring_examples_hold(test):
    out: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(test, out=out.append, clear_globs=True)
    assert result.failed == 0, "".join(out)
    assert result.attempted == len(test.examples)


def test_the_public_functions_show_examples():
    """The examples are few on purpose (where one says more than prose), but they exist: a
    collector that found none would make the test above pass on nothing."""
    names = {t.name for t in EXAMPLES}
    assert len(names) >= 8, names
    assert {"cowkg.errors.Location", "cowkg.load.index_subjects", "cowkg.settings.project_paths"} <= names
