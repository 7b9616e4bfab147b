"""SPARQL integrity checks: queries/checks/<name>-violation.rq, any row is a problem."""

from __future__ import annotations

import re
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from .config import NMB
from .ontology import InputError
from .problems import LEVELS, Problem
from .records import Record
from .storedq import StoredQuery, load_queries
from .validate import _column_of

ENGINES = ("oxigraph", "rdflib")


def check_queries(queries_dir: Path) -> list[StoredQuery]:
    """All *-violation.rq checks."""
    return [q for q in load_queries(queries_dir / "checks") if q.name.endswith("-violation")]


def rule_of(q: StoredQuery) -> str:
    """The rule id of a check: its file name without '-violation', in snake_case."""
    return q.name.removesuffix("-violation").replace("-", "_")


def level_of(q: StoredQuery, root: Path | None = None) -> str:
    """The level a check reports at ('#+ level:', ERROR by default)."""
    level = q.meta.get("level", "ERROR").strip().upper()
    if level not in LEVELS:
        raise InputError(_rel(q.path, root), None, f"'#+ level: {level}' must be one of {', '.join(LEVELS)}")
    return level


def run_checks(graph: Graph | list[Graph | Path], queries_dir: Path, origin: dict[URIRef, Record],
               engine: str = "oxigraph") -> list[Problem]:
    """Run every check on the graph (or the union of a list of graphs and N-Triples files, never copied into
    one rdflib graph on the oxigraph engine); each result row becomes a Problem naming the curated row."""
    root = queries_dir.parent
    runner = _runner(graph, engine)
    problems: dict[Problem, None] = {}
    for q in check_queries(queries_dir):
        level, rule = level_of(q, root), rule_of(q)
        for row in runner.rows(q, root):
            problems[_problem(q, level, rule, row, origin, root)] = None
    return list(problems)


def check_rows(graph: Graph, q: StoredQuery, engine: str = "oxigraph") -> list[dict]:
    """The raw rows of one check (variable -> rdflib term), for tests and tools."""
    return _runner(graph, engine).rows(q, None)


def _runner(graph: Graph | list[Graph | Path], engine: str):
    """The check runner of an engine for one graph or the union of several."""
    parts = graph if isinstance(graph, list | tuple) else [graph]
    if engine == "oxigraph":
        return _OxigraphRunner(parts)
    merged = Graph()
    for g in parts:
        if isinstance(g, Path):
            merged.parse(g, format="nt")
        else:
            merged += g
    return _RdflibRunner(merged)


def _problem(q: StoredQuery, level: str, rule: str, row: dict, origin: dict[URIRef, Record], root: Path) -> Problem:
    """A Problem from one result row: the focus node is mapped back to its curated file and row."""
    focus = row.get("record")
    rec = origin.get(focus) if isinstance(focus, URIRef) else None
    message = str(row.get("message") or q.meta.get("summary", rule))
    hint = q.meta.get("hint", f"see queries/checks/{q.name}.rq")
    if "->" in message:
        message, hint = (s.strip() for s in message.split("->", 1))
    column = row.get("column")
    field = str(column) if column is not None else _column_of(row.get("property"))
    if rec is not None:
        file, line, rid = rec.file, rec.row, rec.id
    else:
        file, line, rid = _ontology_place(focus, root)
    return Problem(level, rule, message, file, line, rid, field, _text(row.get("value")), hint)


def _text(term) -> str:
    """A result term as plain text."""
    return "" if term is None else str(term)


def _ontology_place(focus, root: Path | None) -> tuple[str, int | None, str]:
    """(file, line, id) of a node that no curated row made: an nmb term is found in ontology/nmbkg.ttl."""
    if not isinstance(focus, URIRef):
        return "", None, _text(focus)
    if str(focus).startswith(str(NMB)) and root is not None:
        local = str(focus)[len(str(NMB)):]
        line = _definition_line(str(root / "ontology" / "nmbkg.ttl"), local)
        return "ontology/nmbkg.ttl", line, f"nmb:{local}"
    return "", None, str(focus)


def _definition_lines(path: str) -> dict[str, int]:
    """Line number of the first statement about each nmb:Term at the start of a line."""
    out: dict[str, int] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return out
    for i, line in enumerate(text.splitlines(), start=1):
        m = re.match(r"^nmb:([A-Za-z0-9_]+)\b", line)
        if m:
            out.setdefault(m.group(1), i)
    return out


def _definition_line(path: str, local: str) -> int | None:
    """The line where nmb:local is defined in the ontology file, if found."""
    return _definition_lines(path).get(local)


def _rel(path: Path, root: Path | None) -> str:
    """A path relative to the project root when possible."""
    return str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)


class _RdflibRunner:
    """Runs checks with rdflib's SPARQL engine on the graph itself."""

    def __init__(self, graph: Graph):
        self.graph = graph

    def rows(self, q: StoredQuery, root: Path | None) -> list[dict]:
        """Result rows as dicts of rdflib terms."""
        try:
            result = self.graph.query(q.text)
        except Exception as exc:
            raise InputError(_rel(q.path, root), None, f"check query does not run: {' '.join(str(exc).split())[:200]}") from exc
        return [{str(k): v for k, v in row.asdict().items()} for row in result]


class _OxigraphRunner:
    """Runs checks with pyoxigraph on an in-memory copy of the graph (the fast engine)."""

    def __init__(self, graphs: list[Graph]):
        import pyoxigraph as ox

        from .store import bulk_load

        self.ox = ox
        self.store = ox.Store()
        for g in graphs:  # an rdflib graph, or an N-Triples file of one (Built.ntriples)
            if isinstance(g, Path):
                bulk_load(self.store, [g])
            else:
                self.store.bulk_load(g.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)

    def rows(self, q: StoredQuery, root: Path | None) -> list[dict]:
        """Result rows as dicts of rdflib terms."""
        try:
            result = self.store.query(q.text)
            names = [v.value for v in result.variables]
            return [{n: _from_ox(row[n]) for n in names if row[n] is not None} for row in result]
        except (SyntaxError, OSError, ValueError) as exc:
            raise InputError(_rel(q.path, root), None, f"check query does not run: {' '.join(str(exc).split())[:200]}") from exc


def _from_ox(term):
    """A pyoxigraph term as an rdflib term."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    return Literal(str(term))
