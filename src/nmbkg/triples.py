"""Stage 2: turn curated records into RDF triples (rdflib) that follow the ontology."""

from __future__ import annotations

import re
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations
from pathlib import Path

from rdflib import RDF, RDFS, SKOS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV

from .chem import SmilesError, has_fluorine, identity
from .config import BIBO, NMB, Project
from .problems import Problem
from .records import Record, RecordSet
from .units import AMOUNTS, UNITS

CATEGORY_CLASS = {"liquid": "LiquidElectrolyte", "polymer": "PolymerElectrolyte", "solid": "AllSolidStateElectrolyte"}
CELL_CLASS = {"symmetric": "SymmetricCellTest", "half": "HalfCellTest", "full": "FullCellTest",
              "none": "MaterialPropertyMeasurement", "unspecified": "CellTest"}
INTERPHASE_CLASS = {"SEI": "SolidElectrolyteInterphase", "CEI": "CathodeElectrolyteInterphase",
                    "interlayer": "InterlayerInterphase"}
KIND_PATH = {
    "sources.tsv": "work",
    "substances.tsv": "substance",
    "electrolytes.tsv": "electrolyte",
    "components.tsv": "component",
    "measurements.tsv": "measurement",
    "sei_observations.tsv": "sei-observation",
    "mechanism_claims.tsv": "mechanism-claim",
    "property_claims.tsv": "property-claim",
    "strategies.tsv": "strategy-statement",
}


def bind_prefixes(g: Graph, base: str = "https://w3id.org/nmbkg/") -> Graph:
    """Bind the prefixes used in every nmbkg graph."""
    g.bind("nmb", NMB)
    g.bind("id", Namespace(base + "id/"))
    g.bind("prov", PROV)
    g.bind("dcterms", DCTERMS)
    g.bind("skos", SKOS)
    g.bind("bibo", BIBO)
    g.bind("unit", Namespace("http://qudt.org/vocab/unit/"))
    return g


@dataclass
class Built:
    """The data graph and, for every node minted from a record, the record it came from."""

    graph: Graph
    origin: dict[URIRef, Record] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    _nt: Path | None = field(default=None, repr=False, compare=False)

    def ntriples(self) -> Path:
        """The data graph as an N-Triples file, written once and shared by the stages that read files
        (pyrudof, the integrity checks, the export); removed when this object goes. The graph must not
        change after the first call."""
        if self._nt is None:
            folder = Path(tempfile.mkdtemp(prefix="nmbkg-data-"))
            weakref.finalize(self, shutil.rmtree, folder, True)
            self._nt = folder / "data.nt"
            from .export import write_ntriples  # sorted lines: the same data gives the same file

            write_ntriples(self.graph, self._nt)
        return self._nt


