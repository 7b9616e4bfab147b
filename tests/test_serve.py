"""`nmbkg serve` on a loopback port: SPARQL 1.1 Protocol, content negotiation, stored-query API, abuse cases."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, run_cli
from rdflib import Graph, URIRef
from rdflib.namespace import VOID

pytestmark = [pytest.mark.server, pytest.mark.reasoner]

BASE = "https://w3id.org/nmbkg/"
G = {name: f"{BASE}graph/{name}" for name in ("asserted", "inferred", "ontology", "metadata")}
SAMPLE_IRIS = ["id/electrolyte/nabf4-g2-0p5m", "id/substance/naf", "id/work/ref-82", "id/work/review",
               "id/component/nabf4-g2-0p5m.nabf4", "id/activity/hermit-reasoning", "dataset", "graph/asserted"]
RDF_TYPES = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/n-triples": "nt",
             "application/rdf+xml": "xml"}


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real `nmbkg serve` subprocess on a loopback port, stopped by its process id."""

    def __init__(self, data: Path, *args: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "nmbkg.cli", "serve", "--data", str(data), "--port", str(self.port), *args]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nmbkg serve exited: {self.proc.stdout.read()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("nmbkg serve did not answer /health within 60 s")

    def stop(self) -> None:
        """Terminate the server (and so its workers)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="module")
def srv(dist):
    """A server with generous client limits, for the protocol and negotiation cases."""
    s = Server(dist, "--rate", "1000", "--burst", "1000", "--per-client", "8", "--timeout", "5")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def strict(dist):
    """A server with default client limits, a 2 s time limit, a 100-row cap and 1 GB per worker (abuse cases)."""
    s = Server(dist, "--timeout", "2", "--row-cap", "100", "--workers", "2", "--worker-memory", "1024")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(srv):
    """HTTP client for srv."""
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        yield c


def ask_json(r: httpx.Response) -> bool:
    """The boolean of an ASK answer in SPARQL JSON."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/sparql-results+json")
    return r.json()["boolean"]


def live_count(c: httpx.Client) -> int:
    """COUNT(*) over the default graph, via the endpoint."""
    r = c.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


# ---------------------------------------------------------------------------------------------- W3C protocol
# The query-side tests of the W3C SPARQL 1.1 Protocol suite (sparql11/protocol/manifest.ttl) that apply to a
# read-only endpoint; the suite's remote graphs (kasei.us) are replaced by this dataset's named graphs.
ASK_BOTH = (f"ASK {{ <{BASE}id/electrolyte/nabf4-g2-0p5m> ?p ?o . <{BASE}ontology> ?q ?r }}")
ASK_NAMED = (f"ASK {{ GRAPH ?g1 {{ <{BASE}id/electrolyte/nabf4-g2-0p5m> ?p ?o }} "
             f"GRAPH ?g2 {{ <{BASE}ontology> ?q ?r }} }}")


def test_query_get(client):
    """query_get."""
    assert ask_json(client.get("/sparql/", params={"query": "ASK {}"}))


