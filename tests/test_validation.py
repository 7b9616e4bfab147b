"""Validation a curator can trust (issue 6): the bad-input suite, the shapes, the SPARQL checks, the report.

Each folder of tests/fixtures/invalid/ describes one curator mistake as edits (case.json) to a small but
complete project: the real ontology/ and queries/ with a slice of the real kg/ (SEEDS and every record they
need). The real CLI builds it; the test asserts the exit code, the rule id, and that the report names the
right file and row. tests/fixtures/invalid/_seeded-checks/<check>.ru seeds one problem per SPARQL check.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, require_tool, run_cli
from rdflib import RDF, Graph, Namespace, URIRef

from nmbkg.checks import check_queries, check_rows, level_of, run_checks
from nmbkg.config import Project
from nmbkg.ontology import load_ontology
from nmbkg.pipeline import validate_project
from nmbkg.problems import Problem
from nmbkg.reason import java_available
from nmbkg.records import load_records
from nmbkg.schema import TYPES, Ref, parse_readme
from nmbkg.triples import make_triples
from nmbkg.validate import (
    SH,
    engine_results,
    load_shapes,
    rudof_problems,
    rudof_supported_rules,
    rule_name,
    run_shacl,
    shacl_engine,
    validate_with,
)
from nmbkg.vocab import vocabularies

INVALID = FIXTURES / "invalid"
SEEDED = INVALID / "_seeded-checks"
CASES = sorted(d.name for d in INVALID.iterdir() if d.is_dir() and not d.name.startswith("_"))
NMBSH = Namespace("https://w3id.org/nmbkg/shapes#")

# Records of the real kg/ that the small project starts from (record_ids are stable, never reused).
SEEDS = {
    "measurements.tsv": ["t1r03-ce", "t1r03-sym", "t1r03-full", "t1r02-full", "t2r03-cond", "t2r02-cond",
                         "t3r02-sym", "t3r02-cond", "ref-115-text-cap", "t3r05-full"],
    "electrolytes.tsv": ["nafsi-dme-4m"],
    "sei_observations.tsv": ["ref-66-na3n"],
    "mechanism_claims.tsv": ["ref-111-dct-coating", "ref-115-graphene-flux"],
    "property_claims.tsv": ["ref-101-flame-retardant"],
    "strategies.tsv": ["review-abstract-dilemmas", "review-artificial-sei"],
}


# ---------------------------------------------------------------------------- the small project
def _read_tsv(path: Path) -> dict[str, dict[str, str]]:
    """Rows of a kg/ file keyed by record_id."""
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    header = lines[0].split("\t")
    return {ln.split("\t")[0]: dict(zip(header, ln.split("\t"))) for ln in lines[1:] if ln.strip()}


def _closure(data: dict[str, dict[str, dict[str, str]]]) -> dict[str, set[str]]:
    """The seed records plus every record they refer to, components of their electrolytes, conflict partners."""
    chosen: dict[str, set[str]] = {name: set() for name in data}
    todo = [(f, r) for f, ids in SEEDS.items() for r in ids] + [("sources.tsv", "review")]
    while todo:
        f, r = todo.pop()
        if r in chosen[f]:
            continue
        chosen[f].add(r)
        row = data[f][r]
        todo.append(("sources.tsv", row["source"]))
        for col, typ in TYPES.get(f, {}).items():
            if isinstance(typ, Ref) and row.get(col):
                todo += [(typ.target, v) for v in (row[col].split("|") if typ.multi else [row[col]])]
        if f == "electrolytes.tsv":
            todo += [("components.tsv", c) for c, cr in data["components.tsv"].items() if cr["electrolyte"] == r]
        if row.get("conflict_group"):
            for g in ("components.tsv", "measurements.tsv"):
                todo += [(g, c) for c, cr in data[g].items() if cr.get("conflict_group") == row["conflict_group"]]
    return chosen


def small_project(dest: Path) -> Path:
    """A complete project with the real ontology/ and queries/ and a small slice of the real kg/."""
    for name in ("ontology", "queries"):
        shutil.copytree(ROOT / name, dest / name)
    (dest / "kg").mkdir(parents=True)
    shutil.copy(ROOT / "kg" / "README.md", dest / "kg" / "README.md")
    columns = parse_readme(ROOT / "kg" / "README.md")
    data = {name: _read_tsv(ROOT / "kg" / name) for name in columns}
    missing = [f"{f}:{r}" for f, ids in SEEDS.items() for r in ids if r not in data[f]]
    assert not missing, f"seed records are gone from kg/, pick others in SEEDS: {missing}"
    chosen = _closure(data)
    for name, cols in columns.items():
        lines = ["\t".join(cols)] + ["\t".join(data[name][r].get(c, "") for c in cols) for r in sorted(chosen[name])]
        (dest / "kg" / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


# ---------------------------------------------------------------------------- edits of case.json
def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def _row_index(lines: list[str], rid: str) -> int:
    """0-based index of the line of a record_id."""
    return next(i for i, ln in enumerate(lines) if i > 0 and ln.split("\t")[0] == rid)


def _set_cell(path: Path, rid: str, column: str, value: str) -> None:
    lines = _lines(path)
    header = lines[0].split("\t")
    i = _row_index(lines, rid)
    cells = lines[i].split("\t")
    cells[header.index(column)] = value
    lines[i] = "\t".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")


def _append_copy(path: Path, rid: str, changes: dict[str, str]) -> None:
    lines = [ln for ln in _lines(path) if ln]
    header = lines[0].split("\t")
    cells = dict(zip(header, lines[_row_index(lines, rid)].split("\t")))
    cells.update(changes)
    lines.append("\t".join(cells[c] for c in header))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _delete_statement(path: Path, pattern: str) -> None:
    """Remove a Turtle statement that starts at a line matching pattern and ends at a line ending with ' .'."""
    lines = _lines(path)
    start = next(i for i, ln in enumerate(lines) if re.search(pattern, ln))
    end = next(i for i in range(start, len(lines)) if lines[i].rstrip().endswith(" ."))
    del lines[start:end + 1]
    path.write_text("\n".join(lines), encoding="utf-8")


def apply_edit(root: Path, edit: dict) -> None:
    """Apply one edit of a case.json to the project at root."""
    op, path = edit.get("op", "set"), root / edit["file"]
    if op == "set":
        _set_cell(path, edit["record_id"], edit["column"], edit["value"])
    elif op == "append_copy":
        _append_copy(path, edit["record_id"], edit.get("set", {}))
    elif op == "append_line":
        path.write_text(path.read_text(encoding="utf-8") + edit["text"] + "\n", encoding="utf-8")
    elif op == "append_text":
        path.write_text(path.read_text(encoding="utf-8") + edit["text"], encoding="utf-8")
    elif op == "delete":
        lines = _lines(path)
        del lines[_row_index(lines, edit["record_id"])]
        path.write_text("\n".join(lines), encoding="utf-8")
    elif op == "replace_text":
        text = path.read_text(encoding="utf-8")
        assert edit["old"] in text, f"{edit['file']} no longer holds {edit['old']!r}"
        path.write_text(text.replace(edit["old"], edit["new"], 1), encoding="utf-8")
    elif op == "write":
        path.write_text(edit["text"], encoding="utf-8")
    elif op == "remove":
        path.unlink()
    elif op == "raw_byte":
        _set_cell(path, edit["record_id"], edit["column"], "\x00BYTE\x00")
        path.write_bytes(path.read_bytes().replace(b"\x00BYTE\x00", bytes.fromhex(edit["byte"])))
    elif op == "delete_statement":
        _delete_statement(path, edit["pattern"])
    else:
        raise ValueError(f"unknown edit op {op!r}")


def load_case(kind: str) -> dict:
    """The case.json of one fixture folder."""
    return json.loads((INVALID / kind / "case.json").read_text(encoding="utf-8"))


def make_case_project(kind: str, dest: Path) -> Path:
    """The small project with the edits of one case applied."""
    small_project(dest)
    for edit in load_case(kind)["edits"]:
        apply_edit(dest, edit)
    return dest


def expected_row(root: Path, expect: dict) -> int | None:
    """The line the report must name, from row_of (a record_id, 'last', 'header', None) or line_matching."""
    if "line_matching" in expect:
        lines = _lines(root / expect["file"])
        return next(i for i, ln in enumerate(lines, start=1) if re.search(expect["line_matching"], ln))
    row_of = expect.get("row_of")
    if row_of is None:
        return None
    if row_of == "header":
        return 1
    raw = (root / "kg" / expect["file"]).read_bytes().decode("utf-8", errors="replace")
    lines = raw.rstrip("\n").split("\n")
    if row_of == "last":
        return len(lines)
    return _row_index(lines, row_of) + 1


# ---------------------------------------------------------------------------- running the CLI, in parallel
@dataclass
class CaseRun:
    """One CLI build of a case project and what it left behind."""

    kind: str
    root: Path
    out: Path
    proc: subprocess.CompletedProcess
    sentinel: Path

    def report_rows(self) -> list[dict]:
        """Rows of the problem report: <dist>-problems.tsv after a failure, dist/reports/problems.tsv after success."""
        path = self.out / "reports" / "problems.tsv" if self.proc.returncode == 0 else \
            self.out.parent / f"{self.out.name}-problems.tsv"
        assert path.is_file(), f"no problem report at {path}"
        return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nmbkg.cli", *args], check=False, capture_output=True,
                          text=True, timeout=900, cwd=ROOT)


def run_case(kind: str, base: Path) -> CaseRun:
    """Make the case project, give it a previous dist/ with a sentinel, and run `nmbkg build` on it."""
    root = make_case_project(kind, base / kind / "project") if kind != "_base" else small_project(base / kind / "project")
    out = base / kind / "dist"
    out.mkdir(parents=True)
    sentinel = out / "previous-release.txt"
    sentinel.write_text("a release from an earlier build\n", encoding="utf-8")
    reason = kind != "_base" and load_case(kind)["expect"].get("reason", False)
    args = ["--root", str(root), "build", "--out", str(out)] + ([] if reason else ["--no-reason"])
    return CaseRun(kind, root, out, _cli(*args), sentinel)


def _needs_reasoner(kind: str) -> bool:
    return load_case(kind)["expect"].get("reason", False)


FAST_CASES = [k for k in CASES if not _needs_reasoner(k)]
REASONER_CASES = [k for k in CASES if _needs_reasoner(k)]


@pytest.fixture(scope="session")
def case_runs(tmp_path_factory) -> dict[str, CaseRun]:
    """Every case without the reasoner (and the unbroken base), built by the real CLI, two at a time."""
    base = tmp_path_factory.mktemp("invalid")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        runs = list(pool.map(lambda k: run_case(k, base), ["_base", *FAST_CASES]))
    return {r.kind: r for r in runs}


def _printed(run: CaseRun, level: str, rule: str, file: str, row: int | None) -> bool:
    """True when the printed report has one line naming level, file[:row] and the rule."""
    where = f"{file}:{row}" if row is not None else file
    return any(f"{level} {where} " in ln and f"[{rule}]" in ln for ln in run.proc.stdout.splitlines())


def check_case(run: CaseRun) -> None:
    """Assert what a case expects: exit code, rule, file and row in the report, dist/ untouched on failure."""
    expect = load_case(run.kind)["expect"]
    output = run.proc.stdout + run.proc.stderr
    assert run.proc.returncode == expect["exit"], output
    assert "Traceback" not in run.proc.stderr, run.proc.stderr
    if expect["exit"] == 2:
        for text in expect["stderr"]:
            assert text in run.proc.stderr, run.proc.stderr
        assert run.proc.stderr.strip().count("\n") == 0, "an input error is one line"
        assert sorted(p.name for p in run.out.iterdir()) == [run.sentinel.name]
        return
    level = expect.get("level", "ERROR")
    row = expected_row(run.root, expect)
    hits = [p for p in run.report_rows()
            if p["rule"] == expect["rule"] and p["level"] == level and p["file"] == expect["file"]
            and p["row"] == ("" if row is None else str(row))
            and p["record_id"] == expect.get("record_id", expect.get("row_of") if expect.get("row_of") not in
                                             (None, "last", "header") else p["record_id"])
            and p["field"] == expect.get("field", p["field"])]
    assert hits, f"no {level} {expect['rule']} at {expect['file']}:{row} in the report\n{output}"
    assert all(p["message"] and p["hint"] for p in hits), hits
    assert _printed(run, level, expect["rule"], expect["file"], row), output
    if expect["exit"] == 1:
        assert sorted(p.name for p in run.out.iterdir()) == [run.sentinel.name], "a failed build wrote into dist/"
        assert run.sentinel.read_text(encoding="utf-8") == "a release from an earlier build\n"
    else:
        assert (run.out / "nmbkg.ttl").is_file() and not run.sentinel.exists()


@pytest.mark.parametrize("kind", FAST_CASES)
def test_invalid_input(kind, case_runs):
    """One curator mistake: the CLI exits as expected and the report names rule, file and row."""
    check_case(case_runs[kind])


@pytest.mark.reasoner
@pytest.mark.parametrize("kind", REASONER_CASES)
def test_invalid_input_reasoner(kind, tmp_path):
    """A mistake only OWL reasoning finds: HermiT's inconsistency names the individual's file and row."""
    require_tool(java_available(), "java is not installed (HermiT needs Java 17)")
    check_case(run_case(kind, tmp_path))


def test_suite_has_enough_kinds():
    """The bad-input suite covers at least 20 kinds of mistakes, each with a description."""
    assert len(CASES) >= 20
    for kind in CASES:
        case = load_case(kind)
        assert case["description"] and case["edits"] and case["expect"]["exit"] in (0, 1, 2), kind


def test_small_project_is_clean(case_runs):
    """The unbroken small project builds with no ERROR or WARN: every case problem comes from its edit."""
    run = case_runs["_base"]
    assert run.proc.returncode == 0, run.proc.stdout + run.proc.stderr
    assert [p for p in run.report_rows() if p["level"] in ("ERROR", "WARN")] == []


# ---------------------------------------------------------------------------- nmbkg validate
def test_validate_json_has_problem_fields_sorted(tmp_path):
    """`nmbkg validate --format json`: exit 1, every Problem field, grouped by file and sorted by row."""
    root = small_project(tmp_path / "p")
    for edit in (load_case("ce-over-100")["edits"] + load_case("bad-locator")["edits"]
                 + load_case("unknown-role")["edits"]):
        apply_edit(root, edit)
    r = _cli("--root", str(root), "validate", "--no-reason", "--format", "json")
    assert r.returncode == 1, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is False
    names = [f.name for f in fields(Problem)]
    assert all(sorted(p) == sorted(names) for p in doc["problems"])
    keys = [(p["file"], p["row"] if p["row"] is not None else -1) for p in doc["problems"]]
    assert keys == sorted(keys)
    assert {"bad_locator", "unknown_term"} <= {p["rule"] for p in doc["problems"]}


def test_validate_text_groups_by_file_and_sorts_by_row(tmp_path):
    """The text report has one heading per file, files in order, rows ascending under each."""
    root = small_project(tmp_path / "p")
    for kind in ("ce-over-100", "unit-wrong-dimension", "conductivity-without-temperature", "complete-without-salt"):
        for edit in load_case(kind)["edits"]:
            apply_edit(root, edit)
    r = _cli("--root", str(root), "validate", "--no-reason")
    assert r.returncode == 1, r.stdout + r.stderr
    groups: dict[str, list[int]] = {}
    current = None
    for ln in r.stdout.splitlines():
        if re.match(r"^\S.*:$", ln):
            current = ln[:-1]
            assert current not in groups, f"{current} reported in two groups"
            groups[current] = []
        m = re.match(r"^  (ERROR|WARN|INFO) (\S+?)(?::(\d+))? ", ln)
        if m and current:
            assert m.group(2) == current
            groups[current].append(int(m.group(3) or -1))
    assert list(groups) == sorted(groups) and len(groups) >= 2
    assert all(rows == sorted(rows) for rows in groups.values())
    assert re.search(r"^\d+ problems \(\d+ errors, \d+ warnings\)$", r.stdout, re.MULTILINE)


def test_validate_exit_2_on_broken_ontology(tmp_path):
    """`nmbkg validate` on an ontology with a syntax error: exit 2 with the file named."""
    root = make_case_project("turtle-syntax-error", tmp_path / "p")
    r = _cli("--root", str(root), "validate", "--no-reason")
    assert r.returncode == 2 and "ontology/nmbkg.ttl" in r.stderr and "Traceback" not in r.stderr


def test_real_graph_has_no_errors_or_warnings(project):
    """The real kg/ validates with no ERROR and no WARN (INFO allowed)."""
    res = validate_project(project, reason=False)
    assert [p.line() for p in res.problems if p.level in ("ERROR", "WARN")] == []


# ---------------------------------------------------------------------------- the shapes
@pytest.fixture(scope="module")
def shapes() -> Graph:
    """The shapes graph of the real project."""
    return load_shapes(ROOT / "ontology" / "shapes")


def _rule_shapes(shapes: Graph) -> set:
    """Shapes that report results under their own name: targeted shapes and property shapes of node shapes."""
    targets = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode, SH.target)
    out = {s for t in targets for s in shapes.subjects(t, None)}
    out |= {o for node in out for o in shapes.objects(node, SH.property)}
    return out


def test_every_shape_is_named_with_an_actionable_message(shapes):
    """Each rule is a named shape (its id), with one message 'what is wrong -> what to do' of its own."""
    messages: dict[str, str] = {}
    for shape in _rule_shapes(shapes):
        assert isinstance(shape, URIRef), f"anonymous shape {shape}: name it, its name is the rule id"
        has_constraints = any(p != SH.property and str(p).startswith(str(SH)) and not str(p).startswith(str(SH) + "target")
                              and p not in (SH.severity, SH.message, SH.deactivated) for p in shapes.predicates(shape))
        if not has_constraints:
            continue
        msgs = [str(m) for m in shapes.objects(shape, SH.message)]
        sparql_msgs = [str(m) for c in shapes.objects(shape, SH.sparql) for m in shapes.objects(c, SH.message)]
        msgs += sparql_msgs
        assert len(msgs) == 1, f"{shape}: one sh:message, found {msgs}"
        what, _, todo = msgs[0].partition(" -> ")
        assert what and todo, f"{shape}: the message needs ' -> what to do'"
        assert msgs[0] not in messages, f"{shape} and {messages.get(msgs[0])} share a message"
        messages[msgs[0]] = str(shape)


def test_shape_severities_and_rule_ids(shapes):
    """Severities are Violation, Warning or Info, and rule ids are distinct snake_case names."""
    ids = {}
    for shape in _rule_shapes(shapes):
        for sev in shapes.objects(shape, SH.severity):
            assert sev in (SH.Violation, SH.Warning, SH.Info), shape
        rid = rule_name(shape)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", rid), rid
        assert rid not in ids or ids[rid] == shape, f"{shape} and {ids[rid]} give the same rule id {rid}"
        ids[rid] = shape
    assert rule_name(NMBSH.SEIObservationOrigin) == "sei_observation_origin"
    assert rule_name(NMBSH.SubstanceInchiKey) == "substance_inchi_key"


# ---------------------------------------------------------------------------- SPARQL checks
CHECKS = check_queries(ROOT / "queries")


@pytest.fixture(scope="module")
def small_graph(tmp_path_factory):
    """(graph, origin) of the unbroken small project: ontology plus data."""
    project = Project(small_project(tmp_path_factory.mktemp("small") / "p"))
    onto = load_ontology(project)
    rs, _ = load_records(project.kg_dir, vocabularies(onto))
    built = make_triples(rs, project)
    g = Graph()
    g += onto
    g += built.graph
    return g, built.origin


def test_there_are_checks():
    """The checks the issue asks for exist."""
    names = {q.name for q in CHECKS}
    for name in ("conflict-unmarked", "conflict-single-member", "cell-conditions", "missing-source",
                 "uncited-source", "orphan-substance", "sei-species-unlinked", "ontology-annotation",
                 "ontology-duplicate-label", "ontology-orphan-class"):
        assert f"{name}-violation" in names


@pytest.mark.parametrize("q", CHECKS, ids=[q.name for q in CHECKS])
def test_check_header(q):
    """Each check has the stored-query header, a level, a hint, and returns ?record ?value ?message."""
    for key in ("summary", "description", "params", "returns", "hint"):
        assert q.meta.get(key), f"{q.path.name}: '#+ {key}:' missing"
    assert q.meta["params"].strip() == "none"
    assert level_of(q) in ("ERROR", "WARN", "INFO")
    returns = set(q.returns)
    assert {"record", "value", "message"} <= returns and returns & {"column", "property"}, q.returns
    assert "ORDER BY" in q.text


@pytest.mark.parametrize("q", CHECKS, ids=[q.name for q in CHECKS])
def test_check_finds_its_seeded_problem(q, small_graph):
    """Each check returns no row on the small project and at least one once its problem is seeded; both
    engines return the same rows."""
    seed = SEEDED / f"{q.name.removesuffix('-violation')}.ru"
    assert seed.is_file(), f"write a seeded problem for {q.name} in {seed.relative_to(ROOT)}"
    graph, _origin = small_graph
    assert check_rows(graph, q, "oxigraph") == []
    seeded = Graph()
    seeded += graph
    seeded.update(seed.read_text(encoding="utf-8"))
    rows = {tuple(sorted((k, str(v)) for k, v in r.items())) for r in check_rows(seeded, q, "oxigraph")}
    assert rows, f"{q.name} finds nothing in the seeded graph"
    assert rows == {tuple(sorted((k, str(v)) for k, v in r.items())) for r in check_rows(seeded, q, "rdflib")}


@pytest.fixture(scope="module")
def real_graph(project):
    """Ontology plus data of the real kg/ (no reasoning)."""
    onto = load_ontology(project)
    rs, _ = load_records(project.kg_dir, vocabularies(onto))
    g = Graph()
    g += onto
    g += make_triples(rs, project).graph
    return g


@pytest.mark.parametrize("q", CHECKS, ids=[q.name for q in CHECKS])
def test_check_is_silent_on_the_real_graph(q, real_graph):
    """Any row of a check is a problem: the real graph gives none."""
    assert check_rows(real_graph, q, "oxigraph") == []


def test_check_rows_map_to_files_and_rows(small_graph, tmp_path):
    """A check row about a record names its kg/ file and row; one about an ontology term names the line of
    ontology/nmbkg.ttl."""
    graph, origin = small_graph
    seeded = Graph()
    seeded += graph
    seeded.update((SEEDED / "conflict-single-member.ru").read_text(encoding="utf-8"))
    seeded.update((SEEDED / "ontology-annotation.ru").read_text(encoding="utf-8"))
    problems = run_checks(seeded, ROOT / "queries", origin)
    single = [p for p in problems if p.rule == "conflict_single_member"]
    assert single and all(p.file == "measurements.tsv" and p.row and p.level == "ERROR" for p in single)
    assert all(p.hint.startswith("give the other row") for p in single)
    onto = [p for p in problems if p.rule == "ontology_annotation"]
    assert onto and onto[0].file == "ontology/nmbkg.ttl" and onto[0].record_id == "nmb:SeededClass"


# ---------------------------------------------------------------------------- second SHACL engine
def _shacl_inputs(root: Path):
    """(data, ontology, shapes, origin) of a project whose records load without blocking errors."""
    project = Project(root)
    onto = load_ontology(project)
    rs, problems = load_records(project.kg_dir, vocabularies(onto))
    if any(p.level == "ERROR" for p in problems):
        return None
    built = make_triples(rs, project)
    return built.graph, onto, load_shapes(project.shapes_dir), built.origin


# Rules of the records stage: a fixture that breaks one of them stops before SHACL.
RECORD_RULES = {"missing_value", "unknown_source", "bad_locator", "not_a_number", "out_of_range",
                "duplicate_record_id", "unknown_term", "wrong_record_type", "wrong_column_count", "not_utf8",
                "empty_file", "bad_header", "unknown_file", "missing_unit", "ref_number_mismatch"}
SHACL_CASES = ["_base"] + [k for k in FAST_CASES if load_case(k)["expect"]["exit"] != 2
                           and load_case(k)["expect"]["rule"] not in RECORD_RULES]


@pytest.mark.parametrize("kind", SHACL_CASES)
def test_pyrudof_finds_the_same_focus_nodes(kind, tmp_path):
    """pySHACL and pyrudof (a Rust SHACL engine) report the same (rule, focus row, level) on each fixture."""
    pytest.importorskip("pyrudof")
    root = small_project(tmp_path / "p") if kind == "_base" else make_case_project(kind, tmp_path / "p")
    inputs = _shacl_inputs(root)
    assert inputs is not None, "the records stage stopped this fixture before SHACL"
    data, onto, shapes, origin = inputs
    supported = rudof_supported_rules(shapes)
    reference = run_shacl(data, onto, shapes, origin)
    ours = {r for r in engine_results(reference) if r.rule in supported}
    theirs = {r for r in engine_results(rudof_problems(data, onto, shapes, origin)) if r.rule in supported}
    assert ours == theirs
    if kind != "_base" and load_case(kind)["expect"]["rule"] in supported:
        assert any(r.rule == load_case(kind)["expect"]["rule"] for r in theirs)
    # The engine large builds use (pyrudof + pySHACL for the shapes pyrudof skips) reports the very same
    # problems as pySHACL alone: same rule, row, column, value, message and hint.
    assert set(validate_with("rudof", data, onto, shapes, origin)) == set(reference)


def test_pyrudof_does_not_run_sparql_targets():
    """Documented gap: pyrudof skips SHACL-AF SPARQL targets, so rudof_supported_rules leaves such shapes out
    (ours use none: every rule is written in core SHACL or with sh:sparql constraints, which pyrudof runs)."""
    pytest.importorskip("pyrudof")
    from nmbkg.validate import run_rudof

    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:ByTarget a sh:NodeShape ; sh:target [ a sh:SPARQLTarget ; sh:select "SELECT ?this WHERE { ?this ex:v 5 }" ] ;
            sh:property [ sh:path ex:v ; sh:maxInclusive 1 ; sh:message "too big -> smaller" ] .
        ex:ByClass a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:v ; sh:maxInclusive 1 ;
            sh:message "too big -> smaller" .""", format="turtle")
    data = Graph().parse(data="@prefix ex: <http://example.org/> . ex:a a ex:C ; ex:v 5 .", format="turtle")
    found = {(str(shape), str(focus)) for _l, shape, focus, *_ in run_rudof(data, Graph(), shapes)}
    assert found == {("http://example.org/ByClass", "http://example.org/a")}
    assert rudof_supported_rules(shapes) == {"by_class"}
    assert "by_target" not in rudof_supported_rules(shapes)


