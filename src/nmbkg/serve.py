"""`nmbkg serve`: a read-only SPARQL 1.1 endpoint, stored-query API, linked-data pages and a YASGUI query page.

Queries run in worker processes (pyoxigraph has no timeout): a query that runs too long is stopped by
killing its worker, which is then replaced, while the server keeps answering other requests.
"""


import asyncio
import html
import json
import math
import multiprocessing
import re
import socket
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote

from .config import DEFAULT_BASE
from .query import OxigraphEngine

STATIC = Path(__file__).parent / "static"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANG = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"

# Media types: (offered type, internal format name). The first offer is the default.
SELECT_OFFERS = [("application/sparql-results+json", "json"), ("application/sparql-results+xml", "xml"),
                 ("text/csv", "csv"), ("text/tab-separated-values", "tsv"), ("application/json", "json"),
                 ("application/xml", "xml"), ("text/xml", "xml")]
GRAPH_OFFERS = [("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "jsonld"),
                ("application/rdf+xml", "rdfxml"), ("application/n-quads", "nq"), ("application/json", "jsonld")]
RESOURCE_OFFERS = [("text/html", "html"), ("text/turtle", "turtle"), ("application/ld+json", "jsonld"),
                   ("application/n-triples", "nt"), ("application/rdf+xml", "rdfxml"),
                   ("application/xhtml+xml", "html")]
FORMAT_NAMES = {"json": "json", "srj": "json", "xml": "xml", "srx": "xml", "csv": "csv", "tsv": "tsv",
                "turtle": "turtle", "ttl": "turtle", "nt": "nt", "ntriples": "nt", "n-triples": "nt",
                "jsonld": "jsonld", "json-ld": "jsonld", "rdfxml": "rdfxml", "rdf": "rdfxml", "owl": "rdfxml",
                "nq": "nq", "nquads": "nq", "html": "html"}
MEDIA = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
         "tsv": "text/tab-separated-values", "turtle": "text/turtle", "nt": "application/n-triples",
         "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml", "nq": "application/n-quads",
         "html": "text/html"}
SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".jsonld": "jsonld", ".rdf": "rdfxml", ".html": "html"}
RELEASE_FILES = {"nmbkg.ttl": "text/turtle", "nmbkg.nt": "application/n-triples",
                 "nmbkg.jsonld": "application/ld+json", "nmbkg.nq": "application/n-quads",
                 "ontology.ttl": "text/turtle", "ontology.owl": "application/rdf+xml",
                 "ontology.nt": "application/n-triples", "ontology.jsonld": "application/ld+json",
                 "context.jsonld": "application/ld+json", "void.ttl": "text/turtle",
                 "build-info.json": "application/json", "reports/problems.tsv": "text/tab-separated-values"}
PREFIXES = {"nmb": DEFAULT_BASE + "ontology#",
            "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "owl": "http://www.w3.org/2002/07/owl#", "xsd": XSD, "skos": "http://www.w3.org/2004/02/skos/core#",
            "prov": "http://www.w3.org/ns/prov#", "dcterms": "http://purl.org/dc/terms/",
            "qudt": "http://qudt.org/schema/qudt/", "unit": "http://qudt.org/vocab/unit/",
            "bibo": "http://purl.org/ontology/bibo/", "void": "http://rdfs.org/ns/void#",
            "dcat": "http://www.w3.org/ns/dcat#", "sd": "http://www.w3.org/ns/sparql-service-description#"}
UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING"}


@dataclass
class Config:
    """Everything `nmbkg serve` can be told."""

    data: Path
    queries: Path | None = None
    base: str = DEFAULT_BASE
    host: str = "127.0.0.1"
    port: int = 8000
    timeout: float = 10.0
    row_cap: int = 10_000
    workers: int = 4
    per_client: int = 2
    rate: float = 5.0
    burst: int = 30
    max_body: int = 1_000_000
    worker_memory_mb: int = 2048
    graph_names: list[str] = field(default_factory=list)

    def graph(self, name: str) -> str:
        """IRI of a named graph of the release."""
        return f"{self.base}graph/{name}"


class HTTPError(Exception):
    """An error answer: status, one-line reason, extra headers."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None):
        super().__init__(reason)
        self.status, self.reason, self.headers = status, reason, headers or {}


# ---------------------------------------------------------------------------------------------- negotiation
def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an Accept header with their q values (missing header = */*)."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    out = []
    for part in header.split(","):
        bits = [b.strip() for b in part.split(";")]
        mt = bits[0].lower()
        if mt == "*":
            mt = "*/*"
        if "/" not in mt:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.lower().startswith("q="):
                try:
                    q = max(0.0, min(1.0, float(b[2:])))
                except ValueError:
                    q = 0.0
        out.append((mt, q))
    return out


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    """q of an offered type: the most specific matching range decides."""
    typ = offer.split("/")[0]
    best, q = -1, 0.0
    for mt, mq in ranges:
        spec = 2 if mt == offer else 1 if mt == f"{typ}/*" else 0 if mt == "*/*" else -1
        if spec > best:
            best, q = spec, mq
    return q


def negotiate(header: str | None, offers: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The offer the client prefers most (first offer wins ties), or None when nothing is acceptable."""
    ranges = parse_accept(header)
    best, best_q = None, 0.0
    for offer in offers:
        q = _quality(offer[0], ranges)
        if q > best_q:
            best, best_q = offer, q
    return best


def pick_format(accept: str | None, fmt: str | None, offers: list[tuple[str, str]], what: str) -> tuple[str, str]:
    """(media type, format) from format= (name or media type) or Accept; HTTPError 400/406 otherwise."""
    names = {name for _, name in offers}
    if fmt:
        key = FORMAT_NAMES.get(fmt.lower().strip()) or next((n for m, n in offers if m == fmt.lower().strip()), None)
        if key not in names:
            allowed = ", ".join(sorted(k for k, v in FORMAT_NAMES.items() if v in names))
            raise HTTPError(400, f"format={fmt} does not apply to {what}; use one of: {allowed}")
        return MEDIA[key], key
    chosen = negotiate(accept, offers)
    if chosen is None:
        types = ", ".join(dict.fromkeys(m for m, _ in offers))
        raise HTTPError(406, f"none of the accepted media types can be served for {what}; available: {types}")
    return chosen


