"""Load the ontology and its SSSOM mappings as one graph."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from rdflib import Graph, URIRef

from .config import Project


class InputError(Exception):
    """An input file that cannot be read at all (syntax error): an internal-level failure, exit 2."""

    def __init__(self, file: str, line: int | None, message: str):
        super().__init__(f"{file}" + (f" line {line}" if line else "") + f": {message}")
        self.file, self.line, self.detail = file, line, message


def parse_turtle(path: Path, root: Path | None = None) -> Graph:
    """Parse a Turtle file, turning a syntax error into an InputError naming file and line."""
    g = Graph()
    try:
        g.parse(path, format="turtle")
    except Exception as exc:
        text = str(exc)
        m = re.search(r"line (\d+)", text)
        rel = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
        raise InputError(rel, int(m.group(1)) if m else None, " ".join(text.split())[:300]) from exc
    return g


SSSOM_PREFIXES = {
    "nmb": "https://w3id.org/nmbkg/ontology#",
    "nmbid": "https://w3id.org/nmbkg/id/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
}


def read_mappings(path: Path) -> list[dict[str, str]]:
    """Rows of an SSSOM TSV file (comment lines starting with # are the metadata block)."""
    if not path.is_file():
        return []
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def curie_prefixes(path: Path) -> dict[str, str]:
    """The curie_map of an SSSOM file's YAML header (simple 'prefix: iri' lines), plus defaults."""
    out = dict(SSSOM_PREFIXES)
    if path.is_file():
        for ln in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"^#\s+([A-Za-z_][\w-]*):\s+(\S+)\s*$", ln)
            if m and m.group(2).startswith("http"):
                out[m.group(1)] = m.group(2)
    return out


def expand(curie: str, prefixes: dict[str, str]) -> URIRef:
    """CURIE or IRI to URIRef."""
    if curie.startswith("http"):
        return URIRef(curie)
    pfx, _, local = curie.partition(":")
    if pfx not in prefixes:
        raise ValueError(f"unknown prefix {pfx!r} in {curie!r}")
    return URIRef(prefixes[pfx] + local)


def mapping_graph(path: Path) -> Graph:
    """The SSSOM mappings as triples subject predicate object."""
    g = Graph()
    prefixes = curie_prefixes(path)
    for row in read_mappings(path):
        g.add((expand(row["subject_id"], prefixes), expand(row["predicate_id"], prefixes),
               expand(row["object_id"], prefixes)))
    return g


def load_ontology(project: Project) -> Graph:
    """The edited ontology file plus its mappings (the published ontology)."""
    g = parse_turtle(project.ontology_file, project.root)
    try:
        g += mapping_graph(project.mappings_file)
    except (KeyError, ValueError) as exc:
        raise InputError(str(project.mappings_file.relative_to(project.root)), None, f"bad mapping row: {exc}") from exc
    return g
