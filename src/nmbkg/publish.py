"""Release extras: JSON-LD context, N-Quads with named graphs, VoID/DCAT description, ontology docs, site."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import sys
import types
from datetime import UTC, datetime
from pathlib import Path

from rdflib import OWL, RDF, RDFS, SKOS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, VOID

from .config import DEFAULT_BASE

DCAT = Namespace("http://www.w3.org/ns/dcat#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
BIBO = Namespace("http://purl.org/ontology/bibo/")
IANA = "https://www.iana.org/assignments/media-types/"
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
NMB_NS = DEFAULT_BASE + "ontology#"

PREFIXES = {
    "nmb": NMB_NS,
    "id": DEFAULT_BASE + "id/",
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "bibo": str(BIBO),
    "qudt": "http://qudt.org/schema/qudt/",
    "unit": "http://qudt.org/vocab/unit/",
    "vann": "http://purl.org/vocab/vann/",
}

# File name -> (media type, title); the dumps described in void.ttl, in this order.
DUMPS = {
    "nmbkg.ttl": ("text/turtle", "Data with inferred memberships, Turtle"),
    "nmbkg.nt": ("application/n-triples", "Data with inferred memberships, N-Triples"),
    "nmbkg.jsonld": ("application/ld+json", "Data with inferred memberships, JSON-LD (uses context.jsonld)"),
    "nmbkg.nq": ("application/n-quads", "Asserted, inferred, ontology and metadata graphs, N-Quads"),
    "ontology.ttl": ("text/turtle", "Ontology with its mappings, Turtle"),
    "ontology.owl": ("application/rdf+xml", "Ontology with its mappings, RDF/XML"),
    "ontology.nt": ("application/n-triples", "Ontology with its mappings, N-Triples"),
    "ontology.jsonld": ("application/ld+json", "Ontology with its mappings, JSON-LD"),
    "context.jsonld": ("application/ld+json", "JSON-LD context of the nmbkg vocabulary"),
}

TITLE = "nmbkg: electrolyte engineering for sodium-metal batteries"
DESCRIPTION = (
    "A knowledge graph of electrolytes for sodium-metal anodes: formulations and their constituents in "
    "their roles, cell-test and material measurements with their conditions and units, interphase species, "
    "mechanisms, properties and strategies. Every fact points to the cited work that reports it and to the "
    "place (section, paragraph, table row) of the source review where it is stated."
)


def graph_iri(base: str, name: str) -> URIRef:
    """IRI of a named graph of the release: asserted, inferred, ontology or metadata."""
    return URIRef(f"{base}graph/{name}")


def dataset_iri(base: str) -> URIRef:
    """IRI of the dataset described by void.ttl."""
    return URIRef(base + "dataset")


# ---------------------------------------------------------------------------------------------- JSON-LD
def jsonld_context(onto: Graph) -> dict:
    """The @context: prefixes, plus one term per nmb property (object properties typed @id)."""
    ctx: dict = dict(PREFIXES)
    for p in sorted(set(onto.subjects(RDF.type, OWL.ObjectProperty)) | set(onto.subjects(RDF.type,
                                                                                         OWL.DatatypeProperty))):
        name = str(p)
        if not name.startswith(NMB_NS):
            continue
        local = name[len(NMB_NS):]
        if local in ctx or not re.match(r"^[A-Za-z][A-Za-z0-9]*$", local):
            continue
        if (p, RDF.type, OWL.ObjectProperty) in onto:
            ctx[local] = {"@id": f"nmb:{local}", "@type": "@id"}
        else:
            ctx[local] = {"@id": f"nmb:{local}"}
    ctx["label"] = {"@id": "rdfs:label"}
    return ctx


def write_jsonld(tmp: Path, onto: Graph) -> dict:
    """context.jsonld, and nmbkg.jsonld / ontology.jsonld compacted with that context (streamed)."""
    ctx = jsonld_context(onto)
    (tmp / "context.jsonld").write_text(json.dumps({"@context": ctx}, indent=2) + "\n", encoding="utf-8")
    write_compact_jsonld(tmp / "nmbkg.nt", tmp / "nmbkg.jsonld", ctx)
    write_compact_jsonld(tmp / "ontology.nt", tmp / "ontology.jsonld", ctx)
    return ctx


class Compactor:
    """Compacts IRIs and values with the nmbkg @context: terms for properties, prefixes elsewhere."""

    SAFE_LOCAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")  # a JSON-LD compact IRI suffix (no '//' start)

    def __init__(self, ctx: dict):
        self.prefixes = sorted(((v, k) for k, v in ctx.items() if isinstance(v, str) and v[-1:] in "#/"),
                               key=lambda kv: -len(kv[0]))
        self.terms: dict[str, tuple[str, bool]] = {}
        for name, d in ctx.items():
            if isinstance(d, dict):
                self.terms.setdefault(self.expand(d["@id"]), (name, d.get("@type") == "@id"))

    def expand(self, text: str) -> str:
        """A compact IRI of the context back to the full IRI."""
        prefix, _, local = text.partition(":")
        for iri, name in self.prefixes:
            if name == prefix:
                return iri + local
        return text

    def iri(self, iri: str) -> str:
        """prefix:suffix when a prefix covers the IRI with a plain suffix, else the full IRI."""
        for ns, name in self.prefixes:
            if iri.startswith(ns) and self.SAFE_LOCAL.match(iri[len(ns):]):
                return f"{name}:{iri[len(ns):]}"
        return iri

    def node_id(self, term) -> str:
        """@id of a subject or object: compact IRI or _:blank."""
        import pyoxigraph as ox

        return f"_:{term.value}" if isinstance(term, ox.BlankNode) else self.iri(term.value)

    def key(self, predicate: str) -> tuple[str, bool]:
        """(JSON key, values are plain IRIs) of a predicate."""
        return self.terms.get(predicate) or (self.iri(predicate), False)

    def value(self, term, id_typed: bool):
        """A JSON-LD value for an object term, in the shortest form the term definition allows."""
        import pyoxigraph as ox

        if isinstance(term, ox.Literal):
            if term.language:
                return {"@value": term.value, "@language": term.language}
            if term.datatype.value == XSD_STRING and not id_typed:
                return term.value
            return {"@value": term.value, "@type": self.iri(term.datatype.value)}
        return self.node_id(term) if id_typed else {"@id": self.node_id(term)}


XSD_STRING = str(XSD.string)


def write_compact_jsonld(nt: Path, target: Path, ctx: dict) -> None:
    """JSON-LD of an N-Triples file: {"@context": ctx, "@graph": [one node object per subject]}, streamed.

    Node objects are written in subject order, their values sorted; rdf:type becomes @type, properties use the
    context's terms. The triples are grouped by subject in memory once (as pyoxigraph terms), never as a
    JSON tree of the whole graph.
    """
    import pyoxigraph as ox

    c = Compactor(ctx)
    rdf_type = str(RDF.type)
    nodes: dict = {}
    for t in ox.parse(path=str(nt), format=ox.RdfFormat.N_TRIPLES):
        nodes.setdefault(t.subject, []).append((t.predicate, t.object))
    with target.open("w", encoding="utf-8") as out:
        out.write('{\n  "@context": ' + json.dumps(ctx, indent=2).replace("\n", "\n  ") + ',\n  "@graph": [')
        for n, subject in enumerate(sorted(nodes, key=str)):
            node: dict = {"@id": c.node_id(subject)}
            for predicate, obj in sorted(nodes[subject], key=lambda po: (po[0].value, str(po[1]))):
                if predicate.value == rdf_type and not isinstance(obj, ox.Literal):
                    node.setdefault("@type", []).append(c.node_id(obj))
                    continue
                key, id_typed = c.key(predicate.value)
                node.setdefault(key, []).append(c.value(obj, id_typed))
            out.write(("\n    " if n == 0 else ",\n    ") + json.dumps(node, ensure_ascii=False))
        out.write("\n  ]\n}\n")


# ---------------------------------------------------------------------------------------------- N-Quads
def write_nquads(tmp: Path, base: str, parts: Path, meta: Graph) -> None:
    """nmbkg.nq: the asserted, inferred (with their reification marks), ontology and metadata graphs (streamed)."""
    import itertools

    import pyoxigraph as ox

    from .export import write_ntriples

    meta_nt = parts / "metadata.nt"
    write_ntriples(meta, meta_nt, canonical=True)
    sources = (("asserted", parts / "asserted.nt"), ("inferred", parts / "inferred.nt"),
               ("ontology", tmp / "ontology.nt"), ("metadata", meta_nt))
    quads = itertools.chain.from_iterable(
        (ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(str(graph_iri(base, name))))
         for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES))
        for name, path in sources)
    ox.serialize(quads, str(tmp / "nmbkg.nq"), ox.RdfFormat.N_QUADS)


# ---------------------------------------------------------------------------------------------- VoID / DCAT
def _review(data: Graph, base: str) -> dict:
    """Title, DOI, authors, year and journal of the source review, as recorded in the data."""
    w = URIRef(base + "id/work/review")
    get = lambda p: next((str(o) for o in data.objects(w, p)), "")
    return {"iri": w, "title": get(DCTERMS.title), "doi": get(BIBO.doi), "authors": get(URIRef(NMB_NS + "authorsAsPrinted")),
            "year": get(URIRef(NMB_NS + "publicationYear")), "journal": get(URIRef(NMB_NS + "journalAbbreviation")),
            "volume": get(BIBO.volume), "pages": get(BIBO.pages)}


def review_citation(review: dict) -> str:
    """The review as a one-line reference."""
    doi = f" doi:{review['doi']}" if review["doi"] else ""
    return (f"{review['authors']} {review['title']}. {review['journal']} {review['year']}, {review['volume']}, "
            f"{review['pages']}.{doi}")


def build_date() -> str:
    """The build date (SOURCE_DATE_EPOCH when set, for reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return when.date().isoformat()


def dataset_citation(version: str, date: str, base: str) -> str:
    """How to cite the dataset."""
    return f"nmbkg developers ({date[:4]}). {TITLE}, version {version}. {base}"


def _counts(store) -> dict:
    """Triple, subject, class and property counts of the default graph, as the endpoint sees it."""
    q = {"triples": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
         "subjects": "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }",
         "properties": "SELECT (COUNT(DISTINCT ?p) AS ?n) { ?s ?p ?o }",
         "classes": "SELECT (COUNT(DISTINCT ?c) AS ?n) { ?s a ?c }"}
    return {k: int(next(iter(store.query(v)))["n"].value) for k, v in q.items()}


def _class_partitions(store, id_base: str) -> list[tuple[str, int]]:
    """Instances per nmb class among data IRIs (asserted and inferred)."""
    rows = store.query(f"""SELECT ?c (COUNT(DISTINCT ?x) AS ?n) {{ ?x a ?c .
        FILTER(STRSTARTS(STR(?x), "{id_base}") && STRSTARTS(STR(?c), "{NMB_NS}")) }} GROUP BY ?c ORDER BY ?c""")
    return [(r["c"].value, int(r["n"].value)) for r in rows]


def _examples(store, id_base: str) -> list[str]:
    """A few example resources: the first electrolyte, substance, measurement and cited work."""
    out = []
    for kind in ("electrolyte", "substance", "measurement", "work"):
        rows = list(store.query(f"""SELECT DISTINCT ?x {{ ?x <{RDFS.label}> ?l .
            FILTER(STRSTARTS(STR(?x), "{id_base}{kind}/")) }} ORDER BY ?x LIMIT 1"""))
        out += [r["x"].value for r in rows]
    return out


def dataset_core(store, base: str, data: Graph, sizes: dict[str, int], info: dict) -> Graph:
    """The dataset description without the distributions: what the metadata graph holds."""
    g = Graph()
    for k, v in dict(PREFIXES, void=str(VOID), dcat=str(DCAT), foaf=str(FOAF), sd=str(SD), spdx=str(SPDX)).items():
        g.bind(k, v)
    d = dataset_iri(base)
    review = _review(data, base)
    version = str(info.get("version", ""))
    date = build_date()
    counts = _counts(store)
    g.add((d, RDF.type, VOID.Dataset))
    g.add((d, RDF.type, DCAT.Dataset))
    g.add((d, DCTERMS.title, Literal(TITLE, lang="en")))
    g.add((d, DCTERMS.description, Literal(DESCRIPTION, lang="en")))
    g.add((d, DCTERMS.license, CC_BY))
    creator = URIRef(base + "id/agent/nmbkg-developers")
    g.add((d, DCTERMS.creator, creator))
    g.add((d, DCTERMS.publisher, creator))
    g.add((creator, RDF.type, FOAF.Organization))
    g.add((creator, FOAF.name, Literal("nmbkg developers")))
    g.add((d, DCAT.version, Literal(version)))
    g.add((d, OWL.versionInfo, Literal(version)))
    g.add((d, DCTERMS.modified, Literal(date, datatype=XSD.date)))
    g.add((d, DCTERMS.bibliographicCitation, Literal(dataset_citation(version, date, base))))
    g.add((d, DCAT.landingPage, URIRef(base)))
    for kw in ("sodium-metal battery", "electrolyte", "solid electrolyte interphase", "knowledge graph"):
        g.add((d, DCAT.keyword, Literal(kw, lang="en")))
    _add_source(g, d, review)
    g.add((d, VOID.triples, Literal(counts["triples"], datatype=XSD.integer)))
    g.add((d, VOID.distinctSubjects, Literal(counts["subjects"], datatype=XSD.integer)))
    g.add((d, VOID.properties, Literal(counts["properties"], datatype=XSD.integer)))
    g.add((d, VOID.classes, Literal(counts["classes"], datatype=XSD.integer)))
    g.add((d, VOID.uriSpace, Literal(base + "id/")))
    g.add((d, VOID.vocabulary, URIRef(base + "ontology")))
    for ex in _examples(store, base + "id/"):
        g.add((d, VOID.exampleResource, URIRef(ex)))
    _add_endpoint(g, d, base)
    for cls, n in _class_partitions(store, base + "id/"):
        part = URIRef(f"{d}/class/{cls[len(NMB_NS):]}")
        g.add((d, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(cls)))
        g.add((part, VOID.entities, Literal(n, datatype=XSD.integer)))
    for name, n in sizes.items():
        sub = graph_iri(base, name)
        g.add((d, VOID.subset, sub))
        g.add((sub, RDF.type, VOID.Dataset))
        g.add((sub, SD.name, sub))
        g.add((sub, DCTERMS.title, Literal(f"{name} graph", lang="en")))
        g.add((sub, VOID.triples, Literal(n, datatype=XSD.integer)))
    if info.get("reasoned"):
        act = URIRef(base + "id/activity/hermit-reasoning")
        g.add((act, RDF.type, PROV.Activity))
        g.add((act, RDFS.label, Literal("OWL reasoning with HermiT", lang="en")))
        g.add((act, RDFS.comment, Literal("Derived the class memberships of the inferred graph from the ontology "
                                          "and the asserted data.", lang="en")))
        g.add((act, PROV.used, URIRef(base + "ontology")))
        g.add((act, PROV.generated, graph_iri(base, "inferred")))
    meta = graph_iri(base, "metadata")
    g.add((meta, SD.name, meta))
    g.add((meta, DCTERMS.title, Literal("metadata graph: this description of the dataset", lang="en")))
    return g


def _add_source(g: Graph, d: URIRef, review: dict) -> None:
    """The source review: its work IRI in the graph, and its DOI as printed in its citation line."""
    g.add((d, DCTERMS.source, review["iri"]))
    g.add((d, PROV.wasDerivedFrom, review["iri"]))
    g.add((review["iri"], DCTERMS.title, Literal(review["title"])))
    g.add((review["iri"], DCTERMS.bibliographicCitation, Literal(review_citation(review))))
    if review["doi"]:
        doi_iri = URIRef(f"https://doi.org/{review['doi']}")
        g.add((d, DCTERMS.source, doi_iri))
        g.add((review["iri"], BIBO.doi, Literal(review["doi"])))
        g.add((review["iri"], OWL.sameAs, doi_iri))
        g.add((review["iri"], DCTERMS.license, CC_BY))


def _add_endpoint(g: Graph, d: URIRef, base: str) -> None:
    """The SPARQL endpoint, as VoID and as a DCAT data service."""
    ep = URIRef(base + "sparql")
    g.add((d, VOID.sparqlEndpoint, ep))
    g.add((d, DCAT.accessService, ep))
    g.add((ep, RDF.type, DCAT.DataService))
    g.add((ep, RDF.type, SD.Service))
    g.add((ep, DCAT.endpointURL, ep))
    g.add((ep, SD.endpoint, ep))
    g.add((ep, DCTERMS.title, Literal("nmbkg SPARQL 1.1 endpoint (read-only)", lang="en")))
    g.add((ep, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    g.add((ep, DCAT.endpointDescription, ep))
    g.add((ep, DCAT.servesDataset, d))


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def add_distributions(g: Graph, base: str, folder: Path) -> None:
    """One dcat:Distribution per dump present in folder: URL, media type, byte size, SHA-256."""
    d = dataset_iri(base)
    for name, (media, title) in DUMPS.items():
        path = folder / name
        if not path.is_file():
            continue
        dist = URIRef(f"{base}distribution/{name}")
        url = URIRef(base + name)
        g.add((d, DCAT.distribution, dist))
        if name != "context.jsonld":
            g.add((d, VOID.dataDump, url))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.title, Literal(title, lang="en")))
        g.add((dist, DCAT.downloadURL, url))
        g.add((dist, DCAT.accessURL, url))
        g.add((dist, DCAT.mediaType, URIRef(IANA + media)))
        g.add((dist, DCTERMS.format, Literal(media)))
        g.add((dist, DCAT.byteSize, Literal(path.stat().st_size, datatype=XSD.nonNegativeInteger)))
        g.add((dist, DCTERMS.license, CC_BY))
        ck = BNode()
        g.add((dist, SPDX.checksum, ck))
        g.add((ck, RDF.type, SPDX.Checksum))
        g.add((ck, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((ck, SPDX.checksumValue, Literal(sha256(path), datatype=XSD.hexBinary)))


# ---------------------------------------------------------------------------------------------- pyLODE docs
def _import_pylode():
    """Import pyLODE's OntPub; pyLODE 3.4.1 reads its version from a pyproject.toml that wheels lack (pyLODE#260)."""
    if "pylode.version" not in sys.modules:
        shim = types.ModuleType("pylode.version")
        shim.__version__ = importlib.metadata.version("pylode")
        sys.modules["pylode.version"] = shim
    import logging

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    from pylode import OntPub  # its supermodel loader calls logging.basicConfig(level=DEBUG) on import

    root.setLevel(level)
    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)
    return OntPub


MATCHES = {SKOS.exactMatch: "exact match", SKOS.closeMatch: "close match", SKOS.broadMatch: "broad match",
           SKOS.narrowMatch: "narrow match", SKOS.relatedMatch: "related match", OWL.equivalentClass: "equivalent"}


def docs_graph(onto: Graph, store) -> Graph:
    """The ontology with, for pyLODE, its mappings and up to three data examples written as notes."""
    g = Graph()
    g += onto
    for term in sorted(set(onto.subjects()) - {URIRef(DEFAULT_BASE + "ontology")}):
        if not isinstance(term, URIRef) or not str(term).startswith(NMB_NS):
            continue
        maps = [f"{MATCHES[p]} <{o}>" for p in MATCHES for o in sorted(onto.objects(term, p)) if isinstance(o, URIRef)
                and not str(o).startswith(NMB_NS)]
        maps += [f"subclass of <{o}>" for o in sorted(onto.objects(term, RDFS.subClassOf))
                 if isinstance(o, URIRef) and not str(o).startswith(NMB_NS)]
        if maps:
            g.add((term, SKOS.note, Literal("Mappings: " + "; ".join(maps) + ".")))
        examples = _term_examples(term, onto, store)
        if examples:
            g.add((term, SKOS.example, Literal("\n".join(examples))))
    return g


def _term_examples(term: URIRef, onto: Graph, store) -> list[str]:
    """Up to three uses of a class (instances) or a property (subject and value) in the published data
    (data IRIs only), first in IRI order; asked of the release's pyoxigraph store, so it stays fast at scale."""
    ids = DEFAULT_BASE + "id/"
    if (term, RDF.type, OWL.Class) in onto:
        rows = store.query(f'SELECT ?x {{ ?x a <{term}> FILTER(STRSTARTS(STR(?x), "{ids}")) }} ORDER BY ?x LIMIT 3')
        return [_short(r["x"].value) + " a " + _short(term) for r in rows]
    rows = store.query(f'SELECT ?s ?o {{ ?s <{term}> ?o FILTER(STRSTARTS(STR(?s), "{ids}")) }} ORDER BY ?s ?o LIMIT 3')
    out = []
    for r in rows:
        o = r["o"]
        value = _short(o.value) if type(o).__name__ == "NamedNode" else json.dumps(o.value)
        out.append(f"{_short(r['s'].value)} {_short(term)} {value}")
    return out


def _short(iri) -> str:
    """A prefixed name for the documentation examples (id:, nmb: and the other PREFIXES)."""
    text = str(iri)
    for prefix, ns in PREFIXES.items():
        if text.startswith(ns) and len(text) > len(ns):
            return f"{prefix}:{text[len(ns):]}"
    return f"<{text}>"


def write_ontology_docs(path: Path, onto: Graph, store) -> None:
    """HTML documentation of the ontology by pyLODE, with an anchor per term named by its local name."""
    OntPub = _import_pylode()
    html = OntPub(ontology=docs_graph(onto, store), sort_subjects=True).make_html()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(add_individuals(local_name_anchors(html), onto, store), encoding="utf-8")


def local_name_anchors(html: str) -> str:
    """Give each term section an extra anchor named by its IRI's local name, so ontology#Term links land on it."""
    pat = re.compile(r'(<div class="[^"]*entity[^"]*" id="[^"]*">)(\s*<h3>.*?<code>' + re.escape(NMB_NS)
                     + r'([A-Za-z0-9_]+)</code>)', re.DOTALL)
    return pat.sub(lambda m: f'<span id="{m.group(3)}"></span>{m.group(1)}{m.group(2)}', html)


def add_individuals(html: str, onto: Graph, store) -> str:
    """pyLODE leaves out named individuals (mechanisms, methods, roles, units): add a section for them."""
    from markupsafe import Markup, escape

    inds = sorted(i for i in onto.subjects(RDF.type, OWL.NamedIndividual)
                  if isinstance(i, URIRef) and str(i).startswith(NMB_NS))
    if not inds or '<div id="namespaces">' not in html:
        return html
    blocks = []
    for i in inds:
        local = str(i)[len(NMB_NS):]
        rows = [("IRI", Markup("<code>{}</code>").format(i))]
        types = [t for t in sorted(onto.objects(i, RDF.type)) if t != OWL.NamedIndividual]
        rows.append(("Type", Markup(", ").join(_doc_link(t, onto) for t in types)))
        for p, name in ((SKOS.definition, "Definition"), (RDFS.comment, "Comment")):
            for v in onto.objects(i, p):
                rows.append((name, Markup("<p>{}</p>").format(v)))
        maps = [Markup('{} <a href="{}">{}</a>').format(MATCHES[p], o, o) for p in MATCHES
                for o in sorted(onto.objects(i, p)) if isinstance(o, URIRef)]
        if maps:
            rows.append(("Mappings", Markup("; ").join(maps)))
        uses = [(r["s"].value, r["p"].value) for r in store.query(
            f'SELECT ?s ?p {{ ?s ?p <{i}> FILTER(STRSTARTS(STR(?s), "{DEFAULT_BASE}id/")) }} ORDER BY ?s ?p LIMIT 3')]
        if uses:
            rows.append(("Example", Markup("<pre>{}</pre>").format(
                "\n".join(f"{_short(s)} {_short(p)} {_short(i)}" for s, p in uses))))
        cells = "".join(Markup("<tr><th>{}</th><td>{}</td></tr>").format(k, v) for k, v in rows)
        label = onto.value(i, RDFS.label) or local
        blocks.append(f'<span id="{escape(local)}"></span><div class="property entity" id="individual-{escape(local)}">'
                      f'<h3>{escape(label)} <sup class="sup-ni" title="OWL Named Individual">ni</sup></h3>'
                      f"<table>{cells}</table></div>")
    section = ('<div class="section" id="individuals"><h2>Named Individuals</h2>\n' + "\n".join(blocks)
               + "</div>\n")
    html = html.replace('<div id="namespaces">', section + '<div id="namespaces">', 1)
    toc = '<li><h4><a href="#individuals">Named Individuals</a></h4></li>'
    return re.sub(r'(<li>\s*<h4>\s*<a href="#namespaces">)', toc + r"\1", html, count=1)


def _doc_link(term, onto: Graph) -> str:
    """Link to a term's section in the docs (nmb terms) or to the term itself."""
    from markupsafe import Markup

    label = onto.value(term, RDFS.label) or _short(term)
    if str(term).startswith(NMB_NS):
        return Markup('<a href="#{}">{}</a>').format(str(term)[len(NMB_NS):], label)
    return Markup('<a href="{}">{}</a>').format(term, label)


# ---------------------------------------------------------------------------------------------- entry point
def release_store(folder: Path):
    """pyoxigraph store with the release's data and ontology in its default graph (as the endpoint loads it)."""
    import pyoxigraph as ox

    from .store import bulk_load

    store = ox.Store()
    bulk_load(store, [folder / "nmbkg.nt", folder / "ontology.nt"])
    return store


def write_extras(tmp: Path, data: Graph, onto: Graph, info: dict, id_base: str,
                 parts: Path) -> None:
    """Everything beyond the plain dumps: JSON-LD with context, N-Quads, ontology docs, VoID/DCAT, site.

    parts holds asserted.nt (the data) and inferred.nt (inferred triples with their marks).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from .site import write_index, write_pages_job

    base = id_base.removesuffix("id/")
    # The site pages need only nmbkg.nt and ontology.nt: a second process writes them while this one writes
    # the other dumps (two cores); the home page, which lists every dump with its checksum, comes last.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        pages = pool.submit(write_pages_job, str(tmp / "site"), str(tmp), base, info)
        write_jsonld(tmp, onto)
        store = release_store(tmp)
        sizes = {"asserted": len(data), "inferred": _lines(parts / "inferred.nt"), "ontology": len(onto)}
        core = dataset_core(store, base, data, sizes, info)
        write_nquads(tmp, base, parts, core)
        write_ontology_docs(tmp / "docs" / "ontology.html", onto, store)
        void = Graph()
        for prefix, ns in core.namespaces():
            void.bind(prefix, ns)
        void += core
        add_distributions(void, base, tmp)
        void.serialize(tmp / "void.ttl", format="turtle")
        pages.result()
    write_index(tmp / "site", store, tmp, base, info)


def _lines(path: Path) -> int:
    """Number of triples of an N-Triples file written by rdflib (one per line)."""
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())