def test_crosscheck_hook_in_the_pipeline(tmp_path, monkeypatch):
    """NMBKG_SHACL_CROSSCHECK=1 runs pyrudof beside pySHACL in the validate stage; they agree on a broken project."""
    pytest.importorskip("pyrudof")
    root = make_case_project("ce-over-100", tmp_path / "p")
    monkeypatch.setenv("NMBKG_SHACL_CROSSCHECK", "1")
    res = validate_project(Project(root), reason=False)
    assert "shacl-x" in res.timings
    assert [p.line() for p in res.problems if p.rule == "shacl_engines_disagree"] == []
    assert any(p.rule == "coulombic_efficiency_range" for p in res.problems)


def test_shape_units_exist(shapes):
    """Every unit a shape allows is a QUDT unit of shared/reference/qudt-units.tsv or a unit the ontology
    declares (nmb units minted where QUDT has none)."""
    reference = ROOT.parent / "shared" / "reference" / "qudt-units.tsv"
    require_tool(reference.is_file(), f"{reference} is not on this machine")
    qudt = {ln.split("\t")[0] for ln in reference.read_text(encoding="utf-8").splitlines()[1:] if ln.strip()}
    onto = load_ontology(Project(ROOT))
    from rdflib.collection import Collection

    unit_path = URIRef("https://w3id.org/nmbkg/ontology#unit")
    used = set()
    for shape in shapes.subjects(SH.path, unit_path):
        for lst in shapes.objects(shape, SH["in"]):
            used |= set(Collection(shapes, lst))
        used |= set(shapes.objects(shape, SH.hasValue))
    assert len(used) >= 10
    for unit in used:
        if str(unit).startswith("http://qudt.org/vocab/unit/"):
            assert str(unit) in qudt, f"{unit} is not in {reference.name}"
        else:
            assert (unit, RDF.type, URIRef("https://w3id.org/nmbkg/ontology#MeasurementUnit")) in onto, unit


