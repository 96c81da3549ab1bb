"""A real browser (Debian's Chromium, headless, driven by Playwright) on the server's pages.

It opens the home page, runs a query from the form (no JavaScript on our side), reads the result
table, follows a result to an entity page (through the 303 of its IRI), reads the embedded JSON-LD
from the DOM, and saves screenshots under test-artifacts/. Chromium is pointed only at the loopback
server, with its background networking switched off; every request the pages make is recorded and
must go to the server.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rdflib import URIRef

from coopgraph.embed import embed_document

import conftest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = conftest.ROOT / "test-artifacts"
PERSON = "https://w3id.org/coopgraph/id/person/vic-van-vuuren"
QUERY = """PREFIX schema: <http://schema.org/>
SELECT ?person ?name WHERE {
  ?person a schema:Person ;
          schema:name ?name .
} ORDER BY ?name"""
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Chromium is missing: install Debian's package (apt-get install chromium; it is listed in "
                    ".ci/apt-packages.txt, which `make test` installs)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def test_query_form_results_entity_page_and_embedded_json_ld(browser, server, toolkit, union):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(server.url)
    assert page.title().startswith("coopgraph")
    assert page.locator("#counts tbody tr").count() > 10

    page.fill("#query", QUERY)
    page.select_option("#format", "html")
    page.click("#run")
    page.wait_for_selector("#results")
    headers = page.locator("#results thead th").all_inner_texts()
    assert headers == ["person", "name"]
    rows = [[cell.strip() for cell in row.locator("td").all_inner_texts()]
            for row in page.locator("#results tbody tr").all()]
    assert ["Vic Van Vuuren", "Vic Van Vuuren"] in rows
    page.screenshot(path=str(ARTIFACTS / "serve-query-results.png"), full_page=True)

    page.locator("#results tbody tr", has_text="Vic Van Vuuren").locator("td a").first.click()
    page.wait_for_load_state()
    assert page.url == f"{server.url}doc/person/vic-van-vuuren"
    assert page.locator("h1").inner_text() == "Vic Van Vuuren"
    block = page.eval_on_selector('script[type="application/ld+json"]', "element => element.textContent")
    embedded = json.loads(block)
    assert embedded["@id"] == PERSON and embedded["@type"] == "Person"
    assert embedded == embed_document(union, URIRef(PERSON), toolkit.loader, any_type=True)
    shot = ARTIFACTS / "serve-entity-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == PNG

    assert requested and all(url.startswith(server.url) for url in requested), requested
    page.close()


def test_runaway_query_from_the_form_shows_the_timeout_message(browser, server):
    page = browser.new_page()
    page.goto(f"{server.url}sparql")
    page.fill("#query", "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")
    page.click("#run")
    page.wait_for_selector("#error", timeout=60_000)
    assert "query stopped" in page.locator("#error").inner_text()
    assert page.locator("#query").input_value().startswith("SELECT (COUNT(*)")
    page.close()