# ---------------------------------------------------------------------------------------------- query policy
_TOKEN = re.compile(r'''
    (?P<comment>\#[^\n]*)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00b7-\uffff]+)
  | (?P<pname>(?:[A-Za-z][\w.-]*)?:[^\s{}()<>,;"'\[\]]*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<other>\S)
''', re.VERBOSE | re.DOTALL)


def tokens(text: str) -> list[tuple[str, str]]:
    """Lexical tokens of a SPARQL text (comments dropped): (kind, text)."""
    return [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text) if m.lastgroup != "comment"]


def query_policy(text: str, local_graphs: set[str]) -> list[str]:
    """Graph IRIs named by FROM / FROM NAMED; raises HTTPError 403 for updates, SERVICE or remote FROM."""
    toks = tokens(text)
    prefixes: dict[str, str] = {}
    graphs: list[str] = []
    for i, (kind, tok) in enumerate(toks):
        if kind != "word":
            continue
        word = tok.upper()
        if word in UPDATE_WORDS:
            raise HTTPError(403, f"this endpoint is read-only: SPARQL Update ({word}) is refused")
        if word == "SERVICE":
            raise HTTPError(403, "federated queries are refused: SERVICE would make this server fetch from "
                                 "other hosts")
        if word == "PREFIX" and i + 2 < len(toks) and toks[i + 2][0] == "iri":
            prefixes[toks[i + 1][1].rstrip(":")] = toks[i + 2][1][1:-1]
        if word == "FROM":
            j = i + 1 + (i + 1 < len(toks) and toks[i + 1][1].upper() == "NAMED")
            if j < len(toks):
                graphs.append(_expand(toks[j], prefixes))
    for g in graphs:
        if g not in local_graphs:
            raise HTTPError(403, f"remote FROM is refused: <{g}> is not a graph of this dataset (its graphs: "
                                 f"{', '.join(sorted(local_graphs))})")
    return graphs


def _expand(tok: tuple[str, str], prefixes: dict[str, str]) -> str:
    """IRI text of an IRI or prefixed-name token."""
    kind, text = tok
    if kind == "iri":
        return text[1:-1]
    if kind == "pname":
        p, _, local = text.partition(":")
        return prefixes.get(p, p + ":") + local
    return text


def check_graph_params(names: list[str], local_graphs: set[str]) -> None:
    """default-graph-uri / named-graph-uri must name graphs of this dataset."""
    for g in names:
        if g not in local_graphs:
            raise HTTPError(403, f"remote graphs are refused: <{g}> is not a graph of this dataset (its graphs: "
                                 f"{', '.join(sorted(local_graphs))})")


# ---------------------------------------------------------------------------------------------- results
def _ox_value(t):
    """pyoxigraph term -> query.Value (None for unbound)."""
    from .query import _from_ox

    return _from_ox(t)


def _nt_term(v) -> str:
    """N-Triples form of a Value (for TSV)."""
    if v.kind == "iri":
        return f"<{v.value}>"
    if v.kind == "bnode":
        return f"_:{v.value}"
    lit = '"' + v.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace(
        "\t", "\\t") + '"'
    if v.lang:
        return f"{lit}@{v.lang}"
    if v.datatype and v.datatype != XSD + "string":
        return f"{lit}^^<{v.datatype}>"
    return lit


def _json_term(v) -> dict:
    """SPARQL 1.1 JSON form of a Value."""
    if v.kind == "iri":
        return {"type": "uri", "value": v.value}
    if v.kind == "bnode":
        return {"type": "bnode", "value": v.value}
    out = {"type": "literal", "value": v.value}
    if v.lang:
        out["xml:lang"] = v.lang
    elif v.datatype and v.datatype not in (XSD + "string", RDF_LANG):
        out["datatype"] = v.datatype
    return out


def _xml_term(v) -> str:
    """SPARQL XML form of a Value."""
    e = html.escape
    if v.kind == "iri":
        return f"<uri>{e(v.value)}</uri>"
    if v.kind == "bnode":
        return f"<bnode>{e(v.value)}</bnode>"
    if v.lang:
        return f'<literal xml:lang="{e(v.lang)}">{e(v.value)}</literal>'
    if v.datatype and v.datatype != XSD + "string":
        return f'<literal datatype="{e(v.datatype)}">{e(v.value)}</literal>'
    return f"<literal>{e(v.value)}</literal>"


TRUNCATED_LINK = DEFAULT_BASE + "sparql#truncated"


