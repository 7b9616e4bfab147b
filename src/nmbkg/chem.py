"""Chemistry identities computed from curated SMILES (RDKit) and looked up offline (chemicals)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Identity:
    """Identifiers computed from one SMILES."""

    inchi: str
    inchikey: str
    formula: str
    cid: int | None = None
    cas: str | None = None


class SmilesError(ValueError):
    """The SMILES does not parse."""


@cache
def identity(smiles: str) -> Identity:
    """InChI, InChIKey and formula from RDKit; PubChem CID and CAS from the offline chemicals table."""
    from rdkit import Chem, RDLogger
    from rdkit.Chem.rdMolDescriptors import CalcMolFormula

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise SmilesError(f"RDKit cannot parse SMILES {smiles!r}")
    inchi = Chem.MolToInchi(mol)
    key = Chem.MolToInchiKey(mol)
    cid, cas = lookup(key)
    return Identity(inchi, key, CalcMolFormula(mol), cid, cas)


@cache
def lookup(inchikey: str) -> tuple[int | None, str | None]:
    """(PubChem CID, CAS) from the chemicals package when it holds exactly this InChIKey."""
    try:
        from chemicals.identifiers import search_chemical

        meta = search_chemical("InChIKey=" + inchikey)
    except Exception:  # noqa: BLE001 - the package raises plain Exception for unknown keys
        return None, None
    if getattr(meta, "InChI_key", None) != inchikey:
        return None, None
    return (int(meta.pubchemid) if meta.pubchemid else None), (meta.CASs or None)


_ELEMENT = re.compile(r"([A-Z][a-z]?)")


def elements(formula: str) -> set[str]:
    """Element symbols in a formula or composition string (charges and digits ignored)."""
    return set(_ELEMENT.findall(formula or ""))


def has_fluorine(formula: str) -> bool:
    """True when the formula contains the element F."""
    return "F" in elements(formula)
