"""Project paths, base IRIs and namespaces shared by every stage."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Namespace

DEFAULT_BASE = "https://w3id.org/nmbkg/"
NMB = Namespace(DEFAULT_BASE + "ontology#")
UNIT = Namespace("http://qudt.org/vocab/unit/")
BIBO = Namespace("http://purl.org/ontology/bibo/")
VANN = Namespace("http://purl.org/vocab/vann/")
ONTOLOGY_IRI = DEFAULT_BASE + "ontology"


def find_root(start: Path | None = None) -> Path:
    """The project folder: $NMBKG_ROOT, else the nearest parent of the cwd holding kg/ and ontology/."""
    env = os.environ.get("NMBKG_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for cand in (here, *here.parents):
        if (cand / "kg").is_dir() and (cand / "ontology").is_dir():
            return cand
    pkg_root = Path(__file__).resolve().parents[2]
    if (pkg_root / "kg").is_dir():
        return pkg_root
    raise FileNotFoundError("no nmbkg project here: run inside a checkout (with kg/ and ontology/) or set NMBKG_ROOT")


@dataclass
class Project:
    """Where the curated inputs live and where the build goes."""

    root: Path
    kg_dir: Path = field(init=False)
    ontology_dir: Path = field(init=False)
    queries_dir: Path = field(init=False)
    base: str = DEFAULT_BASE

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self.kg_dir = self.root / "kg"
        self.ontology_dir = self.root / "ontology"
        self.queries_dir = self.root / "queries"

    @property
    def ontology_file(self) -> Path:
        """The one edited OWL file."""
        return self.ontology_dir / "nmbkg.ttl"

    @property
    def shapes_dir(self) -> Path:
        """SHACL shapes folder."""
        return self.ontology_dir / "shapes"

    @property
    def mappings_file(self) -> Path:
        """SSSOM mapping table."""
        return self.ontology_dir / "mappings.sssom.tsv"

    @property
    def id_base(self) -> str:
        """Namespace of data IRIs."""
        return self.base + "id/"

    @classmethod
    def discover(cls, root: str | Path | None = None) -> Project:
        """Project at root, or found from the working directory."""
        return cls(Path(root) if root else find_root())


class SettingError(Exception):
    """An NMBKG_* environment setting with a value nmbkg cannot use (one line, exit 2)."""


def int_setting(name: str, default: int) -> int:
    """A whole-number NMBKG_* setting from the environment, or default when it is unset or empty."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise SettingError(f"{name}={raw!r} is not a whole number: unset it (default {default}) or give digits only")
    return int(raw)


def choice_setting(name: str, choices: tuple[str, ...]) -> str:
    """An NMBKG_* setting that must be one of choices (the first is the default)."""
    raw = os.environ.get(name, "").strip() or choices[0]
    if raw not in choices:
        raise SettingError(f"{name}={raw!r} is not allowed: use one of {', '.join(choices)}")
    return raw
