"""Synthetic scale data: a project folder whose kg/ holds the real records plus N-1 perturbed copies.

Every synthetic row has a record_id starting with `syn-` and a note saying it is synthetic, except the
synthetic cited works: kg/ rules tie a cited work's record_id to its reference number (`ref-N`), so copy k
of reference N is `ref-<k*stride+N>` (stride >= 10000, above every real number), titled "Synthetic work".
Values are
drawn from the distributions of the real kg/ (substances of the same role and chemical family, amounts
of the same role and unit, measured values of the same property, unit and cell), so the records are
shaped like curated ones and pass the same checks. Substances are shared, not copied: a literature of
many papers reuses the same chemicals. The output never goes into the real kg/ or dist/.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import shutil
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from .config import Project
from .records import Record, RecordSet, load_records
from .schema import FILE_ORDER

MARKER = "SYNTHETIC.md"
SWAP_P = 0.5  # chance that one constituent (or SEI species, amount, rate) is redrawn from the real pool
JITTER = 0.2  # sigma of the log-normal factor applied to a redrawn measured value
MIN_STRIDE = 10000  # synthetic reference numbers: copy * stride + the template's number (stride >= this)


class SynthError(Exception):
    """A user error in asking for synthetic data (bad factor, unsafe output folder)."""


@dataclass
class Pools:
    """Distributions read from the real records, as weighted lists (repeats = weight)."""

    substance: dict[str, dict] = field(default_factory=dict)
    swap: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    amount: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    value: dict[tuple[str, str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    rate: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    species: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))


def read_pools(rs: RecordSet) -> Pools:
    """Collect the real distributions that synthetic rows are drawn from."""
    p = Pools(substance=rs.index("substances.tsv"))
    for c in rs.rows("components.tsv"):
        fam = p.substance.get(c.get("substance"), Record("", 0, {})).get("substance_class")
        p.swap[(c.get("role"), fam)].append(c.get("substance"))
        if c.get("amount") and c.get("amount_unit") in ("mol/L", "mmol/L", "mol/kg", "wt%", "vol%"):
            p.amount[(c.get("role"), c.get("amount_unit"))].append(c.get("amount"))
    for m in rs.rows("measurements.tsv"):
        p.value[(m.get("property"), m.get("unit"), m.get("cell"))].append(float(m.get("value")))
        if m.get("current_density"):
            p.rate[(m.get("property"), m.get("current_density_unit"))].append(m.get("current_density"))
    for o in rs.rows("sei_observations.tsv"):
        fam = p.substance.get(o.get("species"), Record("", 0, {})).get("substance_class")
        p.species[(o.get("interphase"), fam)].append(o.get("species"))
    return p


def plain_number(x: float, digits: int = 3) -> str:
    """x rounded to `digits` significant digits, written as a plain decimal (no exponent)."""
    if x == 0:
        return "0"
    d = Decimal(repr(x))
    exp = math.floor(math.log10(abs(x))) - digits + 1
    q = d.quantize(Decimal(1).scaleb(exp))
    s = format(q, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


class Copier:
    """Writes copy number k of every record file, with its own random stream."""

    def __init__(self, rs: RecordSet, pools: Pools, k: int, seed: int, factor: int, stride: int):
        self.rs, self.p, self.k, self.stride = rs, pools, k, stride
        self.rng = random.Random(f"nmbkg-synth:{seed}:{k}")
        self.tag = f"syn-{k:04d}-"
        self.note = f"synthetic record (nmbkg synth --factor {factor} --seed {seed}, copy {k})"
        self.swaps: dict[str, dict[str, str]] = defaultdict(dict)  # electrolyte -> {real substance: used}
        self.rate_maps: dict[tuple[str, str], dict[str, str]] = {}  # (property, unit) -> {real rate: used}

    def rid(self, rid: str) -> str:
        """The synthetic record_id of a real one."""
        return self.tag + rid

    def ref(self, number: str) -> str:
        """The synthetic reference number standing for a real one."""
        return str(self.k * self.stride + int(number))

    def src(self, source: str) -> str:
        """The synthetic work standing for a real cited work ref-N (the review stays itself)."""
        m = re.fullmatch(r"ref-([0-9]+)", source or "")
        return f"ref-{self.ref(m.group(1))}" if m else source

    def locator(self, rec: Record) -> str:
        """The locator, with 'ref N' following the source when the row is located at its own reference."""
        m = re.fullmatch(r"ref ([0-9]+)", rec.get("locator"))
        if m and rec.get("source") == f"ref-{m.group(1)}":
            return f"ref {self.ref(m.group(1))}"
        return rec.get("locator")

    def base(self, rec: Record, **changes: str) -> dict[str, str]:
        """A copy of a row with id, source, locator, note and the given columns replaced."""
        v = dict(rec.values)
        v.update(record_id=self.rid(rec.id), source=self.src(rec.get("source")), locator=self.locator(rec),
                 note=f"{self.note}; modelled on {rec.id}")
        v.update(changes)
        return v

    def maybe(self, pool: list[str], current: str, avoid: set[str] = frozenset()) -> str:
        """With probability SWAP_P a value drawn from the pool (never one in avoid), else the current one."""
        if not pool or self.rng.random() >= SWAP_P:
            return current
        choices = [x for x in pool if x not in avoid or x == current]
        return self.rng.choice(choices) if choices else current

    def sources(self) -> list[dict[str, str]]:
        """One synthetic work per real cited work."""
        out = []
        for rec in self.rs.rows("sources.tsv"):
            if rec.get("kind") == "review":
                continue
            num = rec.get("ref_number")
            new = self.src(rec.id) if num else self.rid(rec.id)
            out.append(self.base(
                rec, record_id=new, source="review", ref_number=self.ref(num) if num else "",
                locator=f"ref {self.ref(num)}" if num else rec.get("locator"),
                authors="Synthetic, A.", title=f"Synthetic work {self.k}-{num or rec.id} (generated, not a publication)",
                journal="Synthetic", volume="", pages="", doi=""))
        return out

    def electrolytes(self) -> list[dict[str, str]]:
        """Formulations with the same category and class, labelled as synthetic."""
        return [self.base(r, label=f"{r.get('label')} [syn {self.k}]") for r in self.rs.rows("electrolytes.tsv")]

    def components(self) -> list[dict[str, str]]:
        """Constituents, each swapped with some chance for another substance of the same role and family."""
        by_e: dict[str, list[Record]] = defaultdict(list)
        for c in self.rs.rows("components.tsv"):
            by_e[c.get("electrolyte")].append(c)
        out = []
        for e, comps in by_e.items():
            used = {c.get("substance") for c in comps}
            for c in comps:
                s = c.get("substance")
                fam = self.p.substance.get(s, Record("", 0, {})).get("substance_class")
                new = self.maybe(self.p.swap.get((c.get("role"), fam), []), s, used)
                if new != s:
                    used.add(new)
                    self.swaps[e][s] = new
                row = self.base(c, record_id=f"{self.rid(e)}.{new}", electrolyte=self.rid(e), substance=new)
                unit = c.get("amount_unit")
                if c.get("amount") and (c.get("role"), unit) in self.p.amount:
                    amount = self.maybe(self.p.amount[(c.get("role"), unit)], c.get("amount"))
                    if amount != c.get("amount"):
                        row.update(amount=amount, amount_as_printed="")
                if c.get("conflict_group"):
                    row["conflict_group"] = self.rid(c.get("conflict_group"))
                out.append(row)
        return out

    def constituent(self, electrolyte: str, substance: str) -> str:
        """A claim's constituent, following the swap made in its electrolyte's copy."""
        return self.swaps.get(electrolyte, {}).get(substance, substance)

    def measurements(self) -> list[dict[str, str]]:
        """Measured values redrawn from the real values of the same property, unit and cell, jittered.

        Rows that state the same value under the same conditions (a table row and the text repeating it)
        get the same synthetic value and rate, as in the real records; they stay in agreement.
        """
        out = []
        drawn: dict[tuple, tuple[str, str]] = {}
        for m in self.rs.rows("measurements.tsv"):
            key = tuple(m.get(c) for c in SAME_STATEMENT)
            if key not in drawn:
                drawn[key] = (self.value(m), self.rate(m))
            value, rate = drawn[key]
            row = self.base(m, electrolyte=self.rid(m.get("electrolyte")), value=value, value_as_printed="",
                            corrected_value="", current_density=rate)
            if m.get("conflict_group"):
                row["conflict_group"] = self.rid(m.get("conflict_group"))
            out.append(row)
        return out

    def value(self, m: Record) -> str:
        """A value drawn from the real ones of the same property, unit and cell, jittered, kept in their range."""
        pool = self.p.value[(m.get("property"), m.get("unit"), m.get("cell"))]
        lo, hi = min(pool), max(pool)
        x = self.rng.choice(pool) * math.exp(self.rng.gauss(0, JITTER))
        value = plain_number(min(max(x, lo), hi))
        if not lo <= float(value) <= hi:  # rounding crossed the real range: keep the bound itself
            value = plain_number(lo if float(value) < lo else hi, 15)
        return value

    def rate(self, m: Record) -> str:
        """The current density through this copy's shuffle of the real rates of the same property and unit.

        A shuffle (not a free draw) keeps two rates that differ in the real records different, so rows of one
        work that differ only in their rate never collapse into an unmarked conflict.
        """
        if not m.get("current_density"):
            return ""
        key = (m.get("property"), m.get("current_density_unit"))
        if key not in self.rate_maps:
            real = sorted(set(self.p.rate[key]), key=lambda v: (float(v), v))  # total order: set order varies by process
            numbers = sorted({float(v) for v in real})  # '0.5' and '0.50' are one rate: permute numbers, not strings
            new = list(numbers)
            if self.rng.random() < SWAP_P:
                self.rng.shuffle(new)
            spelling: dict[float, str] = {}
            for v in real:
                spelling.setdefault(float(v), v)
            moved = dict(zip(numbers, new))
            self.rate_maps[key] = {v: spelling[moved[float(v)]] for v in real}
        return self.rate_maps[key].get(m.get("current_density"), m.get("current_density"))

    def findings(self, name: str) -> list[dict[str, str]]:
        """SEI observations, mechanism and property claims, tied to the copied electrolytes."""
        out = []
        for r in self.rs.rows(name):
            e = r.get("electrolyte")
            row = self.base(r, electrolyte=self.rid(e) if e else "")
            if r.get("constituent"):
                row["constituent"] = self.constituent(e, r.get("constituent"))
            if name == "sei_observations.tsv":
                fam = self.p.substance.get(r.get("species"), Record("", 0, {})).get("substance_class")
                row["species"] = self.maybe(self.p.species[(r.get("interphase"), fam)], r.get("species"))
            out.append(row)
        return out

    def strategies(self) -> list[dict[str, str]]:
        """Strategy statements, their example works mapped to this copy's works."""
        return [self.base(r, examples="|".join(self.src(x) for x in r.many("examples")))
                for r in self.rs.rows("strategies.tsv")]

    def rows(self, name: str) -> list[dict[str, str]]:
        """The synthetic rows of one record file (substances are shared, never copied)."""
        if name == "sources.tsv":
            return self.sources()
        if name == "electrolytes.tsv":
            return self.electrolytes()
        if name == "components.tsv":
            return self.components()
        if name == "measurements.tsv":
            return self.measurements()
        if name == "strategies.tsv":
            return self.strategies()
        if name in ("sei_observations.tsv", "mechanism_claims.tsv", "property_claims.tsv"):
            return self.findings(name)
        return []


