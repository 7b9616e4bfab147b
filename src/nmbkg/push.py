"""`nmbkg push`: load the built release into an external triple store over the SPARQL 1.1 Graph Store Protocol.

The target named graph is replaced so that a client never sees it half-loaded: with `--update` (a SPARQL
Update endpoint) the release goes in chunks into a fresh temporary graph, which one `MOVE` then puts in
place of the target (MOVE drops the old content and renames in one request); without `--update` the whole
release is sent in one Graph Store `PUT`, which the server applies as one replacement. Credentials come
from the environment (NMBKG_USER, NMBKG_PASSWORD); Basic or Digest is chosen from the server's challenge.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_GRAPH = "https://w3id.org/nmbkg/graph"
CHUNK = 50_000  # triples per POST when uploading in chunks
NT_TYPE = "text/turtle; charset=utf-8"  # N-Triples is Turtle; every store accepts text/turtle


class PushError(Exception):
    """The endpoint refused or could not be reached. One line, exit 2."""


def auth_from_env():
    """An httpx auth built from NMBKG_USER / NMBKG_PASSWORD, or None when they are not set."""
    user, password = os.environ.get("NMBKG_USER"), os.environ.get("NMBKG_PASSWORD")
    if not user:
        return None
    return challenge_auth(user, password or "")


def _challenge_auth_class():
    import httpx

    class _ChallengeAuth(httpx.Auth):
        """Answers a 401 with Digest or Basic credentials, whichever scheme the server asks for."""

        def __init__(self, user: str, password: str):
            self.basic = httpx.BasicAuth(user, password)
            self.digest = httpx.DigestAuth(user, password)
            self.scheme = ""

        def auth_flow(self, request):
            if self.scheme == "basic":
                yield from self.basic.auth_flow(request)
                return
            if self.scheme == "digest":
                yield from self.digest.auth_flow(request)
                return
            response = yield request
            if response.status_code != 401:
                return
            challenge = response.headers.get("www-authenticate", "").lower()
            self.scheme = "digest" if challenge.startswith("digest") else "basic"
            yield from (self.digest if self.scheme == "digest" else self.basic).auth_flow(request)

    return _ChallengeAuth


def challenge_auth(user: str, password: str):
    """Auth for httpx that follows the server's challenge (Digest for Virtuoso, Basic for Fuseki)."""
    return _challenge_auth_class()(user, password)


@dataclass
class PushReport:
    """What a push sent."""

    graph: str
    triples: int
    requests: int
    seconds: float
    method: str


def chunks(files: list[Path], size: int = CHUNK) -> Iterator[tuple[int, bytes]]:
    """N-Triples of the files in pieces of `size` lines; lines with blank nodes all go in the last piece.

    A blank node label only holds within one request, so every triple that names one travels together.
    """
    buf: list[bytes] = []
    bnodes: list[bytes] = []
    for f in files:
        with open(f, "rb") as fh:
            for line in fh:
                if not line.strip() or line.startswith(b"#"):
                    continue
                if b"_:" in line and re.search(rb'(^|\s)_:', line.split(b'"', 1)[0]):
                    bnodes.append(line)
                    continue
                buf.append(line)
                if len(buf) >= size:
                    yield len(buf), b"".join(buf)
                    buf = []
    if buf:
        yield len(buf), b"".join(buf)
    if bnodes:
        yield len(bnodes), b"".join(bnodes)