def serialize_select(variables: list[str], rows: list[list], fmt: str, truncated: bool, cap: int) -> bytes:
    """SELECT results as SPARQL JSON / XML / CSV / TSV; a truncation flag goes into JSON and XML bodies."""
    if fmt == "json":
        doc: dict = {"head": {"vars": variables}}
        if truncated:
            doc["head"]["link"] = [TRUNCATED_LINK]
        doc["results"] = {"bindings": [{k: _json_term(v) for k, v in zip(variables, row) if v is not None}
                                       for row in rows]}
        if truncated:
            doc["truncated"] = True
            doc["rowCap"] = cap
            doc["message"] = f"results truncated to the first {cap} rows"
        return json.dumps(doc, ensure_ascii=False).encode()
    if fmt == "xml":
        head = "".join(f'<variable name="{html.escape(v)}"/>' for v in variables)
        if truncated:
            head += f'<link href="{TRUNCATED_LINK}"/>'
        body = []
        for row in rows:
            cells = "".join(f'<binding name="{html.escape(k)}">{_xml_term(v)}</binding>'
                            for k, v in zip(variables, row) if v is not None)
            body.append(f"<result>{cells}</result>")
        note = f"<!-- results truncated to the first {cap} rows -->\n" if truncated else ""
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n{note}<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head>{head}</head><results>{''.join(body)}</results></sparql>\n").encode()
    if fmt == "csv":
        lines = [",".join(_csv(v) for v in variables)]
        lines += [",".join("" if v is None else _csv(v.value) for v in row) for row in rows]
        return ("\r\n".join(lines) + "\r\n").encode()
    lines = ["\t".join("?" + v for v in variables)]
    lines += ["\t".join("" if v is None else _nt_term(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _csv(s: str) -> str:
    """One CSV field, quoted when needed."""
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\r\n') else s


def serialize_boolean(value: bool, fmt: str) -> bytes:
    """ASK results."""
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt == "xml":
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head/><boolean>{'true' if value else 'false'}</boolean></sparql>\n").encode()
    return (("_askResult\r\n" if fmt == "csv" else "?_askResult\n") + ("true" if value else "false") + "\n").encode()


def serialize_triples(triples: list, fmt: str, truncated: bool, cap: int) -> bytes:
    """CONSTRUCT / DESCRIBE results; Turtle and N-Triples carry the truncation flag as a comment."""
    import pyoxigraph as ox

    formats = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
               "rdfxml": ox.RdfFormat.RDF_XML, "nq": ox.RdfFormat.N_QUADS}
    if fmt == "nq":
        triples = [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
    body = ox.serialize(triples, format=formats[fmt], prefixes=used_prefixes(triples) if fmt == "turtle" else None)
    if truncated and fmt in ("turtle", "nt", "nq"):
        body = f"# results truncated to the first {cap} triples\n".encode() + body
    if truncated and fmt == "rdfxml":
        body = body.replace(b"?>", f"?>\n<!-- results truncated to the first {cap} triples -->".encode(), 1)
    return body


def used_prefixes(triples: list) -> dict[str, str]:
    """The PREFIXES that the IRIs of these triples use (so Turtle declares only those)."""
    iris = {t.value for tr in triples for t in (tr.subject, tr.predicate, tr.object) if type(t).__name__ == "NamedNode"}
    iris |= {tr.object.datatype.value for tr in triples if getattr(tr.object, "datatype", None) is not None}
    return {p: ns for p, ns in PREFIXES.items() if any(i.startswith(ns) and len(i) > len(ns) for i in iris)}


# ---------------------------------------------------------------------------------------------- worker side
STORE_ENV = "NMBKG_SERVE_STORE"  # set by `nmbkg serve --store PATH`; inherited by the spawned workers


def load_store(data: Path, base: str):
    """pyoxigraph store: data and ontology in the default graph, the release's named graphs beside them.

    With `serve --store PATH` the persistent store made by `nmbkg build --store PATH` is opened read-only
    instead (same layout), so a graph larger than memory can be served.
    """
    import os

    import pyoxigraph as ox

    if os.environ.get(STORE_ENV):
        from .store import open_read_only

        return open_read_only(Path(os.environ[STORE_ENV]))
    from .store import bulk_load, load_extras

    store = ox.Store()
    bulk_load(store, [data / "nmbkg.nt", data / "ontology.nt"])
    load_extras(store, data, base)
    return store


def worker_main(conn, data: str, base: str, memory_mb: int) -> None:
    """Worker process loop: load the store once, then run one job at a time."""
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    store = load_store(Path(data), base)
    conn.send(("ready",))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = run_job(store, job)
        except HTTPError as exc:
            reply = ("error", exc.status, exc.reason)
        except MemoryError:
            reply = ("error", 503, "the query needed more memory than a query may use; narrow it and try again")
        except Exception as exc:  # noqa: BLE001 - the reason goes back to the client
            reply = ("error", 500, f"query failed: {' '.join(str(exc).split())[:300]}")
        conn.send(reply)


def run_job(store, job: dict) -> tuple:
    """Run a SPARQL or stored-query job; returns ('ok', media type, body, meta)."""
    if job["kind"] == "stored":
        return _run_stored(store, job)
    import pyoxigraph as ox

    kw = {}
    if job.get("default_graphs"):
        kw["default_graph"] = [ox.NamedNode(g) for g in job["default_graphs"]]
    if job.get("named_graphs"):
        kw["named_graphs"] = [ox.NamedNode(g) for g in job["named_graphs"]]
    try:
        res = store.query(job["query"], **kw)
    except SyntaxError as exc:
        raise HTTPError(400, f"SPARQL syntax error: {' '.join(str(exc).split())[:600]}") from exc
    cap = job["cap"]
    if isinstance(res, ox.QueryBoolean):
        media, fmt = pick_format(job.get("accept"), job.get("format"), SELECT_OFFERS, "an ASK query")
        return "ok", media, serialize_boolean(bool(res), fmt), {"rows": 1, "truncated": False, "form": "ASK"}
    if isinstance(res, ox.QuerySolutions):
        media, fmt = pick_format(job.get("accept"), job.get("format"), SELECT_OFFERS, "a SELECT query")
        variables = [v.value for v in res.variables]
        rows, truncated = [], False
        for sol in res:
            if len(rows) == cap:
                truncated = True
                break
            rows.append([_ox_value(sol[v]) for v in variables])
        body = serialize_select(variables, rows, fmt, truncated, cap)
        return "ok", media, body, {"rows": len(rows), "truncated": truncated, "form": "SELECT"}
    media, fmt = pick_format(job.get("accept"), job.get("format"), GRAPH_OFFERS, "a CONSTRUCT or DESCRIBE query")
    triples, truncated = [], False
    for t in res:
        if len(triples) == cap:
            truncated = True
            break
        triples.append(t)
    return "ok", media, serialize_triples(triples, fmt, truncated, cap), {"rows": len(triples),
                                                                          "truncated": truncated, "form": "GRAPH"}


class _StoreEngine(OxigraphEngine):
    """The query module's oxigraph engine over an already loaded store."""

    def __init__(self, store):
        import pyoxigraph as ox

        self.ox, self.store = ox, store


def _run_stored(store, job: dict) -> tuple:
    """Run a stored query with engine-bound parameters (nmbkg.query.run_stored)."""
    from .query import QueryError, run_stored
    from .storedq import parse_query

    media, fmt = pick_format(job.get("accept"), job.get("format"), SELECT_OFFERS, "a stored query")
    q = parse_query(Path(job["path"]))
    try:
        res = run_stored(_StoreEngine(store), q, job["params"])
    except QueryError as exc:
        raise HTTPError(400, str(exc)) from exc
    cap = job["cap"]
    rows, truncated = res.rows[:cap], len(res.rows) > cap
    return "ok", media, serialize_select(res.variables, rows, fmt, truncated, cap), {
        "rows": len(rows), "truncated": truncated, "form": "SELECT"}


# ---------------------------------------------------------------------------------------------- worker pool
class WorkerDied(Exception):
    """The worker process ended while running a job (killed, or out of memory)."""


class Worker:
    """One worker process and its pipe."""

    def __init__(self, cfg: Config):
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child, str(cfg.data), cfg.base, cfg.worker_memory_mb),
                                daemon=True, name="nmbkg-query-worker")
        self.proc.start()
        child.close()
        if not self.conn.poll(120):
            self.kill()
            raise RuntimeError("a query worker did not start within 120 s")
        self.conn.recv()

    def call(self, job: dict) -> tuple:
        """Send a job and wait for its reply (blocking; run in a thread)."""
        try:
            self.conn.send(job)
            return self.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            raise WorkerDied(str(exc)) from exc

    def kill(self) -> None:
        """Stop the process at once."""
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class WorkerPool:
    """A fixed number of workers; a job that overruns its time limit costs its worker, which is replaced."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.idle: asyncio.Queue[Worker] = asyncio.Queue()
        self.threads = ThreadPoolExecutor(max_workers=cfg.workers * 2 + 2, thread_name_prefix="nmbkg-pool")
        self.all: set[Worker] = set()
        self.replacing = 0
        self.tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Start every worker (in parallel)."""
        loop = asyncio.get_running_loop()
        workers = await asyncio.gather(*(loop.run_in_executor(self.threads, Worker, self.cfg)
                                         for _ in range(self.cfg.workers)))
        for w in workers:
            self.all.add(w)
            self.idle.put_nowait(w)

    async def run(self, job: dict) -> tuple:
        """Run a job on an idle worker within the time limit; HTTPError 503 when busy, killed or out of memory."""
        loop = asyncio.get_running_loop()
        t0 = time.monotonic()
        try:
            w = await asyncio.wait_for(self.idle.get(), timeout=self.cfg.timeout)
        except TimeoutError:
            raise HTTPError(503, "503 Service Unavailable: every query worker is busy; try again shortly",
                            {"Retry-After": "2"}) from None
        left = max(0.1, self.cfg.timeout - (time.monotonic() - t0))
        fut = loop.run_in_executor(self.threads, w.call, job)
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())  # a killed worker's error is expected
        try:
            reply = await asyncio.wait_for(asyncio.shield(fut), timeout=left)
        except TimeoutError:
            self._replace(w)
            raise HTTPError(503, f"503 Service Unavailable: the query ran longer than {self.cfg.timeout:g} s and "
                                 "was stopped; narrow it (more specific patterns, LIMIT) and try again",
                            {"Retry-After": "1"}) from None
        except WorkerDied:
            self._replace(w)
            raise HTTPError(503, "503 Service Unavailable: the query was stopped because it needed more memory "
                                 "than a query may use; narrow it and try again", {"Retry-After": "1"}) from None
        self.idle.put_nowait(w)
        return reply

    def _replace(self, w: Worker) -> None:
        """Kill a worker and start a new one in the background."""
        w.kill()
        self.all.discard(w)
        self.replacing += 1
        task = asyncio.get_running_loop().create_task(self._spawn())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _spawn(self) -> None:
        """Start one replacement worker."""
        try:
            w = await asyncio.get_running_loop().run_in_executor(self.threads, Worker, self.cfg)
            self.all.add(w)
            self.idle.put_nowait(w)
        finally:
            self.replacing -= 1

    def status(self) -> dict:
        """Counts for /health."""
        return {"total": len(self.all), "idle": self.idle.qsize(), "starting": self.replacing}

    def close(self) -> None:
        """Stop every worker."""
        for w in list(self.all):
            w.kill()
        self.threads.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------------------------------------- limits (ASGI)
