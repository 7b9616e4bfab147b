"""Release extras of a real build: N-Quads, JSON-LD with context, VoID/DCAT, ontology docs, static site, plots."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import run_cli
from rdflib import OWL, RDF, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, VOID

BASE = "https://w3id.org/nmbkg/"
NMB = Namespace(BASE + "ontology#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DATASET = URIRef(BASE + "dataset")
REVIEW_DOI = "10.3390/batteries8100157"  # printed in the review's citation line; also in kg/sources.tsv
SERVER_ONLY = {"yasgui"}  # links that only the server answers


def parse(path: Path, fmt: str) -> Graph:
    """A file parsed into an rdflib graph."""
    g = Graph()
    g.parse(path, format=fmt)
    return g


@pytest.fixture(scope="module")
def published(dist):
    """The published data graph (nmbkg.nt)."""
    return parse(dist / "nmbkg.nt", "nt")


@pytest.fixture(scope="module")
def void(dist):
    """void.ttl."""
    return parse(dist / "void.ttl", "turtle")


@pytest.fixture(scope="module")
def quads(dist):
    """nmbkg.nq as a dataset."""
    ds = Dataset()
    ds.parse(dist / "nmbkg.nq", format="nquads")
    return ds


def named(ds: Dataset, name: str) -> Graph:
    """One named graph of the N-Quads file as a plain graph."""
    g = Graph()
    for t in ds.graph(URIRef(f"{BASE}graph/{name}")):
        g.add(t)
    return g


# ---------------------------------------------------------------------------------------------- dumps
@pytest.mark.reasoner
@pytest.mark.parametrize("a,fa,b,fb", [
    ("nmbkg.ttl", "turtle", "nmbkg.nt", "nt"),
    ("nmbkg.jsonld", "json-ld", "nmbkg.nt", "nt"),
    ("ontology.owl", "xml", "ontology.nt", "nt"),
    ("ontology.ttl", "turtle", "ontology.nt", "nt"),
    ("ontology.jsonld", "json-ld", "ontology.nt", "nt"),
], ids=lambda v: v if isinstance(v, str) and "." in v else None)
def test_dumps_are_the_same_graph(dist, a, fa, b, fb):
    """Every serialization of a graph parses back to the same graph."""
    assert isomorphic(parse(dist / a, fa), parse(dist / b, fb))


@pytest.mark.reasoner
def test_nquads_graphs_match_the_build(built, quads, published):
    """Asserted, inferred and ontology graphs of nmbkg.nq are the build's graphs; asserted + inferred = nmbkg.nt."""
    asserted, inferred, onto = named(quads, "asserted"), named(quads, "inferred"), named(quads, "ontology")
    assert isomorphic(asserted, built.built.graph)
    assert isomorphic(onto, built.ontology)
    assert len(built.reasoned.inferred) > 0
    assert all(t in inferred for t in built.reasoned.inferred)
    assert isomorphic(asserted + inferred, published)
    meta = named(quads, "metadata")
    assert (DATASET, RDF.type, VOID.Dataset) in meta


@pytest.mark.reasoner
def test_jsonld_uses_the_published_context(dist):
    """nmbkg.jsonld and ontology.jsonld carry the @context of context.jsonld."""
    ctx = json.loads((dist / "context.jsonld").read_text())["@context"]
    assert ctx["nmb"] == BASE + "ontology#" and ctx["hasComponent"] == {"@id": "nmb:hasComponent", "@type": "@id"}
    for name in ("nmbkg.jsonld", "ontology.jsonld"):
        doc = json.loads((dist / name).read_text())
        assert doc["@context"] == ctx, name


