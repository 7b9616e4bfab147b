"""Unit keys used in kg/ and the unit IRIs (QUDT, or minted in the ontology) they stand for."""

from __future__ import annotations

from rdflib import URIRef

from .config import NMB, UNIT

UNITS: dict[str, URIRef] = {
    "h": UNIT["HR"],
    "%": UNIT["PERCENT"],
    "mAh/g": UNIT["MilliA-HR-PER-GM"],
    "mS/cm": UNIT["MilliS-PER-CentiM"],
    "S/cm": UNIT["S-PER-CentiM"],
    "mV": UNIT["MilliV"],
    "V": UNIT["V"],
    "ohm": UNIT["OHM"],
    "ohm cm2": NMB["OhmSquareCentimetre"],
    "mA/cm2": NMB["MilliAmperePerSquareCentimetre"],
    "mAh/cm2": NMB["MilliAmpereHourPerSquareCentimetre"],
    "1": UNIT["UNITLESS"],
    "cycles": UNIT["CYC"],
    "degC": UNIT["DEG_C"],
    "C": NMB["CRateUnit"],
    "mA/g": NMB["MilliAmperePerGram"],
    "A/g": NMB["AmperePerGram"],
    "mol/L": UNIT["MOL-PER-L"],
    "mmol/L": NMB["MilliMolePerLitre"],
    "mol/kg": UNIT["MOL-PER-KiloGM"],
}

# amount_unit key -> (amount quantity class, unit key)
AMOUNTS: dict[str, tuple[str, str]] = {
    "mol/L": ("AmountConcentration", "mol/L"),
    "mmol/L": ("AmountConcentration", "mmol/L"),
    "mol/kg": ("Molality", "mol/kg"),
    "wt%": ("MassFraction", "%"),
    "vol%": ("VolumeFraction", "%"),
    "volume_ratio": ("VolumeRatioShare", "1"),
    "molar_ratio": ("MolarRatioShare", "1"),
    "mass_ratio": ("MassRatioShare", "1"),
    "percent_unspecified": ("UnspecifiedPercentage", "%"),
}

# measured property -> unit keys of the right dimension
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "CycleLife": ("h",),
    "CoulombicEfficiency": ("%",),
    "SpecificCapacity": ("mAh/g",),
    "DischargeCapacity": ("mAh/g",),
    "CapacityRetention": ("%",),
    "IonicConductivity": ("mS/cm", "S/cm"),
    "Overpotential": ("mV", "V"),
    "InterfacialResistance": ("ohm", "ohm cm2"),
    "AreaSpecificResistance": ("ohm cm2",),
    "ElectrochemicalWindow": ("V",),
    "TransferenceNumber": ("1",),
    "CriticalCurrentDensity": ("mA/cm2",),
    "CycleCountQuantity": ("cycles",),
}
