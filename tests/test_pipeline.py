"""Each stage alone on small fixtures, then the whole build on the real kg/."""

from __future__ import annotations

import shutil

import pytest
from conftest import FIXTURES, ROOT, copy_project, edit_cell, run_cli
from rdflib import RDF, Graph
from rdflib.compare import isomorphic

from nmbkg.config import NMB, Project
from nmbkg.ontology import InputError, load_ontology
from nmbkg.pipeline import build, validate_project
from nmbkg.records import load_records
from nmbkg.triples import make_triples
from nmbkg.vocab import vocabularies

SLICE = FIXTURES / "slice"


@pytest.fixture(scope="module")
def slice_project(tmp_path_factory) -> Project:
    """A tiny project: the real ontology and queries with the kg/ slice of tests/fixtures/slice (Table 1 rows 1-5)."""
    root = tmp_path_factory.mktemp("slice")
    copy_project(root)
    shutil.rmtree(root / "kg")
    shutil.copytree(SLICE / "kg", root / "kg")
    shutil.copy(ROOT / "kg" / "README.md", root / "kg" / "README.md")
    return Project(root)


def test_records_stage_reads_slice(slice_project):
    """The records stage reads every fixture file with no problem."""
    vocab = vocabularies(load_ontology(slice_project))
    rs, problems = load_records(slice_project.kg_dir, vocab)
    assert [p for p in problems if p.level == "ERROR"] == []
    assert len(rs.rows("measurements.tsv")) >= 10
    assert {r.get("locator") for r in rs.rows("electrolytes.tsv")} == {f"Table 1 row {i}" for i in range(1, 6)}


def test_triples_stage_matches_expected_graph(slice_project):
    """The triples of one electrolyte row equal the hand-written expected graph (compared as graphs)."""
    vocab = vocabularies(load_ontology(slice_project))
    rs, _ = load_records(slice_project.kg_dir, vocab)
    g = make_triples(rs, slice_project).graph
    e = next(s for s in g.subjects(RDF.type, NMB.EtherBasedElectrolyte) if str(s).endswith("/nabf4-g2-0p5m"))
    sub = Graph()
    for node in [e, *g.objects(e, NMB.hasComponent)]:
        for t in g.triples((node, None, None)):
            sub.add(t)
    expected = Graph().parse(SLICE / "expected-nabf4-g2-0p5m.ttl", format="turtle")
    assert isomorphic(sub, expected), sub.serialize(format="turtle")


def test_validate_stage_clean_on_slice(slice_project):
    """SHACL and checks find nothing wrong in the slice."""
    res = validate_project(slice_project, reason=False)
    assert res.ok, [p.line() for p in res.problems]


def test_broken_turtle_is_input_error(tmp_path):
    """A syntax error in the ontology is reported with file and line."""
    root = copy_project(tmp_path)
    path = root / "ontology" / "nmbkg.ttl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[40] = lines[40] + " this is not turtle ;;"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_ontology(Project(root))
    assert exc.value.file == "ontology/nmbkg.ttl" and exc.value.line is not None


def test_real_build_writes_release(built):
    """The real build has no errors and writes every release file."""
    out = built.out
    for name in ("nmbkg.ttl", "nmbkg.nt", "nmbkg.jsonld", "ontology.ttl", "ontology.owl", "reports/problems.tsv",
                 "build-info.json"):
        assert (out / name).is_file(), name
    assert not [p for p in built.problems if p.level in ("ERROR", "WARN")], [p.line() for p in built.problems]


def test_release_round_trips(built):
    """The Turtle, N-Triples and JSON-LD dumps parse back to the same graph."""
    out = built.out
    ttl = Graph().parse(out / "nmbkg.ttl", format="turtle")
    nt = Graph().parse(out / "nmbkg.nt", format="nt")
    js = Graph().parse(out / "nmbkg.jsonld", format="json-ld")
    assert isomorphic(ttl, nt) and isomorphic(nt, js)
    assert len(nt) > 10000


def test_failed_build_keeps_previous_dist(tmp_path):
    """A build with a data error leaves the previous dist/ byte for byte."""
    root = copy_project(tmp_path)
    out = tmp_path / "dist"
    out.mkdir()
    (out / "marker.txt").write_text("previous release", encoding="utf-8")
    edit_cell(root, "measurements.tsv", 1, "value", "lots")
    res = build(Project(root), out=out, reason=False)
    assert not res.ok
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]
    assert (tmp_path / "dist-problems.tsv").is_file()


REPRODUCIBLE = ("nmbkg.nt", "nmbkg.ttl", "nmbkg.jsonld", "nmbkg.nq", "ontology.nt", "ontology.ttl", "ontology.owl",
                "ontology.jsonld", "context.jsonld", "void.ttl")


def test_two_builds_give_the_same_bytes(slice_project, tmp_path):
    """The same records give byte-identical dumps (sorted N-Triples, canonical blank nodes), so the checksums in
    void.ttl identify the content. SOURCE_DATE_EPOCH pins the build date."""
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        r = run_cli("--root", str(slice_project.root), "build", "--no-reason", "--out", str(out),
                    env={"SOURCE_DATE_EPOCH": "1700000000"})
        assert r.returncode == 0, r.stderr
        outs.append(out)
    differ = [f for f in REPRODUCIBLE if (outs[0] / f).read_bytes() != (outs[1] / f).read_bytes()]
    assert not differ