# ---------------------------------------------------------------------------------------------- VoID / DCAT
@pytest.mark.reasoner
def test_void_describes_the_dataset(void, published):
    """Title, description, licence, source review with its DOI, creator, version, date, endpoint, examples."""
    d = DATASET
    for p in (DCTERMS.title, DCTERMS.description, DCTERMS.creator, DCTERMS.modified, OWL.versionInfo,
              VOID.sparqlEndpoint, DCTERMS.bibliographicCitation):
        assert void.value(d, p) is not None, p
    assert (d, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in void
    review = URIRef(BASE + "id/work/review")
    assert (review, URIRef("http://purl.org/ontology/bibo/doi"), Literal(REVIEW_DOI)) in published
    assert (d, DCTERMS.source, URIRef(f"https://doi.org/{REVIEW_DOI}")) in void
    assert (d, DCTERMS.source, review) in void
    examples = list(void.objects(d, VOID.exampleResource))
    assert len(examples) >= 3
    assert all(next(published.triples((e, None, None)), None) for e in examples)


@pytest.mark.reasoner
def test_void_triple_count_is_the_real_count(dist, void):
    """void:triples equals the triples pyoxigraph (the endpoint's engine) loads from the dumps."""
    import pyoxigraph as ox

    store = ox.Store()
    for name in ("nmbkg.nt", "ontology.nt"):
        store.bulk_load(path=str(dist / name), format=ox.RdfFormat.N_TRIPLES)
    real = int(next(iter(store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")))["n"].value)
    assert int(void.value(DATASET, VOID.triples)) == real


@pytest.mark.reasoner
def test_void_subset_counts(quads, void):
    """Each named graph's void:triples equals its size in nmbkg.nq."""
    for name in ("asserted", "inferred", "ontology"):
        sub = URIRef(f"{BASE}graph/{name}")
        assert (DATASET, VOID.subset, sub) in void
        assert int(void.value(sub, VOID.triples)) == len(named(quads, name)), name


@pytest.mark.reasoner
def test_void_distributions_have_size_type_and_checksum(dist, void):
    """Every dump is a dcat:Distribution with its real byte size, media type and SHA-256."""
    dists = list(void.objects(DATASET, DCAT.distribution))
    names = {str(void.value(x, DCAT.downloadURL)).removeprefix(BASE) for x in dists}
    assert {"nmbkg.ttl", "nmbkg.nt", "nmbkg.jsonld", "nmbkg.nq", "ontology.ttl", "ontology.owl"} <= names
    for x in dists:
        name = str(void.value(x, DCAT.downloadURL)).removeprefix(BASE)
        path = dist / name
        assert int(void.value(x, DCAT.byteSize)) == path.stat().st_size, name
        ck = void.value(x, SPDX.checksum)
        assert str(void.value(ck, SPDX.checksumValue)) == hashlib.sha256(path.read_bytes()).hexdigest(), name
        assert str(void.value(x, DCAT.mediaType)).startswith("https://www.iana.org/assignments/media-types/")


# ---------------------------------------------------------------------------------------------- ontology docs
@pytest.mark.reasoner
def test_ontology_docs_cover_every_term(dist, built):
    """docs/ontology.html (pyLODE) has every nmb class, property and individual, an anchor per local name, definitions."""
    html = (dist / "docs" / "ontology.html").read_text()
    onto = built.ontology
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual)
    terms = {s for t in kinds for s in onto.subjects(RDF.type, t) if str(s).startswith(str(NMB))}
    assert len(terms) > 50
    missing = [t for t in terms if f"<code>{t}</code>" not in html]
    assert not missing, missing[:5]
    anchors = set(re.findall(r'<span id="([A-Za-z0-9_]+)"></span>', html))
    assert {str(t)[len(str(NMB)):] for t in terms} <= anchors
    defn = str(onto.value(NMB.CycleLife, URIRef("http://www.w3.org/2004/02/skos/core#definition")))
    assert defn and defn.replace("'", "&#x27;") in html or defn in html


@pytest.mark.reasoner
def test_ontology_docs_show_mappings_and_examples(dist, built):
    """A mapped class shows its EMMO mapping; a class with instances shows data examples."""
    html = (dist / "docs" / "ontology.html").read_text()
    mapped = [(s, o) for s, o in built.ontology.subject_objects(URIRef("http://www.w3.org/2004/02/skos/core#exactMatch"))
              if str(s).startswith(str(NMB))]
    assert mapped
    assert all(str(o) in html for _, o in mapped)
    assert "id:electrolyte/" in html and "Example" in html


# ---------------------------------------------------------------------------------------------- site
class Links(HTMLParser):
    """Collects href and src attributes."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("href", "src") and v:
                self.links.append(v)


def site_links(page: Path) -> list[str]:
    """Links of one HTML page."""
    p = Links()
    p.feed(page.read_text(encoding="utf-8"))
    return p.links


@pytest.mark.reasoner
def test_site_links_resolve_as_plain_files(dist):
    """Every relative link of every site page points at an existing file (the site works from plain files)."""
    site = dist / "site"
    assert len(list(site.rglob("*.html"))) > 300
    broken = broken_links(site)
    assert not broken, broken[:10]


def broken_links(site: Path) -> list[str]:
    """'page -> link' for every relative link of the site that names no file."""
    broken = []
    for page in site.rglob("*.html"):
        for link in site_links(page):
            parts = urlsplit(link)
            if parts.scheme or link.startswith(("#", "data:", "mailto:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if parts.path.rsplit("/", 1)[-1] in SERVER_ONLY:
                continue
            if not target.is_file():
                broken.append(f"{page.relative_to(site)} -> {link}")
    return broken


@pytest.mark.reasoner
def test_page_cap_keeps_every_kind_and_every_link(dist, tmp_path):
    """NMBKG_SITE_PAGES caps the entity pages: each kind keeps its share, no link breaks, the home page says so."""
    copy = tmp_path / "dist"
    shutil.copytree(dist, copy)
    res = run_cli("site", "--data", str(copy), env={"NMBKG_SITE_PAGES": "40"})
    assert res.returncode == 0, res.stderr
    site = copy / "site"
    entity = [p.relative_to(site) for p in site.rglob("*.html") if p.parts[-2] in KINDS or p.parent.name == "mechanism"]
    assert 4 <= len(entity) <= 40
    assert {p.parts[-2] if p.parts[0] == "id" else "mechanism" for p in entity} == set(KINDS) | {"mechanism"}
    assert not broken_links(site)
    note = (site / "index.html").read_text(encoding="utf-8")
    all_pages = len(list((dist / "site").glob("id/*/*.html"))) + len(list((dist / "site").glob("mechanism/*.html")))
    assert f"pages for {len(entity)} of the {all_pages} entities" in note
    assert 'id="page-cap"' not in (dist / "site" / "index.html").read_text(encoding="utf-8")
    bad = run_cli("site", "--data", str(copy), env={"NMBKG_SITE_PAGES": "many"})
    assert bad.returncode == 2 and "NMBKG_SITE_PAGES='many' is not a whole number" in bad.stderr


KINDS = ("electrolyte", "substance", "work")


@pytest.mark.reasoner
def test_site_has_a_page_per_entity(dist, engines):
    """One page per electrolyte, substance, cited work and named mechanism; SEI species link to their pages."""
    ox = engines["oxigraph"]

    def count(q):
        return int(ox.select("PREFIX nmb: <https://w3id.org/nmbkg/ontology#> " + q, {}).rows[0][0].value)

    site = dist / "site"
    assert len(list((site / "id" / "electrolyte").glob("*.html"))) == count(
        f'SELECT (COUNT(DISTINCT ?x) AS ?n) {{ ?x nmb:electrolyteCategory ?c FILTER(STRSTARTS(STR(?x), "{BASE}id/")) }}')
    assert len(list((site / "id" / "substance").glob("*.html"))) == count(
        f'SELECT (COUNT(DISTINCT ?x) AS ?n) {{ ?x <http://www.w3.org/2000/01/rdf-schema#label> ?l '
        f'FILTER(STRSTARTS(STR(?x), "{BASE}id/substance/")) }}')
    assert len(list((site / "id" / "work").glob("*.html"))) == count(
        f'SELECT (COUNT(DISTINCT ?x) AS ?n) {{ ?x <http://purl.org/dc/terms/title> ?t '
        f'FILTER(STRSTARTS(STR(?x), "{BASE}id/work/")) }}')
    assert len(list((site / "mechanism").glob("*.html"))) == count("SELECT (COUNT(DISTINCT ?m) AS ?n) { ?x nmb:mechanism ?m }")
    species = ox.select("PREFIX nmb: <https://w3id.org/nmbkg/ontology#> SELECT DISTINCT ?s "
                        "{ ?x nmb:observedInterphase/nmb:hasSpecies ?s }", {}).rows
    listing = (site / "sei-species.html").read_text()
    for (s,) in species:
        assert f'href="id/substance/{s.value.rsplit("/", 1)[-1]}.html"' in listing


@pytest.mark.reasoner
def test_electrolyte_page_shows_facts_sources_and_links(dist):
    """An electrolyte page lists its constituents and measurements with the cited work and the locator."""
    page = (dist / "site" / "id" / "electrolyte" / "nabf4-g2-0p5m.html").read_text()
    assert "0.5 M NaBF4/G2" in page
    assert "Table 1 row 3" in page and 'href="../../id/work/ref-82.html">ref 82</a>' in page
    assert 'href="../../id/substance/nabf4.html"' in page
    assert "3000 h" in page


@pytest.mark.reasoner
def test_home_page_counts_citation_downloads(dist, engines):
    """Home: counts match the graph, the review is cited with its DOI, downloads link to real files."""
    home = (dist / "site" / "index.html").read_text()
    n = engines["oxigraph"].select(
        f'SELECT (COUNT(DISTINCT ?x) AS ?n) {{ ?x <https://w3id.org/nmbkg/ontology#electrolyteCategory> ?c '
        f'FILTER(STRSTARTS(STR(?x), "{BASE}id/")) }}', {}).rows[0][0].value
    assert f'<div class="n">{n}</div><a href="electrolytes.html">electrolytes</a>' in home
    assert f"https://doi.org/{REVIEW_DOI}" in home
    for name in ("nmbkg.ttl", "nmbkg.nq", "void.ttl", "ontology.owl"):
        assert f'href="../{name}"' in home


@pytest.mark.reasoner
@pytest.mark.parametrize("name,labels", [
    ("conductivity-temperature", ["Ionic conductivity (mS cm", "Temperature (\u00b0C)", "RT"]),
    ("cycle-life-current-density", ["Current density (mA cm", "Symmetric-cell life (h)"]),
    ("ce-cycles", ["Cycle number", "Coulombic efficiency (%)"]),
])
def test_plots_are_svg_with_labelled_axes(dist, name, labels):
    """Each plot is an SVG file with unit-labelled axes, inlined into plots.html, with points drawn."""
    svg = (dist / "site" / "plots" / f"{name}.svg").read_text()
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = " ".join(t for t in root.itertext())
    for label in labels:
        assert label in texts, label
    assert svg.count("<use ") + svg.count("<path ") > 20
    assert svg[:200] in (dist / "site" / "plots.html").read_text()


@pytest.mark.reasoner
def test_site_command_rebuilds_the_site(dist, tmp_path):
    """`nmbkg site --data DIR` writes the same pages again."""
    copy = tmp_path / "dist"
    shutil.copytree(dist, copy)
    shutil.rmtree(copy / "site")
    res = run_cli("site", "--data", str(copy))
    assert res.returncode == 0, res.stderr
    before = sorted(p.relative_to(dist / "site") for p in (dist / "site").rglob("*.html"))
    after = sorted(p.relative_to(copy / "site") for p in (copy / "site").rglob("*.html"))
    assert before == after


def test_site_command_without_release_fails_cleanly(tmp_path):
    """A folder without a release gives a one-line error and exit 2."""
    res = run_cli("site", "--data", str(tmp_path))
    assert res.returncode == 2
    assert "run `nmbkg build` first" in res.stderr and "Traceback" not in res.stderr
