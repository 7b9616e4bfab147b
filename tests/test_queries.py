"""Stored competency questions: headers, expected rows on both engines, hostile parameters, CLI, review tables."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from regen_expected import EXPECTED, parse_case

CQ_DIR = ROOT / "queries" / "cq"
CQ_FILES = sorted(CQ_DIR.glob("*.rq"))
CASE_FILES = sorted(EXPECTED.glob("*.tsv"))
ENGINES = ("oxigraph", "rdflib")

HOSTILE = [
    'NaF"',
    "NaF' } UNION { ?s ?p ?o } #",
    "} UNION { ?s ?p ?o }",
    '"} ; DROP ALL ; {"',
    "NaF\n} UNION {\n?s ?p ?o",
    "http://example.org/x> } UNION { ?s ?p ?o",
    "https://w3id.org/nmbkg/id/substance/naf> . ?s ?p ?o . <x",
    "<https://w3id.org/nmbkg/id/substance/naf>",
    "1; DROP",
    "{",
    "A" * 10_000,
]


def _query(path: Path):
    from nmbkg.storedq import parse_query

    return parse_query(path)


def _rows(text: str) -> tuple[str, Counter]:
    """Header line and the multiset of row lines of a TSV result."""
    lines = text.rstrip("\n").split("\n")
    return lines[0], Counter(lines[1:])


def _run(engine, q, params: dict[str, str]) -> str:
    from nmbkg.output import render
    from nmbkg.query import run_stored

    return render(run_stored(engine, q, params), "tsv")


# ------------------------------------------------------------------ headers (no graph needed)
@pytest.mark.parametrize("path", CQ_FILES, ids=[p.name for p in CQ_FILES])
def test_header_is_complete(path):
    """Summary, description, parseable params, returns with ref and locator, ORDER BY, an expected file."""
    q = _query(path)
    assert q.summary, f"{path.name}: no '#+ summary:' line"
    assert q.meta.get("description"), f"{path.name}: no '#+ description:' line"
    assert "params" in q.meta, f"{path.name}: no '#+ params:' line (write 'none' when there are none)"
    assert q.returns, f"{path.name}: no '#+ returns:' line"
    assert "ref" in q.returns and "locator" in q.returns, f"{path.name}: every answer carries ?ref and ?locator"
    assert re.search(r"\bORDER\s+BY\b", q.text, re.IGNORECASE), f"{path.name}: every SELECT has ORDER BY"
    for v in q.meta.get("lists", "").split():
        assert v.lstrip("?") in q.returns, f"{path.name}: list column {v} is not returned"
    cases = list(EXPECTED.glob(f"{q.name}.tsv")) + list(EXPECTED.glob(f"{q.name}--*.tsv"))
    assert cases, f"{path.name}: no tests/expected/{q.name}[--k=v].tsv; run python tests/regen_expected.py {q.name}"


def test_expected_files_belong_to_queries():
    """Every expected file names an existing query and only its parameters."""
    names = {p.stem: _query(p) for p in CQ_FILES}
    for f in CASE_FILES:
        name, params = parse_case(f)
        assert name in names, f"{f.name}: no queries/cq/{name}.rq"
        known = {p.name for p in names[name].params}
        assert set(params) <= known, f"{f.name}: unknown parameters {set(params) - known}"


# ------------------------------------------------------------------ against the real build
@pytest.mark.reasoner
@pytest.mark.parametrize("path", CQ_FILES, ids=[p.name for p in CQ_FILES])
def test_returns_match_select(path, engines):
    """'#+ returns' equals the SELECT variables minus parameter-only ones; every parameter is projected."""
    q = _query(path)
    variables = engines["oxigraph"].select(q.text, {}).variables
    params = [p.name for p in q.params]
    missing = [p for p in params if p not in variables]
    assert not missing, f"{path.name}: parameters {missing} must be in the SELECT clause (pyoxigraph binds only those)"
    param_only = set(params) - set(q.returns)
    assert q.returns == [v for v in variables if v not in param_only], f"{path.name}: returns {q.returns} vs {variables}"


@pytest.mark.reasoner
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASE_FILES, ids=[c.stem for c in CASE_FILES])
def test_expected_rows(case, engine, engines):
    """The stored answer on the real graph equals tests/expected/<case>.tsv, compared as a set of rows."""
    name, params = parse_case(case)
    got_header, got = _rows(_run(engines[engine], _query(CQ_DIR / f"{name}.rq"), params))
    want_header, want = _rows(case.read_text(encoding="utf-8"))
    hint = f"if the change is intended: python tests/regen_expected.py {name}"
    assert got_header == want_header, f"{case.name} ({engine}): columns changed; {hint}"
    missing, extra = want - got, got - want
    assert not missing and not extra, (
        f"{case.name} ({engine}): {len(missing)} rows missing, {len(extra)} unexpected; {hint}\n"
        + "\n".join([f"- {r}" for r in list(missing)[:5]] + [f"+ {r}" for r in list(extra)[:5]]))


@pytest.mark.reasoner
@pytest.mark.parametrize("case", CASE_FILES, ids=[c.stem for c in CASE_FILES])
def test_engines_agree(case, engines):
    """pyoxigraph and rdflib return the same rows for the same question."""
    name, params = parse_case(case)
    q = _query(CQ_DIR / f"{name}.rq")
    assert _rows(_run(engines["oxigraph"], q, params)) == _rows(_run(engines["rdflib"], q, params))


def _param_cases() -> list[tuple[Path, str]]:
    return [(p, par.name) for p in CQ_FILES for par in _query(p).params]


@pytest.mark.reasoner
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("path", "param"), _param_cases(), ids=[f"{p.stem}-{n}" for p, n in _param_cases()])
def test_hostile_parameter_values(path, param, engine, engines):
    """Quotes, braces, '} UNION {', newlines and 10 kB strings give a one-line error or no extra rows."""
    from nmbkg.query import QueryError

    q = _query(path)
    base = {}
    for f in EXPECTED.glob(f"{q.name}--*.tsv"):
        _, params = parse_case(f)
        if all(p.name in params for p in q.params if p.required):
            base = {k: v for k, v in params.items() if k != param}
            break
    spec = next(p for p in q.params if p.name == param)
    allowed: Counter | None = None
    if not spec.required:
        allowed = _rows(_run(engines[engine], q, base))[1]
    for value in HOSTILE:
        try:
            text = _run(engines[engine], q, {**base, param: value})
        except QueryError as exc:
            assert "\n" not in str(exc) and len(str(exc)) < 600, f"{param}={value[:30]!r}: error is not one short line"
            continue
        rows = _rows(text)[1]
        if allowed is None:
            assert not rows, f"{q.name}: {param}={value[:30]!r} returned rows"
        else:
            assert not (rows - allowed), f"{q.name}: {param}={value[:30]!r} returned rows the unfiltered query lacks"


@pytest.mark.reasoner
def test_label_lookup_is_case_insensitive_and_prefers_instances(engines):
    """'naf', 'NaF' and the IRI name the same species; 'Na-Sn alloy' is the substance, not the class."""
    from nmbkg.query import labels_of

    labels = labels_of(engines["oxigraph"], "SEISpecies")
    assert labels["naf"] == "https://w3id.org/nmbkg/id/substance/naf"
    assert labels["na-sn alloy"] == "https://w3id.org/nmbkg/id/substance/na-sn-alloy"
    assert labels == labels_of(engines["rdflib"], "SEISpecies")


# ------------------------------------------------------------------ command line
@pytest.mark.reasoner
def test_cli_headline_question_as_csv(dist):
    """`nmbkg query additives-forming-sei --param species=NaF --format csv`: header, plain values, numbers."""
    r = run_cli("query", "additives-forming-sei", "--param", "species=NaF", "--format", "csv", "--data", str(dist))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    q = _query(CQ_DIR / "additives-forming-sei.rq")
    assert list(rows[0]) == q.returns
    assert {row["additive_label"] for row in rows} >= {"FEC", "SbF3"}
    assert {row["species_label"] for row in rows} == {"NaF"}
    assert all(re.fullmatch(r"\d+", row["ref"]) for row in rows), "ref must be a plain number"
    assert all(row["species"].startswith("https://w3id.org/nmbkg/id/substance/") for row in rows)
    assert "^^" not in r.stdout and "@en" not in r.stdout and '"""' not in r.stdout


