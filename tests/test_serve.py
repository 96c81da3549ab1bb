"""`coopgraph serve` over plain HTTP: the protocol, negotiation, statuses, CORS, refusals and caps.

Every test talks to a real server process (conftest `server` fixture: `coopgraph serve` on a free
loopback port, timeout 3 s, row cap 2,000, body cap 100,000 bytes, two query workers).
"""

from __future__ import annotations

import json
import re
import threading
import time

import httpx
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from coopgraph.embed import embed_document
from coopgraph.namespaces import COOP, RDFS, SD, SDO, SRC, VOID
from coopgraph.safety import parse_jsonld

import conftest

PERSON = "https://w3id.org/coopgraph/id/person/vic-van-vuuren"
ITEM = "https://w3id.org/coopgraph/id/item/2022-07-29-ilo-participates-conference-social-economy-primacy"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def count_triples(http) -> int:
    response = http.get("sparql", params={"query": COUNT}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])



# ----------------------------------------------------------------------------- the protocol

def test_get_post_form_and_direct_post_give_the_same_answer(http, union):
    expected = len(union)
    by_get = http.get("sparql", params={"query": COUNT})
    by_form = http.post("sparql", data={"query": COUNT})
    direct = http.post("sparql", content=COUNT.encode(), headers={"Content-Type": "application/sparql-query"})
    for response in (by_get, by_form, direct):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/sparql-results+json")
        assert int(response.json()["results"]["bindings"][0]["n"]["value"]) == expected


@pytest.mark.parametrize("accept, media", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("text/csv;q=0.4, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
])
def test_select_results_are_negotiated_by_accept(http, accept, media):
    query = f"SELECT ?name WHERE {{ <{PERSON}> <http://schema.org/name> ?name }}"
    response = http.get("sparql", params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media
    assert "Accept" in response.headers["vary"]
    assert "Vic Van Vuuren" in response.text


def test_format_parameter_wins_over_accept_for_browsers(http):
    response = http.get("sparql", params={"query": COUNT, "format": "csv"}, headers={"Accept": "text/html"})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0] == "n"


def test_csv_and_tsv_follow_the_sparql_results_notes(http):
    query = f"SELECT ?p ?name WHERE {{ BIND(<http://schema.org/name> AS ?p) <{PERSON}> ?p ?name }}"
    csv = http.get("sparql", params={"query": query}, headers={"Accept": "text/csv"}).content
    assert csv == b"p,name\r\nhttp://schema.org/name,Vic Van Vuuren\r\n"
    tsv = http.get("sparql", params={"query": query}, headers={"Accept": "text/tab-separated-values"}).text
    assert tsv == '?p\t?name\n<http://schema.org/name>\t"Vic Van Vuuren"\n'


def test_select_star_lists_variables_in_the_order_they_appear(http):
    query = f"SELECT * WHERE {{ <{PERSON}> ?zeta ?alpha }} LIMIT 1"
    head = http.get("sparql", params={"query": query}).json()["head"]["vars"]
    assert head == ["zeta", "alpha"]


@pytest.mark.parametrize("accept, media", [
    ("text/turtle", "text/turtle"),
    ("application/n-triples", "application/n-triples"),
    ("application/ld+json", "application/ld+json"),
    ("application/rdf+xml", "application/rdf+xml"),
    (None, "text/turtle"),
])
def test_construct_and_describe_are_negotiated(http, toolkit, accept, media):
    headers = {"Accept": accept} if accept else {}
    for query in (f"CONSTRUCT {{ <{PERSON}> ?p ?o }} WHERE {{ <{PERSON}> ?p ?o }}", f"DESCRIBE <{PERSON}>"):
        response = http.get("sparql", params={"query": query}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].split(";")[0] == media
        if media == "application/ld+json":
            graph = parse_jsonld(response.text, toolkit.loader)
        else:
            graph = Graph().parse(data=response.text, format={"text/turtle": "turtle", "application/n-triples": "nt",
                                                              "application/rdf+xml": "xml"}[media])
        assert (URIRef(PERSON), SDO.name, Literal("Vic Van Vuuren")) in graph


def test_ask_in_json_and_xml(http):
    assert http.get("sparql", params={"query": "ASK { ?s ?p ?o }"}).json() == {"head": {}, "boolean": True}
    xml = http.get("sparql", params={"query": "ASK { <urn:x:nothing> ?p ?o }"},
                   headers={"Accept": "application/sparql-results+xml"}).text
    assert "<boolean>false</boolean>" in xml