class ClientLimits:
    """Per-client token bucket (rate, burst) and count of queries in flight."""

    def __init__(self, rate: float, burst: int, per_client: int):
        self.rate, self.burst, self.per_client = rate, burst, per_client
        self.tokens: dict[str, tuple[float, float]] = {}
        self.inflight: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when a request may go ahead, else the seconds until it may."""
        now = time.monotonic()
        with self.lock:
            if len(self.tokens) > 10_000:
                self._forget(now)
            tokens, last = self.tokens.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1:
                self.tokens[client] = (tokens - 1, now)
                return 0.0
            self.tokens[client] = (tokens, now)
            return (1 - tokens) / self.rate

    def _forget(self, now: float) -> None:
        """Drop the buckets that have refilled (so many clients cannot grow the table without end)."""
        full = self.burst / self.rate
        self.tokens = {c: (t, last) for c, (t, last) in self.tokens.items() if now - last < full}


def _limited(path: str) -> bool:
    """Paths that run queries: /sparql and /api/queries/NAME."""
    return path.rstrip("/") == "/sparql" or path.startswith("/api/queries/")


class Guard:
    """ASGI middleware: body size limit (413), per-client rate and concurrency limits (429)."""

    def __init__(self, app, cfg: Config, limits: ClientLimits):
        self.app, self.cfg, self.limits = app, cfg, limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.cfg.max_body:
            return await _plain(send, 413, f"413 Payload Too Large: request bodies are limited to "
                                           f"{self.cfg.max_body} bytes", {"Connection": "close"})
        if scope["method"] in ("POST", "PUT", "PATCH"):
            parts, size, more = [], 0, True
            while more:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return None
                parts.append(msg.get("body", b""))
                size += len(parts[-1])
                more = msg.get("more_body", False)
                if size > self.cfg.max_body:
                    return await _plain(send, 413, f"413 Payload Too Large: request bodies are limited to "
                                                   f"{self.cfg.max_body} bytes", {"Connection": "close"})
            receive = _replay(b"".join(parts))
        if not _limited(scope["path"]):
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.limits.take(client)
        if wait > 0:
            secs = max(1, math.ceil(wait))
            return await _plain(send, 429, f"429 Too Many Requests: at most {self.cfg.rate:g} queries per second "
                                           f"(bursts of {self.cfg.burst}) per client; retry after {secs} s",
                                {"Retry-After": str(secs)})
        if self.limits.inflight[client] >= self.cfg.per_client:
            return await _plain(send, 429, f"429 Too Many Requests: at most {self.cfg.per_client} queries at a "
                                           "time per client; wait for one to finish (retry after 1 s)",
                                {"Retry-After": "1"})
        self.limits.inflight[client] += 1
        try:
            return await self.app(scope, receive, send)
        finally:
            self.limits.inflight[client] -= 1
            if not self.limits.inflight[client]:
                del self.limits.inflight[client]


def _replay(body: bytes):
    """An ASGI receive() that hands over an already read body."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    return receive