@pytest.mark.reasoner
def test_cli_json_numbers_are_numbers(dist):
    """JSON output keeps numbers as numbers."""
    import json

    r = run_cli("query", "symmetric-cell-life", "--param", "min_hours=2000", "--format", "json", "--data", str(dist))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["rows"] and all(isinstance(row["hours"], (int, float)) and row["hours"] >= 2000 for row in data["rows"])


def test_cli_list_names_every_query():
    """`nmbkg query --list` prints every stored question with its summary."""
    r = run_cli("query", "--list")
    assert r.returncode == 0, r.stderr
    for path in CQ_FILES:
        assert path.stem in r.stdout


def test_cli_explain_prints_summary_params_and_sparql():
    """`nmbkg query X --explain` shows the question, its parameters and the SPARQL text."""
    r = run_cli("query", "conductivity-ranking", "--explain")
    assert r.returncode == 0, r.stderr
    assert "mS/cm" in r.stdout and "min_mS_cm" in r.stdout and "SELECT" in r.stdout


def test_cli_unknown_query_exits_2_with_one_line():
    """An unknown query name is a usage error: exit 2, one line, no traceback."""
    r = run_cli("query", "no-such-query")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "no-such-query" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.reasoner
@pytest.mark.parametrize("value", ["NaFF", "} UNION { ?s ?p ?o }", "x\ny", "A" * 10_000])
def test_cli_bad_parameter_exits_2(dist, value):
    """An unknown label or a hostile value: exit 2 with one line naming the parameter."""
    r = run_cli("query", "additives-forming-sei", "--param", f"species={value}", "--data", str(dist))
    assert r.returncode == 2, r.stdout
    assert len(r.stderr.strip().splitlines()) == 1 and "species" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.reasoner
