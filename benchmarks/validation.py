"""Time validation on the real graph and on a 10x enlargement of it, side by side, and print the ratios.

    python benchmarks/validation.py [--factor 10] [--rdflib]

The enlargement is a temporary copy of the project whose kg/ files (all but sources.tsv) hold the real rows
plus factor-1 copies of them, each copy with suffixed record_ids, references and labels (-x1, -x2 ...), so
that every copy is a self-contained replica that refers to the same works (the copies share structures, so
the warning that two substances have one InChIKey fires on the enlargement by design). Stages timed: records, triples,
SHACL with pySHACL, SHACL with pyrudof, and the SPARQL checks on pyoxigraph (and on rdflib with --rdflib).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rdflib import Graph

from nmbkg.checks import run_checks
from nmbkg.config import Project
from nmbkg.ontology import load_ontology
from nmbkg.records import load_records
from nmbkg.schema import TYPES, Ref, parse_readme
from nmbkg.triples import make_triples
from nmbkg.validate import load_shapes, rudof_problems, run_shacl
from nmbkg.vocab import vocabularies

LABEL_COLUMNS = ("label",)
SUFFIXED = ("conflict_group",)


def _copy_row(file: str, cells: dict[str, str], k: int) -> dict[str, str]:
    """Copy k of one row: record_id, references to other copied files, labels and conflict groups suffixed."""
    sfx = f"-x{k}"
    out = dict(cells)
    if file == "components.tsv":
        out["record_id"] = f"{cells['electrolyte']}{sfx}.{cells['substance']}{sfx}"
    else:
        out["record_id"] = cells["record_id"] + sfx
    for col, typ in TYPES.get(file, {}).items():
        if isinstance(typ, Ref) and typ.target != "sources.tsv" and cells.get(col):
            out[col] = "|".join(v + sfx for v in cells[col].split("|"))
    for col in LABEL_COLUMNS + SUFFIXED:
        if cells.get(col):
            out[col] = cells[col] + (f" [copy {k}]" if col in LABEL_COLUMNS else sfx)
    return out


def enlarge(dest: Path, factor: int) -> Path:
    """A copy of the project at dest with factor times the records of every kg/ file but sources.tsv."""
    for name in ("ontology", "queries"):
        shutil.copytree(ROOT / name, dest / name)
    (dest / "kg").mkdir(parents=True)
    shutil.copy(ROOT / "kg" / "README.md", dest / "kg" / "README.md")
    columns = parse_readme(ROOT / "kg" / "README.md")
    for file, cols in columns.items():
        lines = (ROOT / "kg" / file).read_text(encoding="utf-8").rstrip("\n").split("\n")
        rows = [dict(zip(cols, ln.split("\t"))) for ln in lines[1:] if ln.strip()]
        out = list(rows)
        if file != "sources.tsv":
            out += [_copy_row(file, r, k) for k in range(1, factor) for r in rows]
        out.sort(key=lambda r: r["record_id"])
        text = "\n".join("\t".join(r.get(c, "") for c in cols) for r in out)
        (dest / "kg" / file).write_text("\t".join(cols) + "\n" + text + "\n", encoding="utf-8")
    return dest


def _timed(fn: Callable):
    """(seconds, value) of one call."""
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def measure(project: Project, use_rdflib: bool) -> dict[str, tuple[float, str]]:
    """Seconds and a short count per validation stage on one project."""
    out: dict[str, tuple[float, str]] = {}
    onto = load_ontology(project)
    vocab = vocabularies(onto)
    dt, (rs, problems) = _timed(lambda: load_records(project.kg_dir, vocab))
    out["records"] = (dt, f"{len(rs)} records, {len(problems)} problems")
    dt, built = _timed(lambda: make_triples(rs, project))
    out["triples"] = (dt, f"{len(built.graph)} triples")
    shapes = load_shapes(project.shapes_dir)
    dt, shacl = _timed(lambda: run_shacl(built.graph, onto, shapes, built.origin))
    out["shacl (pySHACL)"] = (dt, f"{len(shacl)} results")
    try:
        dt, rudof = _timed(lambda: rudof_problems(built.graph, onto, shapes, built.origin))
        out["shacl (pyrudof)"] = (dt, f"{len(rudof)} results")
    except ImportError:
        out["shacl (pyrudof)"] = (float("nan"), "pyrudof not installed")
    full = Graph()
    full += onto
    full += built.graph
    dt, rows = _timed(lambda: run_checks(full, project.queries_dir, built.origin, engine="oxigraph"))
    out["checks (oxigraph)"] = (dt, f"{len(rows)} rows")
    if use_rdflib:
        dt, rows = _timed(lambda: run_checks(full, project.queries_dir, built.origin, engine="rdflib"))
        out["checks (rdflib)"] = (dt, f"{len(rows)} rows")
    return out


def main(argv: list[str] | None = None) -> int:
    """Run both measurements and print one table with the ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factor", type=int, default=10, help="enlargement factor (default 10)")
    ap.add_argument("--rdflib", action="store_true", help="also time the checks on rdflib (slow on the enlargement)")
    args = ap.parse_args(argv)
    real = measure(Project(ROOT), args.rdflib)
    with tempfile.TemporaryDirectory(prefix="nmbkg-bench-") as tmp:
        big = measure(Project(enlarge(Path(tmp) / "big", args.factor)), args.rdflib)
    print(f"validation: real graph vs {args.factor}x enlargement (seconds)")
    print(f"{'stage':<20} {'real':>8} {f'{args.factor}x':>8} {'ratio':>7}   real counts / enlarged counts")
    for stage, (t1, c1) in real.items():
        t2, c2 = big[stage]
        ratio = t2 / t1 if t1 > 0 else float("nan")
        print(f"{stage:<20} {t1:8.2f} {t2:8.2f} {ratio:7.1f}   {c1} / {c2}")
    pipeline = ("records", "triples", "shacl (pySHACL)", "checks (oxigraph)")
    tot1 = sum(real[k][0] for k in pipeline)
    tot2 = sum(big[k][0] for k in pipeline)
    print(f"{'pipeline total':<20} {tot1:8.2f} {tot2:8.2f} {tot2 / tot1:7.1f}   (records + triples + pySHACL + checks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