# ---------------------------------------------------------------------------- every shape fires on a seed
SEEDED_SHAPES = json.loads((INVALID / "_seeded-shapes" / "seeds.json").read_text(encoding="utf-8"))["seeds"]
NMB_NS = "https://w3id.org/nmbkg/ontology#"
SEED_PREFIXES = f"""PREFIX nmb: <{NMB_NS}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX unit: <http://qudt.org/vocab/unit/>
"""


def _generic_seeds(shapes: Graph) -> dict[str, str]:
    """A seed per unit rule (a quantity with an unknown unit) and per range rule (a value just outside)."""
    out = {}
    for shape in shapes.subjects(SH.path, URIRef(NMB_NS + "unit")):
        cls = shapes.value(shape, SH.targetClass)
        if isinstance(shape, URIRef) and cls is not None and shapes.value(shape, SH["in"]) is not None:
            out[rule_name(shape)] = (f"INSERT DATA {{ <urn:seed:{rule_name(shape)}> a <{cls}> ; "
                                     f"nmb:numericValue 1.0 ; nmb:unit nmb:NoSuchUnit }}")
    for shape in shapes.subjects(SH.path, URIRef(NMB_NS + "numericValue")):
        cls = shapes.value(shape, SH.targetClass)
        if not isinstance(shape, URIRef) or cls is None:
            continue
        bounds = {p: shapes.value(shape, SH[p]) for p in ("maxInclusive", "maxExclusive", "minInclusive", "minExclusive")}
        if bounds["maxInclusive"] is not None:
            value = float(bounds["maxInclusive"]) + 1
        elif bounds["maxExclusive"] is not None:
            value = float(bounds["maxExclusive"])
        elif bounds["minInclusive"] is not None:
            value = float(bounds["minInclusive"]) - 1
        elif bounds["minExclusive"] is not None:
            value = float(bounds["minExclusive"])
        else:
            continue
        out[rule_name(shape)] = (f"INSERT DATA {{ <urn:seed:{rule_name(shape)}> a <{cls}> ; "
                                 f"nmb:numericValue \"{value:.4f}\"^^<http://www.w3.org/2001/XMLSchema#decimal> }}")
    return out