def test_unacceptable_format_is_406_with_the_choices(http):
    response = http.get("sparql", params={"query": COUNT}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text
    response = http.get("sparql", params={"query": COUNT, "format": "turtle"})
    assert response.status_code == 406 and "SELECT results cannot be given as format=turtle" in response.text


def test_bad_query_is_400_with_the_parser_message(http):
    response = http.get("sparql", params={"query": "SELECT ?s WHERE { ?s ?p }"})
    assert response.status_code == 400
    assert "SPARQL syntax error" in response.text and "line:1" in response.text


def test_service_description_without_a_query(http, union):
    response = http.get("sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    sd = Graph().parse(data=response.text, format="turtle")
    endpoint = URIRef(f"{http.base_url}sparql")
    service = sd.value(None, SD.endpoint, endpoint)
    assert service is not None
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in sd
    formats = {str(f).rsplit("/", 1)[-1] for f in sd.objects(service, SD.resultFormat)}
    assert {"SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
            "Turtle", "N-Triples", "JSON-LD"} <= formats
    default_graph = sd.value(sd.value(service, SD.defaultDataset), SD.defaultGraph)
    assert sd.value(default_graph, VOID.triples).toPython() == len(union)
    names = set(sd.objects(None, SD.name))
    assert SRC["ilo-listing"] in names
    browser = http.get("sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html") and "<form" in browser.text


def test_named_graphs_are_queryable_with_graph(http, dataset):
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    rows = http.get("sparql", params={"query": query}).json()["results"]["bindings"]
    counts = {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
    assert counts[str(SRC["ilo-listing"])] == len(dataset.graph(SRC["ilo-listing"]))
    query = (f"SELECT ?source WHERE {{ GRAPH ?source {{ <{PERSON}> <http://schema.org/name> ?name }} }} "
             "ORDER BY ?source")
    sources = [row["source"]["value"] for row in http.get("sparql", params={"query": query}).json()["results"]["bindings"]]
    assert str(SRC["ilo-listing"]) in sources


def test_from_and_protocol_graph_parameters_restrict_to_our_graphs(http, dataset):
    wikidata = str(SRC["wikidata"])
    expected = len(dataset.graph(SRC["wikidata"]))
    query = f"SELECT (COUNT(*) AS ?n) FROM <{wikidata}> WHERE {{ ?s ?p ?o }}"
    assert int(http.get("sparql", params={"query": query}).json()["results"]["bindings"][0]["n"]["value"]) == expected
    response = http.get("sparql", params={"query": COUNT, "default-graph-uri": wikidata})
    assert int(response.json()["results"]["bindings"][0]["n"]["value"]) == expected
    refused = http.get("sparql", params={"query": COUNT, "default-graph-uri": "http://127.0.0.1:9/elsewhere"})
    assert refused.status_code == 403 and "default-graph-uri" in refused.text


# ----------------------------------------------------------------------------- read-only and closed

UPDATE = "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }"


def test_updates_are_refused_by_every_route_and_change_nothing(http):
    before = count_triples(http)
    attempts = [
        http.get("sparql", params={"update": UPDATE}),
        http.post("sparql", data={"update": UPDATE}),
        http.post("sparql", content=UPDATE.encode(), headers={"Content-Type": "application/sparql-update"}),
        http.post("sparql", content=b"DROP ALL", headers={"Content-Type": "application/sparql-update"}),
        http.get("sparql", params={"query": UPDATE}),
        http.post("sparql", data={"query": "CLEAR ALL"}),
        http.post("sparql", content=b"DELETE WHERE { ?s ?p ?o }", headers={"Content-Type": "application/sparql-query"}),
    ]
    for response in attempts:
        assert response.status_code == 403, response.text
        assert "read-only" in response.text
    assert count_triples(http) == before
    ask = http.get("sparql", params={"query": "ASK { <urn:x:a> ?p ?o }"}).json()
    assert ask["boolean"] is False


def test_service_load_and_outside_from_are_refused_and_fetch_nothing(http, listener):
    url, hits = listener
    refused = {
        "SERVICE": http.get("sparql", params={"query": f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"}),
        "LOAD": http.post("sparql", data={"update": f"LOAD <{url}>"}),
        "LOAD as query": http.get("sparql", params={"query": f"LOAD <{url}>"}),
        "FROM": http.get("sparql", params={"query": f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}"}),
        "FROM NAMED": http.get("sparql", params={"query": f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"}),
        "named-graph-uri": http.get("sparql", params={"query": COUNT, "named-graph-uri": url}),
    }
    for what, response in refused.items():
        assert response.status_code == 403, (what, response.text)
    assert "SERVICE is refused" in refused["SERVICE"].text
    assert "is refused: it is not one of coopgraph's graphs" in refused["FROM"].text
    time.sleep(0.3)
    assert hits == [], "the server contacted the address named in the query"


def test_a_runaway_query_is_stopped_and_the_server_stays_responsive(http, server):
    before = server.status()["pool"]
    outcome = {}

    def slow():
        outcome["response"] = httpx.get(f"{server.url}sparql", params={"query": SLOW}, timeout=60)

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.5)
    # While the runaway query runs, pages and other queries are answered.
    assert http.get("").status_code == 200
    assert count_triples(http) > 0
    thread.join(60)
    response = outcome["response"]
    assert response.status_code == 503
    assert "query stopped" in response.text and f"{conftest.SERVE_TIMEOUT:g} s" in response.text
    assert response.headers["x-coopgraph-timeout"] == f"{conftest.SERVE_TIMEOUT:g}"
    # The next query is answered at once: well within one more timeout period.
    answered = httpx.get(f"{server.url}sparql", params={"query": COUNT}, timeout=conftest.SERVE_TIMEOUT)
    assert answered.status_code == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pool = server.status()["pool"]
        if pool["restarts"] > before["restarts"] and pool["alive"] == pool["workers"]:
            break
        time.sleep(0.2)
    assert pool["timeouts"] == before["timeouts"] + 1
    assert pool["restarts"] == before["restarts"] + 1 and pool["alive"] == pool["workers"]


def test_workers_that_die_are_replaced_and_queries_go_on(http, server):
    """Kill both query workers (processes this test session started, by pid): the next query waits
    for a replacement instead of failing, and the pool is whole again."""
    import os
    import signal
    before = server.status()["pool"]
    for pid in before["pids"]:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    response = httpx.get(f"{server.url}sparql", params={"query": COUNT}, timeout=30)
    assert response.status_code == 200, response.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pool = server.status()["pool"]
        if pool["alive"] == pool["workers"] and pool["idle"] == pool["workers"]:
            break
        time.sleep(0.2)
    assert pool["alive"] == pool["workers"] and not set(pool["pids"]) & set(before["pids"])
    assert pool["restarts"] >= before["restarts"] + 2


def test_a_result_over_the_row_cap_is_refused_never_cut(http, union):
    assert len(union) > conftest.SERVE_MAX_ROWS
    response = http.get("sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status_code == 422
    assert f"more than {conftest.SERVE_MAX_ROWS} rows" in response.text and "LIMIT" in response.text
    assert response.headers["x-coopgraph-row-cap"] == str(conftest.SERVE_MAX_ROWS)
    graph = http.get("sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
    assert graph.status_code == 422 and "triples" in graph.text
    capped = http.get("sparql", params={"query": f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {conftest.SERVE_MAX_ROWS}"})
    assert capped.status_code == 200
    assert len(capped.json()["results"]["bindings"]) == conftest.SERVE_MAX_ROWS
    assert capped.headers["x-coopgraph-rows"] == str(conftest.SERVE_MAX_ROWS)


def test_oversized_bodies_are_413(http):
    big = ("SELECT * WHERE { ?s ?p ?o } #" + "x" * conftest.SERVE_MAX_BODY).encode()
    declared = http.post("sparql", content=big, headers={"Content-Type": "application/sparql-query"})
    assert declared.status_code == 413 and "at most" in declared.text

    def chunks():
        for i in range(0, len(big), 8192):
            yield big[i:i + 8192]

    streamed = http.post("sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"})
    assert streamed.status_code == 413
    assert http.post("sparql", data={"query": COUNT}).status_code == 200


def test_other_body_types_and_empty_posts_get_clear_errors(http):
    assert http.post("sparql", content=b"<x/>", headers={"Content-Type": "application/xml"}).status_code == 415
    assert http.post("sparql", data={"nothing": "here"}).status_code == 400
    assert http.delete("sparql").status_code == 405


def test_cors_headers_let_a_web_page_query(http):
    response = http.get("sparql", params={"query": COUNT}, headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = http.options("sparql", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-origin"] == "*"
    refused = http.get("sparql", params={"update": UPDATE}, headers={"Origin": "https://example.org"})
    assert refused.status_code == 403 and refused.headers["access-control-allow-origin"] == "*"


# ----------------------------------------------------------------------------- named queries

def test_named_queries_listed_as_html_and_json(http, served_project):
    listing = http.get("queries.json").json()
    names = {q["name"] for q in listing}
    assert {p.stem for p in (served_project.queries_dir).glob("*.rq")} == names
    entry = next(q for q in listing if q["name"] == "test-entities-of-type")
    assert entry["params"][0]["name"] == "type" and entry["params"][0]["default"] == "schema:Event"
    page = http.get("queries", headers={"Accept": "text/html"})
    assert "Entities of a type (test query)" in page.text


def test_named_query_as_html_json_and_csv_with_url_parameters(http, union):
    events = sorted(str(s) for s in union.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), SDO.Event))
    as_json = http.get("queries/test-entities-of-type.json")
    assert as_json.status_code == 200
    assert sorted({r["entity"]["value"] for r in as_json.json()["results"]["bindings"]}) == events
    people = http.get("queries/test-entities-of-type.csv", params={"type": "schema:Person"})
    assert people.headers["content-type"].startswith("text/csv")
    assert PERSON in people.text and events[0] not in people.text
    html = http.get("queries/test-entities-of-type", params={"type": "schema:Person"}, headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "Vic Van Vuuren" in html.text and 'id="results"' in html.text
    negotiated = http.get("queries/test-entities-of-type", headers={"Accept": "text/csv"})
    assert negotiated.headers["content-type"].startswith("text/csv")


def test_named_query_bad_parameters_and_unknown_names(http):
    bad = http.get("queries/test-entities-of-type.json", params={"type": "not a curie"})
    assert bad.status_code == 400 and "type" in bad.text
    unknown_param = http.get("queries/test-entities-of-type.json", params={"colour": "red"})
    assert unknown_param.status_code == 400 and "has no parameter colour" in unknown_param.text
    missing = http.get("queries/no-such-query")
    assert missing.status_code == 404 and "test-entities-of-type" in missing.text


def test_every_project_named_query_answers_in_each_format(http, served_project):
    for path in sorted(served_project.queries_dir.glob("*.rq")):
        from coopgraph.queries import load_query
        named = load_query(path)
        if any(p.required for p in named.params):
            response = http.get(f"queries/{named.name}.json")
            assert response.status_code == 400 and "needs" in response.text
            continue
        for suffix, media in ((".json", "application/sparql-results+json"), (".csv", "text/csv"), (".html", "text/html")):
            response = http.get(f"queries/{named.name}{suffix}")
            assert response.status_code == 200, (named.name, response.text)
            assert response.headers["content-type"].startswith(media)


# ----------------------------------------------------------------------------- IRIs and documents

def test_entity_iris_303_to_their_document(http):
    response = http.get("id/person/vic-van-vuuren", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"{http.base_url}doc/person/vic-van-vuuren"
    assert http.get("id/person/nobody-at-all", follow_redirects=False).status_code == 404
    assert http.get("id/unicorn/vic-van-vuuren", follow_redirects=False).status_code == 404


def test_every_minted_iri_dereferences(http, union):
    from coopgraph import ids
    iris = sorted({s for s in union.subjects() if ids.is_entity_iri(s)})
    assert len(iris) > 100
    for iri in iris:
        path = str(iri)[len("https://w3id.org/coopgraph/"):]
        response = http.get(path, headers={"Accept": "text/turtle"}, follow_redirects=True)
        assert response.status_code == 200, (iri, response.text)
        graph = Graph().parse(data=response.text, format="turtle")
        assert (iri, None, None) in graph, iri


@pytest.mark.parametrize("accept, media", [
    ("text/html", "text/html"),
    ("text/turtle", "text/turtle"),
    ("application/ld+json", "application/ld+json"),
    ("application/n-triples", "application/n-triples"),
    ("application/ld+json;q=0.5, text/turtle;q=0.9", "text/turtle"),
    ("*/*", "text/html"),
])
def test_documents_are_negotiated_with_vary_accept(http, accept, media):
    response = http.get("id/person/vic-van-vuuren", headers={"Accept": accept}, follow_redirects=True)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media
    assert "Accept" in response.headers["vary"]
    ext = {"text/html": ".html", "text/turtle": ".ttl", "application/ld+json": ".jsonld",
           "application/n-triples": ".nt"}[media]
    assert response.headers["content-location"] == f"{http.base_url}doc/person/vic-van-vuuren{ext}"
    assert http.get("doc/person/vic-van-vuuren", headers={"Accept": "image/png"}).status_code == 406


def test_negotiated_document_keeps_vary_after_its_suffix_variant_was_served(http):
    """Regression: a cached page once carried the headers of whichever variant was served first."""
    by_suffix = http.get("doc/place/trento.html")
    assert by_suffix.status_code == 200 and "Accept" not in by_suffix.headers.get("vary", "")
    negotiated = http.get("doc/place/trento", headers={"Accept": "text/html"})
    assert "Accept" in negotiated.headers["vary"]
    assert negotiated.content == by_suffix.content


def test_document_formats_say_the_same(http, toolkit):
    turtle = Graph().parse(data=http.get("doc/person/vic-van-vuuren.ttl").text, format="turtle")
    ntriples = Graph().parse(data=http.get("doc/person/vic-van-vuuren.nt").text, format="nt")
    jsonld = parse_jsonld(http.get("doc/person/vic-van-vuuren.jsonld").text, toolkit.loader)
    assert len(turtle) > 10
    assert isomorphic(turtle, ntriples) and isomorphic(turtle, jsonld)
    assert http.get("doc/person/vic-van-vuuren.pdf").status_code == 404


def test_entity_page_shows_facts_sources_links_and_embeds_the_json_ld(http, toolkit, union):
    html = http.get("doc/item/" + ITEM.rsplit("/", 1)[-1] + ".html").text
    assert "ILO participates in the conference" in html
    assert "date published" in html and "2022-07-29" in html
    assert f'href="{http.base_url}source/ilo-listing"' in html
    assert f'href="{http.base_url}id/event/trento-2022-social-economy-primacy-of-people"' in html
    block = re.search(r'<script type="application/ld\+json">\s*(.*?)\s*</script>', html, re.S).group(1)
    assert json.loads(block) == embed_document(union, URIRef(ITEM), toolkit.loader)
    person = http.get("doc/person/vic-van-vuuren.html").text
    block = re.search(r'<script type="application/ld\+json">\s*(.*?)\s*</script>', person, re.S).group(1)
    assert json.loads(block) == embed_document(union, URIRef(PERSON), toolkit.loader, any_type=True)
    assert "Referred to by" in person and "Catalysing Change Week 2022" in person


def test_sources_ontology_and_graphs_dereference(http, dataset):
    listing = SRC["ilo-listing"]
    turtle = Graph().parse(data=http.get("source/ilo-listing", headers={"Accept": "text/turtle"}).text, format="turtle")
    for triple in dataset.graph(listing):
        assert triple in turtle
    html = http.get("source/ilo-listing", headers={"Accept": "text/html"}).text
    assert "Facts this source supports" in html
    assert http.get("source/no-such-source").status_code == 404
    ontology = Graph().parse(data=http.get("ontology.ttl").text, format="turtle")
    assert (COOP.Interview, RDFS.label, Literal("Interview", lang="en")) in ontology
    assert 'id="Interview"' in http.get("ontology", headers={"Accept": "text/html"}).text
    assert http.get("graph/ontology.nt").status_code == 200


def test_links_use_the_base_url_when_one_is_given(served_project, tmp_path):
    from serving import ServerProcess
    proc = ServerProcess(served_project.root, tmp_path / "serve.log", "--base-url",
                         "https://coopgraph.example.org/", "--workers", "1").start()
    try:
        response = httpx.get(f"{proc.url}id/person/vic-van-vuuren", follow_redirects=False)
        assert response.headers["location"] == "https://coopgraph.example.org/doc/person/vic-van-vuuren"
        sd = httpx.get(f"{proc.url}sparql", headers={"Accept": "text/turtle"}).text
        assert "<https://coopgraph.example.org/sparql>" in sd
    finally:
        proc.stop()


# ----------------------------------------------------------------------------- home, dumps, VoID

def test_home_page_counts_queries_form_and_links(http, union):
    from coopgraph.pipeline import class_counts
    html = http.get("").text
    for cls, n in class_counts(union).items():
        assert re.search(rf">{re.escape(cls)}</a></td><td class=\"num\">{n}</td>", html), cls
    assert 'action="' in html and 'name="query"' in html
    assert "test-entities-of-type" in html
    assert f'href="{http.base_url}.well-known/void"' in html and f'href="{http.base_url}dumps/coopgraph.ttl"' in html
    # Nothing loaded from elsewhere: every script, stylesheet and image is ours.
    for tag in re.findall(r"<(?:script|link|img)\b[^>]*>", html):
        url = re.search(r'(?:src|href)="([^"]*)"', tag)
        if url:
            assert url.group(1).startswith(str(http.base_url)), tag


def test_dumps_are_served_and_parse(http, dataset, union):
    trig = http.get("dumps/coopgraph.trig")
    assert trig.status_code == 200 and trig.headers["content-type"].startswith("application/trig")
    ds = Dataset()
    ds.parse(data=trig.text, format="trig")
    assert len(list(ds.quads((None, None, None, None)))) == len(list(dataset.quads((None, None, None, None))))
    nt = Graph().parse(data=http.get("dumps/coopgraph.nt").text, format="nt")
    assert len(nt) == len(union)
    assert http.get("dumps/secret.txt").status_code == 404
    assert "coopgraph.nq" in http.get("dumps/").text


def test_void_describes_the_dataset_and_points_at_endpoint_and_dumps(http, union):
    void = Graph().parse(data=http.get(".well-known/void", headers={"Accept": "text/turtle"}).text, format="turtle")
    dataset_iri = URIRef("https://w3id.org/coopgraph/dataset")
    assert void.value(dataset_iri, VOID.triples).toPython() == len(union)
    assert void.value(dataset_iri, VOID.sparqlEndpoint) == URIRef(f"{http.base_url}sparql")
    dumps = sorted(void.objects(dataset_iri, VOID.dataDump))
    assert len(dumps) == 5
    for dump in dumps:
        assert http.get(str(dump)).status_code == 200
    assert http.get("dataset", follow_redirects=False).status_code == 303


def test_status_and_context(http):
    status = http.get("status").json()
    assert status["max_rows"] == conftest.SERVE_MAX_ROWS and status["pool"]["workers"] == 2
    context = http.get("context.jsonld").json()
    assert "@context" in context


# ----------------------------------------------------------------------------- the served store

def test_serve_builds_the_on_disk_store_once_then_reuses_it_and_answers_as_rdflib(served_project, tmp_path):
    """The workers open the server's Oxigraph store read-only: the first start builds it (parsing
    the sources), the second reuses it (nothing parsed); `--store memory` answers the same rows."""
    from serving import ServerProcess
    store = tmp_path / "store"
    query = ("SELECT ?s ?name WHERE { ?s a <http://schema.org/Person> ; <http://schema.org/name> ?name } "
             "ORDER BY ?s ?name")
    answers, infos = [], []
    for n, options in enumerate((("--store-path", str(store)), ("--store-path", str(store)),
                                 ("--store", "memory"))):
        proc = ServerProcess(served_project.root, tmp_path / f"serve-{n}.log", "--workers", "1", *options).start()
        try:
            infos.append(proc.status()["store"])
            response = httpx.get(f"{proc.url}sparql", params={"query": query},
                                 headers={"Accept": "text/csv"})
            assert response.status_code == 200, response.text
            answers.append(response.text)
            # entity pages and their documents come from the store too
            doc = httpx.get(f"{proc.url}doc/person/vic-van-vuuren", headers={"Accept": "text/turtle"})
            assert doc.status_code == 200 and "Vic Van Vuuren" in doc.text
            if n < 2:
                assert f"store {store}" in proc.log()
        finally:
            proc.stop()
    built, reused, memory = infos
    assert built["kind"] == "oxigraph" and built["path"] == str(store)
    assert built["reused"] is False and built["parsed_files"] > 0
    assert reused["reused"] is True and reused["parsed_files"] == 0
    assert memory["kind"] == "memory"
    assert "Vic Van Vuuren" in answers[0]
    assert answers[0] == answers[1] == answers[2]
