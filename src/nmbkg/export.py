"""Stage 5: write the release files to dist/ atomically (temporary folder, then swap)."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import PROV

from . import publish
from .config import NMB
from .problems import Problem, to_tsv
from .store import rdfxml_from_ntriples, turtle_from_ntriples
from .triples import bind_prefixes


def mark_inferred(inferred: Graph, id_base: str) -> Graph:
    """Reified statements that mark each inferred triple as derived by HermiT."""
    out = Graph()
    for s, p, o in sorted(inferred):
        key = hashlib.sha1(f"{s} {p} {o}".encode()).hexdigest()[:16]
        st = URIRef(f"{id_base}inference/{key}")
        out.add((st, RDF.type, RDF.Statement))
        out.add((st, RDF.subject, s))
        out.add((st, RDF.predicate, p))
        out.add((st, RDF.object, o))
        out.add((st, NMB.inferred, Literal(True)))
        out.add((st, PROV.wasGeneratedBy, URIRef(f"{id_base}activity/hermit-reasoning")))
    return out


def write_release(out_dir: Path, data: Graph, ontology: Graph, inferred: Graph, problems: list[Problem],
                  info: dict, id_base: str, data_nt: Path | None = None) -> Path:
    """Write every release file into a fresh folder and swap it in place of out_dir.

    The data is serialized once (N-Triples, rdflib's writer, or data_nt when the build already wrote it); every
    other dump of it is written from that file by pyoxigraph or a streaming writer, so the export grows
    linearly with the graph.
    """
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".nmbkg-build-", dir=out_dir.parent))
    try:
        extra = Graph()  # inferred triples not already asserted, and their reification marks
        for t in inferred:
            if t not in data:
                extra.add(t)
        extra += mark_inferred(inferred, id_base)
        parts = tmp / ".parts"
        parts.mkdir()
        if data_nt is not None:
            shutil.copyfile(data_nt, parts / "asserted.nt")
        else:
            write_ntriples(data, parts / "asserted.nt")
        write_ntriples(extra, parts / "inferred.nt")
        concatenate([parts / "asserted.nt", parts / "inferred.nt"], tmp / "nmbkg.nt")
        turtle_from_ntriples(tmp / "nmbkg.nt", tmp / "nmbkg.ttl")  # pyoxigraph: ~30x faster than rdflib's writer
        onto = bind_prefixes(Graph())
        onto += to_canonical_graph(ontology)  # blank nodes named from their content: the same in every build
        onto.serialize(tmp / "ontology.ttl", format="turtle")
        write_ntriples(onto, tmp / "ontology.nt")
        rdfxml_from_ntriples(tmp / "ontology.nt", tmp / "ontology.owl")  # pyoxigraph: same order every build
        (tmp / "reports").mkdir()
        (tmp / "reports" / "problems.tsv").write_text(to_tsv(problems), encoding="utf-8")
        info = dict(info, triples_published=len(data) + len(extra), triples_ontology=len(onto))
        (tmp / "build-info.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        publish.write_extras(tmp, data, onto, info, id_base, parts)
        shutil.rmtree(parts)
        swap_folder(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def write_ntriples(graph: Graph, path: Path, canonical: bool = False) -> None:
    """N-Triples with sorted lines, so that the same graph gives the same bytes (and checksum) in every build.

    canonical relabels blank nodes deterministically first (rdflib.compare; meant for small graphs such as the
    ontology, whose blank nodes rdflib names at random when it parses)."""
    if canonical:
        graph = to_canonical_graph(graph)
    lines = graph.serialize(format="nt", encoding="utf-8").splitlines(keepends=True)
    lines.sort()
    with path.open("wb") as f:
        f.writelines(line for line in lines if line.strip())


def concatenate(files: list[Path], target: Path) -> None:
    """Join N-Triples files into one (N-Triples has no header, so the join is itself N-Triples)."""
    with target.open("wb") as out:
        for f in files:
            with f.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)


def write_problems_only(out_dir: Path, problems: list[Problem]) -> Path:
    """After a failed build: leave dist/ as it was and write the report beside it, as <dist>-problems.tsv."""
    report = out_dir.resolve().parent / f"{out_dir.name}-problems.tsv"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(to_tsv(problems), encoding="utf-8")
    return report


def swap_folder(new: Path, target: Path) -> None:
    """Replace target by new with two renames, so readers never see a half-written folder."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{new.name[-8:]}")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
