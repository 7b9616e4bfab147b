"""Stage 1: read the curated TSV records of kg/ and check them against the column dictionary."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .problems import Problem
from .schema import (
    FILE_ORDER,
    LOCATOR_RE,
    RECORD_ID_RE,
    REQUIRED,
    TYPES,
    Enum,
    Number,
    Ref,
    Vocab,
    parse_readme,
)

FMT_HINT = "run `nmbkg fmt` to rewrite the file in canonical form"


@dataclass
class Record:
    """One curated row: its values and where it came from."""

    file: str
    row: int
    values: dict[str, str]

    @property
    def id(self) -> str:
        """The record_id."""
        return self.values.get("record_id", "")

    def get(self, column: str) -> str:
        """A cell value ('' when empty)."""
        return self.values.get(column, "") or ""

    def many(self, column: str) -> list[str]:
        """A multi-valued cell split on '|'."""
        return [v.strip() for v in self.get(column).split("|") if v.strip()]

    def number(self, column: str) -> float | None:
        """A numeric cell as float (None when empty)."""
        v = self.get(column)
        return float(v) if v else None


@dataclass
class RecordSet:
    """All records by file, with the column dictionary they were read against."""

    columns: dict[str, list[str]]
    files: dict[str, list[Record]] = field(default_factory=dict)

    def rows(self, name: str) -> list[Record]:
        """Records of one file (empty when the file is absent)."""
        return self.files.get(name, [])

    def index(self, name: str) -> dict[str, Record]:
        """Records of one file keyed by record_id."""
        return {r.id: r for r in self.rows(name)}

    def counts(self) -> dict[str, int]:
        """Number of records per file."""
        return {name: len(rows) for name, rows in self.files.items()}

    def __len__(self) -> int:
        return sum(len(v) for v in self.files.values())


def _p(rec_file: str, row: int | None, rid: str, fld: str, value: str, rule: str, msg: str, hint: str) -> Problem:
    return Problem("ERROR", rule, msg, rec_file, row, rid, fld, value, hint)


def read_tsv(path: Path, expected: list[str], problems: list[Problem]) -> list[Record]:
    """Read one TSV file strictly: UTF-8, LF, exact header, same column count on every line."""
    name = path.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(_p(name, line, "", "", "", "not_utf8",
                           f"file is not valid UTF-8 (byte {exc.start})",
                           "save the file as UTF-8 and re-run `nmbkg validate`"))
        return []
    if not text.strip():
        problems.append(_p(name, None, "", "", "", "empty_file", "file is empty: it has no header row",
                           f"write the header row ({', '.join(expected)}) or delete the file"))
        return []
    if "\r" in text:
        problems.append(Problem("WARN", "not_canonical", "file has CR line ends", name, None, hint=FMT_HINT))
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = lines[0].split("\t")
    if header != expected:
        missing = [c for c in expected if c not in header]
        extra = [c for c in header if c not in expected]
        detail = []
        if missing:
            detail.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            detail.append(f"unknown column(s) {', '.join(extra)}")
        if not detail:
            detail.append("columns are in the wrong order")
        problems.append(_p(name, 1, "", (missing or extra or [""])[0], "", "bad_header",
                           "header does not match kg/README.md: " + "; ".join(detail),
                           f"the header must be exactly: {' | '.join(expected)}"))
        return []
    records = []
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            problems.append(Problem("WARN", "blank_line", "blank line", name, i, hint=FMT_HINT))
            continue
        cells = line.split("\t")
        if len(cells) != len(expected):
            problems.append(_p(name, i, cells[0] if cells else "", "", "", "wrong_column_count",
                               f"line has {len(cells)} cells, the header has {len(expected)}",
                               "check for a missing or extra tab in this line"))
            continue
        records.append(Record(name, i, {c: v.strip() for c, v in zip(expected, cells)}))
    ids = [r.id for r in records]
    if ids != sorted(ids):
        problems.append(Problem("WARN", "not_canonical", "rows are not sorted by record_id", name, None,
                                hint=FMT_HINT))
    return records


def load_records(kg_dir: Path, vocab: dict[str, set[str]] | None = None) -> tuple[RecordSet, list[Problem]]:
    """Read every record file of kg/ and check it; vocab maps vocabulary names to allowed terms."""
    problems: list[Problem] = []
    readme = kg_dir / "README.md"
    if not readme.is_file():
        raise FileNotFoundError(f"{readme} is missing: it defines the columns of every record file")
    columns = parse_readme(readme)
    rs = RecordSet(columns)
    for path in sorted(kg_dir.glob("*.tsv")):
        if path.name not in columns:
            problems.append(Problem("ERROR", "unknown_file", "no column table for this file in kg/README.md",
                                    path.name, None, hint="rename the file to a documented one or document it"))
            continue
        rs.files[path.name] = read_tsv(path, columns[path.name], problems)
    for name in FILE_ORDER:
        if name in columns and name not in rs.files and name == "sources.tsv":
            problems.append(Problem("ERROR", "missing_file", "sources.tsv is required", name, None,
                                    hint="create kg/sources.tsv with at least the review's record"))
    problems += check_records(rs, vocab)
    return rs, problems


def _closest(value: str, options: set[str] | list[str]) -> str:
    """'; did you mean X?' or ''."""
    near = difflib.get_close_matches(value, list(options), n=3, cutoff=0.5)
    return f"did you mean {' or '.join(near)}?" if near else ""


def check_records(rs: RecordSet, vocab: dict[str, set[str]] | None = None) -> list[Problem]:
    """Cell-level checks: required values, ids, locators, numbers, enums, references, vocabulary."""
    problems: list[Problem] = []
    keys = {name: {r.id for r in recs} for name, recs in rs.files.items()}
    for name, recs in rs.files.items():
        seen: dict[str, int] = {}
        for rec in recs:
            problems += _check_basic(rec, seen, keys)
            for col, typ in TYPES.get(name, {}).items():
                if col in rec.values:
                    problems += _check_cell(rec, col, typ, keys, vocab)
    problems += check_consistency(rs)
    return problems


# Value columns and the unit column that gives their basis, per file.
UNIT_PAIRS = {
    "components.tsv": (("amount", "amount_unit"),),
    "measurements.tsv": (("value", "unit"), ("current_density", "current_density_unit")),
}
_REF_LOCATOR = re.compile(r"^ref ([0-9]+)$")
_TABLE_ID = re.compile(r"^t([0-9]+)r0*([0-9]+)-")


def check_consistency(rs: RecordSet) -> list[Problem]:
    """Checks across the cells of one row or against another file: ids, numbers and units that must agree."""
    out: list[Problem] = []
    out += _check_sources(rs.rows("sources.tsv"))
    for name, recs in rs.files.items():
        for rec in recs:
            out += _check_ref_locator(rec)
            for value_col, unit_col in UNIT_PAIRS.get(name, ()):
                out += _check_unit_pair(rec, value_col, unit_col)
    for rec in rs.rows("components.tsv"):
        expected = f"{rec.get('electrolyte')}.{rec.get('substance')}"
        if rec.get("electrolyte") and rec.get("substance") and rec.id != expected:
            out.append(Problem("WARN", "component_id_mismatch", "a component's record_id is <electrolyte>.<substance>",
                               rec.file, rec.row, rec.id, "record_id", rec.id, f"rename it {expected}"))
    for rec in rs.rows("measurements.tsv"):
        m = _TABLE_ID.match(rec.id)
        if m and rec.get("locator") and rec.get("locator") != f"Table {m.group(1)} row {int(m.group(2))}":
            out.append(Problem("WARN", "record_id_locator_mismatch",
                               f"record_id names Table {m.group(1)} row {int(m.group(2))} but the locator differs",
                               rec.file, rec.row, rec.id, "locator", rec.get("locator"),
                               "make the t<table>r<row> prefix of record_id and the locator name the same table row"))
    return out


def _check_sources(recs: list[Record]) -> list[Problem]:
    """A cited work is ref-N with ref_number N and locator 'ref N'; it is not dated after the review."""
    out = []
    review_years = [r.get("year") for r in recs if r.get("kind") == "review" and r.get("year").isdigit()]
    review_year = int(review_years[0]) if review_years else None
    for rec in recs:
        num = rec.get("ref_number")
        if rec.get("kind") == "cited_work" and num.isdigit():
            if rec.id != f"ref-{num}":
                out.append(_p(rec.file, rec.row, rec.id, "record_id", rec.id, "ref_number_mismatch",
                              f"a cited work with ref_number {num} has record_id ref-{num}",
                              f"rename it ref-{num}, or fix ref_number"))
            if rec.get("locator") and rec.get("locator") != f"ref {num}":
                out.append(_p(rec.file, rec.row, rec.id, "locator", rec.get("locator"), "ref_number_mismatch",
                              f"a cited work with ref_number {num} is located at 'ref {num}'",
                              f"set locator to 'ref {num}', or fix ref_number"))
        if rec.get("kind") == "review" and num:
            out.append(_p(rec.file, rec.row, rec.id, "ref_number", num, "ref_number_mismatch",
                          "the review itself has no reference number", "empty ref_number on the review's row"))
        year = rec.get("year")
        if review_year and rec.get("kind") == "cited_work" and year.isdigit() and int(year) > review_year:
            out.append(Problem("WARN", "cited_after_review", f"the work is dated {year}, after the review ({review_year})",
                               rec.file, rec.row, rec.id, "year", year, "check the year column against the reference list"))
    return out


def _check_ref_locator(rec: Record) -> list[Problem]:
    """A fact located at 'ref N' and reported by a cited work ref-M needs N = M."""
    m = _REF_LOCATOR.match(rec.get("locator"))
    src = rec.get("source")
    if rec.file == "sources.tsv" or not m or not src.startswith("ref-") or src == f"ref-{m.group(1)}":
        return []
    return [Problem("WARN", "locator_source_mismatch", f"the locator names reference {m.group(1)} but the source is {src}",
                    rec.file, rec.row, rec.id, "locator", rec.get("locator"),
                    f"make locator 'ref N' and source 'ref-N' agree (source ref-{m.group(1)} or locator "
                    f"'ref {src.removeprefix('ref-')}')")]


def _check_unit_pair(rec: Record, value_col: str, unit_col: str) -> list[Problem]:
    """A number needs its unit (it has no basis otherwise); a unit without a number is a leftover."""
    value, unit = rec.get(value_col), rec.get(unit_col)
    if value and not unit:
        return [_p(rec.file, rec.row, rec.id, unit_col, "", "missing_unit", f"{value_col} {value} has no {unit_col}",
                   f"fill in {unit_col} (allowed keys are listed in kg/README.md)")]
    if unit and not value:
        return [Problem("WARN", "unit_without_value", f"{unit_col} is given but {value_col} is empty",
                        rec.file, rec.row, rec.id, unit_col, unit, f"fill in {value_col}, or empty {unit_col}")]
    return []


def _check_basic(rec: Record, seen: dict[str, int], keys: dict[str, set[str]]) -> list[Problem]:
    out = []
    for col in REQUIRED:
        if not rec.get(col):
            out.append(_p(rec.file, rec.row, rec.id, col, "", "missing_value", f"{col} is empty",
                          f"every record needs a {col} (see kg/README.md)"))
    rid = rec.id
    if rid and not RECORD_ID_RE.match(rid):
        out.append(_p(rec.file, rec.row, rid, "record_id", rid, "bad_record_id",
                      "record_id may hold only lowercase letters, digits, '-' and '.'",
                      "rename it, e.g. " + re.sub(r"[^a-z0-9.]+", "-", rid.lower()).strip("-")))
    if rid in seen:
        out.append(_p(rec.file, rec.row, rid, "record_id", rid, "duplicate_record_id",
                      f"record_id also used on line {seen[rid]}", "give one of the two rows a new record_id"))
    seen.setdefault(rid, rec.row)
    loc = rec.get("locator")
    if loc and not LOCATOR_RE.match(loc):
        out.append(_p(rec.file, rec.row, rid, "locator", loc, "bad_locator",
                      "locator is not a place a reader can follow",
                      "use 'sec N para M', 'Table N row M', 'Fig. N', 'ref N', 'abstract' or 'front matter'"))
    src = rec.get("source")
    if src and src not in keys.get("sources.tsv", set()):
        out.append(_p(rec.file, rec.row, rid, "source", src, "unknown_source",
                      "source is not a record_id of sources.tsv",
                      (_closest(src, keys.get("sources.tsv", set())) + " ").lstrip()
                      + "add the work to kg/sources.tsv or fix the key"))
    return out


def _check_cell(rec: Record, col: str, typ: object, keys: dict[str, set[str]],
                vocab: dict[str, set[str]] | None) -> list[Problem]:
    value = rec.get(col)
    if not value:
        if getattr(typ, "required", False):
            return [_p(rec.file, rec.row, rec.id, col, "", "missing_value", f"{col} is empty",
                       f"fill in {col} (see kg/README.md)")]
        return []
    if isinstance(typ, Number):
        return _check_number(rec, col, value, typ)
    if isinstance(typ, Enum) and typ.values:
        return [_p(rec.file, rec.row, rec.id, col, v, "bad_value", f"{col} must be one of {', '.join(typ.values)}",
                   _closest(v, typ.values) or "use one of the listed values")
                for v in (rec.many(col) if typ.multi else [value]) if v not in typ.values]
    if isinstance(typ, Ref):
        out = []
        for v in (rec.many(col) if typ.multi else [value]):
            other = next((f for f in sorted(keys) if f != typ.target and v in keys[f]), None)
            if v not in keys.get(typ.target, set()) and other:
                out.append(_p(rec.file, rec.row, rec.id, col, v, "wrong_record_type",
                              f"{v!r} is a record of {other}, not of {typ.target}",
                              f"{col} takes a record_id of kg/{typ.target}"))
            elif v not in keys.get(typ.target, set()):
                out.append(_p(rec.file, rec.row, rec.id, col, v, "unknown_reference",
                              f"{v!r} is not a record_id of {typ.target}",
                              (_closest(v, keys.get(typ.target, set())) + " ").lstrip()
                              + f"add it to kg/{typ.target} or fix the key"))
        return out
    if isinstance(typ, Vocab) and vocab is not None:
        allowed = vocab.get(typ.name, set())
        out = []
        for v in (rec.many(col) if typ.multi else [value]):
            if v not in allowed:
                out.append(_p(rec.file, rec.row, rec.id, col, v, "unknown_term",
                              f"{v!r} is not a {typ.name.replace('_', ' ')} of the ontology",
                              (_closest(v, allowed) + " ").lstrip()
                              + "use a name listed in kg/README.md or add the term to ontology/nmbkg.ttl"))
        return out
    return []


def _check_number(rec: Record, col: str, value: str, typ: Number) -> list[Problem]:
    try:
        num = float(value)
    except ValueError:
        return [_p(rec.file, rec.row, rec.id, col, value, "not_a_number", f"{col} must be a plain number",
                   "write the number alone (units go in their own column; the printed text in value_as_printed)")]
    if typ.integer and not num.is_integer():
        return [_p(rec.file, rec.row, rec.id, col, value, "not_an_integer", f"{col} must be a whole number",
                   "write a whole number")]
    if typ.minimum is not None and num < typ.minimum:
        return [_p(rec.file, rec.row, rec.id, col, value, "out_of_range", f"{col} must be at least {typ.minimum:g}",
                   "check the value against the review")]
    return []


def canonical_text(text: str, columns: list[str]) -> str:
    """A TSV text in canonical form: LF, documented columns in order, no blank lines, rows sorted by record_id."""
    lines = [ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]
    if not lines:
        return "\t".join(columns) + "\n"
    header = lines[0].split("\t")
    rows = []
    for ln in lines[1:]:
        cells = ln.split("\t")
        if len(cells) != len(header):
            return text  # a broken line: leave the file for the curator, `nmbkg validate` names the line
        d = dict(zip(header, cells))
        rows.append([d.get(c, "").strip() for c in columns])
    rows.sort(key=lambda r: r[0])
    return "\n".join("\t".join(r) for r in [columns, *rows]) + "\n"