# measurement columns that identify one statement of a value (rows equal on these get equal synthetic values)
SAME_STATEMENT = ("source", "electrolyte", "property", "cell", "value", "unit", "current_density",
                  "current_density_unit", "areal_capacity", "cycles", "temperature_c", "room_temperature", "cathode")

# components are drawn before the claims that follow their swaps
COPY_ORDER = ("sources.tsv", "electrolytes.tsv", "components.tsv", "measurements.tsv", "sei_observations.tsv",
              "mechanism_claims.tsv", "property_claims.tsv", "strategies.tsv")


def check_out(project: Project, out: Path) -> Path:
    """Refuse an output folder that would touch the real project, or a non-empty folder not made by synth."""
    out = out.resolve()
    root = project.root
    if out.is_relative_to(root) or root.is_relative_to(out):
        raise SynthError(f"refusing to write synthetic data to {out}: it would mix with the real project; "
                         "choose a folder outside the project, e.g. /tmp/nmbkg-x10")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise SynthError(f"{out} exists and was not made by `nmbkg synth`: choose an empty or new folder")
    return out


def _tsv(columns: list[str], rows: list[dict[str, str]]) -> str:
    """Canonical TSV text: header, rows sorted by record_id, LF."""
    rows = sorted(rows, key=lambda r: r["record_id"])
    return "".join("\t".join(r.get(c, "") for c in columns) + "\n" for r in [dict(zip(columns, columns)), *rows])


