"""The ontology: loads, is labelled and defined, its external IRIs are real, its README diagram is true."""

from __future__ import annotations

import csv
import re

import pytest
from conftest import ROOT
from rdflib import OWL, RDF, RDFS, SKOS, Graph, URIRef
from rdflib.namespace import DCTERMS

from nmbkg.config import NMB, Project
from nmbkg.ontology import load_ontology, read_mappings

REFERENCE = ROOT.parent / "shared" / "reference"
WELL_KNOWN = (
    "http://www.w3.org/", "http://purl.org/dc/", "http://purl.org/ontology/bibo/", "http://purl.org/vocab/vann/",
    "http://qudt.org/schema/qudt/", "https://w3id.org/nmbkg/", "https://creativecommons.org/licenses/",
    "https://doi.org/10.3390/batteries8100157", "https://w3id.org/semapv/",
)


@pytest.fixture(scope="module")
def onto() -> Graph:
    """The published ontology (edited file plus mappings)."""
    return load_ontology(Project(ROOT))


def _reference_iris() -> set[str]:
    iris = set()
    with open(REFERENCE / "emmo-battinfo-terms.tsv", encoding="utf-8") as f:
        iris |= {r["iri"] for r in csv.DictReader(f, delimiter="\t")}
    with open(REFERENCE / "qudt-units.tsv", encoding="utf-8") as f:
        iris |= {r["iri"] for r in csv.DictReader(f, delimiter="\t")}
    with open(REFERENCE / "emmo-ontology-versions.tsv", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            iris |= {r["ontology_iri"], r["version_iri"]}
    return iris


def _terms(g: Graph) -> set[URIRef]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual)
    return {s for k in kinds for s in g.subjects(RDF.type, k) if isinstance(s, URIRef) and str(s).startswith(str(NMB))}


def test_header(onto):
    """Ontology IRI, version IRI, title, licence, creator, source, version info, VANN prefix."""
    o = URIRef("https://w3id.org/nmbkg/ontology")
    assert (o, RDF.type, OWL.Ontology) in onto
    for p in (OWL.versionIRI, OWL.versionInfo, DCTERMS.title, DCTERMS.description, DCTERMS.license,
              DCTERMS.creator, DCTERMS.source, URIRef("http://purl.org/vocab/vann/preferredNamespacePrefix")):
        assert onto.value(o, p) is not None, p
    assert URIRef("https://w3id.org/emmo/1.0.3/emmo") in set(onto.objects(o, DCTERMS.references))


def test_every_term_labelled_and_defined(onto):
    """Every nmb class, property and individual has one English label and a definition."""
    missing = [t for t in _terms(onto) if onto.value(t, RDFS.label) is None or onto.value(t, SKOS.definition) is None]
    assert not missing, missing


def test_no_duplicate_labels(onto):
    """No two nmb terms share a label."""
    seen: dict[str, URIRef] = {}
    dups = []
    for t in _terms(onto):
        for lab in onto.objects(t, RDFS.label):
            key = str(lab).lower()
            if key in seen and seen[key] != t:
                dups.append((key, t, seen[key]))
            seen[key] = t
    assert not dups


def test_no_orphan_classes(onto):
    """Every nmb class has a superclass or is one of the declared top-level classes (members of the top disjointness axiom)."""
    tops = set()
    for node in onto.subjects(RDF.type, OWL.AllDisjointClasses):
        from rdflib.collection import Collection

        members = list(Collection(onto, onto.value(node, OWL.members)))
        if NMB.Substance in members:
            tops |= set(members)
    classes = {c for c in onto.subjects(RDF.type, OWL.Class) if str(c).startswith(str(NMB))}
    orphans = [c for c in classes if c not in tops and not any(isinstance(s, URIRef) for s in onto.objects(c, RDFS.subClassOf))]
    assert not orphans, orphans


def test_properties_have_domain_or_range(onto):
    """Object and datatype properties declare a domain or a range."""
    props = {p for k in (OWL.ObjectProperty, OWL.DatatypeProperty) for p in onto.subjects(RDF.type, k)
             if str(p).startswith(str(NMB))}
    bare = [p for p in props if onto.value(p, RDFS.domain) is None and onto.value(p, RDFS.range) is None]
    assert not bare, bare


def test_external_iris_exist(onto, dist):
    """Every IRI outside our namespaces, in ontology, mappings and data, is in shared/reference or well known."""
    known = _reference_iris()
    data = Graph().parse(dist / "nmbkg.nt", format="nt")
    unknown = set()
    for g in (onto, data):
        for t in g:
            for term in t:
                if isinstance(term, URIRef) and not str(term).startswith(WELL_KNOWN) and str(term) not in known:
                    unknown.add(str(term))
    assert not unknown, sorted(unknown)[:20]


def test_mappings_verified():
    """At least 25 mappings; each object IRI is a real reference term and each subject exists in ontology or data."""
    rows = read_mappings(ROOT / "ontology" / "mappings.sssom.tsv")
    assert len(rows) >= 25
    known = _reference_iris()
    for r in rows:
        assert r["object_id"] in known, r
        assert r["predicate_id"] in {"skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch",
                                      "rdfs:subClassOf"}, r


def test_mapping_subjects_exist(onto, dist):
    """No mapping names a term or substance that the graph does not have."""
    data = Graph().parse(dist / "nmbkg.nt", format="nt")
    from nmbkg.ontology import curie_prefixes, expand

    prefixes = curie_prefixes(ROOT / "ontology" / "mappings.sssom.tsv")
    for r in read_mappings(ROOT / "ontology" / "mappings.sssom.tsv"):
        s = expand(r["subject_id"], prefixes)
        present = (s, None, None) in data or any(p != SKOS.exactMatch and p not in (SKOS.closeMatch, SKOS.broadMatch,
                                                  RDFS.subClassOf) for p in onto.predicates(s, None))
        assert present, r["subject_id"]


def test_readme_diagram_matches_ontology(onto):
    """Every class named in the Mermaid diagram of ontology/README.md is an nmb class."""
    text = (ROOT / "ontology" / "README.md").read_text(encoding="utf-8")
    diagram = text.split("```mermaid", 1)[1].split("```", 1)[0]
    names = set(re.findall(r"\b([A-Z][A-Za-z]+)\b", diagram)) - {"LR"}
    classes = {str(c).rsplit("#", 1)[-1] for c in onto.subjects(RDF.type, OWL.Class) if str(c).startswith(str(NMB))}
    assert names and names <= classes, sorted(names - classes)


@pytest.mark.reasoner
def test_owlready2_loads_and_hermit_infers(built):
    """HermiT finds ontology + data consistent and infers memberships that were not asserted."""
    assert built.reasoned is not None and built.reasoned.consistent
    inferred = built.reasoned.inferred
    data = built.built.graph
    lhce = {s for s in inferred.subjects(RDF.type, NMB.LocalizedHighConcentrationElectrolyte)}
    assert lhce, "no electrolyte was classified as LHCE"
    for s in lhce:
        assert (s, RDF.type, NMB.LocalizedHighConcentrationElectrolyte) not in data
    assert any(True for _ in inferred.subjects(RDF.type, NMB.AdditiveComponent))


def test_ontology_is_owl_dl_loadable_by_owlready2(tmp_path):
    """owlready2 parses the ontology file (RDF/XML written from it)."""
    import owlready2

    g = load_ontology(Project(ROOT))
    path = tmp_path / "o.owl"
    g.serialize(path, format="xml")
    world = owlready2.World()
    o = world.get_ontology(path.as_uri()).load()
    assert o.search_one(iri=str(NMB.Electrolyte)) is not None