def test_cli_unknown_label_names_closest(dist):
    """An unknown label lists the closest known labels."""
    r = run_cli("query", "substance-roles", "--param", "substance=NaFSII", "--data", str(dist))
    assert r.returncode == 2 and "closest" in r.stderr and "nafsi" in r.stderr.lower()


@pytest.mark.reasoner
def test_cli_table_3_shows_identified_names(dist):
    """`nmbkg table 3 --format csv` names the electrolyte identified for each row."""
    r = run_cli("table", "3", "--format", "csv", "--data", str(dist))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [int(row["row"]) for row in rows] == list(range(1, 19))
    labels = {row["label"] for row in rows}
    assert {"Na3PS4", "BASE-CNT", "Sn-BASE", "G-NASICON", "NZSP-Na2B4O7", "SnOx/Sn-NZSP"} <= labels
    assert all(row["identification"] for row in rows)


# ------------------------------------------------------------------ the review's tables, rebuilt
_SCI = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\\times|imes|×|x)\s*10\s*\^\s*\{?\s*(-?\d+)\s*\}?")
_EXPONENT = re.compile(r"\^\s*\{?\s*-?\d+\s*\}?")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _numbers(text: str) -> set[Decimal]:
    """The numbers of a printed or rebuilt table row; '4.5 x 10^-3' is one number, unit exponents are not."""
    found = {Decimal(m.group(1)).scaleb(int(m.group(2))).normalize() for m in _SCI.finditer(text)}
    text = _EXPONENT.sub(" ", _SCI.sub(" ", text))
    return found | {Decimal(n).normalize() for n in _NUMBER.findall(text)}


@pytest.mark.reasoner
@pytest.mark.parametrize("number", ["1", "2", "3"])
def test_table_rebuilds_every_printed_row(number, dist):
    """`nmbkg table N` has one row per printed row, in order, and carries every number of that printed row."""
    from nmbkg.source import places

    r = run_cli("table", number, "--format", "csv", "--data", str(dist))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    printed = {loc: p.text for loc, p in places().items() if loc.startswith(f"Table {number} row ")}
    assert [row["locator"] for row in rows] == [f"Table {number} row {i}" for i in range(1, len(printed) + 1)]
    for row in rows:
        rebuilt = _numbers(" ".join(v for k, v in row.items() if k not in ("row", "electrolyte", "locator", "identification")))
        missing = _numbers(printed[row["locator"]]) - rebuilt
        assert not missing, f"{row['locator']}: printed numbers {sorted(missing)} not in the rebuilt row {row}"


def test_readme_documents_every_query():
    """queries/README.md has a section, with a sample, for every stored question."""
    text = (ROOT / "queries" / "README.md").read_text(encoding="utf-8")
    for path in CQ_FILES:
        assert f"\n## {path.stem}\n" in text, f"queries/README.md has no section '## {path.stem}'"
