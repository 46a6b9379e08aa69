"""Loader: files → triples per graph, exact error positions, subject line index."""

from __future__ import annotations

from pathlib import Path

import pytest

from cowkg.errors import NotFound, ParseError
from cowkg.load import index_subjects, load_files, load_project, to_rdflib
from cowkg.vocab import GRAPH_DATA, GRAPH_ONTOLOGY

ROOT = Path(__file__).resolve().parent.parent


def test_project_loads_into_ontology_and_data_graphs():
    sources = load_project(ROOT)
    assert len(sources.graphs[str(GRAPH_ONTOLOGY)]) > 500
    assert len(sources.graphs[str(GRAPH_DATA)]) > 500
    assert len(sources.digest) == 64


def test_digest_changes_with_content(tmp_path):
    f = tmp_path / "a.ttl"
    f.write_text("<http://e/a> <http://e/b> 1 .")
    d1 = load_files([(f, "g")]).digest
    f.write_text("<http://e/a> <http://e/b> 2 .")
    assert load_files([(f, "g")]).digest != d1


def test_parse_error_has_file_line_and_column(tmp_path):
    f = tmp_path / "bad.ttl"
    f.write_text("@prefix ex: <http://e/> .\nex:a ex:b ex:c .\nex:a ex:b ex:c ex:d .\n")
    with pytest.raises(ParseError) as info:
        load_files([(f, "g")])
    loc = info.value.location
    assert (loc.source, loc.line) == (str(f), 3) and loc.column
    assert str(info.value).startswith(f"{f}:3:")


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        load_files([(tmp_path / "nope.ttl", "g")])


def test_unknown_suffix_is_a_parse_error(tmp_path):
    f = tmp_path / "data.csv"
    f.write_text("a,b")
    with pytest.raises(ParseError, match="unknown RDF file type"):
        load_files([(f, "g")])


def test_index_subjects_expands_prefixes():
    text = "@prefix cowr: <https://w3id.org/cowkg/id/> .\n\ncowr:meeting-01 a <http://e/C> .\n"
    assert index_subjects(text) == {"https://w3id.org/cowkg/id/meeting-01": 3}


def test_a_subject_points_at_the_block_that_types_it_whatever_the_file_order(tmp_path):
    """A file that only adds a link to a node (data/geo.ttl: `cowr:paris schema:geo ...`) sorts
    before the file that defines it; reports about the node still point at its definition."""
    prefix = "@prefix cowr: <https://w3id.org/cowkg/id/> .\n"
    first, second = tmp_path / "a-links.ttl", tmp_path / "b-places.ttl"
    first.write_text(prefix + "cowr:paris <http://e/geo> cowr:geo-paris .\n")
    second.write_text(prefix + "\n# Paris\ncowr:paris a <http://e/City> ;\n  <http://e/name> \"Paris\" .\n"
                      "cowr:lyon <http://e/name> \"Lyon\" .\n")
    sources = load_files([(first, "g"), (second, "g")])
    assert sources.subject_lines["https://w3id.org/cowkg/id/paris"] == (str(second), 4)
    assert sources.subject_lines["https://w3id.org/cowkg/id/lyon"] == (str(second), 6)


def test_to_rdflib_keeps_datatypes_and_languages(tmp_path):
    f = tmp_path / "t.ttl"
    f.write_text('<http://e/a> <http://e/b> "x"@fr , "2025-03-02"^^<http://www.w3.org/2001/XMLSchema#date> , "s" .')
    g = to_rdflib(load_files([(f, "g")]).triples())
    langs = {o.language for o in g.objects()}
    dts = {str(o.datatype) for o in g.objects() if o.datatype}
    assert "fr" in langs and "http://www.w3.org/2001/XMLSchema#date" in dts and len(g) == 3


def test_blank_node_labels_are_scoped_to_their_file(tmp_path):
    """RDF merges documents apart: ``_:n`` in two files is two nodes, and a file parsed twice gives
    the same labels both times (the inferred graph's cache names them)."""
    a, b = tmp_path / "a.ttl", tmp_path / "b.ttl"
    a.write_text('_:n <http://e/p> "a" . <http://e/s> <http://e/q> [ <http://e/p> "c" ] .\n', encoding="utf-8")
    b.write_text('_:n <http://e/p> "b" .\n', encoding="utf-8")
    sources = load_files([(a, "http://e/g"), (b, "http://e/g")])
    subjects = {t.object.value: t.subject for t in sources.graphs["http://e/g"] if t.predicate.value == "http://e/p"}
    assert len(set(subjects.values())) == 3
    again = load_files([(a, "http://e/g"), (b, "http://e/g")])
    assert set(again.graphs["http://e/g"]) == set(sources.graphs["http://e/g"])
