"""Stage 4: OWL reasoning with owlready2 + HermiT: consistency, and inferred class memberships."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib.collection import Collection

from .config import NMB, int_setting
from .problems import Problem
from .records import Record


@dataclass
class Reasoned:
    """What the reasoner found: consistency, new class memberships, problems."""

    consistent: bool
    inferred: Graph = field(default_factory=Graph)
    problems: list[Problem] = field(default_factory=list)
    skipped: str = ""
    sample: str = ""  # set when HermiT saw only a bounded sample of the data (see bounded_sample)


def java_available() -> bool:
    """True when a java binary is on PATH (HermiT needs it)."""
    return shutil.which("java") is not None


def run_hermit(ontology: Graph, data: Graph, origin: dict[URIRef, Record]) -> Reasoned:
    """Run HermiT over ontology + data; on inconsistency name the individuals involved."""
    if not java_available():
        return Reasoned(True, skipped="java not found: OWL reasoning skipped (install Java 17 to run HermiT)")
    import owlready2

    merged = Graph()
    for t in ontology:
        merged.add(t)
    for t in data:
        merged.add(t)
    for s in set(data.subjects(RDF.type, None)):
        merged.add((s, RDF.type, OWL.NamedIndividual))  # OWL 2 DL declaration, so HermiT sees individuals
    asserted = _asserted_types(merged)
    tmp = Path(tempfile.mkdtemp(prefix="nmbkg-owl-"))
    try:
        nt = tmp / "merged.nt"
        merged.serialize(nt, format="nt", encoding="utf-8")
        world = owlready2.World()
        onto = world.get_ontology(nt.as_uri()).load(format="ntriples")
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return Reasoned(False, problems=explain_inconsistency(merged, origin))
        inferred = Graph()
        for ind in world.individuals():
            iri = URIRef(ind.iri)
            for cls in ind.is_a:
                c_iri = getattr(cls, "iri", None)
                if not c_iri or c_iri in (str(OWL.Thing), str(OWL.NamedIndividual)):
                    continue
                c = URIRef(c_iri)
                if c not in asserted.get(iri, set()):
                    inferred.add((iri, RDF.type, c))
        return Reasoned(True, inferred=inferred)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# Above this many data triples HermiT gets the ontology plus a bounded sample (it took about a minute on the
# 15k triples of the real review; its time grows faster than linearly). NMBKG_HERMIT_LIMIT overrides it.
HERMIT_LIMIT = 40_000
HERMIT_SAMPLE = 15_000


def bounded_sample(data: Graph, limit: int | None = None, size: int = HERMIT_SAMPLE) -> tuple[Graph, str]:
    """The data itself when small; else whole records (with the nodes they point to) up to ~size triples.

    Records are taken in a fixed pseudo-random order (hash of the IRI), so the sample is the same on every
    run. Each record brings its own nodes (IRIs under it), its provenance statement and the triples of the
    nodes it links to, so class definitions over components and species still see their inputs.
    """
    import hashlib

    limit = int_setting("NMBKG_HERMIT_LIMIT", limit or HERMIT_LIMIT)
    total = len(data)
    if total <= limit:
        return data, ""
    records = sorted({s for s in data.subjects(NMB.recordId, None) if isinstance(s, URIRef)},
                     key=lambda s: hashlib.sha1(str(s).encode()).hexdigest())
    sample, seen, taken = Graph(), set(), 0
    for rec in records:
        if len(sample) >= size:
            break
        taken += 1
        for node in _neighbourhood(data, rec):
            if node not in seen:
                seen.add(node)
                for t in data.triples((node, None, None)):
                    sample.add(t)
    note = (f"data has {total} triples, more than HermiT's limit of {limit}: reasoning on the ontology plus a "
            f"sample of {len(sample)} triples ({taken} of {len(records)} records); inferred memberships cover "
            "the sample only")
    return sample, note


def _neighbourhood(data: Graph, rec: URIRef) -> list[URIRef]:
    """A record, the nodes minted under its IRI, and the IRIs it links to (two steps)."""
    out, frontier = [rec], [rec]
    for _ in range(2):
        nxt = []
        for node in frontier:
            for o in data.objects(node, None):
                if isinstance(o, URIRef) and o not in out and not is_nmb(o):
                    out.append(o)
                    nxt.append(o)
        frontier = nxt
    return out


def run_hermit_bounded(ontology: Graph, data: Graph, origin: dict[URIRef, Record]) -> Reasoned:
    """run_hermit on the ontology plus bounded_sample(data); the result says when it was a sample."""
    sample, note = bounded_sample(data)
    res = run_hermit(ontology, sample, origin)
    res.sample = note
    return res


def _asserted_types(g: Graph) -> dict[URIRef, set[URIRef]]:
    """Asserted classes of each subject, closed under asserted rdfs:subClassOf."""
    supers: dict[URIRef, set[URIRef]] = {}
    for c in set(g.subjects(RDF.type, OWL.Class)):
        if isinstance(c, URIRef):
            supers[c] = {x for x in g.transitive_objects(c, RDFS.subClassOf) if isinstance(x, URIRef)}
    out: dict[URIRef, set[URIRef]] = {}
    for s, o in g.subject_objects(RDF.type):
        if isinstance(s, URIRef) and isinstance(o, URIRef):
            out.setdefault(s, set()).update(supers.get(o, {o}))
    return out


def _disjoint_pairs(g: Graph) -> set[frozenset[URIRef]]:
    """Pairs of classes declared disjoint (owl:disjointWith and owl:AllDisjointClasses)."""
    pairs = {frozenset((a, b)) for a, b in g.subject_objects(OWL.disjointWith)}
    for node in g.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(Collection(g, g.value(node, OWL.members)))
        pairs |= {frozenset((a, b)) for a, b in combinations(members, 2)}
    return pairs


def explain_inconsistency(g: Graph, origin: dict[URIRef, Record]) -> list[Problem]:
    """Name individuals that break disjointness or functional properties (HermiT gives no explanation)."""
    problems = []
    types = _asserted_types(g)
    pairs = _disjoint_pairs(g)
    for ind, classes in sorted(types.items()):
        for pair in pairs:
            if pair <= classes:
                a, b = sorted(pair)
                problems.append(_owl_problem(ind, origin, "owl_disjoint_classes",
                                             f"{_n(ind)} is both a {_n(a)} and a {_n(b)}, which the ontology declares disjoint",
                                             "give the record one consistent class/category (see kg/README.md)"))
    for prop in set(g.subjects(RDF.type, OWL.FunctionalProperty)):
        for s in set(g.subjects(prop, None)):
            vals = set(g.objects(s, prop))
            if len(vals) > 1:
                problems.append(_owl_problem(s, origin, "owl_functional_property",
                                             f"{_n(s)} has {len(vals)} values for {_n(prop)}, which allows only one",
                                             "keep one value for this column"))
    if not problems:
        problems.append(Problem("ERROR", "owl_inconsistent",
                                "HermiT finds ontology plus data inconsistent, and no simple cause was found",
                                file="ontology/nmbkg.ttl",
                                hint="undo the last ontology change or run `nmbkg build` with --no-reason to isolate"))
    return problems


def _n(iri) -> str:
    s = str(iri)
    return s.rsplit("#", 1)[-1] if "#" in s else s.rsplit("/id/", 1)[-1]


def _owl_problem(ind: URIRef, origin: dict[URIRef, Record], rule: str, msg: str, hint: str) -> Problem:
    rec = origin.get(ind)
    return Problem("ERROR", rule, msg, rec.file if rec else "", rec.row if rec else None,
                   rec.id if rec else str(ind), "", "", hint)


def is_nmb(iri: URIRef) -> bool:
    """True for terms of the nmbkg ontology namespace."""
    return str(iri).startswith(str(NMB))
