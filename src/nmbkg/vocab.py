"""Vocabularies that curated columns draw from, read from the ontology graph."""

from __future__ import annotations

from rdflib import OWL, RDF, RDFS, Graph, URIRef

from .config import NMB

# vocabulary name -> (how to collect, ontology class)
VOCABS = {
    "role": ("instances", "ConstituentRole"),
    "quantity": ("subclasses", "MeasuredQuantity"),
    "claimed_property": ("instances", "ClaimedProperty"),
    "mechanism": ("instances", "Mechanism"),
    "problem": ("instances", "AnodeProblem"),
    "method": ("instances", "Method"),
    "strategy": ("instances", "Strategy"),
    "substance_class": ("subclasses", "Substance"),
    "electrolyte_class": ("subclasses", "Electrolyte"),
}


def local(iri: URIRef | str) -> str:
    """Local name of an nmb term."""
    return str(iri).rsplit("#", 1)[-1]


def subclasses(g: Graph, cls: URIRef) -> set[URIRef]:
    """All named subclasses of cls (transitive), cls excluded."""
    out = {c for c in g.transitive_subjects(RDFS.subClassOf, cls) if isinstance(c, URIRef)}
    out.discard(cls)
    return out


def instances(g: Graph, cls: URIRef) -> set[URIRef]:
    """Named individuals typed with cls or one of its subclasses."""
    classes = subclasses(g, cls) | {cls}
    return {s for c in classes for s in g.subjects(RDF.type, c) if isinstance(s, URIRef)}


def vocabularies(ontology: Graph) -> dict[str, set[str]]:
    """Allowed local names per vocabulary (only nmb terms)."""
    out = {}
    for name, (how, cls) in VOCABS.items():
        found = (subclasses if how == "subclasses" else instances)(ontology, NMB[cls])
        found -= defined_classes(ontology)
        out[name] = {local(t) for t in found if str(t).startswith(str(NMB))}
    return out


def defined_classes(ontology: Graph) -> set[URIRef]:
    """Classes with an owl:equivalentClass definition."""
    return {s for s in ontology.subjects(OWL.equivalentClass, None) if isinstance(s, URIRef)}
