"""The `nmbkg` command: build, validate, query, table, stats, fmt."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import traceback
from pathlib import Path

from .config import Project, SettingError
from .ontology import InputError
from .problems import Exit, render


def _project(args) -> Project:
    return Project.discover(getattr(args, "root", None))


def cmd_build(args) -> int:
    """Run every stage and write dist/."""
    from .pipeline import build

    project = _project(args)
    out = Path(args.out) if args.out else project.root / "dist"
    print(f"nmbkg build: {project.root}")
    store = Path(args.store) if getattr(args, "store", None) else None
    res = build(project, out=out, reason=not args.no_reason, echo=print, store=store)
    _summary(res)
    if not res.ok:
        print(f"build FAILED: {out} was left as it was; the report is in {out.parent / (out.name + '-problems.tsv')}")
        return Exit.DATA
    print(f"build OK: {out}")
    return Exit.OK


def _summary(res) -> None:
    if res.records is not None:
        counts = ", ".join(f"{k.removesuffix('.tsv')} {v}" for k, v in res.records.counts().items())
        print(f"records: {counts}")
    if res.built is not None:
        inferred = len(res.reasoned.inferred) if res.reasoned else 0
        print(f"triples: {len(res.built.graph)} asserted data, {len(res.ontology)} ontology, {inferred} inferred")
    if res.problems:
        print(render(res.problems))
    else:
        print("0 problems")


def cmd_validate(args) -> int:
    """Check kg/ without writing a release."""
    from .pipeline import validate_project

    project = _project(args)
    echo = print if args.format == "text" else None
    res = validate_project(project, reason=not args.no_reason, echo=echo)
    if args.format == "json":
        from dataclasses import asdict

        print(json.dumps({"ok": res.ok, "problems": [asdict(p) for p in res.problems]}, indent=2))
    else:
        print(render(res.problems) if res.problems else "0 problems")
    return Exit.OK if res.ok else Exit.DATA


def _parse_params(items: list[str]) -> dict[str, str]:
    from .query import QueryError

    out = {}
    for item in items or []:
        if "=" not in item:
            raise QueryError(f"--param needs key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v
    return out


def _dist(args, project: Project) -> Path:
    """The release folder to query, building it first when absent."""
    dist = Path(args.data) if getattr(args, "data", None) else project.root / "dist"
    if not (dist / "nmbkg.nt").is_file():
        from .pipeline import build

        print(f"no built graph in {dist}: building it first", file=sys.stderr)
        res = build(project, out=dist, echo=lambda s: print(s, file=sys.stderr))
        if not res.ok:
            print(render(res.problems), file=sys.stderr)
            raise SystemExit(Exit.DATA)
    return dist


def cmd_query(args) -> int:
    """Run a stored query (or --file, or --list)."""
    from .output import render as render_rows
    from .query import QueryError, find_query, run_file, run_stored
    from .storedq import load_queries

    project = _project(args)
    if args.list:
        for sub in ("cq", "checks"):
            for q in load_queries(project.queries_dir / sub):
                print(f"{q.name:<45} {q.summary}")
        return Exit.OK
    if not args.name and not args.file:
        raise QueryError("give a query NAME, --file Q.rq or --list")
    if args.name and args.explain:
        q = find_query(project.queries_dir, args.name)
        print(f"{q.name}: {q.summary}\n{q.meta.get('description', '')}\nparameters:")
        for p in q.params:
            extra = f" default {p.default}" if p.default else (" required" if p.required else " optional")
            lookup = f", label or IRI of a {p.lookup}" if p.lookup else ""
            print(f"  {p.name} ({p.kind}{extra}{', one of ' + '|'.join(p.choices) if p.choices else ''}{lookup})")
        if not q.params:
            print("  none")
        print(f"returns: {' '.join(q.returns)}\n\n{q.text}")
        return Exit.OK
    params = _parse_params(args.param)
    q = find_query(project.queries_dir, args.name) if args.name else None
    engine = _query_engine(args, project)
    res = run_stored(engine, q, params) if q else run_file(engine, Path(args.file), params)
    sys.stdout.write(render_rows(res, args.format))
    return Exit.OK


def _query_engine(args, project: Project):
    """The engine `nmbkg query` runs on: --endpoint (remote), --store (on disk), else dist/ in memory."""
    from .query import open_engine, open_remote_engine, open_store_engine

    if getattr(args, "endpoint", None):
        return open_remote_engine(args.endpoint, args.graph)
    if getattr(args, "store", None):
        return open_store_engine(Path(args.store))
    return open_engine(_dist(args, project), args.engine)


def cmd_table(args) -> int:
    """Rebuild one of the review's tables from the graph."""
    args.name, args.file, args.list, args.explain, args.param = f"review-table-{args.number}", None, False, False, []
    return cmd_query(args)


