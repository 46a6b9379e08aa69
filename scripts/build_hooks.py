"""Build hook: the wheel carries the knowledge graph.

setuptools runs ``BuildPy`` (named in pyproject.toml's ``[tool.setuptools.cmdclass]``) instead of
its own build_py. Besides the Python modules it copies ontology/, data/, shapes/ and queries/
from the project (a checkout, or an unpacked sdist, which MANIFEST.in makes hold them) into the
wheel as ``cowkg/graph/``, where ``cowkg.settings.default_root`` finds them through
importlib.resources, and refuses to build a wheel without the browser assets that
scripts/setup.sh fetches from npm. An editable install copies nothing: it reads the checkout.
"""

from __future__ import annotations

from pathlib import Path

from setuptools.command.build_py import build_py

PROJECT = Path(__file__).resolve().parent.parent
#: Same as cowkg.settings.GRAPH_DIRS (not imported: the build runs before cowkg is installed).
GRAPH_DIRS = ("ontology", "data", "shapes", "queries")


def graph_files(project: Path = PROJECT) -> list[Path]:
    """Every file of the graph directories, relative to ``project`` (hidden files and caches left out)."""
    found = []
    for name in GRAPH_DIRS:
        for path in sorted((project / name).rglob("*")):
            rel = path.relative_to(project)
            if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
                found.append(rel)
    if not any(p.parts[0] == "ontology" for p in found) or not any(p.parts[0] == "data" for p in found):
        raise SystemExit(f"build: no ontology/ or data/ under {project}; a wheel without its graph is no use")
    return found


class BuildPy(build_py):
    """build_py that also puts the graph into the build as ``cowkg/graph/``."""

    def _graph_targets(self) -> list[tuple[Path, Path]]:
        if self.editable_mode:
            return []
        return [(PROJECT / rel, Path(self.build_lib, "cowkg", "graph", rel)) for rel in graph_files()]

    def run(self) -> None:
        if not self.editable_mode and not any((PROJECT / "cowkg" / "web" / "static" / "vendor").glob("*/*")):
            raise SystemExit("build: cowkg/web/static/vendor/ is empty; run scripts/setup.sh (it fetches the "
                             "browser assets from npm) before building, or the wheel's UI has no scripts")
        super().run()
        for src, dest in self._graph_targets():
            self.mkpath(str(dest.parent))
            self.copy_file(str(src), str(dest), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), *(str(dest) for _, dest in self._graph_targets())]