@pytest.fixture(scope="module")
def small_inputs(tmp_path_factory):
    """(data, ontology, shapes, origin) of the unbroken small project."""
    inputs = _shacl_inputs(small_project(tmp_path_factory.mktemp("small-shacl") / "p"))
    assert inputs is not None
    return inputs


SHAPES_GRAPH = load_shapes(ROOT / "ontology" / "shapes")
GENERIC_SEEDS = _generic_seeds(SHAPES_GRAPH)


def test_every_rule_is_exercised():
    """Each shape with constraints fires in a bad-input case, an explicit seed or a generic unit/range seed."""
    case_rules = {load_case(k)["expect"].get("rule") for k in CASES}
    missing = []
    for shape in _rule_shapes(SHAPES_GRAPH):
        constraints = [p for p in SHAPES_GRAPH.predicates(shape) if str(p).startswith(str(SH))
                       and p not in (SH.property, SH.severity, SH.message) and not str(p).startswith(str(SH) + "target")]
        rid = rule_name(shape)
        if constraints and rid not in case_rules and rid not in SEEDED_SHAPES and rid not in GENERIC_SEEDS:
            missing.append(rid)
    assert missing == [], f"add a seed to tests/fixtures/invalid/_seeded-shapes/seeds.json for {missing}"


def _seeded_run(small_inputs, updates: list[str]) -> list[Problem]:
    """pySHACL problems of the small project's data after the updates; pyrudof must agree where it can."""
    data, onto, shapes, origin = small_inputs
    seeded = Graph()
    seeded += data
    for update in updates:
        seeded.update(SEED_PREFIXES + update)
    ours = run_shacl(seeded, onto, shapes, origin)
    if importlib.util.find_spec("pyrudof") is not None:
        supported = rudof_supported_rules(shapes)
        theirs = rudof_problems(seeded, onto, shapes, origin)
        assert ({r for r in engine_results(ours) if r.rule in supported}
                == {r for r in engine_results(theirs) if r.rule in supported})
    return ours


