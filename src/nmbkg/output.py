"""Render query results as table, CSV, TSV, JSON or Markdown."""

from __future__ import annotations

import csv
import io
import json

from .query import Result

FORMATS = ("table", "csv", "tsv", "json", "markdown")


def _cell(v) -> str:
    if v is None:
        return ""
    p = v.plain()
    return str(p).lower() if isinstance(p, bool) else str(p)


def render(res: Result, fmt: str) -> str:
    """The result in one of FORMATS."""
    if fmt in ("csv", "tsv"):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        w.writerow(res.variables)
        for row in res.rows:
            w.writerow([_cell(v) for v in row])
        return buf.getvalue()
    if fmt == "json":
        rows = [{k: (None if v is None else v.plain()) for k, v in zip(res.variables, row)} for row in res.rows]
        return json.dumps({"columns": res.variables, "rows": rows}, indent=2, ensure_ascii=False) + "\n"
    cells = [[_cell(v) for v in row] for row in res.rows]
    if fmt == "markdown":
        lines = ["| " + " | ".join(res.variables) + " |", "|" + "---|" * len(res.variables)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    widths = [len(v) for v in res.variables]
    for row in cells:
        widths = [max(w, min(len(c), 60)) for w, c in zip(widths, row)]
    def line(vals):
        return "  ".join((c if len(c) <= 60 else c[:57] + "...").ljust(w) for c, w in zip(vals, widths)).rstrip()
    out = [line(res.variables), line(["-" * w for w in widths])] + [line(r) for r in cells]
    out.append(f"({len(cells)} rows)")
    return "\n".join(out) + "\n"