@dataclass
class SynthReport:
    """What a synth run wrote."""

    out: Path
    factor: int
    seed: int
    rows: Counter
    seconds: float


def synthesize(project: Project, out: Path, factor: int, seed: int = 0) -> SynthReport:
    """Write a project folder with the real records and factor-1 synthetic copies of them."""
    from .ontology import load_ontology
    from .vocab import vocabularies

    if factor < 1:
        raise SynthError("--factor must be 1 or more")
    t0 = time.perf_counter()
    out = check_out(project, out)
    rs, problems = load_records(project.kg_dir, vocabularies(load_ontology(project)))
    errors = [p for p in problems if p.level == "ERROR"]
    if errors:
        raise SynthError(f"the real kg/ has {len(errors)} error(s); run `nmbkg validate` and fix them first")
    pools = read_pools(rs)
    numbers = [int(r.get("ref_number")) for r in rs.rows("sources.tsv") if r.get("ref_number").isdigit()]
    stride = max(MIN_STRIDE, 10 ** len(str(max(numbers, default=0))))
    rows: dict[str, list[dict[str, str]]] = {name: [r.values for r in rs.rows(name)] for name in rs.files}
    for k in range(1, factor):
        copier = Copier(rs, pools, k, seed, factor, stride)
        for name in COPY_ORDER:
            if name in rows:
                rows[name].extend(copier.rows(name))
    if out.exists():
        shutil.rmtree(out)
    (out / "kg").mkdir(parents=True)
    shutil.copy2(project.kg_dir / "README.md", out / "kg" / "README.md")
    for name in sorted(rows, key=lambda n: FILE_ORDER.index(n) if n in FILE_ORDER else 99):
        (out / "kg" / name).write_text(_tsv(rs.columns[name], rows[name]), encoding="utf-8")
    for sub in ("ontology", "queries"):
        if (project.root / sub).is_dir():
            shutil.copytree(project.root / sub, out / sub)
    counts = Counter({name: len(v) for name, v in rows.items()})
    (out / MARKER).write_text(_marker_text(project, factor, seed, counts), encoding="utf-8")
    return SynthReport(out, factor, seed, counts, time.perf_counter() - t0)


