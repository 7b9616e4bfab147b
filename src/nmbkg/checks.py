"""SPARQL integrity checks: queries/checks/<name>-violation.rq, any row is a problem."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, URIRef

from .problems import Problem
from .records import Record
from .storedq import StoredQuery, load_queries


def check_queries(queries_dir: Path) -> list[StoredQuery]:
    """All *-violation.rq checks."""
    return [q for q in load_queries(queries_dir / "checks") if q.name.endswith("-violation")]


def run_checks(graph: Graph, queries_dir: Path, origin: dict[URIRef, Record]) -> list[Problem]:
    """Run every check on the graph; each result row becomes a Problem naming the curated row."""
    problems = []
    for q in check_queries(queries_dir):
        level = q.meta.get("level", "ERROR").upper()
        rule = q.name.removesuffix("-violation").replace("-", "_")
        for row in graph.query(q.text):
            d = {str(k): v for k, v in row.asdict().items()}
            focus = d.get("record")
            rec = origin.get(focus) if isinstance(focus, URIRef) else None
            msg = str(d.get("message") or q.meta.get("summary", rule))
            problems.append(Problem(
                level, rule, msg, rec.file if rec else "", rec.row if rec else None,
                rec.id if rec else (str(focus) if focus is not None else ""),
                str(d.get("column") or d.get("property") or ""), str(d.get("value") or ""),
                q.meta.get("hint", f"see queries/checks/{q.name}.rq"),
            ))
    return problems
