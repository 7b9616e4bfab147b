"""Stage 3: SHACL validation (pySHACL, cross-checked with pyrudof on demand), reported as Problems."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef

from .config import choice_setting, int_setting
from .ontology import parse_turtle
from .problems import Problem
from .records import Record

SH = Namespace("http://www.w3.org/ns/shacl#")
NMBSH = Namespace("https://w3id.org/nmbkg/shapes#")
SEVERITY = {SH.Violation: "ERROR", SH.Warning: "WARN", SH.Info: "INFO"}
RUDOF_SEVERITY = {"Violation": "ERROR", "Warning": "WARN", "Info": "INFO"}
DEFAULT_HINT = "fix the row in kg/ and re-run `nmbkg validate`"

# Curated column that a property path stands for, when the shape does not say (nmbsh:column).
PATH_COLUMNS = {
    "numericValue": "value", "unit": "unit", "locator": "locator", "reportedBy": "source",
    "substance": "substance", "role": "role", "hasComponent": "components", "ofElectrolyte": "electrolyte",
    "currentDensity": "current_density", "cycleNumber": "cycles", "temperature": "temperature_c",
    "atRoomTemperature": "room_temperature", "cathode": "cathode", "inchiKey": "smiles", "label": "label",
    "result": "value", "amount": "amount", "inElectrolyte": "electrolyte", "constituent": "constituent",
    "detectedBy": "method", "mechanism": "mechanism", "addresses": "addresses", "claimedProperty": "property",
    "strategy": "strategy", "exampleWork": "examples", "statementStatus": "status", "speciesOrigin": "origin",
    "electrolyteCategory": "category", "formulationStatus": "formulation", "title": "title",
    "publicationYear": "year", "referenceNumber": "ref_number", "conditionNotStated": "not_stated",
    "molecularFormula": "formula", "smiles": "smiles", "wasDerivedFrom": "source", "statedIn": "source",
}


def load_shapes(shapes_dir: Path) -> Graph:
    """All *.shacl.ttl files of the shapes folder in one graph (a syntax error names file and line)."""
    g = Graph()
    root = shapes_dir.parent.parent
    for path in sorted(shapes_dir.glob("*.shacl.ttl")):
        g += parse_turtle(path, root)
    return g


def _column_of(path: URIRef | None) -> str:
    """Best guess of the curated column a property path stands for."""
    if path is None or not isinstance(path, URIRef):
        return ""
    name = str(path).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return PATH_COLUMNS.get(name, name)


def run_shacl(data: Graph, ontology: Graph, shapes: Graph, origin: dict[URIRef, Record]) -> list[Problem]:
    """Validate data (with the ontology for class hierarchy) and map each result to a curated row."""
    from pyshacl import validate

    _conforms, report, _text = validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", abort_on_first=False,
        allow_warnings=True, advanced=True, meta_shacl=False,
    )
    return shacl_problems(report, origin, shapes)


def shacl_problems(report: Graph, origin: dict[URIRef, Record], shapes: Graph | None = None) -> list[Problem]:
    """Problems from a SHACL validation report graph (duplicates removed)."""
    out: dict[Problem, None] = {}
    for res in report.subjects(RDF.type, SH.ValidationResult):
        shape = _named_shape(report.value(res, SH.sourceShape), shapes)
        msgs = [str(m) for m in report.objects(res, SH.resultMessage)]
        sev = SEVERITY.get(report.value(res, SH.resultSeverity), "ERROR")
        p = make_problem(sev, shape, report.value(res, SH.focusNode), report.value(res, SH.resultPath),
                         report.value(res, SH.value), msgs[0] if msgs else "", origin, shapes)
        out[p] = None
    return list(out)


def make_problem(level: str, shape, focus, path, value, message: str, origin: dict[URIRef, Record],
                 shapes: Graph | None) -> Problem:
    """One Problem from the parts of a SHACL result, whichever engine produced it."""
    rule = rule_name(shape)
    rec = origin.get(focus) if isinstance(focus, URIRef) else None
    message = message or _shape_message(shape, shapes) or f"constraint {rule} not met"
    hint = DEFAULT_HINT
    if "->" in message:
        message, hint = (s.strip() for s in message.split("->", 1))
    column = _annotated_column(shape, shapes) or _column_of(path)
    return Problem(
        level, rule, message,
        file=rec.file if rec else "", row=rec.row if rec else None, record_id=rec.id if rec else str(focus),
        field=column, value="" if value is None else str(value), hint=hint,
    )


def _shape_message(shape, shapes: Graph | None) -> str:
    """The sh:message of a shape, for engines that do not copy it into the result."""
    if shapes is None or shape is None:
        return ""
    msg = shapes.value(shape, SH.message)
    return str(msg) if msg is not None else ""


def _annotated_column(shape, shapes: Graph | None) -> str:
    """The nmbsh:column annotation of a shape (the curated column the rule is about), or ''."""
    if shapes is None or shape is None:
        return ""
    col = shapes.value(shape, NMBSH.column)
    return str(col) if col is not None else ""


def _named_shape(shape, shapes: Graph | None):
    """The shape itself when named, else the named node shape that holds this property shape."""
    if isinstance(shape, URIRef) or shapes is None:
        return shape
    for parent in shapes.subjects(SH.property, shape):
        if isinstance(parent, URIRef):
            return parent
    return shape


def rule_name(shape) -> str:
    """A snake_case rule id from the shape IRI: SEIObservationOrigin -> sei_observation_origin."""
    if not isinstance(shape, URIRef):
        return "shacl"
    local = str(shape).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", local).lower()
    return snake.removesuffix("_shape")


# ---------------------------------------------------------------------------- second SHACL engine
@dataclass(frozen=True)
class EngineResult:
    """One SHACL result reduced to what two engines can be compared on."""

    rule: str
    focus: str
    level: str


def run_rudof(data: Graph, ontology: Graph, shapes: Graph, data_nt: Path | None = None) -> list[tuple]:
    """Validate with pyrudof (Rust); returns (level, shape, focus, path, value, message) per result.

    data_nt: the data graph already written as N-Triples (Built.ntriples), to skip writing it again."""
    import pyrudof

    with tempfile.TemporaryDirectory(prefix="nmbkg-rudof-") as tmp:
        if data_nt is None:
            data_nt = Path(tmp) / "data.nt"
            data.serialize(data_nt, format="nt", encoding="utf-8")
        onto_nt = Path(tmp) / "ontology.nt"
        ontology.serialize(onto_nt, format="nt", encoding="utf-8")
        rudof = pyrudof.Rudof(pyrudof.RudofConfig())
        for path in (data_nt, onto_nt):  # read twice: rudof merges them
            rudof.read_data(str(path), format=pyrudof.RDFFormat.NTriples)
        ttl = Path(tmp) / "shapes.ttl"
        shapes.serialize(ttl, format="turtle")
        rudof.read_shacl(str(ttl))
        report = rudof.validate_shacl()
    out = []
    for v in report.violations:
        shape = _rudof_term(v.source_shape)
        out.append((RUDOF_SEVERITY.get(v.severity, "ERROR"), shape, _rudof_term(v.focus_node),
                    _rudof_term(v.path), _rudof_value(v.value), _unquote(v.message)))
    return out


def rudof_problems(data: Graph, ontology: Graph, shapes: Graph, origin: dict[URIRef, Record],
                   data_nt: Path | None = None) -> list[Problem]:
    """The pyrudof results as Problems (messages taken from the shapes where the engine leaves them out)."""
    out: dict[Problem, None] = {}
    for level, shape, focus, path, value, message in run_rudof(data, ontology, shapes, data_nt):
        if message and not _message_of_shape(message, shape, shapes):
            message = ""
        out[make_problem(level, shape, focus, path, value, message, origin, shapes)] = None
    return list(out)


def _message_of_shape(message: str, shape, shapes: Graph) -> bool:
    """True when the message is the shape's own sh:message (not an engine's generic text)."""
    return any(str(m) == message for m in shapes.objects(shape, SH.message)) if shape is not None else False


def _rudof_term(text):
    """A pyrudof term string as an rdflib term: IRI, blank node or None."""
    if text is None:
        return None
    text = str(text)
    if text.startswith("_:"):
        return BNode(text[2:])
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if re.match(r"^[a-z][a-z0-9+.-]*:", text):
        return URIRef(text)
    return Literal(text)


def _rudof_value(text):
    """The value of a pyrudof result as pySHACL gives it: a literal's lexical form, else the term."""
    if text is None:
        return None
    m = re.match(r'^"(.*)"(@[A-Za-z-]+|\^\^.*)?$', str(text), re.DOTALL)
    if m:
        return m.group(1).replace('\\"', '"').replace("\\\\", "\\")
    return _rudof_term(text)


