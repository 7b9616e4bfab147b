"""Read the review's plain text into addressable places: paragraphs, table rows, captions, references."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SOURCE_ENV = "NMBKG_SOURCE"
_TERMINAL = (".", "]", ")", "!", "?", ":")
_FRONT = ("Citation:", "Academic Editor:", "Received:", "Publisher's Note:", "Copyright:")
_SECTION = re.compile(r"^(\d)\. [A-Z]")
_LICENCE_END = "4.0/). "


@dataclass(frozen=True)
class Place:
    """One addressable place of the review and its text."""

    locator: str
    text: str
    line: int


def default_source_path() -> Path:
    """Locate the review text: $NMBKG_SOURCE, else ../shared/source/*.txt beside the checkout."""
    import os

    env = os.environ.get(SOURCE_ENV)
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent.parent / "shared" / "source"
        if cand.is_dir():
            found = sorted(cand.glob("*.txt"))
            if found:
                return found[0]
    raise FileNotFoundError(
        "review text not found: set NMBKG_SOURCE to the path of 000_22d25d574258cbb1.txt"
    )


def _prose_lines(lines: list[str]) -> list[tuple[int, str]]:
    """Prose lines of the body with their 1-based numbers; the licence line keeps only its spill-over."""
    out = []
    for i, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or "\t" in raw or line.startswith(("- ", "Figure ", "Table ")):
            continue
        if line.startswith("Copyright:") and _LICENCE_END in line:
            out.append((i, line.split(_LICENCE_END, 1)[1]))
            continue
        if line.startswith(_FRONT) or line.startswith(("Keywords:", "Review ", "Yingying")):
            continue
        out.append((i, line))
    return out


@lru_cache(maxsize=4)
def places(path: str | None = None) -> dict[str, Place]:
    """All places of the review keyed by locator (e.g. 'sec 2 para 3', 'Table 1 row 7', 'ref 82')."""
    text = Path(path or default_source_path()).read_text(encoding="utf-8")
    body, _, refs = text.partition("\nReferences\n")
    lines = body.splitlines()
    result: dict[str, Place] = {}
    section, para, pending = None, 0, None
    for num, line in _prose_lines(lines):
        if line.startswith("Abstract:"):
            result["abstract"] = Place("abstract", line[len("Abstract:"):].strip(), num)
            continue
        if line.startswith(("Funding:", "Data Availability", "Acknowledgments:", "Conflicts of")):
            break
        m = _SECTION.match(line)
        if m and len(line.split()) < 12:
            section, para, pending = int(m.group(1)), 0, None
            continue
        if section is None:
            continue
        if pending is not None:
            prev = result[pending]
            result[pending] = Place(prev.locator, prev.text + " " + line, prev.line)
            pending = None if line.endswith(_TERMINAL) else pending
            continue
        para += 1
        loc = f"sec {section} para {para}"
        result[loc] = Place(loc, line, num)
        pending = None if line.endswith(_TERMINAL) else loc
    _add_captions(lines, result)
    _add_tables(lines, result)
    _add_references(refs, len(lines) + 2, result)
    return result


def _add_captions(lines: list[str], result: dict[str, Place]) -> None:
    """Figure captions as 'Fig. N'."""
    for i, raw in enumerate(lines, start=1):
        m = re.match(r"^Figure (\d+)\. (?!Cont\.)(.*)", raw.strip())
        if m:
            loc = f"Fig. {m.group(1)}"
            result[loc] = Place(loc, m.group(2), i)


def _add_tables(lines: list[str], result: dict[str, Place]) -> None:
    """Table rows as 'Table N row M', numbered in printed order; the garbled second copy of Table 3 is skipped."""
    table, row, header_seen = 0, 0, False
    for i, raw in enumerate(lines, start=1):
        if "\t" not in raw:
            if raw.startswith("Table ") and not raw.startswith("Table 1. Cont"):
                header_seen = False
            continue
        cells = raw.split("\t")
        if cells[-1].strip() == "References" or "Ionic Conductivity" in cells[0] or cells[0].endswith(
            "Electrolytes"
        ):
            if cells[0] == "Liquid Electrolytes" and table == 1:
                header_seen = True
                continue
            table += 1
            row, header_seen = 0, True
            continue
        if not header_seen or not re.search(r"\[\d+\]\s*$", raw):
            continue
        row += 1
        loc = f"Table {table} row {row}"
        result[loc] = Place(loc, raw, i)


def _add_references(refs: str, offset: int, result: dict[str, Place]) -> None:
    """Reference-list entries as 'ref N', numbered in order even where the number was lost."""
    n = 0
    for j, raw in enumerate(refs.splitlines()):
        line = raw.strip()
        if not line.startswith("- "):
            continue
        n += 1
        entry = re.sub(r"^- (\d+)\.\s*", "", line)
        entry = entry.removeprefix("- ")
        loc = f"ref {n}"
        result[loc] = Place(loc, entry, offset + j)


def table_row_cells(locator: str, path: str | None = None) -> list[str]:
    """The printed cells of one table row."""
    return [c.strip() for c in places(path)[locator].text.split("\t")]


def main(argv: list[str] | None = None) -> int:
    """Print the places of the review (all locators, or the text of the ones given)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    allp = places()
    if not args:
        for loc, p in allp.items():
            print(f"{loc}\tline {p.line}\t{p.text[:90]}")
        return 0
    for loc in args:
        if loc not in allp:
            print(f"unknown locator: {loc!r}", file=sys.stderr)
            return 2
        print(f"[{loc}] (source line {allp[loc].line})\n{allp[loc].text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
