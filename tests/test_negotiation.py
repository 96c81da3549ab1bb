"""Accept headers and format names to representations (coopgraph.negotiation)."""

from __future__ import annotations

import pytest

from coopgraph import negotiation as neg


def test_parse_accept_reads_q_values_and_ignores_junk():
    assert neg.parse_accept("text/html;level=1;q=0.5, */*;q=0.1, nonsense, application/json;q=x") == [
        ("text/html", 0.5, 0), ("*/*", 0.1, 1), ("application/json", 0.0, 3)]
    assert neg.parse_accept(None) == [] and neg.parse_accept("") == []


@pytest.mark.parametrize("accept, expected", [
    (None, "json"),
    ("", "json"),
    ("*/*", "json"),
    ("text/csv", "csv"),
    ("application/json", "json"),
    ("text/*", "csv"),
    ("text/tab-separated-values;q=1, text/csv;q=0.5", "tsv"),
    ("application/sparql-results+xml, application/sparql-results+json;q=0.9", "xml"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
    ("image/png", None),
    ("text/csv;q=0", None),
])
def test_negotiate_results(accept, expected):
    chosen = neg.negotiate(accept, neg.RESULT_FORMATS, neg.RESULTS_JSON)
    assert (chosen.key if chosen else None) == expected


def test_exact_types_rank_before_wildcards_of_the_same_q():
    chosen = neg.negotiate("*/*, application/n-triples", neg.GRAPH_FORMATS, neg.TURTLE)
    assert chosen is neg.NTRIPLES
    assert neg.negotiate("*/*", neg.DOCUMENT_FORMATS, neg.HTML) is neg.HTML


@pytest.mark.parametrize("names, offers, expected", [
    (["json"], neg.RESULT_FORMATS, "json"),
    (["json"], neg.GRAPH_FORMATS, "jsonld"),
    (["xml"], neg.GRAPH_FORMATS, "rdfxml"),
    (["tsv", "text/tab-separated-values"], neg.RESULT_FORMATS, "tsv"),
    (["json-ld", "application/ld+json"], neg.GRAPH_FORMATS, "jsonld"),
    (["ttl"], neg.GRAPH_FORMATS, "turtle"),
    (["n3"], neg.GRAPH_FORMATS, "turtle"),
    (["turtle"], neg.RESULT_FORMATS, None),
])
def test_format_names_as_browsers_and_sparqlwrapper_send_them(names, offers, expected):
    chosen = neg.choose("text/html", names, offers)
    assert (chosen.key if chosen else None) == expected


def test_prefers_html_only_when_html_ranks_first():
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert neg.prefers_html(browser)
    assert not neg.prefers_html("application/sparql-results+json, text/html;q=0.5")
    assert not neg.prefers_html("*/*")
    assert not neg.prefers_html(browser, ["csv"])
    assert neg.prefers_html(None, ["html"])


def test_text_types_declare_utf8():
    assert neg.TURTLE.content_type == "text/turtle; charset=utf-8"
    assert neg.RESULTS_JSON.content_type == "application/sparql-results+json; charset=utf-8"
