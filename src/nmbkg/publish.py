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

from rdflib import OWL, RDF, RDFS, SKOS, XSD, BNode, Dataset, Graph, Literal, Namespace, URIRef
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


def write_jsonld(tmp: Path, published: Graph, onto: Graph) -> dict:
    """context.jsonld, and nmbkg.jsonld / ontology.jsonld compacted with that context."""
    ctx = jsonld_context(onto)
    (tmp / "context.jsonld").write_text(json.dumps({"@context": ctx}, indent=2) + "\n", encoding="utf-8")
    published.serialize(tmp / "nmbkg.jsonld", format="json-ld", context=ctx)
    onto.serialize(tmp / "ontology.jsonld", format="json-ld", context=ctx)
    return ctx


# ---------------------------------------------------------------------------------------------- N-Quads
def write_nquads(tmp: Path, base: str, data: Graph, inferred_marked: Graph, onto: Graph, meta: Graph) -> None:
    """nmbkg.nq: the asserted, inferred (with their reification marks), ontology and metadata graphs."""
    ds = Dataset()
    for name, g in (("asserted", data), ("inferred", inferred_marked), ("ontology", onto), ("metadata", meta)):
        target = ds.graph(graph_iri(base, name))
        for t in g:
            target.add(t)
    ds.serialize(tmp / "nmbkg.nq", format="nquads", encoding="utf-8")


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


def docs_graph(onto: Graph, data: Graph) -> Graph:
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
        examples = _term_examples(term, onto, data)
        if examples:
            g.add((term, SKOS.example, Literal("\n".join(examples))))
    return g


def _term_examples(term: URIRef, onto: Graph, data: Graph) -> list[str]:
    """Up to three uses of a class (instances) or a property (subject and value) in the data."""
    if (term, RDF.type, OWL.Class) in onto:
        xs = sorted({s for s in data.subjects(RDF.type, term) if isinstance(s, URIRef)})[:3]
        return [_short(x) + " a " + _short(term) for x in xs]
    uses = sorted((s, o) for s, o in data.subject_objects(term) if isinstance(s, URIRef))[:3]
    return [f"{_short(s)} {_short(term)} {_short(o) if isinstance(o, URIRef) else json.dumps(str(o))}" for s, o in uses]


def _short(iri) -> str:
    """A prefixed name for the documentation examples (id:, nmb: and the other PREFIXES)."""
    text = str(iri)
    for prefix, ns in PREFIXES.items():
        if text.startswith(ns) and len(text) > len(ns):
            return f"{prefix}:{text[len(ns):]}"
    return f"<{text}>"


def write_ontology_docs(path: Path, onto: Graph, data: Graph) -> None:
    """HTML documentation of the ontology by pyLODE, with an anchor per term named by its local name."""
    OntPub = _import_pylode()
    html = OntPub(ontology=docs_graph(onto, data), sort_subjects=True).make_html()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(add_individuals(local_name_anchors(html), onto, data), encoding="utf-8")


def local_name_anchors(html: str) -> str:
    """Give each term section an extra anchor named by its IRI's local name, so ontology#Term links land on it."""
    pat = re.compile(r'(<div class="[^"]*entity[^"]*" id="[^"]*">)(\s*<h3>.*?<code>' + re.escape(NMB_NS)
                     + r'([A-Za-z0-9_]+)</code>)', re.DOTALL)
    return pat.sub(lambda m: f'<span id="{m.group(3)}"></span>{m.group(1)}{m.group(2)}', html)


def add_individuals(html: str, onto: Graph, data: Graph) -> str:
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
        uses = sorted((s, p) for s, p in data.subject_predicates(i) if isinstance(s, URIRef))[:3]
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

    store = ox.Store()
    for name in ("nmbkg.nt", "ontology.nt"):
        store.bulk_load(path=str(folder / name), format=ox.RdfFormat.N_TRIPLES)
    return store


def write_extras(tmp: Path, data: Graph, inferred: Graph, published: Graph, onto: Graph, info: dict,
                 id_base: str) -> None:
    """Everything beyond the plain dumps: JSON-LD with context, N-Quads, ontology docs, VoID/DCAT, site."""
    from .export import mark_inferred
    from .site import write_site

    base = id_base.removesuffix("id/")
    inferred_marked = Graph()
    inferred_marked += inferred
    inferred_marked += mark_inferred(inferred, id_base)
    write_jsonld(tmp, published, onto)
    store = release_store(tmp)
    sizes = {"asserted": len(data), "inferred": len(inferred_marked), "ontology": len(onto)}
    core = dataset_core(store, base, data, sizes, info)
    write_nquads(tmp, base, data, inferred_marked, onto, core)
    write_ontology_docs(tmp / "docs" / "ontology.html", onto, data)
    void = Graph()
    for prefix, ns in core.namespaces():
        void.bind(prefix, ns)
    void += core
    add_distributions(void, base, tmp)
    void.serialize(tmp / "void.ttl", format="turtle")
    write_site(tmp / "site", store, tmp, base, info)
