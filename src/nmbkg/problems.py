"""One kind of problem report for every stage: records, SHACL, checks, reasoning."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields
from enum import IntEnum

LEVELS = ("ERROR", "WARN", "INFO")


class Exit(IntEnum):
    """Process exit codes, as pySHACL uses them."""

    OK = 0
    DATA = 1
    INTERNAL = 2


@dataclass(frozen=True)
class Problem:
    """A problem a curator can act on: where it is, what is wrong, what to do."""

    level: str
    rule: str
    message: str
    file: str = ""
    row: int | None = None
    record_id: str = ""
    field: str = ""
    value: str = ""
    hint: str = ""

    def sort_key(self) -> tuple:
        """Group by file, then row, then rule."""
        return (self.file, self.row if self.row is not None else -1, self.rule, self.field, self.message)

    def line(self) -> str:
        """One readable line: file:row [record] column: message (hint)."""
        where = self.file or "(graph)"
        if self.row is not None:
            where += f":{self.row}"
        parts = [f"{self.level} {where}"]
        if self.record_id:
            parts.append(f"record {self.record_id}")
        if self.field:
            parts.append(f"column {self.field}")
        text = " ".join(parts) + f" [{self.rule}] {self.message}"
        if self.value:
            text += f" (value: {self.value!r})"
        if self.hint:
            text += f" -> {self.hint}"
        return text


class DataError(Exception):
    """Raised by a stage when its input has problems that stop the build."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def is_blocking(problems: list[Problem]) -> bool:
    """True when any problem is an ERROR."""
    return any(p.level == "ERROR" for p in problems)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Problems grouped by file and sorted by row."""
    return sorted(problems, key=Problem.sort_key)


def to_tsv(problems: list[Problem]) -> str:
    """The problems as a TSV report (header always present)."""
    buf = io.StringIO()
    names = [f.name for f in fields(Problem)]
    w = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(names)
    for p in sort_problems(problems):
        d = asdict(p)
        w.writerow(["" if d[n] is None else str(d[n]).replace("\t", " ").replace("\n", " ") for n in names])
    return buf.getvalue()


def render(problems: list[Problem]) -> str:
    """Human report: grouped by file, sorted by row, then a count."""
    out, current = [], None
    for p in sort_problems(problems):
        if p.file != current:
            current = p.file
            out.append(f"{current or '(graph)'}:")
        out.append("  " + p.line())
    n_err = sum(p.level == "ERROR" for p in problems)
    n_warn = sum(p.level == "WARN" for p in problems)
    out.append(f"{len(problems)} problems ({n_err} errors, {n_warn} warnings)")
    return "\n".join(out)
