"""Stage 3: SHACL validation (pySHACL) and SPARQL integrity checks, reported as Problems."""

from __future__ import annotations

from pathlib import Path

from rdflib import RDF, Graph, Namespace, URIRef

from .problems import Problem
from .records import Record

SH = Namespace("http://www.w3.org/ns/shacl#")
SEVERITY = {SH.Violation: "ERROR", SH.Warning: "WARN", SH.Info: "INFO"}


def load_shapes(shapes_dir: Path) -> Graph:
    """All *.shacl.ttl files of the shapes folder in one graph."""
    g = Graph()
    for path in sorted(shapes_dir.glob("*.shacl.ttl")):
        g.parse(path, format="turtle")
    return g


def _column_of(path: URIRef | None) -> str:
    """Best guess of the curated column a property path stands for."""
    if path is None:
        return ""
    name = str(path).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return {
        "numericValue": "value", "unit": "unit", "locator": "locator", "reportedBy": "source",
        "substance": "substance", "role": "role", "hasComponent": "components", "ofElectrolyte": "electrolyte",
        "currentDensity": "current_density", "cycleNumber": "cycles", "temperature": "temperature_c",
        "atRoomTemperature": "room_temperature", "cathode": "cathode", "inchiKey": "smiles", "label": "label",
        "result": "value",
    }.get(name, name)


def run_shacl(data: Graph, ontology: Graph, shapes: Graph, origin: dict[URIRef, Record]) -> list[Problem]:
    """Validate data (with the ontology for class hierarchy) and map each result to a curated row."""
    from pyshacl import validate

    _conforms, report, _text = validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", abort_on_first=False,
        allow_warnings=True, advanced=True, meta_shacl=False,
    )
    return shacl_problems(report, origin, shapes)


def shacl_problems(report: Graph, origin: dict[URIRef, Record], shapes: Graph | None = None) -> list[Problem]:
    """Problems from a SHACL validation report graph."""
    out = []
    for res in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(res, SH.focusNode)
        path = report.value(res, SH.resultPath)
        value = report.value(res, SH.value)
        sev = SEVERITY.get(report.value(res, SH.resultSeverity), "ERROR")
        msgs = [str(m) for m in report.objects(res, SH.resultMessage)]
        shape = report.value(res, SH.sourceShape)
        rule = _rule_name(_named_shape(shape, shapes), report)
        rec = origin.get(focus) if isinstance(focus, URIRef) else None
        message = msgs[0] if msgs else f"constraint {rule} not met"
        hint = "fix the row in kg/ and re-run `nmbkg validate`"
        if "->" in message:
            message, hint = (s.strip() for s in message.split("->", 1))
        out.append(Problem(
            sev, rule, message,
            file=rec.file if rec else "", row=rec.row if rec else None, record_id=rec.id if rec else str(focus),
            field=_column_of(path), value="" if value is None else str(value), hint=hint,
        ))
    return out


def _named_shape(shape, shapes: Graph | None):
    """The shape itself when named, else the named node shape that holds this property shape."""
    if isinstance(shape, URIRef) or shapes is None:
        return shape
    for parent in shapes.subjects(SH.property, shape):
        if isinstance(parent, URIRef):
            return parent
    return shape


def _rule_name(shape, report: Graph) -> str:
    """A snake_case rule id from the shape IRI (or 'shacl' for anonymous shapes)."""
    if isinstance(shape, URIRef):
        import re

        local = str(shape).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        return re.sub(r"(?<!^)(?=[A-Z])", "_", local).lower().replace("_shape", "")
    return "shacl"
