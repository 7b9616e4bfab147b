"""Stored SPARQL queries: the .rq files with their '#+ key: value' headers and typed parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_HEADER = re.compile(r"^#\+\s*([a-z_]+):\s*(.*)$")
_PARAM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(([^)]*)\)\s*$")


@dataclass(frozen=True)
class Param:
    """A query parameter: name, kind, default, whether required, allowed values."""

    name: str
    kind: str  # number | integer | string | iri | enum
    required: bool = False
    default: str | None = None
    choices: tuple[str, ...] = ()
    lookup: str = ""  # class local name whose labels a value may name


@dataclass
class StoredQuery:
    """One .rq file."""

    name: str
    path: Path
    text: str
    meta: dict[str, str] = field(default_factory=dict)
    params: list[Param] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """The question in one sentence."""
        return self.meta.get("summary", "")

    @property
    def returns(self) -> list[str]:
        """Declared result variables, without '?'."""
        return [v.lstrip("?") for v in self.meta.get("returns", "").split()]


class QueryHeaderError(ValueError):
    """A stored query without a proper header."""


def parse_param(spec: str) -> Param:
    """'name (kind[, optional][, default V][, one of a|b][, label of Class])' to a Param."""
    m = _PARAM.match(spec)
    if not m:
        raise QueryHeaderError(f"cannot read parameter {spec!r}: write it as name (kind, options)")
    name, opts = m.group(1), [o.strip() for o in m.group(2).split(",") if o.strip()]
    kind, required, default, choices, lookup = opts[0] if opts else "string", True, None, (), ""
    for o in opts[1:]:
        if o == "optional":
            required = False
        elif o.startswith("default "):
            default, required = o[len("default "):].strip(), False
        elif o.startswith("one of "):
            choices = tuple(c.strip() for c in o[len("one of "):].split("|"))
        elif o.startswith("label of "):
            lookup = o[len("label of "):].strip()
    if kind not in {"number", "integer", "string", "iri", "enum"}:
        raise QueryHeaderError(f"parameter {name}: unknown kind {kind!r}")
    return Param(name, kind, required, default, choices, lookup)


def parse_query(path: Path) -> StoredQuery:
    """Read a .rq file and its header."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            meta[m.group(1)] = m.group(2).strip()
        elif line.strip() and not line.startswith("#"):
            break
    q = StoredQuery(path.stem, path, text, meta)
    spec = meta.get("params", "").strip()
    if spec and spec.lower() != "none":
        q.params = [parse_param(p) for p in spec.split(";") if p.strip()]
    return q


def load_queries(folder: Path) -> list[StoredQuery]:
    """All .rq files of a folder, sorted by name."""
    return [parse_query(p) for p in sorted(folder.glob("*.rq"))] if folder.is_dir() else []