class TripleMaker:
    """Mints IRIs and writes the triples of each record type."""

    def __init__(self, project: Project, rs: RecordSet | None = None):
        self.base = project.id_base
        self.g = bind_prefixes(Graph(), project.base)
        self.built = Built(self.g)
        self.labels = {name: {r.id: r.get("label") for r in rs.rows(name)} for name in
                       ("substances.tsv", "electrolytes.tsv")} if rs else {}

    def label(self, file: str, rid: str) -> str:
        """Label of a substance or electrolyte record (its record_id when unknown)."""
        return self.labels.get(file, {}).get(rid) or rid

    def iri(self, kind: str, rid: str, *rest: str) -> URIRef:
        """Data IRI: <base>id/<kind>/<record_id>[/<rest>]."""
        return URIRef(self.base + "/".join((kind, rid, *rest)))

    def node(self, rec: Record, *rest: str) -> URIRef:
        """IRI of a record (or of a part of it), remembered with the record it came from."""
        iri = self.iri(KIND_PATH[rec.file], rec.id, *rest)
        self.built.origin[iri] = rec
        return iri

    def add(self, s, p, o) -> None:
        """Add one triple, skipping empty objects."""
        if o is None or (isinstance(o, Literal) and str(o) == ""):
            return
        self.g.add((s, p, o))

    def statement(self, rec: Record, subject: URIRef) -> None:
        """Provenance: the record was derived from a statement of a work at a place of the review."""
        st = self.iri("statement", KIND_PATH[rec.file], rec.id)
        self.built.origin[st] = rec
        self.add(subject, PROV.wasDerivedFrom, st)
        self.add(st, RDF.type, NMB.SourceStatement)
        self.add(st, NMB.reportedBy, self.iri("work", rec.get("source")))
        self.add(st, NMB.statedIn, self.iri("work", "review"))
        self.add(st, NMB.locator, Literal(rec.get("locator")))
        self.add(st, NMB.curatedIn, Literal(f"kg/{rec.file}:{rec.row}"))
        self.add(subject, NMB.recordId, Literal(rec.id))
        if rec.get("note"):
            self.add(subject, NMB.note, Literal(rec.get("note")))

    def quantity(self, rec: Record, subject: URIRef, prop: URIRef, name: str, cls: str, value: str,
                 unit_key: str, printed: str = "") -> URIRef | None:
        """An EMMO-style quantity node with a numeric value and a unit IRI."""
        if not value:
            return None
        q = self.node(rec, name)
        self.add(subject, prop, q)
        self.add(q, RDF.type, NMB[cls])
        self.add(q, NMB.numericValue, decimal_literal(value))
        if unit_key in UNITS:
            self.add(q, NMB.unit, UNITS[unit_key])
        if printed:
            self.add(q, NMB.valueAsPrinted, Literal(printed))
        return q

    # ------------------------------------------------------------------ record types
    def source(self, rec: Record) -> None:
        """A bibliographic record."""
        w = self.node(rec)
        review = rec.get("kind") == "review"
        self.add(w, RDF.type, NMB.Review if review else NMB.CitedWork)
        self.add(w, RDF.type, BIBO.AcademicArticle)
        title = rec.get("title")
        self.add(w, DCTERMS.title, Literal(title))
        num = rec.get("ref_number")
        self.add(w, RDFS.label, Literal(f"[{num}] {title}" if num else title))
        if num:
            self.add(w, NMB.referenceNumber, Literal(int(num), datatype=XSD.integer))
            self.add(self.iri("work", "review"), BIBO.cites, w)
        self.add(w, NMB.authorsAsPrinted, Literal(rec.get("authors")))
        self.add(w, NMB.journalAbbreviation, Literal(rec.get("journal")))
        if rec.get("year"):
            self.add(w, NMB.publicationYear, Literal(int(rec.get("year")), datatype=XSD.integer))
        self.add(w, BIBO.volume, Literal(rec.get("volume")))
        self.add(w, BIBO.pages, Literal(rec.get("pages")))
        self.add(w, BIBO.doi, Literal(rec.get("doi")))
        self.statement(rec, w)

    def substance(self, rec: Record) -> None:
        """A substance with computed chemistry identity."""
        s = self.node(rec)
        self.add(s, RDF.type, NMB[rec.get("substance_class")])
        self.add(s, RDFS.label, Literal(rec.get("label")))
        self.add(s, NMB.chemicalName, Literal(rec.get("name")))
        for alt in rec.many("alt_labels"):
            self.add(s, SKOS.altLabel, Literal(alt))
        self.add(s, NMB.substanceKind, Literal(rec.get("kind")))
        formula = rec.get("formula")
        smiles = rec.get("smiles")
        if smiles:
            self.add(s, NMB.smiles, Literal(smiles))
            try:
                ident = identity(smiles)
            except SmilesError as exc:
                self.built.problems.append(Problem(
                    "ERROR", "bad_smiles", str(exc), rec.file, rec.row, rec.id, "smiles", smiles,
                    "fix the SMILES (check it with RDKit) or leave it empty"))
            else:
                self.add(s, NMB.inchi, Literal(ident.inchi))
                self.add(s, NMB.inchiKey, Literal(ident.inchikey))
                formula = ident.formula
                if ident.cid:
                    self.add(s, NMB.pubchemCID, Literal(ident.cid, datatype=XSD.integer))
                if ident.cas:
                    self.add(s, NMB.casNumber, Literal(ident.cas))
        if formula:
            self.add(s, NMB.molecularFormula, Literal(formula))
            if has_fluorine(formula):
                self.add(s, RDF.type, NMB.FluorineContainingSubstance)
        self.statement(rec, s)

    def electrolyte(self, rec: Record) -> None:
        """An electrolyte formulation."""
        e = self.node(rec)
        for cls in rec.many("electrolyte_class"):
            self.add(e, RDF.type, NMB[cls])
        cat = rec.get("category")
        if cat in CATEGORY_CLASS:
            self.add(e, RDF.type, NMB[CATEGORY_CLASS[cat]])
        self.add(e, NMB.electrolyteCategory, Literal(cat))
        self.add(e, NMB.formulationStatus, Literal(rec.get("formulation")))
        self.add(e, RDFS.label, Literal(rec.get("label")))
        self.statement(rec, e)

    def component(self, rec: Record) -> None:
        """A constituent of a formulation in one role, with its amount."""
        c = self.node(rec)
        e = self.iri("electrolyte", rec.get("electrolyte"))
        self.add(e, NMB.hasComponent, c)
        self.add(c, RDF.type, NMB.Component)
        self.add(c, NMB.substance, self.iri("substance", rec.get("substance")))
        self.add(c, NMB.role, NMB[rec.get("role")])
        self.add(c, RDFS.label, Literal(f"{self.label('substances.tsv', rec.get('substance'))} "
                                        f"({words(rec.get('role').removesuffix('Role'))}) in "
                                        f"{self.label('electrolytes.tsv', rec.get('electrolyte'))}"))
        unit_key = rec.get("amount_unit")
        if rec.get("amount"):
            cls, ukey = AMOUNTS.get(unit_key, ("AmountQuantity", ""))
            self.quantity(rec, c, NMB.amount, "amount", cls, rec.get("amount"), ukey, rec.get("amount_as_printed"))
        elif rec.get("amount_as_printed"):
            self.add(c, NMB.valueAsPrinted, Literal(rec.get("amount_as_printed")))
        self.add(c, NMB.conflictGroup, Literal(rec.get("conflict_group")))
        self.statement(rec, c)

    def measurement(self, rec: Record) -> None:
        """One measured quantity with its conditions."""
        m = self.node(rec)
        self.add(m, RDF.type, NMB[CELL_CLASS.get(rec.get("cell"), "Measurement")])
        self.add(m, NMB.cellConfiguration, Literal(rec.get("cell")))
        self.add(m, NMB.ofElectrolyte, self.iri("electrolyte", rec.get("electrolyte")))
        self.add(m, RDFS.label, Literal(f"{words(rec.get('property'))} of "
                                        f"{self.label('electrolytes.tsv', rec.get('electrolyte'))} ({rec.get('locator')})"))
        q = self.quantity(rec, m, NMB.result, "result", rec.get("property"), rec.get("value"), rec.get("unit"),
                          rec.get("value_as_printed"))
        if q is not None and rec.get("corrected_value"):
            self.add(q, NMB.correctedValue, decimal_literal(rec.get("corrected_value")))
        self.quantity(rec, m, NMB.currentDensity, "current-density", "CurrentDensity", rec.get("current_density"),
                      rec.get("current_density_unit") or "mA/cm2")
        self.quantity(rec, m, NMB.arealCapacity, "areal-capacity", "ArealCapacity", rec.get("areal_capacity"),
                      "mAh/cm2")
        self.quantity(rec, m, NMB.temperature, "temperature", "Temperature", rec.get("temperature_c"), "degC")
        if rec.get("room_temperature") == "yes":
            self.add(m, NMB.atRoomTemperature, Literal(True))
        if rec.get("cycles"):
            self.add(m, NMB.cycleNumber, Literal(int(float(rec.get("cycles"))), datatype=XSD.integer))
        for cond in rec.many("not_stated"):
            self.add(m, NMB.conditionNotStated, Literal(cond))
        if rec.get("cathode"):
            self.add(m, NMB.cathode, self.iri("substance", rec.get("cathode")))
        self.add(m, NMB.conflictGroup, Literal(rec.get("conflict_group")))
        self.statement(rec, m)

    def _claim_common(self, rec: Record, node: URIRef) -> None:
        if rec.get("electrolyte"):
            self.add(node, NMB.inElectrolyte, self.iri("electrolyte", rec.get("electrolyte")))
        if rec.get("constituent"):
            self.add(node, NMB.constituent, self.iri("substance", rec.get("constituent")))
        for m in rec.many("method"):
            self.add(node, NMB.detectedBy, NMB[m])
        for p in rec.many("addresses"):
            self.add(node, NMB.addresses, NMB[p])
        self.statement(rec, node)

    def sei_observation(self, rec: Record) -> None:
        """A species found in an interphase."""
        o = self.node(rec)
        self.add(o, RDF.type, NMB.SEIObservation)
        inter = self.node(rec, "interphase")
        self.add(o, NMB.observedInterphase, inter)
        self.add(inter, RDF.type, NMB[INTERPHASE_CLASS.get(rec.get("interphase"), "Interphase")])
        species = self.iri("substance", rec.get("species"))
        self.add(inter, NMB.hasSpecies, species)
        self.add(o, RDFS.label, Literal(f"{self.label('substances.tsv', rec.get('species'))} in "
                                        f"{rec.get('interphase')} ({rec.get('source')}, {rec.get('locator')})"))
        self.add(o, NMB.speciesOrigin, Literal(rec.get("origin")))
        if rec.get("constituent"):
            self.add(self.iri("substance", rec.get("constituent")), NMB.formsSpecies, species)
        self._claim_common(rec, o)

    def mechanism_claim(self, rec: Record) -> None:
        """A constituent acting through a mechanism."""
        o = self.node(rec)
        self.add(o, RDF.type, NMB.MechanismClaim)
        self.add(o, NMB.mechanism, NMB[rec.get("mechanism")])
        who = (self.label("substances.tsv", rec.get("constituent")) if rec.get("constituent")
               else self.label("electrolytes.tsv", rec.get("electrolyte")))
        self.add(o, RDFS.label, Literal(f"{words(rec.get('mechanism'))} by {who} ({rec.get('source')}, {rec.get('locator')})"))
        self._claim_common(rec, o)

    def property_claim(self, rec: Record) -> None:
        """A qualitative property reported for an electrolyte or constituent."""
        o = self.node(rec)
        prop = NMB[rec.get("property")]
        self.add(o, RDF.type, NMB.PropertyClaim)
        self.add(o, NMB.claimedProperty, prop)
        who = (self.label("electrolytes.tsv", rec.get("electrolyte")) if rec.get("electrolyte")
               else self.label("substances.tsv", rec.get("constituent")))
        self.add(o, RDFS.label, Literal(f"{words(rec.get('property'))}: {who} ({rec.get('source')}, {rec.get('locator')})"))
        if rec.get("electrolyte"):
            self.add(self.iri("electrolyte", rec.get("electrolyte")), NMB.hasClaimedProperty, prop)
        if rec.get("constituent"):
            self.add(self.iri("substance", rec.get("constituent")), NMB.hasClaimedProperty, prop)
        self._claim_common(rec, o)

    def strategy(self, rec: Record) -> None:
        """The review's statement that a strategy addresses problems."""
        o = self.node(rec)
        if rec.get("strategy"):
            self.add(o, RDF.type, NMB.StrategyStatement)
            self.add(o, NMB.strategy, NMB[rec.get("strategy")])
        else:
            self.add(o, RDF.type, NMB.DilemmaStatement)
        self.add(o, NMB.statementStatus, Literal(rec.get("status")))
        what = words(rec.get("strategy")) if rec.get("strategy") else "dilemma"
        self.add(o, RDFS.label, Literal(f"{what} ({rec.get('locator')}, {rec.get('status')})"))
        for ex in rec.many("examples"):
            self.add(o, NMB.exampleWork, self.iri("work", ex))
        self._claim_common(rec, o)

    def conflicts(self, rs: RecordSet) -> None:
        """Link every pair of records that share a conflict group."""
        groups: dict[str, list[Record]] = {}
        for name in ("components.tsv", "measurements.tsv"):
            for rec in rs.rows(name):
                if rec.get("conflict_group"):
                    groups.setdefault(rec.get("conflict_group"), []).append(rec)
        for recs in groups.values():
            for a, b in combinations(recs, 2):
                if a.get("locator") == b.get("locator"):
                    continue  # one place does not contradict itself: only pairs from two places conflict
                self.add(self.node(a), NMB.conflictsWith, self.node(b))
                self.add(self.node(b), NMB.conflictsWith, self.node(a))


