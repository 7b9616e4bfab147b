"""The curated records of kg/ against the review text: every table cell, every number, every locator."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from nmbkg.records import Record, RecordSet, load_records
from nmbkg.source import places, table_row_cells

ROOT = Path(__file__).resolve().parents[1]
TABLE_ROWS = {1: 27, 2: 10, 3: 18}
TABLE_LOCATORS = [f"Table {t} row {r}" for t, n in TABLE_ROWS.items() for r in range(1, n + 1)]
# kind of measurement each value cell of a table row gives, in printed order (label and ref cells excluded)
CELL_KINDS = {1: ("sym", "ce", "full"), 2: ("cond", "sym", "full"), 3: ("cond", "sym", "full")}
NUMERIC = {"measurements.tsv": ("value", "current_density", "areal_capacity", "cycles", "temperature_c",
                                "corrected_value"),
           "components.tsv": ("amount",)}
# locators of the kg/README.md syntax that name no text place of nmbkg.source (the review's own record)
LOCATORS_WITHOUT_TEXT = {"front matter": {"review"}}
# numbers stored in another unit than printed: (file, record_id, column) -> (printed number, why)
CONVERTED = {
    ("measurements.tsv", "ref-98-text-cond-1to1", "value"): (Decimal(50), "50 uS/cm printed, stored as mS/cm"),
}
# every disagreement between two places of the review about one cited work (conflict_group slugs)
CONFLICT_GROUPS = {
    "ref-70-composition", "ref-72-composition", "ref-77-ratio", "ref-77-sym", "ref-96-conductivity",
    "ref-96-sym", "ref-96-full-cell", "ref-115-capacity", "ref-116-conductivity", "ref-117-conductivity",
}

_SUBSCRIPT = re.compile(r"[\u2080-\u2089]+|_\{[^}]*\}|_\d+")
_SCI = re.compile(r"(?:(\d+(?:\.\d+)?)\s*(?:×|x|\\times|imes)\s*)?10\s*\^\s*\{?\s*([-−]?\d+)\s*\}?")
_EXPONENT = re.compile(r"\^\s*\{?\s*[-−]?\d+\s*\}?|[\u207b\u00b9\u00b2\u00b3\u2070-\u2079]+")
_NUMBER = re.compile(r"[-−]?\d+(?:\.\d+)?")
_FREE_NUMBER = re.compile(r"(?<![A-Za-z\d.])\d+(?:\.\d+)?(?![A-Za-z\d])")


@pytest.fixture(scope="module")
def records() -> RecordSet:
    """The curated records, read by the package's own loader."""
    rs, problems = load_records(ROOT / "kg")
    assert not [p for p in problems if p.level == "ERROR"], "\n".join(p.line() for p in problems)
    return rs


def _all_records() -> list[Record]:
    """Every record of every kg/ file (for parametrizing at collection time)."""
    rs, _ = load_records(ROOT / "kg")
    return [rec for recs in rs.files.values() for rec in recs]


def _numeric_cells() -> list[tuple[str, str, str, str, str]]:
    """(file, record_id, column, value, locator) for every number curated in measurements and components."""
    out = []
    for rec in _all_records():
        for col in NUMERIC.get(rec.file, ()):
            if rec.get(col):
                out.append((rec.file, rec.id, col, rec.get(col), rec.get("locator")))
    return out


def text_numbers(text: str) -> set[Decimal]:
    """All numbers a text prints, scientific forms (2.79×10^{-4}, 10^{-4}) evaluated, signs dropped too."""
    text = unicodedata.normalize("NFKC", text)
    found = set()
    for m in _SCI.finditer(text):
        mantissa = Decimal(m.group(1)) if m.group(1) else Decimal(1)
        found.add(mantissa * Decimal(10) ** int(m.group(2).replace("−", "-")))
    for m in _NUMBER.finditer(_SCI.sub(" ", text)):
        n = Decimal(m.group(0).replace("−", "-"))
        found |= {n, abs(n)}
    return found


def value_cell_numbers(cell: str, full_cell: bool) -> list[Decimal]:
    """Numbers of one printed value cell; a full-cell cell's cathode name (before the first @) is skipped."""
    if full_cell and "@" in cell:
        cell = cell.split("@", 1)[1]
    cell = unicodedata.normalize("NFKC", cell)
    found = []
    for m in _SCI.finditer(cell):
        mantissa = Decimal(m.group(1)) if m.group(1) else Decimal(1)
        found.append(mantissa * Decimal(10) ** int(m.group(2).replace("−", "-")))
    cell = _EXPONENT.sub(" ", _SCI.sub(" ", cell))
    return found + [Decimal(n) for n in re.findall(r"\d+(?:\.\d+)?", cell)]


