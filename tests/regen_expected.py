"""Regenerate tests/expected/<query>[--<k>=<v>].tsv from a real build, on purpose only.

Usage:
    python tests/regen_expected.py                  # full build (with HermiT) into a temp folder, all queries
    python tests/regen_expected.py --data dist      # use an existing release folder
    python tests/regen_expected.py mechanisms find  # only these queries
    python tests/regen_expected.py --readme --data dist   # also rewrite the samples in queries/README.md

The parameter sets below are the cases the tests check; every stored query gets at least one file. Review
the diff (git diff tests/expected) before committing: a changed file means a changed answer.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote, unquote

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected"
CQ = ROOT / "queries" / "cq"

# query name -> parameter sets; a query not listed is run once without parameters
CASES: dict[str, list[dict[str, str]]] = {
    "additives-forming-sei": [{}, {"species": "NaF"}, {"species": "Na-Sn alloy"}, {"species": "Na3N"}],
    "sei-species": [{}, {"electrolyte": "1 M NaOTf/DME + 0.01 M KTFSI"}],
    "mechanisms": [{}, {"mechanism": "electrostatic shielding"}],
    "symmetric-cell-life": [{}, {"min_hours": "1000", "category": "liquid"}],
    "conductivity-ranking": [{}, {"category": "polymer", "min_mS_cm": "1", "max_temperature_c": "25"}],
    "best-coulombic-efficiency": [{}, {"category": "liquid"}],
    "cathode-pairings": [{}, {"cathode": "NVP"}],
    "characterization-techniques": [{}, {"technique": "XPS"}],
    "substance-roles": [{"substance": "FEC"}, {"substance": "NaFSI"}],
    "substance-profile": [{"substance": "SbF3"}, {"substance": "NaF"}],
    "electrolyte-profile": [{"electrolyte": "0.5 M NaBF4/G2"}, {"electrolyte": "nafsi-dme-btfe-2p1m"}],
    "electrolytes-by-salt-anion": [{}, {"anion": "FSI"}],
    "electrolytes-by-solvent": [{}, {"solvent": "DME"}],
    "works-by-year": [{}, {"year": "2021"}],
    "highest-current-density": [{}, {"category": "solid"}],
    "find": [{"text": "NASICON"}],
}


def case_file(name: str, params: dict[str, str]) -> Path:
    """The expected-rows file of one query and parameter set."""
    suffix = "".join(f"--{k}={quote(v, safe=' ,()+')}" for k, v in sorted(params.items()))
    return EXPECTED / f"{name}{suffix}.tsv"


def parse_case(path: Path) -> tuple[str, dict[str, str]]:
    """(query name, parameters) from an expected file name."""
    name, *pairs = path.stem.split("--")
    return name, {k: unquote(v) for k, v in (p.split("=", 1) for p in pairs)}


def release(data: str | None) -> Path:
    """An existing release folder, or a fresh full build of the project into a temporary folder."""
    if data:
        return Path(data)
    from nmbkg.config import Project
    from nmbkg.pipeline import build

    out = Path(tempfile.mkdtemp(prefix="nmbkg-regen-")) / "dist"
    res = build(Project(ROOT), out=out, reason=True)
    if not res.ok:
        sys.exit("build failed: " + "; ".join(p.line() for p in res.problems[:5]))
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the expected files of the chosen (default: all) stored queries."""
    from nmbkg.output import render
    from nmbkg.query import open_engine, run_stored
    from nmbkg.storedq import load_queries

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="stored query names (default: all of queries/cq)")
    ap.add_argument("--data", help="release folder to query instead of building one")
    ap.add_argument("--readme", action="store_true", help="also rewrite the per-query sections of queries/README.md")
    args = ap.parse_args(argv)
    queries = {q.name: q for q in load_queries(CQ)}
    unknown = [n for n in args.names if n not in queries]
    if unknown:
        sys.exit(f"unknown query: {', '.join(unknown)}")
    engine = open_engine(release(args.data), "oxigraph")
    EXPECTED.mkdir(parents=True, exist_ok=True)
    for name in args.names or sorted(queries):
        wanted = {case_file(name, p): p for p in CASES.get(name, [{}])}
        for stale in set(EXPECTED.glob(f"{name}.tsv")) | set(EXPECTED.glob(f"{name}--*.tsv")):
            if stale not in wanted:
                stale.unlink()
                print(f"removed {stale.relative_to(ROOT)}")
        for path, params in wanted.items():
            text = render(run_stored(engine, queries[name], params), "tsv")
            old = path.read_text(encoding="utf-8") if path.is_file() else None
            same = old is not None and sorted(old.splitlines()) == sorted(text.splitlines())
            if not same:
                path.write_text(text, encoding="utf-8")
            state = "new" if old is None else ("same" if same else "changed")
            print(f"{state:8} {path.relative_to(ROOT)} ({text.count(chr(10)) - 1} rows)")
    if args.readme:
        write_readme(engine, queries)
        print("rewrote queries/README.md (sections after '## Index')")
    return 0


