"""`nmbkg synth`: synthetic project folders shaped like kg/, valid under the shapes, deterministic, never mixed in."""

from __future__ import annotations

import pytest
from conftest import ROOT, run_cli

from nmbkg.config import Project
from nmbkg.records import load_records
from nmbkg.synth import MARKER, SynthError, plain_number, synthesize

FACTOR = 3


@pytest.fixture(scope="module")
def synth3(tmp_path_factory):
    """A factor-3 synthetic project made through the command line."""
    out = tmp_path_factory.mktemp("synth") / "x3"
    r = run_cli("synth", "--factor", str(FACTOR), "--out", str(out), "--seed", "7")
    assert r.returncode == 0, r.stderr
    return out


def _files(folder):
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((folder / "kg").glob("*.tsv"))}


def test_synthetic_project_validates_without_errors(synth3):
    """`nmbkg --root DIR validate --no-reason` finds no ERROR in the synthetic records."""
    r = run_cli("--root", str(synth3), "validate", "--no-reason")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert "(0 errors," in r.stdout or r.stdout.strip().endswith("0 problems")


def test_folder_is_a_complete_project(synth3):
    """kg/ has the real files and README, and ontology/ and queries/ are there to build and query."""
    assert sorted(_files(synth3)) == sorted(p.name for p in (ROOT / "kg").glob("*.tsv"))
    assert (synth3 / "kg" / "README.md").is_file()
    assert (synth3 / "ontology" / "nmbkg.ttl").is_file()
    assert sorted(p.name for p in (synth3 / "queries" / "cq").glob("*.rq")) == \
        sorted(p.name for p in (ROOT / "queries" / "cq").glob("*.rq"))
    assert "not real data" in (synth3 / MARKER).read_text(encoding="utf-8")


def test_real_rows_kept_and_synthetic_rows_marked(synth3):
    """Every real row is there unchanged; every other row has a syn- record_id and a note saying synthetic
    (a synthetic cited work is ref-N with N above every real reference number, as kg/ rules require)."""
    top = max(int(x.split("\t")[4]) for x in (ROOT / "kg" / "sources.tsv").read_text(encoding="utf-8").splitlines()[1:]
              if x.split("\t")[4].isdigit())
    for name, text in _files(synth3).items():
        real = set((ROOT / "kg" / name).read_text(encoding="utf-8").splitlines()[1:])
        lines = text.splitlines()
        header = lines[0].split("\t")
        assert real <= set(lines[1:]), name
        for line in set(lines[1:]) - real:
            row = dict(zip(header, line.split("\t")))
            if name == "sources.tsv":
                assert int(row["ref_number"]) > top and row["title"].startswith("Synthetic work"), row["record_id"]
            else:
                assert row["record_id"].startswith("syn-"), (name, row["record_id"])
            assert "synthetic" in row["note"], (name, row["record_id"])


def test_sizes_scale_with_the_factor(synth3):
    """Each record file has factor times the real rows, except substances (a shared chemical vocabulary)
    and the review's own source record."""
    for name, text in _files(synth3).items():
        n_real = len((ROOT / "kg" / name).read_text(encoding="utf-8").splitlines()) - 1
        n = len(text.splitlines()) - 1
        if name == "substances.tsv":
            assert n == n_real
        elif name == "sources.tsv":
            assert n == n_real + (FACTOR - 1) * (n_real - 1)
        else:
            assert n == FACTOR * n_real, name


def test_same_seed_same_files_other_seed_other_values(synth3, tmp_path):
    """The output is a function of the seed."""
    project = Project(ROOT)
    synthesize(project, tmp_path / "a", FACTOR, seed=7)
    synthesize(project, tmp_path / "b", FACTOR, seed=8)
    assert _files(tmp_path / "a") == _files(synth3)
    assert _files(tmp_path / "b")["measurements.tsv"] != _files(synth3)["measurements.tsv"]


