"""bench/generate.py: synthetic graphs of an exact size, the same bytes for the same seed, valid for the shapes."""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402


def test_same_seed_same_bytes_and_exact_size(tmp_path):
    a, n = generate.write(12_345, 7, tmp_path / "a")
    b, _ = generate.write(12_345, 7, tmp_path / "b")
    c, _ = generate.write(12_345, 8, tmp_path / "c")
    assert n == 12_345
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    assert len(list(ox.parse(path=str(a), format=ox.RdfFormat.N_TRIPLES))) == 12_345


def test_sizes_by_name():
    assert generate.parse_size("1m") == 1_000_000 and generate.parse_size("10k") == 10_000
    assert generate.parse_size("2500") == 2500


def test_synthetic_data_conforms_to_the_shapes(tmp_path):
    from cowkg.load import default_layout, load_files
    from cowkg.validate import load_shapes, validate
    from cowkg.vocab import GRAPH_DATA, GRAPH_ONTOLOGY

    path, _ = generate.write(8_000, 1, tmp_path)  # the record cut at 8,000 may lack its status or source
    layout = [(p, g) for p, g in default_layout(ROOT) if g == str(GRAPH_ONTOLOGY)] + [(path, str(GRAPH_DATA))]
    report = validate(load_files(layout), load_shapes(ROOT / "shapes"))
    assert len(report.violations) <= 2, [v.message for v in report.violations[:5]]