def label_numbers(label: str) -> list[Decimal]:
    """Amounts and ratios printed in an electrolyte label (subscripts and digits inside names like G2 skipped)."""
    label = unicodedata.normalize("NFKC", _SUBSCRIPT.sub(" ", label))
    return [Decimal(n) for n in _FREE_NUMBER.findall(label)]


def split_row(locator: str) -> tuple[int, str | None, list[str], int]:
    """(table, label cell or None, value cells, cited reference number) of a printed table row."""
    table = int(locator.split()[1])
    cells = table_row_cells(locator)
    ref = re.fullmatch(r"\[(\d+)\]", cells[-1])
    assert ref, f"{locator}: last cell {cells[-1]!r} is not a citation"
    if table == 3:
        return table, None, cells[:-1], int(ref.group(1))
    return table, cells[0], cells[1:-1], int(ref.group(1))


def absent(cell: str) -> bool:
    """A printed '/' or an empty cell: no value."""
    return cell.strip() in ("", "/")


def curated_numbers(rs: RecordSet, locator: str) -> list[Decimal]:
    """Numbers of all measurement and component records placed at this locator."""
    out = []
    for name in ("measurements.tsv", "components.tsv"):
        for rec in rs.rows(name):
            if rec.get("locator") == locator:
                out += [Decimal(rec.get(c)) for c in NUMERIC[name] if c != "corrected_value" and rec.get(c)]
    return out


def flat(text: str) -> str:
    """A label reduced to letters, digits and a few signs, for comparing printed and curated labels."""
    text = unicodedata.normalize("NFKC", text.replace("\\text", ""))
    return re.sub(r"[\s${}_\\]", "", text)


def test_counts_of_places():
    """The review has 27, 10 and 18 table rows and 134 references."""
    found = defaultdict(int)
    for loc in places():
        m = re.fullmatch(r"Table (\d) row \d+", loc)
        if m:
            found[int(m.group(1))] += 1
    assert dict(found) == TABLE_ROWS
    assert sum(1 for loc in places() if loc.startswith("ref ")) == 134


def test_sources_are_the_review_and_its_134_references(records):
    """sources.tsv holds the review and exactly references 1..134, keyed and located by number."""
    rows = records.rows("sources.tsv")
    cited = sorted(int(r.get("ref_number")) for r in rows if r.get("kind") == "cited_work")
    assert cited == list(range(1, 135))
    for r in rows:
        if r.get("kind") == "cited_work":
            assert (r.id, r.get("locator")) == (f"ref-{r.get('ref_number')}", f"ref {r.get('ref_number')}")
    assert [r.id for r in rows if r.get("kind") == "review"] == ["review"]


@pytest.mark.parametrize("locator", TABLE_LOCATORS)
def test_table_row_numbers_match_records(records, locator):
    """Every number printed in the row is curated at that locator, and every number curated there is printed."""
    _table, label, cells, _ref = split_row(locator)
    printed = label_numbers(label) if label else []
    for i, cell in enumerate(cells):
        if not absent(cell):
            printed += value_cell_numbers(cell, full_cell=i == len(cells) - 1)
    curated = curated_numbers(records, locator)
    assert set(curated) - set(printed) == set(), f"curated but not printed in {locator}: {cells}"
    assert set(printed) - set(curated) == set(), f"printed in {locator} but not curated: {cells}"


@pytest.mark.parametrize("locator", TABLE_LOCATORS)
def test_table_row_cells_match_measurements(records, locator):
    """One measurement per printed value cell (none for '/' or empty), named t<T>r<RR>-<kind>, with the cell's values."""
    table, _label, cells, _ref = split_row(locator)
    row = int(locator.split()[-1])
    here = {r.id: r for r in records.rows("measurements.tsv") if r.get("locator") == locator}
    expected = {f"t{table}r{row:02d}-{kind}": cell for kind, cell in zip(CELL_KINDS[table], cells)
                if not absent(cell)}
    assert set(here) == set(expected)
    for rid, cell in expected.items():
        check_cell(here[rid], rid.rsplit("-", 1)[1], cell)