def test_values_come_from_the_real_distributions(synth3):
    """Synthetic measured values stay inside the range of the real values of the same property, unit and cell;
    synthetic constituents keep the role and chemical family of the real one they stand for."""
    from nmbkg.ontology import load_ontology
    from nmbkg.vocab import vocabularies

    real, _ = load_records(ROOT / "kg")
    syn, problems = load_records(synth3 / "kg", vocabularies(load_ontology(Project(synth3))))
    assert not [p for p in problems if p.level == "ERROR"]
    ranges: dict = {}
    for m in real.rows("measurements.tsv"):
        ranges.setdefault((m.get("property"), m.get("unit"), m.get("cell")), []).append(float(m.get("value")))
    for m in syn.rows("measurements.tsv"):
        vals = ranges[(m.get("property"), m.get("unit"), m.get("cell"))]
        assert min(vals) <= float(m.get("value")) <= max(vals), m.id
    family = {s.id: s.get("substance_class") for s in real.rows("substances.tsv")}
    real_comp = {c.id: c for c in real.rows("components.tsv")}
    for c in syn.rows("components.tsv"):
        if not c.id.startswith("syn-"):
            continue
        pairs = {(r.get("role"), family[r.get("substance")]) for r in real_comp.values()
                 if r.get("electrolyte") == c.get("electrolyte").split("-", 2)[2]}
        assert (c.get("role"), family[c.get("substance")]) in pairs, c.id


@pytest.mark.parametrize("where", ["kg", "dist", "."])
def test_refuses_to_write_into_the_real_project(where, tmp_path):
    """Synthetic data never lands in the real kg/ or dist/, nor anywhere in the project."""
    with pytest.raises(SynthError, match="mix with the real project"):
        synthesize(Project(ROOT), ROOT / where / "synthetic", 2)
    assert not (ROOT / "kg" / "synthetic").exists()


def test_refuses_a_foreign_non_empty_folder(tmp_path):
    """A folder with other content is not overwritten; the command says so in one line with exit 2."""
    (tmp_path / "mine.txt").write_text("keep", encoding="utf-8")
    r = run_cli("synth", "--factor", "2", "--out", str(tmp_path))
    assert r.returncode == 2 and "not made by `nmbkg synth`" in r.stderr
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep"


@pytest.mark.parametrize("x,want", [(3000.0, "3000"), (0.00451, "0.00451"), (12345.0, "12300"), (0.1 + 0.2, "0.3"),
                                    (99.996, "100")])
def test_numbers_are_plain_decimals(x, want):
    """Values are written as plain decimals with three significant digits, never with an exponent."""
    assert plain_number(x) == want


@pytest.mark.reasoner
def test_scale_path_builds_queries_and_loads_a_store(synth3, dist, tmp_path):
    """The path a large graph takes, forced on the small synthetic project: pyrudof for SHACL (a low
    NMBKG_SHACL_LIMIT), a capped site, a persistent store; the release answers stored queries from the store."""
    out, store = tmp_path / "dist", tmp_path / "store"
    env = {"NMBKG_SHACL_LIMIT": "1000", "NMBKG_SITE_PAGES": "60"}
    r = run_cli("--root", str(synth3), "build", "--no-reason", "--out", str(out), "--store", str(store), env=env)
    assert r.returncode == 0, r.stderr
    assert "(pyrudof; pySHACL for the 'unique among' shapes)" in r.stdout
    assert "bulk-loaded into" in r.stdout
    assert 'id="page-cap"' in (out / "site" / "index.html").read_text(encoding="utf-8")
    q = run_cli("query", "additives-forming-sei", "--param", "species=NaF", "--store", str(store), "--format", "tsv")
    assert q.returncode == 0, q.stderr
    rows = q.stdout.strip().splitlines()[1:]
    assert len(rows) > FACTOR * 5 and all(r.split("\t")[1] == "NaF" for r in rows)
    real = run_cli("query", "additives-forming-sei", "--param", "species=NaF", "--data", str(dist), "--format", "tsv")
    assert set(real.stdout.strip().splitlines()[1:]) <= set(rows)  # the real rows are part of the synthetic graph