def _unquote(message) -> str:
    """pyrudof prints a message as a literal ('"text"' or '"text"@en'): the text alone."""
    m = re.match(r'^"(.*)"(@[A-Za-z-]+|\^\^.*)?$', str(message or ""), re.DOTALL)
    return m.group(1) if m else str(message or "")


def engine_results(problems: list[Problem]) -> set[EngineResult]:
    """The (rule, focus record, level) set of a SHACL run, for comparing two engines."""
    return {EngineResult(p.rule, f"{p.file}:{p.row}" if p.file else p.record_id, p.level) for p in problems}


def cross_check(data: Graph, ontology: Graph, shapes: Graph, origin: dict[URIRef, Record],
                pyshacl_problems: list[Problem]) -> list[Problem]:
    """Problems where pyrudof and pySHACL disagree, for the rules both engines can evaluate."""
    supported = rudof_supported_rules(shapes)
    theirs = {r for r in engine_results(rudof_problems(data, ontology, shapes, origin)) if r.rule in supported}
    ours = {r for r in engine_results(pyshacl_problems) if r.rule in supported}
    out = []
    for label, diff in (("pySHACL only", ours - theirs), ("pyrudof only", theirs - ours)):
        for r in sorted(diff, key=lambda x: (x.rule, x.focus)):
            out.append(Problem("WARN", "shacl_engines_disagree", f"{label}: rule {r.rule} on {r.focus}",
                               hint="compare the two engines on this shape; see ontology/shapes/"))
    return out