def check_cell(rec: Record, kind: str, cell: str) -> None:
    """The parts of one printed cell against the fields of its measurement record."""
    parts = [p for p in cell.split("@") if p.strip()]
    if kind == "full" and "@" not in cell:  # Table 1 row 2 prints '91% 100 cycles'
        assert (rec.get("property"), Decimal(rec.get("value")), Decimal(rec.get("cycles"))) == (
            "CapacityRetention", *value_cell_numbers(cell, False))
        return
    nums = [value_cell_numbers(p, False) for p in parts]
    if kind == "full":
        assert rec.get("cathode"), "a full-cell cell names its cathode"
        nums = nums[1:]
    value = Decimal(rec.get("value"))
    assert value == nums[0][0], (rec.id, cell)
    if kind == "cond":
        if parts[1].strip() == "RT":
            assert (rec.get("room_temperature"), rec.get("temperature_c")) == ("yes", ""), rec.id
        else:
            assert Decimal(rec.get("temperature_c")) == nums[1][0] and not rec.get("room_temperature"), rec.id
        assert rec.get("unit") == "mS/cm"
        return
    if kind == "ce":
        assert Decimal(rec.get("cycles")) == nums[1][0], rec.id
    assert Decimal(rec.get("current_density")) == nums[-1][0], rec.id
    units = {"sym": ("h", "mA/cm2"), "ce": ("%", "mA/cm2"), "full": ("mAh/g", "C")}[kind]
    if kind == "full" and "mA g" in cell:  # Table 3 row 10 prints its rate in mA/g under a C header
        units = ("mAh/g", "mA/g")
    assert (rec.get("unit"), rec.get("current_density_unit")) == units, rec.id


@pytest.mark.parametrize("locator", TABLE_LOCATORS)
def test_table_row_records_cite_the_printed_reference(records, locator):
    """Every record placed at a table row is attributed to the reference number printed in that row."""
    _t, _label, _cells, ref = split_row(locator)
    here = [r for name, recs in records.files.items() if name != "substances.tsv"  # substances: source review
            for r in recs if r.get("locator") == locator]
    assert here, f"nothing curated from {locator}"
    assert {r.get("source") for r in here} == {f"ref-{ref}"}


@pytest.mark.parametrize("locator", [loc for loc in TABLE_LOCATORS if not loc.startswith("Table 3")])
def test_table_row_label_is_the_electrolyte_label(records, locator):
    """In Tables 1 and 2 the measured electrolyte carries the printed first-column label."""
    _t, label, _cells, _ref = split_row(locator)
    electrolytes = records.index("electrolytes.tsv")
    used = {r.get("electrolyte") for r in records.rows("measurements.tsv") if r.get("locator") == locator}
    assert len(used) == 1
    assert flat(electrolytes[used.pop()].get("label")) == flat(label)


@pytest.mark.parametrize("row", range(1, TABLE_ROWS[3] + 1))
def test_table3_rows_say_how_they_were_identified(records, row):
    """Table 3 lost its name column: each row's electrolyte record explains its identification."""
    locator = f"Table 3 row {row}"
    electrolytes = records.index("electrolytes.tsv")
    used = {r.get("electrolyte") for r in records.rows("measurements.tsv") if r.get("locator") == locator}
    assert len(used) == 1
    rec = electrolytes[used.pop()]
    assert "Table 3 first column lost" in rec.get("note")
    if row == 11:
        assert rec.get("formulation") == "unknown" and "cannot be identified" in rec.get("note")


@pytest.mark.parametrize("rec", _all_records(), ids=lambda r: f"{r.file}:{r.id}")
def test_locator_is_a_place_of_the_review(rec):
    """Every record's locator names a place that nmbkg.source finds in the review."""
    loc = rec.get("locator")
    if loc in LOCATORS_WITHOUT_TEXT:
        assert rec.id in LOCATORS_WITHOUT_TEXT[loc]
    else:
        assert loc in places()


@pytest.mark.parametrize("cell", _numeric_cells(), ids=lambda c: f"{c[1]}.{c[2]}")
def test_number_is_printed_at_its_locator(cell):
    """Every curated number appears in the text of its locator (listed unit conversions aside)."""
    file, rid, col, value, locator = cell
    printed = text_numbers(places()[locator].text)
    if (file, rid, col) in CONVERTED:
        original, _why = CONVERTED[(file, rid, col)]
        assert Decimal(value) not in printed, "conversion exception no longer needed: remove it"
        assert original in printed
    else:
        assert Decimal(value) in printed, f"{value} not printed at {locator}"


def test_conversion_exceptions_are_noted(records):
    """Each listed unit conversion is explained in the record's own note."""
    for (file, rid, _col) in CONVERTED:
        assert "convert" in records.index(file)[rid].get("note").lower()


def test_conflict_groups(records):
    """Each conflict group is one cited work stated differently in two or more places of the review."""
    groups: dict[str, list[Record]] = defaultdict(list)
    for name in ("measurements.tsv", "components.tsv"):
        for rec in records.rows(name):
            if rec.get("conflict_group"):
                groups[rec.get("conflict_group")].append(rec)
    assert set(groups) == CONFLICT_GROUPS
    for slug, recs in groups.items():
        assert len(recs) >= 2, slug
        assert {r.get("source") for r in recs} == {slug.split("-")[0] + "-" + slug.split("-")[1]}, slug
        assert len({r.get("locator") for r in recs}) >= 2, slug