def _marker_text(project: Project, factor: int, seed: int, counts: Counter) -> str:
    lines = [
        "# Synthetic nmbkg project (not real data)",
        "",
        f"Made by `nmbkg synth --factor {factor} --seed {seed}` from the curated records of {project.root}.",
        "kg/ holds the real records unchanged plus synthetic copies whose record_id starts with `syn-`;",
        "each synthetic row says so in its note. Use it for benchmarks and scale tests only:",
        "never copy these rows into a real kg/ or publish a release built from them.",
        "",
        "| file | rows |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in sorted(counts.items())],
        "",
    ]
    return "\n".join(lines)


def cmd_synth(args) -> int:
    """`nmbkg synth`: write a synthetic project folder."""
    project = Project.discover(getattr(args, "root", None))
    try:
        rep = synthesize(project, Path(args.out), args.factor, args.seed)
    except SynthError as exc:
        print(f"nmbkg: error: {exc}", file=sys.stderr)
        return 2
    total = sum(rep.rows.values())
    print(f"synthetic project written to {rep.out} (factor {rep.factor}, seed {rep.seed}): "
          f"{total} records in {len(rep.rows)} files, {rep.seconds:.1f} s")
    for name, n in sorted(rep.rows.items()):
        print(f"  {name:<22} {n}")
    print(f"build it with: nmbkg --root {rep.out} build --no-reason")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `nmbkg synth`."""
    s = sub.add_parser("synth", help="write a synthetic project N times the size of kg/ (for benchmarks)")
    s.add_argument("--factor", type=int, required=True, help="size as a multiple of the real kg/ (1, 10, 100, 1000)")
    s.add_argument("--out", required=True, help="output folder (outside kg/ and dist/)")
    s.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    s.set_defaults(func=cmd_synth)
