"""The build: records -> triples -> SHACL + checks -> OWL reasoning -> export. Each stage is a function."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from . import __version__
from .checks import run_checks
from .config import Project
from .ontology import load_ontology
from .problems import Problem, is_blocking, sort_problems
from .reason import Reasoned, run_hermit_bounded
from .records import RecordSet, load_records
from .triples import Built, make_triples
from .validate import cross_check, load_shapes, shacl_engine, validate_with
from .vocab import vocabularies


@dataclass
class BuildResult:
    """Everything a build produced, for the CLI, the tests and the exporters."""

    records: RecordSet | None = None
    ontology: Graph | None = None
    built: Built | None = None
    reasoned: Reasoned | None = None
    problems: list[Problem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    out: Path | None = None

    @property
    def ok(self) -> bool:
        """True when no ERROR was found."""
        return not is_blocking(self.problems)


ENGINE_NOTE = {"pyshacl": "", "rudof": " (pyrudof; pySHACL for the 'unique among' shapes)"}


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector for a block that allocates many acyclic objects."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Stages:
    """Runs named stages, timing each and printing one line per stage."""

    def __init__(self, echo: Callable[[str], None] | None):
        self.echo = echo or (lambda _s: None)
        self.timings: dict[str, float] = {}

    def run(self, name: str, fn, describe):
        """Run fn(), record its time, print 'name  description  time'."""
        t0 = time.perf_counter()
        value = fn()
        dt = time.perf_counter() - t0
        self.timings[name] = dt
        self.echo(f"  {name:<9} {describe(value):<52} {dt:6.2f} s")
        return value


def validate_project(project: Project, reason: bool = True, echo: Callable[[str], None] | None = None) -> BuildResult:
    """Load, make triples, validate and (optionally) reason, without writing anything."""
    st = Stages(echo)
    res = BuildResult()
    res.ontology = st.run("ontology", lambda: load_ontology(project), lambda g: f"{len(g)} triples")
    vocab = vocabularies(res.ontology)
    rs, problems = st.run("records", lambda: load_records(project.kg_dir, vocab),
                          lambda v: f"{len(v[0])} records in {len(v[0].files)} files")
    res.records, res.problems = rs, sort_problems(problems)
    if is_blocking(problems):
        res.timings = st.timings
        return res
    with gc_paused():  # millions of small rdflib terms: the cyclic collector only slows their creation
        res.built = st.run("triples", lambda: make_triples(rs, project), lambda b: f"{len(b.graph)} triples")
    res.problems += res.built.problems
    shapes = load_shapes(project.shapes_dir)
    engine = shacl_engine(len(res.built.graph))
    n_files = len(list(project.shapes_dir.glob("*.shacl.ttl")))
    shacl = st.run("shacl", lambda: validate_with(engine, res.built.graph, res.ontology, shapes, res.built.origin,
                                                  res.built.ntriples() if engine == "rudof" else None),
                   lambda p: f"{len(p)} results from {n_files} shape files" + ENGINE_NOTE[engine])
    res.problems += shacl
    if os.environ.get("NMBKG_SHACL_CROSSCHECK") == "1":  # second SHACL engine (pyrudof), see validate.cross_check
        res.problems += st.run("shacl-x", lambda: cross_check(res.built.graph, res.ontology, shapes, res.built.origin,
                                                              shacl),
                               lambda p: f"{len(p)} disagreements between pySHACL and pyrudof")
    checks = st.run("checks", lambda: run_checks([res.ontology, res.built.ntriples()], project.queries_dir,
                                                 res.built.origin),
                    lambda p: f"{len(p)} rows from integrity checks")
    res.problems += checks
    if reason and not is_blocking(res.problems):
        res.reasoned = st.run("reason", lambda: run_hermit_bounded(res.ontology, res.built.graph, res.built.origin),
                              _describe_reasoned)
        res.problems += res.reasoned.problems
        if res.reasoned.sample:
            res.problems.append(Problem("INFO", "reasoner_sampled", res.reasoned.sample,
                                        hint="set NMBKG_HERMIT_LIMIT above the data size to reason over all of it"))
        if res.reasoned.skipped:
            res.problems.append(Problem("WARN", "reasoner_skipped", res.reasoned.skipped))
    res.problems = sort_problems(res.problems)
    res.timings = st.timings
    return res


def _describe_reasoned(r: Reasoned) -> str:
    if r.skipped:
        return "skipped (no java)"
    sampled = " (ontology + bounded sample, see the INFO line)" if r.sample else ""
    return ("consistent, " if r.consistent else "INCONSISTENT, ") + f"{len(r.inferred)} inferred memberships{sampled}"


def build(project: Project, out: Path | None = None, reason: bool = True,
          echo: Callable[[str], None] | None = None, store: Path | None = None) -> BuildResult:
    """Full build; writes dist/ only when there is no ERROR (the previous dist/ survives a failure).

    With store, the release is also bulk-loaded into a persistent pyoxigraph store at that folder.
    """
    from .export import write_problems_only, write_release

    res = validate_project(project, reason=reason, echo=echo)
    out = out or (project.root / "dist")
    res.out = out
    if not res.ok:
        write_problems_only(out, res.problems)
        return res
    st = Stages(echo)
    info = {
        "version": __version__,
        "records": res.records.counts() if res.records else {},
        "problems": len(res.problems),
        "reasoned": bool(res.reasoned and not res.reasoned.skipped),
        "inferred": len(res.reasoned.inferred) if res.reasoned else 0,
        "triples_data": len(res.built.graph),
    }
    st.run("export", lambda: write_release(out, res.built.graph, res.ontology,
                                           res.reasoned.inferred if res.reasoned else Graph(),
                                           res.problems, info, project.id_base, res.built.ntriples()),
           lambda p: f"release written to {p}")
    if store is not None:
        from .store import load_release

        st.run("store", lambda: load_release(out, store),
               lambda r: f"{r.triples} triples bulk-loaded into {r.path} ({r.rate:,.0f}/s)")
    res.timings.update(st.timings)
    return res