def cmd_stats(args) -> int:
    """Counts of triples, classes, individuals per class, records per source."""
    from .query import open_engine

    project = _project(args)
    engine = open_engine(_dist(args, project), "oxigraph")
    def one(q):
        return engine.select(q, {}).rows
    total = one("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0][0].value
    print(f"triples: {total}")
    classes = one("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a <http://www.w3.org/2002/07/owl#Class> FILTER isIRI(?c) }")
    print(f"ontology classes: {classes[0][0].value}")
    print("individuals per class (asserted, data only):")
    rows = one("""SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?c .
        FILTER(STRSTARTS(STR(?x), "https://w3id.org/nmbkg/id/")) FILTER(STRSTARTS(STR(?c), "https://w3id.org/nmbkg/ontology#"))
        } GROUP BY ?c ORDER BY DESC(?n) ?c""")
    for c, n in rows:
        print(f"  {c.value.rsplit('#', 1)[-1]:<40} {n.value}")
    print("records per source (top 15):")
    rows = one("""SELECT ?w (COUNT(?st) AS ?n) WHERE { ?st <https://w3id.org/nmbkg/ontology#reportedBy> ?w }
        GROUP BY ?w ORDER BY DESC(?n) ?w LIMIT 15""")
    for w, n in rows:
        print(f"  {w.value.rsplit('/', 1)[-1]:<40} {n.value}")
    info = json.loads((_dist(args, project) / "build-info.json").read_text())
    print("records per file:")
    for k, v in sorted(info.get("records", {}).items()):
        print(f"  {k:<40} {v}")
    return Exit.OK


def cmd_fmt(args) -> int:
    """Rewrite kg/*.tsv in canonical form: LF, documented column order, rows sorted by record_id."""
    from .records import canonical_text
    from .schema import parse_readme

    project = _project(args)
    columns = parse_readme(project.kg_dir / "README.md")
    changed = 0
    for path in sorted(project.kg_dir.glob("*.tsv")):
        if path.name not in columns:
            continue
        new = canonical_text(path.read_text(encoding="utf-8"), columns[path.name])
        if new != path.read_text(encoding="utf-8"):
            changed += 1
            if not args.check:
                path.write_text(new, encoding="utf-8")
            print(f"{'would rewrite' if args.check else 'rewrote'} kg/{path.name}")
    if args.check and changed:
        return Exit.DATA
    print(f"{changed} file(s) {'not canonical' if args.check else 'rewritten'}")
    return Exit.OK


def make_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands."""
    from .output import FORMATS
    from .push import DEFAULT_GRAPH

    p = argparse.ArgumentParser(prog="nmbkg", description="Knowledge graph of electrolytes for sodium-metal batteries.")
    p.add_argument("--root", help="project folder (default: found from the working directory)")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="run all stages and write dist/")
    b.add_argument("--out", help="output folder (default: dist/)")
    b.add_argument("--no-reason", action="store_true", help="skip OWL reasoning (HermiT)")
    b.add_argument("--store", help="also bulk-load the release into a persistent pyoxigraph store at this folder")
    b.set_defaults(func=cmd_build)

    v = sub.add_parser("validate", help="check kg/ and report problems, write nothing")
    v.add_argument("--format", choices=("text", "json"), default="text")
    v.add_argument("--no-reason", action="store_true", help="skip OWL reasoning (HermiT)")
    v.set_defaults(func=cmd_validate)

    q = sub.add_parser("query", help="run a stored SPARQL query on the built graph")
    q.add_argument("name", nargs="?", help="stored query name (see --list)")
    q.add_argument("--param", action="append", metavar="KEY=VALUE", help="parameter, bound by the engine")
    q.add_argument("--format", choices=FORMATS, default="table")
    q.add_argument("--engine", choices=("oxigraph", "rdflib"), default="oxigraph")
    q.add_argument("--list", action="store_true", help="list stored queries with their summaries")
    q.add_argument("--file", help="run an ad-hoc .rq file instead of a stored query")
    q.add_argument("--explain", action="store_true", help="print the summary, parameters and SPARQL text")
    q.add_argument("--data", help="release folder to query (default: dist/)")
    q.add_argument("--store", help="query a persistent store made by `nmbkg build --store PATH` instead of dist/")
    q.add_argument("--endpoint", help="query a remote SPARQL endpoint (e.g. http://host:8890/sparql) instead")
    q.add_argument("--graph", default=DEFAULT_GRAPH,
                   help="with --endpoint: default graph to query (as pushed by `nmbkg push`); '' for the endpoint's own")
    q.set_defaults(func=cmd_query)

    t = sub.add_parser("table", help="rebuild table 1, 2 or 3 of the review from the graph")
    t.add_argument("number", choices=("1", "2", "3"))
    t.add_argument("--format", choices=FORMATS, default="table")
    t.add_argument("--engine", choices=("oxigraph", "rdflib"), default="oxigraph")
    t.add_argument("--data", help="release folder to query (default: dist/)")
    t.set_defaults(func=cmd_table)

    s = sub.add_parser("stats", help="counts of triples, classes, individuals and records")
    s.add_argument("--data", help="release folder (default: dist/)")
    s.set_defaults(func=cmd_stats)

    f = sub.add_parser("fmt", help="rewrite kg/*.tsv in canonical form")
    f.add_argument("--check", action="store_true", help="only report files that are not canonical (exit 1)")
    f.set_defaults(func=cmd_fmt)
    for module in PLUGIN_COMMANDS:
        if importlib.util.find_spec(f"nmbkg.{module}") is not None:
            importlib.import_module(f"nmbkg.{module}").add_parser(sub)
    return p


# Modules that add their own subcommands through add_parser(subparsers) (serve, synth, push ...).
PLUGIN_COMMANDS = ("serve", "site", "synth", "push")


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, dispatch, map errors to exit codes (0 ok, 1 data problems, 2 usage/internal)."""
    from .query import QueryError
    from .store import StoreError

    args = make_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (QueryError, InputError, FileNotFoundError, StoreError, SettingError) as exc:
        print(f"nmbkg: error: {exc}", file=sys.stderr)
        return Exit.INTERNAL
    except KeyboardInterrupt:
        return Exit.INTERNAL
    except Exception:  # noqa: BLE001 - last resort: say it is a bug, keep the trace for a report
        traceback.print_exc()
        print("nmbkg: internal error (this is a bug; please report the trace above)", file=sys.stderr)
        return Exit.INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