HANDLERS = {
    "sources.tsv": TripleMaker.source,
    "substances.tsv": TripleMaker.substance,
    "electrolytes.tsv": TripleMaker.electrolyte,
    "components.tsv": TripleMaker.component,
    "measurements.tsv": TripleMaker.measurement,
    "sei_observations.tsv": TripleMaker.sei_observation,
    "mechanism_claims.tsv": TripleMaker.mechanism_claim,
    "property_claims.tsv": TripleMaker.property_claim,
    "strategies.tsv": TripleMaker.strategy,
}


def decimal_literal(value: str) -> Literal:
    """An xsd:decimal literal in canonical lexical form (always with a decimal point), so every syntax round-trips."""
    text = format(Decimal(value).normalize(), "f")
    if "." not in text:
        text += ".0"
    return Literal(text, datatype=XSD.decimal)


def words(name: str) -> str:
    """CamelCase ontology name to lower-case words, keeping acronyms (CycleLife -> cycle life, HFScavenging -> HF scavenging)."""
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", name)
    return " ".join(p if p.isupper() and len(p) > 1 else p.lower() for p in parts)


def make_triples(rs: RecordSet, project: Project) -> Built:
    """The data graph of all records (ontology not included)."""
    tm = TripleMaker(project, rs)
    for name, recs in rs.files.items():
        handler = HANDLERS.get(name)
        if handler is None:
            continue
        for rec in recs:
            handler(tm, rec)
    tm.conflicts(rs)
    return tm.built


