"""The persistent pyoxigraph store: `nmbkg build --store PATH` and `nmbkg query NAME --store PATH`."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import ROOT, run_cli

from nmbkg.query import QueryError, example_params, open_store_engine, run_stored
from nmbkg.store import INFO_FILE, StoreError, load_release, store_info
from nmbkg.storedq import load_queries

pytestmark = pytest.mark.reasoner  # uses the session build (HermiT)


@pytest.fixture(scope="module")
def store(dist, tmp_path_factory):
    """The session release bulk-loaded into a store folder."""
    path = tmp_path_factory.mktemp("stores") / "kg.store"
    rep = load_release(dist, path)
    assert rep.triples > 0
    return path


def _rows(engine, q, params):
    res = run_stored(engine, q, params)
    return res.variables, Counter(tuple((v.kind, v.value, v.datatype) if v else None for v in r) for r in res.rows)


@pytest.mark.parametrize("q", load_queries(ROOT / "queries" / "cq"), ids=lambda q: q.name)
def test_store_gives_the_rows_of_the_in_memory_engine(q, store, engines):
    """Each stored query answers the same on the on-disk store as on pyoxigraph in memory."""
    params = example_params(engines["oxigraph"], q)
    assert _rows(open_store_engine(store), q, params) == _rows(engines["oxigraph"], q, params)


def test_store_holds_the_release(store, dist):
    """The metadata beside the store names the release and its triple count (default graph)."""
    info = store_info(store)
    assert info["release"] == str(dist.resolve())
    n = open_store_engine(store).select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {}).rows[0][0]
    assert int(n.value) == info["triples"]
    assert info["quads"] >= info["triples"]


def test_reload_swaps_the_store_and_leaves_no_temporary_folder(store, dist):
    """A second load replaces the store in place; no half-written sibling folder is left."""
    before = store_info(store)["triples"]
    reader = open_store_engine(store)  # a reader that has the old store open keeps working
    load_release(dist, store)
    assert store_info(store)["triples"] == before
    assert reader.select("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", {}).rows
    leftovers = [p.name for p in store.parent.iterdir() if p.name.startswith(f".{store.name}-")]
    assert leftovers == []


def test_refuses_to_overwrite_a_folder_that_is_not_a_store(dist, tmp_path):
    """A non-empty folder that is not a store is never replaced."""
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(StoreError, match="not an nmbkg store"):
        load_release(dist, other)
    assert (other / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_opening_a_folder_that_is_not_a_store_is_one_error(tmp_path):
    """Querying a folder that is not a store raises a one-line QueryError."""
    with pytest.raises(QueryError, match="not an nmbkg store"):
        open_store_engine(tmp_path)


def test_cli_build_store_then_query_store(tmp_path):
    """`nmbkg build --store` prints a store stage; `nmbkg query --store` answers like `--data`."""
    out, path = tmp_path / "dist", tmp_path / "kg.store"
    r = run_cli("build", "--no-reason", "--out", str(out), "--store", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "store" in r.stdout and "bulk-loaded" in r.stdout
    assert (path / INFO_FILE).is_file()
    a = run_cli("query", "symmetric-cell-life", "--format", "csv", "--store", str(path))
    b = run_cli("query", "symmetric-cell-life", "--format", "csv", "--data", str(out))
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout


def test_cli_query_store_on_a_missing_store_is_one_line(tmp_path):
    """A store path that does not exist gives exit 2 and one line."""
    r = run_cli("query", "symmetric-cell-life", "--store", str(tmp_path / "nothing"))
    assert r.returncode == 2
    assert "not an nmbkg store" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.server
def test_serve_reads_a_persistent_store(tmp_path):
    """`nmbkg serve --store PATH` answers SPARQL from the on-disk store made by `nmbkg build --store PATH`."""
    import socket
    import subprocess
    import sys
    import time

    import httpx
    from conftest import ROOT, run_cli

    store, out = tmp_path / "store", tmp_path / "dist"
    r = run_cli("build", "--no-reason", "--store", str(store), "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "nmbkg.cli", "serve", "--store", str(store), "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
            time.sleep(0.5)
        res = httpx.get(f"http://127.0.0.1:{port}/api/queries/symmetric-cell-life",
                        params={"min_hours": "3000", "format": "csv"}, timeout=30)
        assert res.status_code == 200
        assert "Table 1 row 3" in res.text and ",3000," in res.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_store_that_is_not_a_store_exits_2(tmp_path):
    """A folder that is not an nmbkg store gives one line and exit 2."""
    from conftest import run_cli

    r = run_cli("serve", "--store", str(tmp_path / "nothing"))
    assert r.returncode == 2 and "is not an nmbkg store" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.reasoner
def test_chunked_bulk_load_gives_the_same_graph(dist, tmp_path):
    """Loading in chunks of lines gives the triples of a one-piece load; a file with blank nodes (the
    ontology) goes in one piece, so its blank nodes keep their links across what would be chunk borders."""
    import pyoxigraph as ox

    from nmbkg.store import bulk_load, has_blank_nodes

    files = [dist / "nmbkg.nt", dist / "ontology.nt"]
    assert not has_blank_nodes(files[0]) and has_blank_nodes(files[1])
    whole, chunked = ox.Store(), ox.Store()
    for f in files:
        whole.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    bulk_load(chunked, files, chunk_lines=500)
    assert len(chunked) == len(whole)
    data = [q for q in chunked.quads_for_pattern(None, None, None) if not isinstance(q.subject, ox.BlankNode)
            and not isinstance(q.object, ox.BlankNode)]
    assert all(q in whole for q in data)
    lists = "SELECT (COUNT(*) AS ?n) { ?r <http://www.w3.org/2002/07/owl#onProperty> ?p ; ?k ?v }"
    assert str(next(iter(chunked.query(lists)))["n"]) == str(next(iter(whole.query(lists)))["n"])