@pytest.mark.parametrize("rule", sorted(SEEDED_SHAPES))
def test_shape_fires_on_its_seed(rule, small_inputs):
    """The rule reports its seeded problem with pySHACL (with a message and a hint); pyrudof agrees."""
    ours = _seeded_run(small_inputs, [SEEDED_SHAPES[rule]])
    assert rule in {p.rule for p in ours}, [p.line() for p in ours]
    assert all(p.message and p.hint for p in ours if p.rule == rule)


def test_unit_and_range_rules_fire(small_inputs):
    """Every unit rule rejects an unknown unit and every range rule a value just outside its bounds (one run
    with one seeded quantity per rule); pyrudof agrees."""
    ours = _seeded_run(small_inputs, list(GENERIC_SEEDS.values()))
    for rule in GENERIC_SEEDS:
        focus = f"urn:seed:{rule}"
        assert any(p.rule == rule and p.record_id == focus for p in ours), rule


def test_shacl_engine_choice(monkeypatch):
    """auto: pySHACL up to NMBKG_SHACL_LIMIT data triples, pyrudof above; a bad setting is a clear error."""
    from nmbkg.config import SettingError
    from nmbkg.validate import SHACL_LIMIT

    monkeypatch.delenv("NMBKG_SHACL_ENGINE", raising=False)
    monkeypatch.delenv("NMBKG_SHACL_LIMIT", raising=False)
    assert shacl_engine(SHACL_LIMIT) == "pyshacl" and shacl_engine(SHACL_LIMIT + 1) == "rudof"
    monkeypatch.setenv("NMBKG_SHACL_LIMIT", "10")
    assert shacl_engine(11) == "rudof"
    monkeypatch.setenv("NMBKG_SHACL_ENGINE", "pyshacl")
    assert shacl_engine(10**9) == "pyshacl"
    monkeypatch.setenv("NMBKG_SHACL_ENGINE", "fast")
    with pytest.raises(SettingError, match="NMBKG_SHACL_ENGINE='fast'.*auto, pyshacl, rudof"):
        shacl_engine(1)
    monkeypatch.setenv("NMBKG_SHACL_ENGINE", "auto")
    monkeypatch.setenv("NMBKG_SHACL_LIMIT", "lots")
    with pytest.raises(SettingError, match="NMBKG_SHACL_LIMIT='lots' is not a whole number"):
        shacl_engine(1)


def test_bad_setting_is_a_one_line_error(tmp_path):
    """An unusable NMBKG_* setting stops the CLI with exit 2 and names the setting and its choices."""
    r = run_cli("validate", "--no-reason", env={"NMBKG_SHACL_ENGINE": "fast"})
    assert r.returncode == 2
    assert "nmbkg: error: NMBKG_SHACL_ENGINE='fast' is not allowed: use one of auto, pyshacl, rudof" in r.stderr
    assert "Traceback" not in r.stderr
