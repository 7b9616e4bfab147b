"""A real headless browser (Debian chromium, driven by Playwright) against a real `nmbkg serve`."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, require_tool
from test_serve import Server

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.reasoner]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright (never a browser downloaded by Playwright)."""
    require_tool(Path(CHROMIUM).is_file() or bool(shutil.which("chromium")), "chromium is not installed "
                 "(apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_tool(False, "the playwright Python package is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(dist):
    """A server with a short time limit (so the timeout message can be seen quickly)."""
    s = Server(dist, "--timeout", "2")
    yield s
    s.stop()


@pytest.fixture
def page(browser, site):
    """A fresh page that records every request it makes and every script error."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = ctx.new_page()
    pg.requests = []
    pg.errors = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    ctx.close()


def only_local(urls: list[str], origin: str) -> list[str]:
    """The requests that went anywhere but the server (data: URLs excepted)."""
    return [u for u in urls if not u.startswith(origin) and urlsplit(u).scheme not in ("data", "blob", "about")]


def test_home_page(page, site):
    """The home page shows the counts, the citation and the downloads; screenshot in docs/."""
    page.goto(site.url + "/")
    assert page.title().startswith("Home")
    assert page.locator(".card").count() >= 6
    assert page.locator("text=10.3390/batteries8100157").count() >= 1
    assert page.locator("a[href='../nmbkg.ttl']").count() == 1
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "home.png"), full_page=True)
    assert not only_local(page.requests, site.url) and not page.errors


def run_example(page, name: str) -> None:
    """Choose a stored question in the examples list and press YASQE's run button."""
    page.wait_for_selector("body[data-examples-ready=true]", timeout=20000)
    page.select_option("#example-select", label=name)
    page.click(".yasqe_queryButton")


def test_yasgui_runs_a_stored_query(page, site):
    """YASGUI loads from the server, a stored query runs and its rows appear; no request leaves the machine."""
    page.goto(site.url + "/yasgui")
    run_example(page, "symmetric-cell-life")
    page.wait_for_selector(".yasr table tbody tr", timeout=20000)
    assert page.locator(".yasr table tbody tr").count() > 5
    assert "id:electrolyte/" in page.locator(".yasr").inner_text()  # data IRIs shown with the id: prefix
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "query-ui.png"))
    assert not only_local(page.requests, site.url), only_local(page.requests, site.url)
    assert not page.errors, page.errors


def set_query(page, text: str) -> None:
    """Replace the query in the current YASGUI tab."""
    page.evaluate("(q) => { window.nmbkgYasgui.getTab().setQuery(q); return true; }", text)
    page.click(".yasqe_queryButton")


@pytest.mark.parametrize("query,expected", [
    ("SELECT ?x WHERE { ?x ?y }", "400 Bad Request: SPARQL syntax error"),
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "403 Forbidden: this endpoint is read-only"),
    ("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", "503 Service Unavailable: the query ran longer"),
], ids=["syntax", "update", "timeout"])
def test_yasgui_shows_errors(page, site, query, expected):
    """Syntax errors, refused updates and timeouts are shown to the user with the server's reason."""
    page.goto(site.url + "/yasgui")
    page.wait_for_selector("body[data-examples-ready=true]", timeout=20000)
    set_query(page, query)
    page.wait_for_selector("#notice.error", timeout=20000)
    assert expected in page.inner_text("#notice")
    assert expected.split(":")[0] in page.inner_text(".yasr")


def test_yasgui_shows_429(page, site):
    """A client over its concurrency limit sees the 429 message with its retry time."""
    page.goto(site.url + "/yasgui")
    page.wait_for_selector("body[data-examples-ready=true]", timeout=20000)
    slow = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    page.evaluate("""(q) => { for (let i = 0; i < 2; i++) fetch('sparql', {method: 'POST',
        headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'query=' + encodeURIComponent(q)}); }""",
                  slow)
    page.wait_for_timeout(300)
    set_query(page, "ASK { ?s ?p ?o }")
    page.wait_for_selector("#notice.error", timeout=20000)
    assert "429 Too Many Requests" in page.inner_text("#notice") and "retry after" in page.inner_text("#notice")
    page.wait_for_timeout(2500)


def test_yasgui_flags_truncated_results(browser, dist):
    """A result over the row cap shows the truncation notice."""
    s = Server(dist, "--row-cap", "50")
    try:
        pg = browser.new_page()
        pg.goto(s.url + "/yasgui")
        pg.wait_for_selector("body[data-examples-ready=true]", timeout=20000)
        set_query(pg, "SELECT * { ?s ?p ?o }")
        pg.wait_for_selector("#notice.warn", timeout=20000)
        assert "cut to the first 50 rows" in pg.inner_text("#notice")
        pg.close()
    finally:
        s.stop()


def test_plot_page(page, site):
    """The plots page shows the three SVG plots with their axis labels."""
    page.goto(site.url + "/plots.html")
    assert page.locator("figure.plot svg").count() == 3
    text = page.inner_text("main")
    for label in ("Ionic conductivity (mS cm", "Temperature (\u00b0C)", "Symmetric-cell life (h)",
                  "Coulombic efficiency (%)"):
        assert label in text
    box = page.locator("figure.plot svg").first.bounding_box()
    assert box and box["width"] > 400 and box["height"] > 200
    assert not only_local(page.requests, site.url) and not page.errors


def test_entity_page_links_work(page, site):
    """From an electrolyte page, a substance link and a cited-work link open their pages."""
    page.goto(site.url + "/id/electrolyte/nabf4-g2-0p5m")
    page.click("text=ref 82 >> nth=0")
    assert page.url.endswith("/id/work/ref-82.html") and "cited work" in page.inner_text("main")
    page.go_back()
    page.click("a[href='../../id/substance/nabf4.html'] >> nth=0")
    assert page.url.endswith("/id/substance/nabf4.html")