def test_query_post_form(client):
    """query_post_form (with a protocol default graph of this dataset)."""
    r = client.post("/sparql/", params={"default-graph-uri": G["asserted"]}, content="query=ASK%20%7B%7D",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert ask_json(r)


def test_query_post_direct(client):
    """query_post_direct."""
    assert ask_json(client.post("/sparql/", content="ASK {}", headers={"Content-Type": "application/sparql-query"}))


@pytest.mark.parametrize("method", ["get", "post"])
def test_query_dataset_default_graphs(client, method):
    """query_dataset_default_graphs_get/post: two protocol default graphs are merged; one alone is not enough."""
    both = [("default-graph-uri", G["asserted"]), ("default-graph-uri", G["ontology"])]
    if method == "get":
        r = client.get("/sparql/", params=[("query", ASK_BOTH), *both])
    else:
        r = client.post("/sparql/", params=both, content=ASK_BOTH, headers={"Content-Type": "application/sparql-query"})
    assert ask_json(r) is True
    one = client.get("/sparql/", params=[("query", ASK_BOTH), ("default-graph-uri", G["asserted"])])
    assert ask_json(one) is False


@pytest.mark.parametrize("method", ["get", "post"])
def test_query_dataset_named_graphs(client, method):
    """query_dataset_named_graphs_get/post."""
    named = [("named-graph-uri", G["asserted"]), ("named-graph-uri", G["ontology"])]
    if method == "get":
        r = client.get("/sparql/", params=[("query", ASK_NAMED), *named])
    else:
        r = client.post("/sparql/", params=named, content=ASK_NAMED, headers={"Content-Type": "application/sparql-query"})
    assert ask_json(r) is True


def test_query_dataset_full(client):
    """query_dataset_full: protocol default and named graphs together."""
    q = (f"ASK {{ <{BASE}ontology> ?q ?r GRAPH ?g1 {{ <{BASE}id/electrolyte/nabf4-g2-0p5m> ?p ?o }} "
         f"GRAPH ?g2 {{ <{BASE}dataset> ?s ?t }} }}")
    r = client.post("/sparql/", params=[("default-graph-uri", G["ontology"]), ("named-graph-uri", G["asserted"]),
                                        ("named-graph-uri", G["metadata"])],
                    content=q, headers={"Content-Type": "application/sparql-query"})
    assert ask_json(r) is True


def test_query_multiple_dataset(client):
    """query_multiple_dataset: the protocol dataset overrides the query's FROM."""
    q = f"ASK FROM <{G['ontology']}> {{ <{BASE}id/electrolyte/nabf4-g2-0p5m> ?p ?o }}"
    assert ask_json(client.get("/sparql/", params={"query": q})) is False
    assert ask_json(client.get("/sparql/", params={"query": q, "default-graph-uri": G["asserted"]})) is True


@pytest.mark.parametrize("form,query,types", [
    ("select", "SELECT ?s ?p ?o { ?s ?p ?o } LIMIT 3", ("application/sparql-results+json", "application/sparql-results+xml",
                                                 "text/csv", "text/tab-separated-values")),
    ("ask", "ASK { ?s ?p ?o }", ("application/sparql-results+json", "application/sparql-results+xml")),
    ("describe", f"DESCRIBE <{BASE}id/substance/naf>", tuple(RDF_TYPES)),
    ("construct", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 5", tuple(RDF_TYPES)),
])
def test_query_content_type(client, form, query, types):
    """query_content_type_select/ask/describe/construct: each result type by Accept, and the body parses."""
    for t in types:
        r = client.get("/sparql", params={"query": query}, headers={"Accept": t})
        assert r.status_code == 200, (t, r.text)
        assert r.headers["content-type"].split(";")[0] == t
        assert r.headers["vary"] == "Accept"
        check_body(r.content, t, form)


def check_body(body: bytes, media: str, form: str) -> None:
    """A result body is well-formed in its media type."""
    if media in RDF_TYPES:
        g = Graph()
        g.parse(data=body, format=RDF_TYPES[media])
        assert len(g) > 0
    elif media.endswith("json"):
        doc = json.loads(body)
        assert ("boolean" in doc) if form == "ask" else len(doc["results"]["bindings"]) == 3
    elif media.endswith("xml"):
        root = ET.fromstring(body)
        assert root.tag == "{http://www.w3.org/2005/sparql-results#}sparql"
    elif media == "text/csv":
        rows = list(csv.reader(io.StringIO(body.decode())))
        assert rows[0] == ["s", "p", "o"] and len(rows) == 4
    else:
        lines = body.decode().splitlines()
        assert lines[0] == "?s\t?p\t?o" and len(lines) == 4


@pytest.mark.parametrize("fmt,media", [("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
                                       ("csv", "text/csv"), ("tsv", "text/tab-separated-values")])
def test_format_parameter_overrides_accept(client, fmt, media):
    """format= picks the result format whatever Accept says."""
    r = client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 3", "format": fmt},
                   headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)


def test_unacceptable_result_type_is_406(client):
    """Accept with nothing the query form can give: 406 naming what is available."""
    r = client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 1"}, headers={"Accept": "image/png"})
    assert r.status_code == 406 and "application/sparql-results+json" in r.text


def test_select_results_equal_local_engine(client, engines):
    """The endpoint's rows equal pyoxigraph's on the release, for a query over the data."""
    q = ("SELECT ?e ?l WHERE { ?e <https://w3id.org/nmbkg/ontology#electrolyteCategory> \"polymer\" ; "
         "<http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?e")
    r = client.get("/sparql", params={"query": q, "format": "csv"})
    rows = list(csv.reader(io.StringIO(r.text)))[1:]
    local = [[v.value for v in row] for row in engines["oxigraph"].select(q, {}).rows]
    assert rows == local and len(rows) > 5


@pytest.mark.parametrize("name,request_kw,status", [
    ("bad_query_method", {"method": "PUT", "url": "/sparql/?query=ASK%20%7B%7D"}, 405),
    ("bad_multiple_queries", {"method": "GET", "url": "/sparql/?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D"}, 400),
    ("bad_query_wrong_media_type", {"method": "POST", "url": "/sparql/", "content": "ASK {}",
                                    "headers": {"Content-Type": "text/plain"}}, 415),
    ("bad_query_missing_form_type", {"method": "POST", "url": "/sparql/", "content": "query=ASK%20%7B%7D"}, 415),
    ("bad_query_missing_direct_type", {"method": "POST", "url": "/sparql/", "content": "ASK {}"}, 415),
    ("bad_query_non_utf8", {"method": "POST", "url": "/sparql/", "content": "ASK {}".encode("utf-16"),
                            "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"}}, 415),
    ("bad_query_syntax", {"method": "GET", "url": "/sparql/?query=ASK%20%7B"}, 400),
    ("bad_update_get", {"method": "GET", "url": "/sparql/?update=CLEAR%20ALL"}, 403),
    ("bad_multiple_updates", {"method": "POST", "url": "/sparql/", "content": "update=CLEAR%20NAMED&update=CLEAR%20DEFAULT",
                              "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 403),
    ("bad_update_wrong_media_type", {"method": "POST", "url": "/sparql/", "content": "CLEAR NAMED",
                                     "headers": {"Content-Type": "text/plain"}}, 415),
    ("update_post_form_refused", {"method": "POST", "url": "/sparql/", "content": "update=CLEAR+ALL",
                                  "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 403),
    ("update_post_direct_refused", {"method": "POST", "url": "/sparql/", "content": "CLEAR ALL",
                                    "headers": {"Content-Type": "application/sparql-update"}}, 403),
])
def test_bad_requests(client, name, request_kw, status):
    """The W3C bad_* cases (and the update cases, which a read-only endpoint refuses) answer 4xx with a reason."""
    r = client.request(**request_kw)
    assert r.status_code == status, (name, r.status_code, r.text)
    if status != 405:
        assert r.text.startswith(str(status)) and len(r.text.strip().splitlines()) == 1


def test_syntax_error_carries_the_parser_message(client):
    """400 with pyoxigraph's message (position and what was expected)."""
    r = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?y }"})
    assert r.status_code == 400
    assert "SPARQL syntax error: error at 1:" in r.text and "expected" in r.text


def test_bare_get_is_a_service_description(client, srv):
    """GET /sparql without a query: a SPARQL Service Description in Turtle (HTML for browsers)."""
    r = client.get("/sparql")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=r.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    ep = URIRef(f"{srv.url}/sparql")
    assert (ep, URIRef(sd + "endpoint"), ep) in g
    assert (ep, URIRef(sd + "supportedLanguage"), URIRef(sd + "SPARQL11Query")) in g
    html = client.get("/sparql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert html.headers["content-type"].startswith("text/html") and "yasgui" in html.text


# ---------------------------------------------------------------------------------------------- negotiation
@pytest.mark.parametrize("path", SAMPLE_IRIS)
@pytest.mark.parametrize("media", ["text/html", *RDF_TYPES])
def test_content_negotiation_matrix(client, path, media):
    """Every sample IRI in every media type: 200, that type, Vary: Accept, a description of that IRI."""
    r = client.get("/" + path, headers={"Accept": media})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media
    assert "Accept" in r.headers["vary"]
    iri = URIRef(BASE + path)
    if media == "text/html":
        assert "<html" in r.text
        return
    g = Graph().parse(data=r.content, format=RDF_TYPES[media])
    assert len(list(g.triples((iri, None, None)))) >= 2


@pytest.mark.parametrize("path", SAMPLE_IRIS[:3])
@pytest.mark.parametrize("media", ["image/png", "application/pdf", "text/turtle;q=0"])
def test_unsupported_media_type_is_406(client, path, media):
    """406 with Vary: Accept for types that cannot be served."""
    r = client.get("/" + path, headers={"Accept": media})
    assert r.status_code == 406 and "Accept" in r.headers["vary"]


def test_negotiation_honours_q_values(client):
    """The type with the highest q wins; equal q keeps the server's order."""
    path = "/" + SAMPLE_IRIS[0]
    r = client.get(path, headers={"Accept": "text/html;q=0.5, application/n-triples;q=0.9, text/turtle;q=0.8"})
    assert r.headers["content-type"].startswith("application/n-triples")
    assert client.get(path, headers={"Accept": "*/*"}).headers["content-type"].startswith("text/html")
    assert client.get(path, headers={"Accept": "text/*"}).headers["content-type"].startswith("text/html")


def test_description_has_labels_of_linked_resources(client):
    """The RDF description includes rdfs:label of the resources the IRI links to."""
    r = client.get("/id/component/nabf4-g2-0p5m.nabf4", headers={"Accept": "application/n-triples"})
    g = Graph().parse(data=r.text, format="nt")
    label = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
    assert (URIRef(BASE + "id/substance/nabf4"), label, None) in g


def test_html_of_an_entity_is_its_site_page(client, dist):
    """text/html of an electrolyte IRI is the static site page of that electrolyte."""
    r = client.get("/id/electrolyte/nabf4-g2-0p5m", headers={"Accept": "text/html"})
    assert r.text == (dist / "site" / "id" / "electrolyte" / "nabf4-g2-0p5m.html").read_text()


def test_ontology_terms_resolve(client):
    """/ontology (where ontology#Term lands): pyLODE HTML with the term's anchor, or the ontology graph."""
    html = client.get("/ontology", headers={"Accept": "text/html"})
    assert html.status_code == 200 and '<span id="CycleLife"></span>' in html.text
    ttl = client.get("/ontology", headers={"Accept": "text/turtle"})
    g = Graph().parse(data=ttl.text, format="turtle")
    assert (URIRef(BASE + "ontology#CycleLife"), None, None) in g
    assert client.get("/ontology", headers={"Accept": "application/rdf+xml"}).status_code == 200
    version = g.value(URIRef(BASE + "ontology"), URIRef("http://www.w3.org/2002/07/owl#versionIRI"))
    assert version and str(version).startswith(BASE)
    assert client.get("/" + str(version)[len(BASE):], headers={"Accept": "text/turtle"}).status_code == 200


def test_suffixes_and_unknown_iris(client):
    """IRI + .ttl/.jsonld/.nt/.rdf forces a format; unknown IRIs are 404."""
    assert client.get("/id/substance/naf.ttl").headers["content-type"].startswith("text/turtle")
    assert client.get("/id/substance/naf.jsonld").headers["content-type"].startswith("application/ld+json")
    assert client.get("/id/substance/not-a-substance").status_code == 404
    assert client.get("/id/substance/..%2F..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_release_files_and_home_are_served(client, dist):
    """The dumps, the docs and the site pages are served as files."""
    assert client.get("/nmbkg.nq").content == (dist / "nmbkg.nq").read_bytes()
    assert client.get("/").text == (dist / "site" / "index.html").read_text()
    assert client.get("/plots.html").status_code == 200
    assert client.get("/docs/ontology.html").status_code == 200


def test_well_known_void_and_live_count(client):
    """/.well-known/void is the VoID description; its triple count equals the live COUNT(*)."""
    r = client.get("/.well-known/void")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=r.text, format="turtle")
    assert int(g.value(URIRef(BASE + "dataset"), VOID.triples)) == live_count(client)
    js = client.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert len(Graph().parse(data=js.text, format="json-ld")) == len(g)


def test_health(client):
    """/health reports the triples and the workers."""
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["workers"]["total"] >= 1 and h["triples"] == live_count(client)


# ---------------------------------------------------------------------------------------------- stored queries
def test_api_lists_every_stored_query(client):
    """/api/queries lists queries/cq/*.rq with parameters, SPARQL and a runnable example."""
    from nmbkg.storedq import QueryHeaderError, parse_query

    listed = {q["name"]: q for q in client.get("/api/queries").json()["queries"]}
    files = set()
    for p in (ROOT / "queries" / "cq").glob("*.rq"):
        try:
            files.add(parse_query(p).name)
        except QueryHeaderError:
            pass  # a header the loader cannot read is reported by the stored-query tests; serve leaves it out
    assert set(listed) == files and files
    for q in listed.values():
        assert q["summary"] and "SELECT" in q["sparql"].upper() and q["url"].endswith(f"/api/queries/{q['name']}")


def test_every_stored_query_runs_through_the_api(client):
    """Each stored query with its defaults answers 200 in SPARQL JSON, and its example runs at /sparql."""
    for q in client.get("/api/queries").json()["queries"]:
        params = {p["name"]: p["default"] for p in q["params"] if p["required"] and p["default"]}
        r = client.get(f"/api/queries/{q['name']}", params=params)
        if any(p["required"] and not p["default"] for p in q["params"]):
            assert r.status_code == 400, q["name"]
            continue
        assert r.status_code == 200, (q["name"], r.text)
        assert "results" in r.json()
        ex = client.post("/sparql", data={"query": q["example"]})
        assert ex.status_code == 200, (q["name"], ex.text)


def test_stored_query_binds_parameters_like_the_cli(client, engines, project):
    """/api/queries/NAME?param= gives the rows `nmbkg query` gives (run_stored, engine-bound)."""
    from nmbkg.output import render
    from nmbkg.query import find_query, run_stored

    q = find_query(project.queries_dir, "symmetric-cell-life")
    local = render(run_stored(engines["oxigraph"], q, {"min_hours": "1000", "category": "liquid"}), "csv")
    r = client.get("/api/queries/symmetric-cell-life", params={"min_hours": "1000", "category": "liquid",
                                                                "format": "csv"})
    assert r.status_code == 200
    api = list(csv.reader(io.StringIO(r.text)))
    cli = list(csv.reader(io.StringIO(local)))
    assert api[0] == cli[0] and sorted(api[1:]) == sorted(cli[1:]) and len(api) > 1


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_stored_query_formats(client, fmt):
    """A stored query answers in every result format."""
    r = client.get("/api/queries/symmetric-cell-life", params={"format": fmt})
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
         "tsv": "text/tab-separated-values"}[fmt])


def test_stored_query_errors(client):
    """Unknown query 404; unknown or badly typed parameter 400 with the reason."""
    assert client.get("/api/queries/no-such-query").status_code == 404
    r = client.get("/api/queries/symmetric-cell-life", params={"min_hours": "lots"})
    assert r.status_code == 400 and "must be a number" in r.text
    r = client.get("/api/queries/symmetric-cell-life", params={"colour": "red"})
    assert r.status_code == 400 and "has no parameter" in r.text


# ---------------------------------------------------------------------------------------------- abuse
CARTESIAN_COUNT = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
UNBOUNDED_PATH = "SELECT (COUNT(*) AS ?n) { ?a (<urn:x:p>|!<urn:x:p>)* ?b . ?c (<urn:x:q>|!<urn:x:q>)* ?d }"


def timed(fn):
    """(result, seconds)."""
    t0 = time.monotonic()
    out = fn()
    return out, time.monotonic() - t0


@pytest.mark.parametrize("query", [CARTESIAN_COUNT, UNBOUNDED_PATH], ids=["cartesian", "property-path"])
def test_slow_query_is_stopped_and_server_keeps_answering(strict, query):
    """A query over the time limit answers 503 near the limit; /health stays fast meanwhile; later queries work."""
    health_times = []
    result = {}

    def slow():
        result["r"], result["t"] = timed(lambda: httpx.post(strict.url + "/sparql", data={"query": query}, timeout=30))

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.5)
    while th.is_alive():
        r, t = timed(lambda: httpx.get(strict.url + "/health", timeout=5))
        assert r.status_code == 200
        health_times.append(t)
        time.sleep(0.2)
    th.join()
    assert result["r"].status_code == 503 and "ran longer than 2 s" in result["r"].text
    assert result["r"].headers.get("retry-after")
    assert 1.9 < result["t"] < 6
    assert health_times and max(health_times) < 0.5
    time.sleep(1.1)
    ok = httpx.get(strict.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    assert ok.status_code == 200 and ok.json()["boolean"] is True


def test_memory_hungry_query_is_stopped(strict):
    """Sorting a cartesian product needs more memory than a worker may have: 503, and the server carries on."""
    q = "SELECT * { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f"
    r, t = timed(lambda: httpx.post(strict.url + "/sparql", data={"query": q}, timeout=30))
    assert r.status_code == 503 and t < 6
    time.sleep(1.5)
    assert httpx.get(strict.url + "/sparql", params={"query": "ASK {}"}, timeout=30).status_code == 200


def test_row_cap_truncates_with_a_visible_flag(strict):
    """A result over the row cap is cut to the cap, flagged in a header and in the body."""
    r = httpx.get(strict.url + "/sparql", params={"query": "SELECT * { ?s ?p ?o }"}, timeout=30)
    assert r.status_code == 200
    assert r.headers["x-nmbkg-truncated"] == "true" and r.headers["x-nmbkg-row-cap"] == "100"
    doc = r.json()
    assert doc["truncated"] is True and len(doc["results"]["bindings"]) == 100
    xml = httpx.get(strict.url + "/sparql", params={"query": "SELECT * { ?s ?p ?o }", "format": "xml"}, timeout=30)
    assert "truncated" in xml.text and xml.headers["x-nmbkg-truncated"] == "true"
    ttl = httpx.get(strict.url + "/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, timeout=30)
    assert ttl.text.startswith("# results truncated to the first 100 triples")
    small = httpx.get(strict.url + "/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 5"}, timeout=30)
    assert "x-nmbkg-truncated" not in small.headers and "truncated" not in small.json()


@pytest.mark.parametrize("query,word", [
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "INSERT"),
    ("DELETE WHERE { ?s ?p ?o }", "DELETE"),
    ("LOAD <http://example.org/data.ttl>", "LOAD"),
    ("DROP ALL", "DROP"),
    ("PREFIX x: <urn:x:> # comment SERVICE\nWITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
])
def test_updates_are_refused(strict, query, word):
    """Update operations sent as queries are refused with 403 and the reason."""
    r = httpx.post(strict.url + "/sparql", data={"query": query}, timeout=10)
    assert r.status_code == 403 and "read-only" in r.text and word in r.text


def test_update_words_inside_strings_are_not_refused(strict):
    """Keywords inside strings, IRIs, variables and comments are not mistaken for updates."""
    q = 'SELECT ?delete WHERE { BIND("INSERT DATA SERVICE" AS ?delete) } # LOAD <x>'
    r = httpx.post(strict.url + "/sparql", data={"query": q}, timeout=10)
    assert r.status_code == 200, r.text


def test_service_is_refused_without_any_connection(strict):
    """SERVICE is refused (403) before anything runs: a listening socket named by it sees no connection."""
    with socket.socket() as lsock:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        lsock.settimeout(1.0)
        port = lsock.getsockname()[1]
        q = f"SELECT * {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
        r = httpx.post(strict.url + "/sparql", data={"query": q}, timeout=10)
        assert r.status_code == 403 and "SERVICE" in r.text
        with pytest.raises(TimeoutError):
            lsock.accept()


def test_remote_from_is_refused(strict):
    """FROM / FROM NAMED / default-graph-uri naming graphs that are not in the dataset: 403."""
    for q in ("SELECT * FROM <http://example.org/g> { ?s ?p ?o }",
              "PREFIX ex: <http://example.org/> SELECT * FROM NAMED ex:g { GRAPH ?g { ?s ?p ?o } }"):
        r = httpx.post(strict.url + "/sparql", data={"query": q}, timeout=10)
        assert r.status_code == 403 and "remote FROM is refused" in r.text
    r = httpx.get(strict.url + "/sparql", params={"query": "ASK {}", "default-graph-uri": "http://example.org/g"})
    assert r.status_code == 403
    local = httpx.post(strict.url + "/sparql", data={"query": f"ASK FROM <{G['ontology']}> {{ ?s ?p ?o }}"})
    assert local.status_code == 200


def raw_post(url: str, body_size: int, chunked: bool) -> int:
    """POST a body of body_size bytes over a raw socket (stop sending when the server answers); the status."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=20)
    head = (f"POST /sparql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/sparql-query\r\n"
            + ("Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {body_size}\r\n") + "\r\n")
    sock.sendall(head.encode())
    chunk = b"#" * 65536
    sent = 0
    try:
        while sent < body_size:
            data = chunk if not chunked else f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            sock.sendall(data)
            sent += len(chunk)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server answered and closed before the whole body was sent
    answer = b""
    try:
        while b"\r\n" not in answer:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
    except OSError:
        pass
    sock.close()
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_ten_megabyte_body_is_413(strict, chunked):
    """A 10 MB request body answers 413 (announced by Content-Length, or streamed in chunks)."""
    (status, t) = timed(lambda: raw_post(strict.url, 10_000_000, chunked))
    assert status == 413 and t < 10


def test_burst_of_requests_gets_429_with_retry_after(strict):
    """A burst from one client: some answers 429 with an integer Retry-After; the rest succeed; none fail."""
    results = []
    lock = threading.Lock()

    def one():
        r = httpx.get(strict.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=one) for _ in range(60)]
    (_, t) = timed(lambda: ([th.start() for th in threads], [th.join() for th in threads]))
    codes = [r.status_code for r in results]
    assert set(codes) <= {200, 429} and codes.count(429) > 0 and codes.count(200) > 0
    assert all(r.headers["retry-after"].isdigit() for r in results if r.status_code == 429)
    assert all(r.text.startswith("429") for r in results if r.status_code == 429)
    assert t < 20
    time.sleep(3)
    assert httpx.get(strict.url + "/health").status_code == 200


# ---------------------------------------------------------------------------------------------- base and CLI
def test_other_base_resolves_its_iris(dist, tmp_path):
    """With --base, IRIs of a release built under another base resolve and link locally."""
    other = "http://example.org/kg/"
    copy = tmp_path / "dist"
    shutil.copytree(dist, copy)
    for name in ("nmbkg.nt", "ontology.nt", "nmbkg.nq", "void.ttl"):
        p = copy / name
        p.write_text(p.read_text(encoding="utf-8").replace(BASE, other), encoding="utf-8")
    shutil.rmtree(copy / "site" / "id")
    s = Server(copy, "--base", other)
    try:
        r = httpx.get(s.url + "/id/measurement/t1-r3-sym", headers={"Accept": "text/turtle"})
        if r.status_code == 404:
            r = httpx.get(s.url + "/id/substance/naf", headers={"Accept": "text/turtle"})
        assert r.status_code == 200
        g = Graph().parse(data=r.text, format="turtle")
        assert any(str(sub).startswith(other + "id/") for sub in g.subjects())
        page = httpx.get(s.url + "/id/substance/naf", headers={"Accept": "text/html"})
        assert page.status_code == 200 and 'href="../../id/' in page.text
        assert httpx.get(s.url + "/id/substance/naf", headers={"Accept": "text/turtle"}).status_code == 200
    finally:
        s.stop()


def test_serve_without_release_fails_cleanly(tmp_path):
    """No release: one-line error, exit 2."""
    res = run_cli("serve", "--data", str(tmp_path), "--port", str(free_port()), timeout=60)
    assert res.returncode == 2 and "run `nmbkg build` first" in res.stderr and "Traceback" not in res.stderr


def test_serve_on_a_busy_port_fails_cleanly(dist):
    """A port in use: one-line error, exit 2, before any worker starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        res = run_cli("serve", "--data", str(dist), "--port", str(port), timeout=60)
    assert res.returncode == 2 and "cannot listen" in res.stderr and "Traceback" not in res.stderr


def test_no_worker_is_left_behind(dist):
    """Stopping the server stops its worker processes."""
    s = Server(dist, "--workers", "2")
    pid = s.proc.pid
    kids = [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], check=False, capture_output=True, text=True).stdout.split()]
    assert kids
    s.stop()
    time.sleep(0.5)
    alive = [k for k in kids if os.path.exists(f"/proc/{k}") and "zombie" not in Path(f"/proc/{k}/status").read_text()]
    assert not alive


def test_cors_for_browsers_on_other_sites(client):
    """The endpoint answers cross-origin requests (the data are public): CORS headers and a preflight."""
    r = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://example.org"})
    assert r.headers["access-control-allow-origin"] == "*"
    pre = client.options("/sparql", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and "POST" in pre.headers["access-control-allow-methods"]
