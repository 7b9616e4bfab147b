"""The nmbkg command line through subprocess: stage lines, exit codes 0/1/2, messages naming file, row and column."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import copy_project, edit_cell, run_cli


@pytest.fixture()
def broken(tmp_path):
    """A throw-away copy of the project to break."""
    return copy_project(tmp_path / "proj")


def test_build_prints_stages_and_exits_0(tmp_path):
    """`nmbkg build` prints one line per stage and a summary, exit 0."""
    r = run_cli("build", "--no-reason", "--out", str(tmp_path / "dist"))
    assert r.returncode == 0, r.stdout + r.stderr
    for stage in ("ontology", "records", "triples", "shacl", "checks", "export"):
        assert f"  {stage} " in r.stdout
    assert "records: " in r.stdout and "triples: " in r.stdout and "build OK" in r.stdout
    assert (tmp_path / "dist" / "reports" / "problems.tsv").is_file()


def test_build_py_is_the_same_entry(tmp_path):
    """python build.py passes its arguments to `nmbkg build`."""
    import subprocess
    import sys

    from conftest import ROOT

    r = subprocess.run([sys.executable, str(ROOT / "build.py"), "--no-reason", "--out", str(tmp_path / "d")],
                       check=False, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "d" / "nmbkg.ttl").is_file()


def test_missing_required_column_value_exit_1(broken, tmp_path):
    """An empty locator: exit 1 naming file, row and column."""
    line = edit_cell(broken, "measurements.tsv", 3, "locator", "")
    r = run_cli("--root", str(broken), "build", "--no-reason", "--out", str(tmp_path / "d"))
    assert r.returncode == 1
    assert f"measurements.tsv:{line}" in r.stdout and "column locator" in r.stdout


def test_missing_column_in_header_exit_1(broken, tmp_path):
    """A header without a documented column: exit 1 naming the file and the column."""
    path = broken / "kg" / "components.tsv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter="\t"))
    i = rows[0].index("role")
    path.write_text("\n".join("\t".join(r[:i] + r[i + 1:]) for r in rows) + "\n", encoding="utf-8")
    r = run_cli("--root", str(broken), "build", "--no-reason", "--out", str(tmp_path / "d"))
    assert r.returncode == 1
    assert "components.tsv:1" in r.stdout and "column role" in r.stdout and "missing column" in r.stdout


def test_unknown_source_key_exit_1(broken, tmp_path):
    """A source key not in sources.tsv: exit 1 naming file, row, column and a fix."""
    line = edit_cell(broken, "electrolytes.tsv", 2, "source", "ref-999")
    r = run_cli("--root", str(broken), "build", "--no-reason", "--out", str(tmp_path / "d"))
    assert r.returncode == 1
    assert f"electrolytes.tsv:{line}" in r.stdout and "column source" in r.stdout and "unknown_source" in r.stdout


def test_non_numeric_value_exit_1(broken, tmp_path):
    """A value that is not a number: exit 1 naming file, row and column."""
    line = edit_cell(broken, "measurements.tsv", 5, "value", "about 3000")
    r = run_cli("--root", str(broken), "build", "--no-reason", "--out", str(tmp_path / "d"))
    assert r.returncode == 1
    assert f"measurements.tsv:{line}" in r.stdout and "column value" in r.stdout and "not_a_number" in r.stdout


def test_broken_turtle_exit_2(broken, tmp_path):
    """A Turtle syntax error: exit 2, one line naming the file and the line."""
    path = broken / "ontology" / "nmbkg.ttl"
    text = path.read_text(encoding="utf-8").replace("nmb:Electrolyte a owl:Class ;", "nmb:Electrolyte a owl:Class ;;; {", 1)
    path.write_text(text, encoding="utf-8")
    r = run_cli("--root", str(broken), "build", "--no-reason", "--out", str(tmp_path / "d"))
    assert r.returncode == 2
    assert "ontology/nmbkg.ttl line" in r.stderr and "Traceback" not in r.stderr


def test_unknown_query_exit_2(dist):
    """An unknown query name: one clear line, exit 2, no traceback."""
    r = run_cli("query", "no-such-query", "--data", str(dist))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "unknown query 'no-such-query'" in r.stderr


def test_missing_and_malformed_parameters_exit_2(dist):
    """A malformed number or an unknown parameter: one line, exit 2."""
    r = run_cli("query", "symmetric-cell-life", "--param", "min_hours=lots", "--data", str(dist))
    assert r.returncode == 2 and "must be a number" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("query", "symmetric-cell-life", "--param", "colour=red", "--data", str(dist))
    assert r.returncode == 2 and "no parameter 'colour'" in r.stderr


def test_symmetric_cell_life_csv_has_provenance(dist):
    """The stored query answers in CSV with ref and locator columns, longest first."""
    r = run_cli("query", "symmetric-cell-life", "--format", "csv", "--data", str(dist))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {"ref", "locator", "hours", "current_density"} <= set(rows[0])
    hours = [float(x["hours"]) for x in rows]
    assert hours == sorted(hours, reverse=True)
    t1r3 = [x for x in rows if x["locator"] == "Table 1 row 3"]
    assert t1r3 and t1r3[0]["hours"] == "3000" and t1r3[0]["ref"] == "82" and t1r3[0]["current_density"] == "0.5"


def test_stats(dist):
    """`nmbkg stats` prints counts of triples, classes, individuals and records."""
    r = run_cli("stats", "--data", str(dist))
    assert r.returncode == 0, r.stderr
    assert "triples:" in r.stdout and "individuals per class" in r.stdout and "measurements.tsv" in r.stdout


def test_help_on_every_subcommand():
    """Every subcommand answers --help."""
    for cmd in ("build", "validate", "query", "table", "stats", "fmt"):
        r = run_cli(cmd, "--help")
        assert r.returncode == 0 and "usage:" in r.stdout


def test_fmt_check_is_clean():
    """The committed kg/ files are in canonical form (`nmbkg fmt` would change nothing)."""
    r = run_cli("fmt", "--check")
    assert r.returncode == 0, r.stdout + "\nrun `nmbkg fmt` to fix"
