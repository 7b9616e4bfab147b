"""The records stage: every real record passes the cell checks (one test per record), and each check of
records.py fires on a small hand-made kg/ with one mistake."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from nmbkg.config import Project
from nmbkg.ontology import load_ontology
from nmbkg.records import load_records
from nmbkg.schema import parse_readme
from nmbkg.vocab import vocabularies

COLUMNS = parse_readme(ROOT / "kg" / "README.md")


def _real_ids() -> list[str]:
    """'file:record_id' of every real record (read plainly, for parametrization)."""
    out = []
    for file in COLUMNS:
        path = ROOT / "kg" / file
        if path.is_file():
            out += [f"{file}:{ln.split(chr(9))[0]}" for ln in path.read_text(encoding="utf-8").splitlines()[1:] if ln.strip()]
    return out


@pytest.fixture(scope="module")
def vocab() -> dict[str, set[str]]:
    """Allowed vocabulary terms of the real ontology."""
    return vocabularies(load_ontology(Project(ROOT)))


@pytest.fixture(scope="module")
def real_problems(vocab) -> dict[str, list[str]]:
    """ERROR and WARN problems of the real kg/, by 'file:record_id' ('file:' for file-level ones)."""
    _rs, problems = load_records(ROOT / "kg", vocab)
    out: dict[str, list[str]] = {}
    for p in problems:
        if p.level in ("ERROR", "WARN"):
            out.setdefault(f"{p.file}:{p.record_id}", []).append(p.line())
    return out


def test_real_files_have_no_file_level_problems(real_problems):
    """No header, encoding or sorting problem in any file of the real kg/."""
    assert {k: v for k, v in real_problems.items() if k.endswith(":")} == {}


@pytest.mark.parametrize("key", _real_ids())
def test_real_record(key, real_problems):
    """One real record: no ERROR or WARN from the records stage."""
    assert real_problems.get(key, []) == []


# ---------------------------------------------------------------------------- a hand-made kg/
BASE = {
    "sources.tsv": [
        {"record_id": "ref-1", "source": "review", "locator": "ref 1", "kind": "cited_work", "ref_number": "1",
         "year": "2019", "title": "A cited work"},
        {"record_id": "review", "source": "review", "locator": "front matter", "kind": "review", "year": "2022",
         "title": "The review"},
    ],
    "substances.tsv": [
        {"record_id": "dme", "source": "review", "locator": "Table 1 row 1", "label": "DME", "kind": "molecule",
         "substance_class": "Ether", "smiles": "COCCOC"},
        {"record_id": "napf6", "source": "review", "locator": "Table 1 row 1", "label": "NaPF6", "kind": "salt",
         "substance_class": "SodiumSalt", "smiles": "F[P-](F)(F)(F)(F)F.[Na+]"},
    ],
    "electrolytes.tsv": [
        {"record_id": "e1", "source": "ref-1", "locator": "Table 1 row 1", "label": "1 M NaPF6 in DME",
         "category": "liquid", "electrolyte_class": "EtherBasedElectrolyte", "formulation": "complete"},
    ],
    "components.tsv": [
        {"record_id": "e1.dme", "source": "ref-1", "locator": "Table 1 row 1", "electrolyte": "e1",
         "substance": "dme", "role": "SolventRole"},
        {"record_id": "e1.napf6", "source": "ref-1", "locator": "Table 1 row 1", "electrolyte": "e1",
         "substance": "napf6", "role": "SaltRole", "amount": "1", "amount_unit": "mol/L"},
    ],
    "measurements.tsv": [
        {"record_id": "t1r01-sym", "source": "ref-1", "locator": "Table 1 row 1", "electrolyte": "e1",
         "property": "CycleLife", "cell": "symmetric", "value": "500", "unit": "h", "current_density": "1",
         "current_density_unit": "mA/cm2"},
    ],
}


def write_kg(root: Path, files: dict[str, list[dict[str, str]]]) -> Path:
    """A kg/ folder with the real README.md and the given rows (missing cells empty)."""
    kg = root / "kg"
    kg.mkdir(parents=True)
    shutil.copy(ROOT / "kg" / "README.md", kg / "README.md")
    for file, rows in files.items():
        cols = COLUMNS[file]
        lines = ["\t".join(cols)] + ["\t".join(r.get(c, "") for c in cols) for r in rows]
        (kg / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return kg


def _with(file: str, rid: str, **changes: str) -> dict[str, list[dict[str, str]]]:
    """BASE with one cell changed (or a row added when rid is new)."""
    files = {f: [dict(r) for r in rows] for f, rows in BASE.items()}
    rows = files[file]
    row = next((r for r in rows if r["record_id"] == rid), None)
    if row is None:
        rows.append(dict(changes, record_id=rid))
        rows.sort(key=lambda r: r["record_id"])
    else:
        row.update(changes)
    return files


def problems_of(tmp_path: Path, vocab, files) -> list:
    """Problems of the records stage on a hand-made kg/."""
    _rs, problems = load_records(write_kg(tmp_path, files), vocab)
    return problems


def _only(problems, rule: str):
    hits = [p for p in problems if p.rule == rule]
    assert hits, [p.line() for p in problems]
    return hits


def test_base_is_clean(tmp_path, vocab):
    """The hand-made kg/ has no problem at all."""
    assert [p.line() for p in problems_of(tmp_path, vocab, BASE)] == []


def test_ref_number_must_match_record_id_and_locator(tmp_path, vocab):
    """ref-1 with ref_number 2: ERROR on record_id and on locator, naming the row."""
    hits = _only(problems_of(tmp_path, vocab, _with("sources.tsv", "ref-1", ref_number="2")), "ref_number_mismatch")
    assert {p.field for p in hits} == {"record_id", "locator"}
    assert all(p.level == "ERROR" and p.file == "sources.tsv" and p.row == 2 and "ref_number 2" in p.message
               for p in hits)


def test_cited_work_after_review_warns(tmp_path, vocab):
    """A cited work dated after the review is a warning on its year."""
    [p] = _only(problems_of(tmp_path, vocab, _with("sources.tsv", "ref-1", year="2024")), "cited_after_review")
    assert (p.level, p.field, p.value) == ("WARN", "year", "2024")


def test_locator_ref_must_match_source(tmp_path, vocab):
    """A fact of ref-1 located at 'ref 7' warns and says how to make them agree."""
    [p] = _only(problems_of(tmp_path, vocab, _with("components.tsv", "e1.dme", locator="ref 7")),
                "locator_source_mismatch")
    assert p.level == "WARN" and p.record_id == "e1.dme" and "ref-7" in p.hint


def test_component_id_is_electrolyte_dot_substance(tmp_path, vocab):
    """A component record_id other than <electrolyte>.<substance> warns with the expected name."""
    files = _with("components.tsv", "e1.dme", record_id="e1.solvent")
    [p] = _only(problems_of(tmp_path, vocab, files), "component_id_mismatch")
    assert p.level == "WARN" and p.hint.endswith("e1.dme")


def test_table_record_id_matches_locator(tmp_path, vocab):
    """t1r01-sym located at Table 1 row 2 warns."""
    files = _with("measurements.tsv", "t1r01-sym", locator="Table 1 row 2")
    [p] = _only(problems_of(tmp_path, vocab, files), "record_id_locator_mismatch")
    assert p.field == "locator" and p.value == "Table 1 row 2"


def test_number_without_unit_is_an_error(tmp_path, vocab):
    """An amount without amount_unit, or a current density without its unit, has no basis: ERROR."""
    hits = _only(problems_of(tmp_path, vocab, _with("components.tsv", "e1.napf6", amount_unit="")), "missing_unit")
    assert hits[0].level == "ERROR" and hits[0].field == "amount_unit" and hits[0].row == 3
    hits = _only(problems_of(tmp_path / "b", vocab, _with("measurements.tsv", "t1r01-sym", current_density_unit="")),
                 "missing_unit")
    assert hits[0].field == "current_density_unit"


def test_unit_without_number_warns(tmp_path, vocab):
    """A unit whose number is empty is a leftover: WARN."""
    [p] = _only(problems_of(tmp_path, vocab, _with("components.tsv", "e1.dme", amount_unit="vol%")), "unit_without_value")
    assert p.level == "WARN" and p.value == "vol%"


def test_reference_to_a_record_of_another_file(tmp_path, vocab):
    """A measurement whose electrolyte is a substance id: the message says which file the id belongs to."""
    [p] = _only(problems_of(tmp_path, vocab, _with("measurements.tsv", "t1r01-sym", electrolyte="napf6")),
                "wrong_record_type")
    assert "substances.tsv" in p.message and "electrolytes.tsv" in p.hint and p.level == "ERROR"


def test_unknown_reference_suggests_a_key(tmp_path, vocab):
    """A mistyped electrolyte id: unknown_reference with a suggestion."""
    [p] = _only(problems_of(tmp_path, vocab, _with("measurements.tsv", "t1r01-sym", electrolyte="e2")),
                "unknown_reference")
    assert "e1" in p.hint


def test_file_form_problems_are_warnings(tmp_path, vocab):
    """CR line ends, a blank line and unsorted rows are warnings that name `nmbkg fmt`."""
    kg = write_kg(tmp_path, BASE)
    path = kg / "substances.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_bytes(("\r\n".join([lines[0], lines[2], "", lines[1]]) + "\r\n").encode("utf-8"))
    _rs, problems = load_records(kg, vocab)
    rules = {p.rule for p in problems if p.file == "substances.tsv"}
    assert {"not_canonical", "blank_line"} <= rules
    assert all(p.level == "WARN" and "nmbkg fmt" in p.hint for p in problems if p.file == "substances.tsv")


def test_every_problem_names_place_and_fix(tmp_path, vocab):
    """Each record problem has a file, a message and a hint; row-level ones a row and a record_id."""
    files = _with("measurements.tsv", "t1r01-sym", value="lots", locator="Table one", source="ref-9")
    problems = problems_of(tmp_path, vocab, files)
    assert {"not_a_number", "bad_locator", "unknown_source"} <= {p.rule for p in problems}
    for p in problems:
        assert p.file and p.message and p.hint and p.row and p.record_id == "t1r01-sym", p.line()
