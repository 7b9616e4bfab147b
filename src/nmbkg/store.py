"""A persistent pyoxigraph store holding one release, laid out as `nmbkg serve` loads it in memory.

Default graph: nmbkg.nt and ontology.nt (data, inferred and ontology triples: what stored queries see).
Named graphs: those of nmbkg.nq when the release has it, and void.ttl in <base>graph/metadata.

`nmbkg build --store PATH` bulk-loads the release into a new store folder and swaps it in place of PATH, so
a reader never sees a half-loaded store. Readers open it with `open_read_only(PATH)` (a server, `nmbkg
query --store PATH`); several read-only readers may share one store.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .config import DEFAULT_BASE

INFO_FILE = "nmbkg-store.json"


class StoreError(Exception):
    """A store path that cannot be used (not a store, missing release). One line, exit 2."""


@dataclass
class LoadReport:
    """What a bulk load did: triples, seconds, where."""

    path: Path
    triples: int
    seconds: float

    @property
    def rate(self) -> float:
        """Triples per second."""
        return self.triples / self.seconds if self.seconds else 0.0


def release_files(dist: Path) -> list[Path]:
    """The N-Triples files of a release that a store holds (same as the in-memory engines load)."""
    files = [dist / "nmbkg.nt", dist / "ontology.nt"]
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise StoreError(f"no built release in {dist} (missing {missing[0].name}): run `nmbkg build` first")
    return files


CHUNK_LINES = 200_000  # lines per bulk-load call: peak RSS of a 1.3 M-triple disk load 1.1 GB -> 0.3 GB, same speed


def bulk_load(store, files: list[Path], chunk_lines: int = CHUNK_LINES) -> None:
    """Load N-Triples files into a pyoxigraph store (memory or disk) with its bulk loader, in chunks of lines.

    pyoxigraph renames blank nodes per call, so a file that holds any blank node is loaded in one call."""
    import pyoxigraph as ox

    for f in files:
        if has_blank_nodes(f):
            store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
            continue
        with open(f, "rb") as lines:
            while chunk := b"".join(itertools.islice(lines, chunk_lines)):
                store.bulk_load(chunk, format=ox.RdfFormat.N_TRIPLES)


def has_blank_nodes(path: Path) -> bool:
    """True when an N-Triples file may hold a blank node ('_:' anywhere, literals included, to be safe)."""
    with open(path, "rb") as f:
        tail = b""
        while block := f.read(1 << 22):
            if b"_:" in tail + block:
                return True
            tail = block[-1:]
    return False


def load_extras(store, dist: Path, base: str = DEFAULT_BASE) -> None:
    """The release's named graphs (nmbkg.nq) and its VoID description (in <base>graph/metadata)."""
    import pyoxigraph as ox

    if (dist / "nmbkg.nq").is_file():
        store.bulk_load(path=str(dist / "nmbkg.nq"), format=ox.RdfFormat.N_QUADS)
    if (dist / "void.ttl").is_file():
        store.bulk_load(path=str(dist / "void.ttl"), format=ox.RdfFormat.TURTLE,
                        to_graph=ox.NamedNode(f"{base}graph/metadata"))


def load_release(dist: Path, path: Path, base: str = DEFAULT_BASE) -> LoadReport:
    """Bulk-load the release in dist/ into a fresh store, then swap it in place of path."""
    import pyoxigraph as ox

    files = release_files(dist)
    path = Path(path).resolve()
    if path.exists() and not is_store(path):
        raise StoreError(f"{path} exists and is not an nmbkg store: choose a new or empty folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-new-", dir=path.parent))
    t0 = time.perf_counter()
    try:
        store = ox.Store(str(tmp))
        bulk_load(store, files)
        store.flush()
        n = len(store)
        load_extras(store, Path(dist), base)
        store.flush()
        quads = len(store)
        store.optimize()
        del store
        seconds = time.perf_counter() - t0
        info = {"triples": n, "quads": quads, "release": str(Path(dist).resolve()),
                "files": [f.name for f in files], "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(seconds, 3)}
        build_info = Path(dist) / "build-info.json"
        if build_info.is_file():
            info["build"] = json.loads(build_info.read_text(encoding="utf-8"))
        (tmp / INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        from .export import swap_folder  # local import: export uses this module's Turtle writer

        swap_folder(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return LoadReport(path, n, seconds)


def is_store(path: Path) -> bool:
    """True for a folder written by load_release (empty folders count as free)."""
    path = Path(path)
    return path.is_dir() and ((path / INFO_FILE).is_file() or not any(path.iterdir()))


def store_info(path: Path) -> dict:
    """The metadata written next to the store's files."""
    f = Path(path) / INFO_FILE
    if not f.is_file():
        raise StoreError(f"{path} is not an nmbkg store: create one with `nmbkg build --store {path}`")
    return json.loads(f.read_text(encoding="utf-8"))


def open_read_only(path: Path):
    """Open a store for reading (any number of readers; the build swaps in a new folder, never edits it)."""
    import pyoxigraph as ox

    store_info(path)
    try:
        return ox.Store.read_only(str(Path(path).resolve()))
    except OSError as exc:
        raise StoreError(f"cannot open store {path}: {' '.join(str(exc).split())[:200]}") from exc


TURTLE_PREFIXES = {
    "nmb": "https://w3id.org/nmbkg/ontology#", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#", "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#", "dcterms": "http://purl.org/dc/terms/",
    "bibo": "http://purl.org/ontology/bibo/", "unit": "http://qudt.org/vocab/unit/",
    "qudt": "http://qudt.org/schema/qudt/",
}


def turtle_from_ntriples(nt: Path, ttl: Path, prefixes: dict[str, str] | None = None) -> None:
    """Write an N-Triples file as Turtle with pyoxigraph: sorted, one block per subject.

    Data IRIs (…/id/kind/slug) keep their full form: as prefixed names their '/' would need escaping.
    """
    import pyoxigraph as ox

    triples = list(ox.parse(path=str(nt), format=ox.RdfFormat.N_TRIPLES))
    triples.sort(key=lambda t: (str(t.subject), t.predicate.value, str(t.object)))
    ox.serialize(triples, str(ttl), ox.RdfFormat.TURTLE, prefixes=prefixes or TURTLE_PREFIXES)


def rdfxml_from_ntriples(nt: Path, target: Path, prefixes: dict[str, str] | None = None) -> None:
    """Write an N-Triples file as RDF/XML with pyoxigraph, in the file's (sorted) order."""
    import pyoxigraph as ox

    ox.serialize(ox.parse(path=str(nt), format=ox.RdfFormat.N_TRIPLES), str(target), ox.RdfFormat.RDF_XML,
                 prefixes=prefixes or TURTLE_PREFIXES)