async def _plain(send, status: int, text: str, headers: dict[str, str] | None = None) -> None:
    """Send a text/plain answer from the middleware."""
    body = (text + "\n").encode()
    hs = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
          (b"access-control-allow-origin", b"*")]
    hs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": hs})
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------------------------------------- app
def create_app(cfg: Config):
    """The FastAPI application."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.responses import FileResponse, JSONResponse, Response
    from fastapi.staticfiles import StaticFiles

    store = load_store(cfg.data, cfg.base)
    state = State(cfg, store)

    @asynccontextmanager
    async def lifespan(_app):
        await state.pool.start()
        yield
        state.pool.close()

    app = FastAPI(title="nmbkg", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def answer(body: bytes | str, media: str, status: int = 200, headers: dict | None = None) -> Response:
        """A response with charset for text types, CORS and nosniff."""
        textual = media.startswith("text/") or media.endswith(("json", "xml", "triples", "quads"))
        hs = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff", **(headers or {})}
        return Response(body, status_code=status, headers=hs,
                        media_type=f"{media}; charset=utf-8" if textual and "charset" not in media else media)

    def error(exc: HTTPError, extra: dict | None = None) -> Response:
        """A one-line text/plain error."""
        text = exc.reason if re.match(r"^\d{3} ", exc.reason) else f"{exc.status} {_phrase(exc.status)}: {exc.reason}"
        return answer(text + "\n", "text/plain", exc.status, {**exc.headers, **(extra or {})})

    @app.get("/health")
    async def health():
        return JSONResponse({"status": "ok", "triples": state.triples, "workers": state.pool.status(),
                             "uptime_s": round(time.monotonic() - state.started, 1)})

    @app.api_route("/sparql", methods=["GET", "POST", "HEAD", "OPTIONS"])
    @app.api_route("/sparql/", methods=["GET", "POST", "HEAD", "OPTIONS"], include_in_schema=False)
    async def sparql(request: Request):
        if request.method == "OPTIONS":
            return answer(b"", "text/plain", 204, {"Access-Control-Allow-Methods": "GET, POST",
                                                   "Access-Control-Allow-Headers": "Content-Type, Accept"})
        try:
            params = await protocol_params(request)
            if not params.get("query"):
                return service_description(request, params)
            job = state.sparql_job(params, request.headers.get("accept"))
            return await run(job)
        except HTTPError as exc:
            return error(exc)

    async def run(job: dict) -> Response:
        """Run a job on the pool and turn its reply into a response."""
        t0 = time.monotonic()
        reply = await state.pool.run(job)
        if reply[0] == "error":
            raise HTTPError(reply[1], reply[2])
        _, media, body, meta = reply
        hs = {"Vary": "Accept", "Server-Timing": f"query;dur={(time.monotonic() - t0) * 1000:.1f}",
              "X-NMBKG-Rows": str(meta["rows"]), "X-NMBKG-Row-Cap": str(job["cap"]),
              "Access-Control-Expose-Headers": "X-NMBKG-Truncated, X-NMBKG-Rows, X-NMBKG-Row-Cap"}
        if meta["truncated"]:
            hs["X-NMBKG-Truncated"] = "true"
            hs["Link"] = f'<{TRUNCATED_LINK}>; rel="describedby"'
        return answer(body, media, 200, hs)

    def service_description(request: Request, params: dict) -> Response:
        """Bare GET /sparql: the SPARQL Service Description."""
        endpoint = str(request.url).split("?")[0]
        media, fmt = pick_format(request.headers.get("accept"), params.get("format"),
                                 [("text/turtle", "turtle"), ("text/html", "html")] + GRAPH_OFFERS[1:4],
                                 "the service description")
        ttl = state.service_description(endpoint)
        if fmt == "html":
            page = (f"<!doctype html><meta charset='utf-8'><title>nmbkg SPARQL endpoint</title><h1>nmbkg SPARQL "
                    f"endpoint</h1><p>Send queries with <code>?query=</code>, or use the <a href='yasgui'>query "
                    f"page</a>.</p><pre>{html.escape(ttl)}</pre>")
            return answer(page, "text/html", 200, {"Vary": "Accept"})
        return answer(convert_turtle(ttl, fmt), media, 200, {"Vary": "Accept"})

    @app.get("/api/queries")
    async def list_queries(request: Request):
        return JSONResponse(state.query_list(str(request.base_url)), headers={"Access-Control-Allow-Origin": "*"})

    @app.get("/api/queries/{name}")
    async def stored(name: str, request: Request):
        try:
            q = state.queries.get(name)
            if q is None:
                raise HTTPError(404, f"no stored query named {name!r}; GET /api/queries lists them")
            pairs = parse_qsl(request.url.query, keep_blank_values=True)
            fmt = [v for k, v in pairs if k == "format"]
            given = {k: v for k, v in pairs if k != "format"}
            if len(given) != len([k for k, _ in pairs if k != "format"]):
                raise HTTPError(400, "give each parameter once")
            job = {"kind": "stored", "path": str(q.path), "params": given, "accept": request.headers.get("accept"),
                   "format": fmt[0] if fmt else None, "cap": cfg.row_cap}
            return await run(job)
        except HTTPError as exc:
            return error(exc)

    @app.get("/yasgui")
    async def yasgui():
        page = (STATIC / "yasgui.html").read_text(encoding="utf-8")
        return answer(page, "text/html", 200, {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})

    @app.get("/.well-known/void")
    async def well_known_void(request: Request):
        try:
            media, fmt = pick_format(request.headers.get("accept"), request.query_params.get("format"),
                                     GRAPH_OFFERS[:4], "the dataset description")
        except HTTPError as exc:
            return error(exc, {"Vary": "Accept"})
        ttl = (cfg.data / "void.ttl").read_text(encoding="utf-8")
        return answer(convert_turtle(ttl, fmt), media, 200, {"Vary": "Accept"})

    @app.api_route("/{path:path}", methods=["GET", "HEAD"])
    async def anything(path: str, request: Request):
        try:
            return resolve(path, request)
        except HTTPError as exc:
            return error(exc, {"Vary": "Accept"})

    def resolve(path: str, request: Request) -> Response:
        """Home, release files, site pages, docs, then IRIs under the base with content negotiation."""
        site = cfg.data / "site"
        if path in ("", "index.html"):
            return FileResponse(site / "index.html", media_type="text/html")
        if path in RELEASE_FILES:
            return FileResponse(cfg.data / path, media_type=RELEASE_FILES[path],
                                headers={"Access-Control-Allow-Origin": "*"})
        f = _inside(cfg.data / "docs", path[5:]) if path.startswith("docs/") else _inside(site, path)
        if f is not None:
            return FileResponse(f)
        return state.describe(path, request.headers.get("accept"), request.query_params.get("format"), answer)

    app.state.nmbkg = state
    return Guard(app, cfg, state.limits)


CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'")


def _phrase(status: int) -> str:
    """HTTP reason phrase."""
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _inside(folder: Path, rel: str) -> Path | None:
    """folder/rel when it is a file inside folder (no path traversal), else None."""
    if not rel or "\x00" in rel:
        return None
    root = folder.resolve()
    target = (root / rel).resolve()
    return target if target.is_relative_to(root) and target.is_file() else None


def convert_turtle(ttl: str, fmt: str) -> bytes:
    """A Turtle document in another RDF format."""
    import pyoxigraph as ox

    if fmt == "turtle":
        return ttl.encode()
    triples = [q.triple for q in ox.parse(ttl.encode(), format=ox.RdfFormat.TURTLE)]
    return serialize_triples(triples, fmt, False, 0)


async def protocol_params(request) -> dict:
    """query, default/named graph IRIs and format from GET or POST as the SPARQL 1.1 Protocol allows."""
    url = parse_qsl(request.url.query, keep_blank_values=True)
    if request.method in ("GET", "HEAD"):
        pairs = url
        direct = None
    else:
        pairs, direct = await _post_pairs(request, url)
    if any(k in ("update", "using-graph-uri", "using-named-graph-uri") for k, _ in pairs):
        raise HTTPError(403, "this endpoint is read-only: SPARQL Update is refused")
    queries = [v for k, v in pairs if k == "query"] + ([direct] if direct is not None else [])
    if len(queries) > 1:
        raise HTTPError(400, "give exactly one query (the request carries several)")
    formats = [v for k, v in pairs if k == "format"]
    return {"query": queries[0] if queries else None,
            "default": [v for k, v in pairs if k == "default-graph-uri"],
            "named": [v for k, v in pairs if k == "named-graph-uri"],
            "format": formats[0] if formats else None}


async def _post_pairs(request, url: list) -> tuple[list, str | None]:
    """Parameters of a POST: form-encoded body, or a direct application/sparql-query body."""
    ctype = request.headers.get("content-type", "")
    media, _, rest = ctype.partition(";")
    media = media.strip().lower()
    charset = re.search(r"charset\s*=\s*\"?([\w-]+)", rest, re.IGNORECASE)
    if charset and charset.group(1).lower().replace("_", "-") not in ("utf-8", "utf8", "us-ascii"):
        raise HTTPError(415, f"request bodies must be UTF-8, not {charset.group(1)}")
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPError(400, "the request body is not valid UTF-8") from exc
    if media == "application/x-www-form-urlencoded":
        return url + parse_qsl(text, keep_blank_values=True), None
    if media == "application/sparql-query":
        return url, text
    if media == "application/sparql-update":
        raise HTTPError(403, "this endpoint is read-only: SPARQL Update is refused")
    if not media:
        raise HTTPError(415, "POST needs a Content-Type: application/x-www-form-urlencoded or "
                             "application/sparql-query")
    raise HTTPError(415, f"POST bodies of type {media} are not understood; use application/x-www-form-urlencoded "
                         "or application/sparql-query")


def stored_queries(folder: Path) -> dict:
    """The stored queries of a folder by name; a file with a broken header is left out with a warning."""
    from .storedq import QueryHeaderError, parse_query

    out = {}
    for path in sorted(folder.glob("*.rq")) if folder.is_dir() else []:
        try:
            q = parse_query(path)
        except (QueryHeaderError, OSError, UnicodeDecodeError) as exc:
            print(f"nmbkg serve: warning: stored query {path.name} left out: {exc}", file=sys.stderr)
            continue
        out[q.name] = q
    return out


class State:
    """What the app holds: config, the main store (for pages), the worker pool, limits, stored queries."""

    def __init__(self, cfg: Config, store):
        self.cfg, self.store = cfg, store
        self.pool = WorkerPool(cfg)
        self.limits = ClientLimits(cfg.rate, cfg.burst, cfg.per_client)
        self.started = time.monotonic()
        self.triples = int(next(iter(store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")))["n"].value)
        self.local_graphs = {g.value for g in store.named_graphs()}
        self.queries = stored_queries(cfg.queries / "cq") if cfg.queries else {}
        self.site_pages = cfg.data / "site"

    # ------------------------------------------------------------------ SPARQL
    def sparql_job(self, params: dict, accept: str | None) -> dict:
        """Check a query against the read-only policy and make its job."""
        text = params["query"]
        query_policy(text, self.local_graphs)
        check_graph_params(params["default"] + params["named"], self.local_graphs)
        return {"kind": "sparql", "query": text, "default_graphs": params["default"] or None,
                "named_graphs": params["named"] or None, "accept": accept, "format": params["format"],
                "cap": self.cfg.row_cap}

    def service_description(self, endpoint: str) -> str:
        """SPARQL Service Description of this endpoint, in Turtle."""
        cfg = self.cfg
        graphs = "".join(
            f'\n        sd:namedGraph [ sd:name <{g}> ; sd:graph [ a sd:Graph ; void:triples {self._count(g)} ] ] ;'
            for g in sorted(self.local_graphs))
        return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix formats: <http://www.w3.org/ns/formats/> .

<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:resultFormat formats:SPARQL_Results_JSON, formats:SPARQL_Results_XML, formats:SPARQL_Results_CSV,
        formats:SPARQL_Results_TSV, formats:Turtle, formats:N-Triples, formats:JSON-LD, formats:RDF_XML ;
    dcterms:title "nmbkg SPARQL 1.1 endpoint (read-only)"@en ;
    rdfs:comment "Read-only. Update, LOAD, SERVICE and graphs from other hosts are refused. Each query may run \
{cfg.timeout:g} s and return {cfg.row_cap} rows (or triples); longer results are cut and flagged by the header \
X-NMBKG-Truncated. Each client may run {cfg.per_client} queries at a time and {cfg.rate:g} per second \
(bursts of {cfg.burst}). Request bodies are limited to {cfg.max_body} bytes."@en ;
    void:sparqlEndpoint <{endpoint}> ;
    sd:defaultDataset [ a sd:Dataset ;
        dcterms:source <{cfg.base}dataset> ;
        sd:defaultGraph [ a sd:Graph ; void:triples {self.triples} ] ;{graphs}
    ] .
"""

    def _count(self, graph: str) -> int:
        """Triples in a named graph."""
        rows = self.store.query(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return int(next(iter(rows))["n"].value)

    # ------------------------------------------------------------------ stored queries
    def query_list(self, root: str) -> dict:
        """The stored queries with their parameters, SPARQL text and a runnable example."""
        out = []
        for q in self.queries.values():
            out.append({"name": q.name, "summary": q.summary, "description": q.meta.get("description", ""),
                        "params": [{"name": p.name, "kind": p.kind, "required": p.required, "default": p.default,
                                    "choices": list(p.choices), "label_of": p.lookup} for p in q.params],
                        "returns": q.returns, "url": f"{root}api/queries/{quote(q.name)}",
                        "sparql": q.text, "example": self.example(q)})
        return {"queries": out, "count": len(out)}

    def example(self, q) -> str:
        """The query text with its default parameter values bound by a VALUES block (for the query page)."""
        from .query import QueryError, coerce

        names, terms = [], []
        for p in q.params:
            if p.default in (None, ""):
                continue
            try:
                v = coerce(_StoreEngine(self.store), p, p.default)
            except QueryError:
                continue
            names.append("?" + p.name)
            terms.append(_nt_term(v) if v.kind != "literal" or v.datatype not in (XSD + "integer", XSD + "decimal")
                         else v.value)
        body = "".join(ln for ln in q.text.splitlines(keepends=True) if not ln.startswith("#+"))
        head = f"# {q.name}: {q.summary}\n"
        m = re.search(r"\bWHERE\s*\{", body, re.IGNORECASE) or re.search(r"\{", body)
        if not names or not m:
            return head + body
        values = f"\n  VALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }}  # defaults; change them here"
        return head + body[:m.end()] + values + body[m.end():]

    # ------------------------------------------------------------------ resources
    def describe(self, path: str, accept: str | None, fmt: str | None, answer):
        """An IRI under the base: its description in the negotiated format (HTML page, Turtle, JSON-LD ...)."""
        iri, forced = self._iri_for(path)
        if iri is None:
            raise HTTPError(404, f"nothing is known about {self.cfg.base}{path}")
        media, kind = (MEDIA[forced], forced) if forced else pick_format(accept, fmt, RESOURCE_OFFERS,
                                                                         f"<{iri}>")
        hs = {"Vary": "Accept", "Link": f'<{iri}>; rel="canonical"'}
        if self._is_ontology(iri):
            return self._ontology(kind, media, hs, answer)
        if kind == "html":
            page = self._page_file(iri)
            body = page.read_text(encoding="utf-8") if page else self.html_page(iri, path)
            return answer(body, "text/html", 200, hs)
        triples = self.triples_of(iri)
        return answer(serialize_triples(triples, kind, False, 0), media, 200, hs)

    def _iri_for(self, path: str) -> tuple[str | None, str | None]:
        """The IRI a path names (and a format forced by a file suffix), if the store knows it."""
        iri = self.cfg.base + path
        if self._known(iri) or self._is_ontology(iri):
            return iri, None
        for suffix, kind in SUFFIXES.items():
            if path.endswith(suffix):
                stem = self.cfg.base + path[: -len(suffix)]
                if self._known(stem) or self._is_ontology(stem):
                    return stem, kind
        return None, None

    def _is_ontology(self, iri: str) -> bool:
        """The ontology IRI or its version IRI."""
        import pyoxigraph as ox

        onto = self.cfg.base + "ontology"
        if iri == onto:
            return True
        version = ox.NamedNode("http://www.w3.org/2002/07/owl#versionIRI")
        return any(True for _ in self.store.quads_for_pattern(ox.NamedNode(onto), version, ox.NamedNode(iri), None))

    def _known(self, iri: str) -> bool:
        """True when the IRI is the subject of some triple (in any graph)."""
        import pyoxigraph as ox

        return next(iter(self.store.quads_for_pattern(ox.NamedNode(iri), None, None, None)), None) is not None

    def triples_of(self, iri: str) -> list:
        """Every triple with the IRI as subject (default and metadata graphs), plus labels of what it links to."""
        import pyoxigraph as ox

        node = ox.NamedNode(iri)
        seen, out = set(), []
        for q in self.store.quads_for_pattern(node, None, None, None):
            t = q.triple
            if t not in seen:
                seen.add(t)
                out.append(t)
        label = ox.NamedNode(RDFS_LABEL)
        for t in list(out):
            for other in (t.predicate, t.object):
                if isinstance(other, ox.NamedNode) and other != node:
                    for q in self.store.quads_for_pattern(other, label, None, ox.DefaultGraph()):
                        if q.triple not in seen:
                            seen.add(q.triple)
                            out.append(q.triple)
        return out

    def _page_file(self, iri: str) -> Path | None:
        """The static site page of an IRI, if the site has one."""
        rest = iri[len(self.cfg.base):]
        f = _inside(self.site_pages, rest + ".html")
        return f

    def _ontology(self, kind: str, media: str, hs: dict, answer):
        """The ontology document: pyLODE HTML or the ontology graph."""
        if kind == "html":
            docs = self.cfg.data / "docs" / "ontology.html"
            if docs.is_file():
                return answer(docs.read_text(encoding="utf-8"), "text/html", 200, hs)
            raise HTTPError(404, "the ontology documentation was not built")
        files = {"turtle": "ontology.ttl", "nt": "ontology.nt", "jsonld": "ontology.jsonld", "rdfxml": "ontology.owl"}
        return answer((self.cfg.data / files[kind]).read_bytes(), media, 200, hs)

    def html_page(self, iri: str, path: str) -> str:
        """A generic HTML page for a resource without a site page."""
        from .site import render_resource

        incoming = [(q.subject.value, q.predicate.value) for q in self._incoming(iri)]
        return render_resource(self.store, self.cfg.base, iri, self.triples_of(iri), incoming, path)

    def _incoming(self, iri: str, limit: int = 200) -> list:
        """Up to `limit` triples pointing at the IRI."""
        import pyoxigraph as ox

        out = []
        for q in self.store.quads_for_pattern(None, None, ox.NamedNode(iri), ox.DefaultGraph()):
            out.append(q)
            if len(out) >= limit:
                break
        return out


# ---------------------------------------------------------------------------------------------- CLI
def cmd_serve(args) -> int:
    """`nmbkg serve`: run the endpoint until interrupted."""
    import uvicorn

    from .config import Project

    try:
        project = Project.discover(getattr(args, "root", None))
    except FileNotFoundError:
        project = None
    data = Path(args.data) if args.data else (project.root / "dist" if project else Path("dist"))
    if getattr(args, "store", None):
        import os

        from .store import store_info

        info = store_info(Path(args.store))  # one-line error when PATH is not an nmbkg store
        if not args.data and info.get("release"):
            data = Path(info["release"])
        os.environ[STORE_ENV] = str(Path(args.store).resolve())
    missing = [n for n in ("nmbkg.nt", "ontology.nt", "void.ttl", "nmbkg.nq", "site/index.html")
               if not (data / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{data} is not a complete release (missing {missing[0]}): run `nmbkg build` first")
    queries = Path(args.queries) if args.queries else (project.queries_dir if project else None)
    base = args.base if args.base.endswith(("/", "#")) else args.base + "/"
    cfg = Config(data=data.resolve(), queries=queries, base=base, host=args.host, port=args.port,
                 timeout=args.timeout, row_cap=args.row_cap, workers=args.workers, per_client=args.per_client,
                 rate=args.rate, burst=args.burst, max_body=args.max_body, worker_memory_mb=args.worker_memory)
    try:
        sock = listen(cfg.host, cfg.port)
    except OSError as exc:
        print(f"nmbkg: error: cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    app = create_app(cfg)
    print(f"nmbkg serve: {cfg.data} on http://{cfg.host}:{sock.getsockname()[1]}/ (base {cfg.base}; query page "
          "/yasgui, endpoint /sparql)", flush=True)
    config = uvicorn.Config(app, log_level=args.log_level, access_log=args.log_level == "debug",
                            timeout_graceful_shutdown=3)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def listen(host: str, port: int) -> socket.socket:
    """A bound listening socket (so a busy port fails before any worker starts)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def add_parser(sub) -> None:
    """The `serve` subcommand."""
    p = sub.add_parser("serve", help="SPARQL 1.1 endpoint, linked-data pages and query page over a release")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--data", help="release folder (default: dist/)")
    p.add_argument("--store", help="serve a persistent store made by `nmbkg build --store PATH` (read-only)")
    p.add_argument("--base", default=DEFAULT_BASE, help=f"base IRI of the data (default {DEFAULT_BASE})")
    p.add_argument("--queries", help="stored queries folder (default: queries/ of the project)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds a query may run (default 10)")
    p.add_argument("--row-cap", type=int, default=10_000, help="rows (or triples) a query may return (default 10000)")
    p.add_argument("--workers", type=int, default=4, help="query worker processes (default 4)")
    p.add_argument("--per-client", type=int, default=2, help="queries a client may run at a time (default 2)")
    p.add_argument("--rate", type=float, default=5.0, help="queries per second per client, sustained (default 5)")
    p.add_argument("--burst", type=int, default=30, help="queries a client may send in a burst (default 30)")
    p.add_argument("--max-body", type=int, default=1_000_000, help="largest request body in bytes (default 1000000)")
    p.add_argument("--worker-memory", type=int, default=2048, help="address-space limit of a worker, MB (default 2048)")
    p.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"))
    p.set_defaults(func=cmd_serve)