# ------------------------------------------------------------------ queries/README.md samples
README = ROOT / "queries" / "README.md"
REQUIRED = ["additives-forming-sei", "sei-species", "mechanisms", "fluorine-free-electrolytes",
            "nonflammable-electrolytes", "localized-high-concentration-electrolytes", "adverse-additives",
            "symmetric-cell-life", "conductivity-ranking", "best-coulombic-efficiency", "cathode-pairings",
            "characterization-techniques", "dilemma-strategies", "substance-roles", "source-conflicts",
            "external-links", "review-table-1", "review-table-2", "review-table-3"]
SAMPLE_ROWS = 6
HIDDEN = {"electrolyte", "species", "additive", "substance", "solvent", "item", "mechanism", "technique",
          "identification", "constituent", "subject"}


def _markdown(res, cols: list[str]) -> str:
    """The first rows of a result as a Markdown table of the chosen columns."""
    idx = [res.variables.index(c) for c in cols]

    def cell(v) -> str:
        if v is None:
            return ""
        p = v.plain()
        return (str(p).lower() if isinstance(p, bool) else str(p)).replace("|", "\\|")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(row[i]) for i in idx) + " |" for row in res.rows[:SAMPLE_ROWS]]
    return "\n".join(lines)


def _section(engine, q) -> str:
    """One README section: question, parameters, columns, description and a real sample."""
    import shlex

    from nmbkg.query import run_stored

    params = next((p for p in CASES.get(q.name, [{}]) if p), {})
    res = run_stored(engine, q, params)
    cols = [c for c in res.variables if c not in HIDDEN]
    table = q.name.startswith("review-table-")
    cmd = f"nmbkg table {q.name[-1]}" if table else f"nmbkg query {q.name}"
    cmd += "".join(f" --param {shlex.quote(k + '=' + v)}" for k, v in params.items())
    plist = []
    for p in q.params:
        bits = [p.kind, "required" if p.required else (f"default {p.default}" if p.default else "optional")]
        bits += [f"one of {'/'.join(p.choices)}"] if p.choices else []
        bits += [f"label, alternative label, record name or IRI of any {p.lookup}"] if p.lookup else []
        plist.append(f"`{p.name}` ({', '.join(bits)})")
    total = len(res.rows)
    shown = (f"first {SAMPLE_ROWS} of {total} rows" if total > SAMPLE_ROWS
             else "the only row" if total == 1 else f"all {total} rows")
    optional = [k for k in params if not any(p.name == k and p.required for p in q.params)]
    if optional:
        base = {k: v for k, v in params.items() if k not in optional}
        shown += f"; {len(run_stored(engine, q, base).rows)} rows without {', '.join(optional)}"
    hidden = [c for c in res.variables if c not in cols]
    if hidden:
        shown += f"; columns left out here: {', '.join(hidden)}"
    return "\n".join([
        f"## {q.name}\n", f"**Question.** {q.summary}\n",
        f"**Parameters.** {'; '.join(plist) if plist else 'none'}.\n",
        f"**Columns.** {', '.join(f'`{c}`' for c in q.returns)}.\n",
        f"{q.meta.get('description', '')}\n", f"Sample (`{cmd}`, {shown}):\n", _markdown(res, cols) + "\n"])


def write_readme(engine, queries: dict) -> None:
    """Keep the hand-written head of queries/README.md and rewrite the index and one section per query."""
    head = README.read_text(encoding="utf-8").split("\n## Index\n")[0].rstrip()
    extra = sorted(n for n in queries if n not in REQUIRED)
    order = [n for n in REQUIRED if n in queries] + extra
    index = ["## Index\n",
             "Required by issue 7: " + ", ".join(f"[`{n}`](#{n})" for n in REQUIRED if n in queries) + ".\n",
             "Further questions: " + ", ".join(f"[`{n}`](#{n})" for n in extra) + ".\n"]
    body = [_section(engine, queries[n]) for n in order]
    README.write_text(head + "\n\n" + "\n".join(index) + "\n" + "\n\n".join(body).rstrip() + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