class GraphStore:
    """A Graph Store Protocol endpoint (and optionally a SPARQL Update endpoint) of one server."""

    def __init__(self, gsp: str, update: str | None = None, auth=None, timeout: float = 600.0):
        import httpx

        for url in (gsp, update):
            if url and not re.match(r"^https?://", url):
                raise PushError(f"endpoint must be an http(s) URL, got {url!r}")
        self.gsp, self.update_url = gsp, update
        self.client = httpx.Client(auth=auth, timeout=timeout)
        self.requests = 0

    def _call(self, method: str, url: str, **kw):
        import httpx

        self.requests += 1
        try:
            r = self.client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise PushError(f"cannot reach {url}: {exc}") from exc
        if r.status_code >= 300:
            raise PushError(f"{method} {url} answered {r.status_code}: {' '.join(r.text.split())[:300]}")
        return r

    def send(self, method: str, graph: str, body: bytes) -> None:
        """POST (add) or PUT (replace) N-Triples into a named graph."""
        self._call(method, self.gsp, params={"graph": graph}, content=body, headers={"Content-Type": NT_TYPE})

    def update(self, text: str) -> None:
        """Run one SPARQL Update request."""
        self._call("POST", self.update_url, data={"update": text})


def push_release(dist: Path, gsp: str, graph: str = DEFAULT_GRAPH, update: str | None = None, auth=None,
                 chunk: int = CHUNK) -> PushReport:
    """Replace the named graph on the server with the release (data, inferred, ontology triples)."""
    from .store import StoreError, release_files

    try:
        files = release_files(dist)
    except StoreError as exc:
        raise PushError(str(exc)) from exc
    _check_iri(graph)
    gs = GraphStore(gsp, update, auth)
    t0 = time.perf_counter()
    n = 0
    if update:
        tmp = f"urn:nmbkg:upload:{uuid.uuid4()}"
        try:
            for count, body in chunks(files, chunk):
                gs.send("POST", tmp, body)
                n += count
            gs.update(f"MOVE SILENT GRAPH <{tmp}> TO GRAPH <{graph}>")
        except BaseException:
            try:
                gs.update(f"DROP SILENT GRAPH <{tmp}>")
            except PushError:
                pass
            raise
        method = "POST chunks to a temporary graph, then MOVE"
    else:
        parts = list(chunks(files, 10**12))
        n = sum(c for c, _ in parts)
        gs.send("PUT", graph, b"".join(b for _, b in parts))
        method = "one Graph Store PUT"
    return PushReport(graph, n, gs.requests, time.perf_counter() - t0, method)


def _check_iri(iri: str) -> None:
    """Refuse a graph name that is not an absolute IRI safe to write between < >."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^<>\"{}|^`\\\s]+", iri or ""):
        raise PushError(f"--graph must be an absolute IRI, got {iri!r}")


def cmd_push(args) -> int:
    """`nmbkg push`: send dist/ to a triple store."""
    from .config import Project

    project = Project.discover(getattr(args, "root", None))
    dist = Path(args.data) if args.data else project.root / "dist"
    try:
        rep = push_release(dist, args.endpoint, args.graph, args.update, auth_from_env(), args.chunk)
    except PushError as exc:
        print(f"nmbkg: error: {exc}", file=sys.stderr)
        return 2
    print(f"pushed {rep.triples} triples to <{rep.graph}> at {args.endpoint} in {rep.seconds:.1f} s "
          f"({rep.requests} requests: {rep.method})")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `nmbkg push`."""
    p = sub.add_parser("push", help="load the built release into a SPARQL Graph Store (Virtuoso, Fuseki, Oxigraph)",
                       description="Replace a named graph of an external triple store with dist/. Credentials "
                                   "come from NMBKG_USER and NMBKG_PASSWORD.")
    p.add_argument("--endpoint", required=True,
                   help="Graph Store Protocol URL, e.g. http://host:8890/sparql-graph-crud-auth (Virtuoso), "
                        "http://host:3030/ds/data (Fuseki), http://host:7878/store (Oxigraph)")
    p.add_argument("--update", help="SPARQL Update URL (e.g. http://host:8890/sparql-auth); when given, upload in "
                                    "chunks to a temporary graph and MOVE it over the target")
    p.add_argument("--graph", default=DEFAULT_GRAPH, help=f"named graph to replace (default {DEFAULT_GRAPH})")
    p.add_argument("--data", help="release folder (default: dist/)")
    p.add_argument("--chunk", type=int, default=CHUNK, help=f"triples per request with --update (default {CHUNK})")
    p.set_defaults(func=cmd_push)