def rudof_supported_rules(shapes: Graph) -> set[str]:
    """Rules pyrudof evaluates like pySHACL: every named shape except those using a feature it skips.

    pyrudof 0.3 silently skips SHACL-AF SPARQL targets and property paths that contain an inverse path
    (sh:inversePath, used here for 'unique among' rules); shapes using either are left out of the comparison.
    """
    rules = set()
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape)):
        if isinstance(shape, URIRef) and not _uses_unsupported(shapes, shape, set()):
            rules.add(rule_name(shape))
    return rules


RUDOF_UNSUPPORTED = (SH.inversePath, SH.SPARQLTarget)


def _uses_unsupported(shapes: Graph, node, seen: set) -> bool:
    """True when the shape (with its blank-node parts and property shapes) uses a feature pyrudof skips."""
    if node in seen:
        return False
    seen.add(node)
    for p, o in shapes.predicate_objects(node):
        if p in RUDOF_UNSUPPORTED or o in RUDOF_UNSUPPORTED:
            return True
        if (isinstance(o, BNode) or p == SH.property) and _uses_unsupported(shapes, o, seen):
            return True
    return False


# ---------------------------------------------------------------------------- engine choice at scale
SHACL_ENGINES = ("auto", "pyshacl", "rudof")
SHACL_LIMIT = 200_000  # data triples above which `auto` validates with pyrudof (pySHACL takes minutes there)


def shacl_engine(n_triples: int) -> str:
    """The SHACL engine for a graph of n_triples: NMBKG_SHACL_ENGINE (auto, pyshacl, rudof), and for auto
    pySHACL up to NMBKG_SHACL_LIMIT data triples (default 200,000), pyrudof above it."""
    choice = choice_setting("NMBKG_SHACL_ENGINE", SHACL_ENGINES)
    if choice != "auto":
        return choice
    return "rudof" if n_triples > int_setting("NMBKG_SHACL_LIMIT", SHACL_LIMIT) else "pyshacl"


def validate_with(engine: str, data: Graph, ontology: Graph, shapes: Graph,
                  origin: dict[URIRef, Record], data_nt: Path | None = None) -> list[Problem]:
    """SHACL problems from one engine. 'rudof' runs pyrudof on every shape it evaluates like pySHACL and
    pySHACL on the rest (the 'unique among' shapes with inverse paths), on the triples those shapes can reach."""
    if engine == "pyshacl":
        return run_shacl(data, ontology, shapes, origin)
    from concurrent.futures import ThreadPoolExecutor

    supported = rudof_supported_rules(shapes)
    rest = unsupported_shapes(shapes, supported)
    with ThreadPoolExecutor(max_workers=1) as pool:  # pyrudof releases the GIL: pySHACL runs meanwhile
        rust = pool.submit(rudof_problems, data, ontology, shapes, origin, data_nt)
        py = [] if rest is None else run_shacl(reachable_triples(data, rest), ontology, rest, origin)
        out: dict[Problem, None] = dict.fromkeys(p for p in rust.result() if p.rule in supported)
    out.update(dict.fromkeys(p for p in py if p.rule not in supported))
    return list(out)


def unsupported_shapes(shapes: Graph, supported: set[str]) -> Graph | None:
    """The shapes pyrudof cannot evaluate, with their property shapes and blank-node parts (None if none)."""
    tops = [s for s in set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
            if isinstance(s, URIRef) and rule_name(s) not in supported]
    if not tops:
        return None
    out = Graph()
    for prefix, ns in shapes.namespaces():
        out.bind(prefix, ns)
    for triple in _walk(shapes, tops, lambda p, o: isinstance(o, BNode) or p == SH.property):
        out.add(triple)
    return out


def _walk(g: Graph, starts: list, follow) -> Iterator[tuple]:
    """Every triple of the nodes reachable from starts, going on to an object when follow(p, o) says so."""
    todo, seen = list(starts), set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in g.predicate_objects(node):
            yield node, p, o
            if follow(p, o):
                todo.append(o)


def reachable_triples(data: Graph, shapes: Graph) -> Graph:
    """The data triples a set of shapes can look at: those of every predicate named in a path, and rdf:type.

    Shapes with SPARQL constraints or sh:closed could look at anything: the whole graph is returned then."""
    if any(True for _ in shapes.subjects(SH.sparql, None)) or any(True for _ in shapes.subjects(SH.closed, None)):
        return data
    predicates = {RDF.type}
    for path in shapes.objects(None, SH.path):
        predicates |= _path_predicates(shapes, path)
    out = Graph()
    for p in predicates:
        for t in data.triples((None, p, None)):
            out.add(t)
    return out


def _path_predicates(shapes: Graph, path) -> set[URIRef]:
    """Every IRI used in a SHACL property path (sequence lists, inverse, alternative and repeat paths)."""
    if isinstance(path, URIRef):
        return {path}
    return {o for _s, _p, o in _walk(shapes, [path], lambda _p, o: isinstance(o, BNode))
            if isinstance(o, URIRef) and o != RDF.nil}
