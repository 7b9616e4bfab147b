"""The record schema: columns per file (read from kg/README.md) and their types (declared here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

LOCATOR_RE = re.compile(
    r"^(abstract|front matter|sec [1-5] para [0-9]+|Table [1-3] row [0-9]+|Fig\. [1-7]|ref [0-9]+)$"
)
RECORD_ID_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
FILE_ORDER = (
    "sources.tsv",
    "substances.tsv",
    "electrolytes.tsv",
    "components.tsv",
    "measurements.tsv",
    "sei_observations.tsv",
    "mechanism_claims.tsv",
    "property_claims.tsv",
    "strategies.tsv",
)


@dataclass(frozen=True)
class Ref:
    """A column whose values are record_ids of another file."""

    target: str
    multi: bool = False
    required: bool = False


@dataclass(frozen=True)
class Vocab:
    """A column whose values are ontology local names of a vocabulary."""

    name: str
    multi: bool = False
    required: bool = False


@dataclass(frozen=True)
class Enum:
    """A column with a fixed set of plain values."""

    values: tuple[str, ...]
    required: bool = False
    multi: bool = False


@dataclass(frozen=True)
class Number:
    """A numeric column."""

    integer: bool = False
    required: bool = False
    minimum: float | None = None


REQUIRED = ("record_id", "source", "locator")

UNIT_KEYS = ("h", "%", "mAh/g", "mS/cm", "S/cm", "mV", "V", "ohm", "ohm cm2", "mA/cm2", "mAh/cm2", "1", "cycles", "degC")
AMOUNT_UNIT_KEYS = (
    "mol/L", "mmol/L", "mol/kg", "wt%", "vol%", "volume_ratio", "molar_ratio", "mass_ratio", "percent_unspecified",
)
RATE_UNIT_KEYS = ("mA/cm2", "C", "mA/g", "A/g")

# Column types per file; columns not named here are free text.
TYPES: dict[str, dict[str, object]] = {
    "sources.tsv": {
        "kind": Enum(("review", "cited_work"), required=True),
        "ref_number": Number(integer=True, minimum=1),
        "title": Enum((), required=True),
        "year": Number(integer=True, minimum=1900),
    },
    "substances.tsv": {
        "label": Enum((), required=True),
        "kind": Enum(
            ("molecule", "salt", "polymer", "ceramic", "alloy", "element", "composite", "ionic_liquid", "material"),
            required=True,
        ),
        "substance_class": Vocab("substance_class", required=True),
    },
    "electrolytes.tsv": {
        "label": Enum((), required=True),
        "category": Enum(("liquid", "polymer", "solid"), required=True),
        "electrolyte_class": Vocab("electrolyte_class", multi=True, required=True),
        "formulation": Enum(("complete", "partial", "unknown"), required=True),
    },
    "components.tsv": {
        "electrolyte": Ref("electrolytes.tsv", required=True),
        "substance": Ref("substances.tsv", required=True),
        "role": Vocab("role", required=True),
        "amount": Number(minimum=0),
        "amount_unit": Enum(AMOUNT_UNIT_KEYS),
    },
    "measurements.tsv": {
        "electrolyte": Ref("electrolytes.tsv", required=True),
        "property": Vocab("quantity", required=True),
        "cell": Enum(("symmetric", "half", "full", "none", "unspecified"), required=True),
        "value": Number(required=True),
        "unit": Enum(UNIT_KEYS, required=True),
        "current_density": Number(minimum=0),
        "current_density_unit": Enum(RATE_UNIT_KEYS),
        "areal_capacity": Number(minimum=0),
        "cycles": Number(integer=True, minimum=0),
        "temperature_c": Number(minimum=-273.15),
        "room_temperature": Enum(("yes",)),
        "cathode": Ref("substances.tsv"),
        "corrected_value": Number(),
        "not_stated": Enum(("temperature", "cycles", "current_density", "cathode"), multi=True),
    },
    "sei_observations.tsv": {
        "electrolyte": Ref("electrolytes.tsv"),
        "constituent": Ref("substances.tsv"),
        "origin": Enum(
            ("anion", "salt", "solvent", "co_solvent", "diluent", "additive", "polymer", "filler", "interlayer",
             "substrate", "unknown"),
        ),
        "species": Ref("substances.tsv", required=True),
        "interphase": Enum(("SEI", "CEI", "interlayer"), required=True),
        "method": Vocab("method", multi=True),
    },
    "mechanism_claims.tsv": {
        "electrolyte": Ref("electrolytes.tsv"),
        "constituent": Ref("substances.tsv"),
        "mechanism": Vocab("mechanism", required=True),
        "addresses": Vocab("problem", multi=True),
        "method": Vocab("method", multi=True),
    },
    "property_claims.tsv": {
        "electrolyte": Ref("electrolytes.tsv"),
        "constituent": Ref("substances.tsv"),
        "property": Vocab("claimed_property", required=True),
        "method": Vocab("method", multi=True),
    },
    "strategies.tsv": {
        "strategy": Vocab("strategy"),
        "addresses": Vocab("problem", multi=True),
        "examples": Ref("sources.tsv", multi=True),
        "status": Enum(("reviewed", "outlook"), required=True),
        "method": Vocab("method", multi=True),
    },
}


def parse_readme(readme: Path) -> dict[str, list[str]]:
    """Columns per file, in order, from the markdown tables of kg/README.md."""
    columns: dict[str, list[str]] = {}
    current = None
    for line in readme.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^## ([a-z_]+\.tsv)\b", line)
        if m:
            current = m.group(1)
            columns[current] = []
            continue
        if line.startswith("## "):
            current = None
            continue
        if current and line.startswith("| ") and not line.startswith("| column") and not line.startswith("|---"):
            first = line.split("|")[1].strip()
            columns[current].extend(c.strip() for c in first.split(","))
    return columns
