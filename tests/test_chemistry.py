"""Chemistry identities: curated SMILES parse, match their labels, and agree with the offline identifiers."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from nmbkg.records import Record, load_records

ROOT = Path(__file__).resolve().parents[1]
NMB = "https://w3id.org/nmbkg/ontology#"
# formulas for substances whose label is an abbreviation, written from their chemical names (not from the SMILES)
ABBREVIATION_FORMULAS = {
    "bstfa": "C8H18F3NOSi2", "btfe": "C4H4F6O", "ctab": "C19H42BrN", "diglyme": "C6H14O3", "dmc": "C3H6O3",
    "dme": "C4H10O2", "dtd": "C2H4O4S", "ec": "C3H4O3", "emimfsi": "C6H11F2N3O4S2", "fec": "C3H3FO3",
    "hfe": "C5H4F8O", "hfpm": "C4H4F6O", "ktfsi": "C2F6KNO4S2", "nafsi": "F2NNaO4S2", "naotf": "CF3NaO3S",
    "natfsi": "C2F6NNaO4S2", "pc": "C4H6O3", "pfmp": "C6F12O", "pto": "C16H6O4", "tegdme": "C10H22O5",
    "tep": "C6H15O4P", "tmp": "C3H9O4P", "tmtd": "C6H12N2S4", "vc": "C3H2O3",
    "n-propyl-n-methylpyrrolidinium-bis-fluorosulfonyl-imide": "C8H18F2N2O4S2",
}
# groups that labels abbreviate inside an otherwise plain formula
LABEL_GROUPS = {"Ph": "C6H5"}
IDENTIFIER_PATTERNS = {
    "InChIKey": re.compile(r"\b[A-Z]{14}-[A-Z]{10}-[A-Z]\b"),
    "InChI": re.compile(r"InChI="),
    "CAS number": re.compile(r"\b\d{2,7}-\d{2}-\d\b"),
    "PubChem CID": re.compile(r"\bCID\b|pubchem", re.IGNORECASE),
    "DOI": re.compile(r"\b10\.\d{4,9}/\S+"),
}
# the only identifier the review prints: its own DOI, in the review's record of sources.tsv
ALLOWED_IDENTIFIERS = {("sources.tsv", "review", "doi")}


def _substances() -> list[Record]:
    """Substance records, read by the package's loader."""
    rs, _ = load_records(ROOT / "kg")
    return rs.rows("substances.tsv")


WITH_SMILES = [r for r in _substances() if r.get("smiles")]


def element_counts(formula: str) -> Counter:
    """Element counts of a plain formula such as F6NaP or Na2S6 (groups in LABEL_GROUPS expanded)."""
    for group, expansion in LABEL_GROUPS.items():
        formula = re.sub(rf"{group}(\d*)", rf"({expansion})\1", formula)
    counts: Counter = Counter()
    for block, mult in re.findall(r"\(([^()]*)\)(\d*)", formula):
        for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", block):
            counts[el] += int(n or 1) * int(mult or 1)
    for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", re.sub(r"\([^()]*\)\d*", "", formula)):
        counts[el] += int(n or 1)
    return counts


def expected_formula(rec: Record) -> str:
    """What the label says the formula is: the abbreviation table, or the label itself when it is a formula."""
    if rec.id in ABBREVIATION_FORMULAS:
        return ABBREVIATION_FORMULAS[rec.id]
    label = rec.get("label")
    assert re.fullmatch(r"(?:[A-Z][a-z]?\d*|Ph\d*)+", label), (
        f"{rec.id}: label {label!r} is no formula; add its formula to ABBREVIATION_FORMULAS")
    return label


@pytest.fixture(scope="module")
def graph(project):
    """The data triples of the real kg/ (no reasoning needed for identities)."""
    from nmbkg.triples import make_triples

    rs, problems = load_records(project.kg_dir)
    assert not [p for p in problems if p.level == "ERROR"]
    return make_triples(rs, project).graph


@pytest.mark.parametrize("rec", WITH_SMILES, ids=lambda r: r.id)
def test_smiles_parses(rec):
    """RDKit reads every curated SMILES."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    assert Chem.MolFromSmiles(rec.get("smiles")) is not None


@pytest.mark.parametrize("rec", WITH_SMILES, ids=lambda r: r.id)
def test_formula_fits_label(rec):
    """The formula computed from the SMILES is the one the label or the chemical name implies."""
    from nmbkg.chem import identity

    assert element_counts(identity(rec.get("smiles")).formula) == element_counts(expected_formula(rec))


def test_no_two_substances_share_a_structure():
    """One record per structure: equal InChIKeys would mean a duplicate substance."""
    from nmbkg.chem import identity

    keys = Counter(identity(r.get("smiles")).inchikey for r in WITH_SMILES)
    assert [k for k, n in keys.items() if n > 1] == []


def test_every_smiles_gets_an_inchikey(graph):
    """Every substance with a SMILES has a computed InChIKey and formula in the graph."""
    for rec in WITH_SMILES:
        s = URIRef(f"https://w3id.org/nmbkg/id/substance/{rec.id}")
        assert graph.value(s, URIRef(NMB + "inchiKey")) is not None, rec.id
        assert graph.value(s, URIRef(NMB + "molecularFormula")) is not None, rec.id


def test_identifiers_agree_with_structure(graph):
    """Where the graph gives a CAS number or CID, the chemicals record of that CAS has the same InChIKey and CID."""
    from chemicals.identifiers import search_chemical

    checked = 0
    for s in set(graph.subjects(URIRef(NMB + "casNumber"), None)) | set(
            graph.subjects(URIRef(NMB + "pubchemCID"), None)):
        key = graph.value(s, URIRef(NMB + "inchiKey"))
        cas = graph.value(s, URIRef(NMB + "casNumber"))
        cid = graph.value(s, URIRef(NMB + "pubchemCID"))
        assert key is not None and cas is not None, f"{s}: identifier without InChIKey or CAS"
        meta = search_chemical(str(cas))
        assert meta.InChI_key == str(key), s
        if cid is not None:
            assert int(meta.pubchemid) == cid.toPython(), s
        checked += 1
    assert checked >= 10, "the offline table should know the common salts and solvents"


def test_identity_is_computed_not_typed(graph):
    """Computed InChIKeys are literals the build added: the substance file has no identifier columns."""
    rs, _ = load_records(ROOT / "kg")
    columns = set(rs.columns["substances.tsv"])
    assert not columns & {"inchi", "inchikey", "inchi_key", "cid", "pubchem_cid", "cas", "cas_number"}
    assert any(isinstance(o, Literal) for o in graph.objects(None, URIRef(NMB + "inchiKey")))


def test_no_identifier_typed_in_kg():
    """No InChIKey, InChI, CAS number, CID or DOI is typed anywhere in kg/ (the review's own DOI aside)."""
    rs, _ = load_records(ROOT / "kg")
    found = []
    for name, recs in rs.files.items():
        for rec in recs:
            for col, value in rec.values.items():
                if (name, rec.id, col) in ALLOWED_IDENTIFIERS:
                    continue
                found += [(name, rec.id, col, kind) for kind, pat in IDENTIFIER_PATTERNS.items()
                          if pat.search(value or "")]
    assert found == []
