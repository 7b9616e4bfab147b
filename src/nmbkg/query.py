"""Run stored or ad-hoc SPARQL on the built graph with pyoxigraph or rdflib, parameters bound by the engine."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .storedq import Param, StoredQuery, load_queries, parse_query

XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
NMB = "https://w3id.org/nmbkg/ontology#"
LIST_SEPARATOR = "; "


class QueryError(Exception):
    """A user error in asking a query: unknown name, bad parameter. One line, exit 2."""


@dataclass
class Value:
    """An engine-neutral RDF term: kind is iri, literal or bnode."""

    kind: str
    value: str
    datatype: str = ""
    lang: str = ""

    def plain(self):
        """Python value for CSV/JSON: numbers as numbers, the rest as strings."""
        if self.kind == "literal" and self.datatype in (XSD + "integer", XSD + "int", XSD + "long"):
            return int(self.value)
        if self.kind == "literal" and self.datatype in (XSD + "decimal", XSD + "double", XSD + "float"):
            d = Decimal(self.value)
            return int(d) if d == d.to_integral_value() and "e" not in self.value.lower() else float(d)
        if self.kind == "literal" and self.datatype == XSD + "boolean":
            return self.value in ("true", "1")
        return self.value


@dataclass
class Result:
    """Rows of a SELECT: variable names and values (None for unbound)."""

    variables: list[str]
    rows: list[list[Value | None]]


class Engine:
    """A graph loaded into one engine; subclasses implement select()."""

    name = "?"

    def select(self, text: str, bindings: dict[str, Value]) -> Result:  # pragma: no cover - interface
        raise NotImplementedError


class OxigraphEngine(Engine):
    """pyoxigraph in memory (or a persistent store)."""

    name = "oxigraph"

    def __init__(self, files: list[Path]):
        import pyoxigraph as ox

        from .store import bulk_load

        self.ox = ox
        self.store = ox.Store()
        bulk_load(self.store, files)

    def _term(self, v: Value):
        ox = self.ox
        if v.kind == "iri":
            return ox.NamedNode(v.value)
        if v.datatype:
            return ox.Literal(v.value, datatype=ox.NamedNode(v.datatype))
        return ox.Literal(v.value, language=v.lang) if v.lang else ox.Literal(v.value)

    def select(self, text: str, bindings: dict[str, Value]) -> Result:
        ox = self.ox
        subs = {ox.Variable(k): self._term(v) for k, v in bindings.items()}
        try:
            sol = self.store.query(text, substitutions=subs)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        variables = [v.value for v in sol.variables]
        rows = []
        for s in sol:
            rows.append([_from_ox(s[v]) for v in variables])
        return Result(variables, rows)


def _from_ox(t) -> Value | None:
    import pyoxigraph as ox

    if t is None:
        return None
    if isinstance(t, ox.NamedNode):
        return Value("iri", t.value)
    if isinstance(t, ox.BlankNode):
        return Value("bnode", t.value)
    return Value("literal", t.value, t.datatype.value if t.datatype else "", t.language or "")


class RdflibEngine(Engine):
    """rdflib in memory."""

    name = "rdflib"

    def __init__(self, files: list[Path]):
        from rdflib import Graph

        self.g = Graph()
        for f in files:
            self.g.parse(f, format="nt")

    def select(self, text: str, bindings: dict[str, Value]) -> Result:
        from rdflib import BNode, Literal, URIRef, Variable

        init = {}
        for k, v in bindings.items():
            if v.kind == "iri":
                init[Variable(k)] = URIRef(v.value)
            else:
                init[Variable(k)] = Literal(v.value, datatype=URIRef(v.datatype) if v.datatype else None,
                                            lang=v.lang or None)
        try:
            res = self.g.query(text, initBindings=init)
        except Exception as exc:
            raise QueryError(f"SPARQL error: {' '.join(str(exc).split())[:200]}") from exc
        variables = [str(v) for v in res.vars]
        rows = []
        for r in res:
            row = []
            for v in res.vars:
                t = r[v]
                if t is None:
                    row.append(None)
                elif isinstance(t, URIRef):
                    row.append(Value("iri", str(t)))
                elif isinstance(t, BNode):
                    row.append(Value("bnode", str(t)))
                else:
                    row.append(Value("literal", str(t), str(t.datatype) if t.datatype else "", t.language or ""))
            rows.append(row)
        return Result(variables, rows)


class StoreEngine(OxigraphEngine):
    """pyoxigraph on a persistent store written by `nmbkg build --store PATH` (opened read-only)."""

    name = "store"

    def __init__(self, path: Path):
        import pyoxigraph as ox

        from .store import StoreError, open_read_only

        self.ox = ox
        try:
            self.store = open_read_only(path)
        except StoreError as exc:
            raise QueryError(str(exc)) from exc


class RemoteEngine(Engine):
    """A SPARQL 1.1 Protocol endpoint (Virtuoso, Oxigraph server, Fuseki ...), queried over HTTP.

    A remote endpoint cannot pre-bind variables as initBindings/substitutions do, so parameters travel
    as a VALUES block placed first in the outermost WHERE group (see values_query); the terms are written
    by rdflib's n3(), which escapes literals and rejects malformed IRIs, never pasted as raw text.
    """

    name = "remote"

    def __init__(self, url: str, graph: str | None = None, auth=None, timeout: float = 120.0):
        import httpx

        self.url, self.graph = url, graph or None
        self.client = httpx.Client(auth=auth, timeout=timeout, follow_redirects=True)

    def select(self, text: str, bindings: dict[str, Value]) -> Result:
        import httpx

        data = {"query": values_query(text, bindings)}
        if self.graph:
            data["default-graph-uri"] = self.graph
        try:
            r = self.client.post(self.url, data=data, headers={"Accept": "application/sparql-results+json"})
        except httpx.HTTPError as exc:
            raise QueryError(f"cannot reach SPARQL endpoint {self.url}: {exc}") from exc
        if r.status_code != 200:
            raise QueryError(f"endpoint {self.url} answered {r.status_code}: {' '.join(r.text.split())[:300]}")
        try:
            doc = r.json()
        except ValueError as exc:
            raise QueryError(f"endpoint {self.url} did not answer with SPARQL JSON results") from exc
        variables = doc["head"]["vars"]
        rows = [[_from_json(b.get(v)) for v in variables] for b in doc["results"]["bindings"]]
        return Result(variables, rows)


def _from_json(t: dict | None) -> Value | None:
    """A term of the SPARQL 1.1 JSON results format."""
    if t is None:
        return None
    if t["type"] == "uri":
        return Value("iri", t["value"])
    if t["type"] == "bnode":
        return Value("bnode", t["value"])
    return Value("literal", t["value"], t.get("datatype", ""), t.get("xml:lang", ""))


def n3_term(v: Value) -> str:
    """A bound value written as SPARQL syntax by rdflib (escaped literal, checked IRI)."""
    from rdflib import Literal, URIRef

    try:
        if v.kind == "iri":
            return URIRef(v.value).n3()
        return Literal(v.value, lang=v.lang or None, datatype=URIRef(v.datatype) if v.datatype else None).n3()
    except Exception as exc:  # rdflib raises a bare Exception for unusable IRIs
        raise QueryError(f"value {v.value!r} is not a valid IRI or literal for a SPARQL query") from exc


_SPARQL_TOKEN = re.compile(
    r'(?P<comment>#[^\n]*)'
    r'|(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')'
    r'|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)'
    r'|(?P<var>[?$][\w]+)|(?P<brace>[{}])|(?P<word>[A-Za-z_][\w.-]*(?::[\w.%-]*)?|:[\w.%-]*)'
    r'|(?P<other>[\s\S])'
)


def where_open(text: str) -> int:
    """Offset just after the '{' that opens the outermost WHERE group (comments, strings, IRIs skipped)."""
    depth, construct, where_seen = 0, False, False
    for m in _SPARQL_TOKEN.finditer(text):
        if m.lastgroup == "word" and depth == 0:
            word = m.group().upper()
            construct |= word == "CONSTRUCT"
            where_seen |= word == "WHERE"
        elif m.lastgroup == "brace":
            if m.group() == "{":
                if depth == 0 and (where_seen or not construct):
                    return m.end()
                depth += 1
            else:
                depth -= 1
    raise QueryError("cannot find the WHERE group of the query to bind its parameters")


def values_query(text: str, bindings: dict[str, Value]) -> str:
    """The query with `VALUES (?p ...) { (term ...) }` first in its outermost WHERE group.

    Joined first in that group, the VALUES row binds the parameters for every pattern, OPTIONAL and FILTER
    of the group, as pre-binding does in the embedded engines. The result is parsed by rdflib, so a value
    can never change the structure of the query.
    """
    if not bindings:
        return text
    names = sorted(bindings)
    for n in names:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n):
            raise QueryError(f"parameter name {n!r} is not a SPARQL variable name")
    block = (f"\n  VALUES ({' '.join('?' + n for n in names)}) "
             f"{{ ({' '.join(n3_term(bindings[n]) for n in names)}) }}\n")
    at = where_open(text)
    out = text[:at] + block + text[at:]
    _check_parses(out)
    return out


def _check_parses(text: str) -> None:
    """Raise QueryError unless rdflib parses the query text."""
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        parseQuery(text)
    except Exception as exc:  # pyparsing raises its own types
        raise QueryError(f"the query with its parameters does not parse: {' '.join(str(exc).split())[:200]}") from exc


def example_params(engine: Engine, q: StoredQuery) -> dict[str, str]:
    """Values for the required parameters that have no default (for tests and benchmarks).

    A looked-up IRI gets the first label (sorted) of its class in the graph, skipping synthetic records; an
    enum its first choice; a number 1; text "Na".
    """
    out = {}
    for p in q.params:
        if not p.required or p.default:
            continue
        if p.choices:
            out[p.name] = p.choices[0]
        elif p.kind == "iri" and p.lookup:
            labels = sorted(lab for lab in labels_of(engine, p.lookup) if "[syn" not in lab)
            out[p.name] = labels[0] if labels else ""
        elif p.kind in ("number", "integer"):
            out[p.name] = "1"
        else:
            out[p.name] = "Na"
    return out


def open_store_engine(path: Path) -> Engine:
    """The persistent store at path (see `nmbkg build --store`)."""
    return StoreEngine(path)


def open_remote_engine(url: str, graph: str | None = None) -> Engine:
    """A remote SPARQL endpoint; credentials from NMBKG_USER / NMBKG_PASSWORD when set."""
    if not re.match(r"^https?://", url or ""):
        raise QueryError(f"--endpoint needs an http(s) URL, got {url!r}")
    from .push import auth_from_env

    return RemoteEngine(url, graph, auth_from_env())


def graph_files(dist: Path) -> list[Path]:
    """The N-Triples files a query engine loads from a release folder."""
    return [dist / "nmbkg.nt", dist / "ontology.nt"]


def open_engine(dist: Path, engine: str = "oxigraph") -> Engine:
    """Load the release in dist/ into the chosen engine."""
    files = graph_files(dist)
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise QueryError(f"no built graph in {dist} (missing {missing[0].name}): run `nmbkg build` first")
    if engine == "oxigraph":
        return OxigraphEngine(files)
    if engine == "rdflib":
        return RdflibEngine(files)
    raise QueryError(f"unknown engine {engine!r}: use oxigraph or rdflib")


def find_query(queries_dir: Path, name: str) -> StoredQuery:
    """A stored query by name (cq/ first, then checks/)."""
    all_q = {q.name: q for sub in ("cq", "checks") for q in load_queries(queries_dir / sub)}
    if name in all_q:
        return all_q[name]
    near = difflib.get_close_matches(name, list(all_q), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(near)}?" if near else "; `nmbkg query --list` shows them all"
    raise QueryError(f"unknown query {name!r}{hint}")


def labels_of(engine: Engine, cls_local: str) -> dict[str, str]:
    """Lower-cased label -> IRI for instances of an nmb class (or of its subclasses), or the classes themselves.

    Keys are rdfs:label, skos:altLabel and the IRI's last segment; when two things share a key, instances win
    over classes and labels over alternative labels over IRI names, so the answer does not depend on the engine.
    """
    cache = engine.__dict__.setdefault("_labels_cache", {})  # a release does not change under an engine
    if cls_local not in cache:
        cache[cls_local] = _labels_of(engine, cls_local)
    return cache[cls_local]


def _labels_of(engine: Engine, cls_local: str) -> dict[str, str]:
    """labels_of without the cache. Four simple branches: a join of two UNION groups is a nested loop in
    pyoxigraph (400 ms instead of 2 ms on the 10x synthetic graph)."""
    sub = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
    cls = f"<{NMB}{cls_local}>"
    q = f"""SELECT ?x ?l ?rank WHERE {{
      {{ ?c {sub}* {cls} . ?x a ?c ; <{RDFS_LABEL}> ?l . BIND(0 AS ?rank) }}
      UNION {{ ?c {sub}* {cls} . ?x a ?c ; <{SKOS_ALT}> ?l . BIND(1 AS ?rank) }}
      UNION {{ ?x {sub}+ {cls} ; <{RDFS_LABEL}> ?l . BIND(2 AS ?rank) }}
      UNION {{ ?x {sub}+ {cls} ; <{SKOS_ALT}> ?l . BIND(3 AS ?rank) }} }}"""
    found: list[tuple[int, str, str]] = []
    for x, lab, rank in engine.select(q, {}).rows:
        found.append((int(rank.value), lab.value.lower(), x.value))
        found.append((10 + int(rank.value), re.split(r"[/#]", x.value)[-1].lower(), x.value))
    out: dict[str, str] = {}
    for _, key, iri in sorted(found):
        out.setdefault(key, iri)
    return out


_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


def coerce(engine: Engine, p: Param, raw: str) -> Value:
    """Turn a command-line value into a typed RDF term, or raise a one-line QueryError."""
    if "\n" in raw or len(raw) > 500:
        raise QueryError(f"parameter {p.name}: value is too long or has line breaks")
    if p.kind in ("number", "integer"):
        try:
            d = Decimal(raw)
        except InvalidOperation as exc:
            raise QueryError(f"parameter {p.name} must be a number, got {raw!r}") from exc
        if not d.is_finite():
            raise QueryError(f"parameter {p.name} must be a finite number, got {raw!r}")
        if p.kind == "integer":
            if d != d.to_integral_value():
                raise QueryError(f"parameter {p.name} must be a whole number, got {raw!r}")
            return Value("literal", str(int(d)), XSD + "integer")
        return Value("literal", format(d, "f"), XSD + "decimal")
    if p.kind == "enum" or p.choices:
        if raw.lower() not in [c.lower() for c in p.choices]:
            raise QueryError(f"parameter {p.name} must be one of {', '.join(p.choices)}, got {raw!r}")
        return Value("literal", raw.lower())
    if p.kind == "iri":
        if _IRI.match(raw):
            return Value("iri", raw)
        if p.lookup:
            labels = labels_of(engine, p.lookup)
            if raw.lower() in labels:
                return Value("iri", labels[raw.lower()])
            near = difflib.get_close_matches(raw.lower(), list(labels), n=5, cutoff=0.3)
            known = ", ".join(near) if near else ", ".join(sorted(labels)[:10])
            raise QueryError(f"parameter {p.name}: no {p.lookup} labelled {raw!r}; closest: {known}")
        raise QueryError(f"parameter {p.name} must be an IRI (http...), got {raw!r}")
    return Value("literal", raw)


def bind(engine: Engine, q: StoredQuery, given: dict[str, str]) -> dict[str, Value]:
    """Check and bind the parameters of a stored query."""
    known = {p.name: p for p in q.params}
    for k in given:
        if k not in known:
            names = ", ".join(known) or "none"
            raise QueryError(f"query {q.name} has no parameter {k!r} (parameters: {names})")
    out = {}
    for p in q.params:
        raw = given.get(p.name, p.default)
        if raw is None or raw == "":
            if p.required:
                raise QueryError(f"query {q.name} needs --param {p.name}=...")
            continue
        out[p.name] = coerce(engine, p, raw)
    return out


def run_stored(engine: Engine, q: StoredQuery, given: dict[str, str]) -> Result:
    """Run a stored query with bound parameters; parameter-only columns are dropped from the result.

    pyoxigraph substitutes only variables of the SELECT clause, so every parameter variable is projected
    in the query text; columns not declared in '#+ returns' are removed here. Columns named in '#+ lists'
    hold '; '-separated GROUP_CONCAT values, whose order no engine fixes: their items are sorted here.
    """
    res = engine.select(q.text, bind(engine, q, given))
    drop = {p.name for p in q.params} - set(q.returns) if q.returns else set()
    keep = [i for i, v in enumerate(res.variables) if v not in drop]
    lists = {v.lstrip("?") for v in q.meta.get("lists", "").split()}
    rows = [[_sorted_list(row[i]) if res.variables[i] in lists else row[i] for i in keep] for row in res.rows]
    return Result([res.variables[i] for i in keep], rows)


def _natural(text: str) -> list:
    """Sort key that orders embedded numbers by value ('ref 9' before 'ref 10')."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.split(r"(\d+)", text) if t]


def _sorted_list(v: Value | None) -> Value | None:
    """A '; '-separated list value with its items de-duplicated and sorted."""
    if v is None or v.kind != "literal" or not v.value:
        return v
    items = sorted({i.strip() for i in v.value.split(LIST_SEPARATOR) if i.strip()}, key=_natural)
    return Value("literal", LIST_SEPARATOR.join(items))


def run_file(engine: Engine, path: Path, given: dict[str, str]) -> Result:
    """Run an ad-hoc .rq file (its header, if any, declares parameters)."""
    if not path.is_file():
        raise QueryError(f"no such query file: {path}")
    return run_stored(engine, parse_query(path), given)
