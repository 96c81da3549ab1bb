"""A real SPARQL client (SPARQLWrapper) against `coopgraph serve`, in every result format.

SPARQLWrapper sends both an Accept header and `format`/`output`/`results` parameters (with its own
short names), by GET and by POST, as researchers' scripts do.
"""

from __future__ import annotations

import csv
import io
import urllib.error

import pytest
from rdflib import Graph, Literal, URIRef
from SPARQLWrapper import (CSV, GET, JSON, JSONLD, N3, POST, POSTDIRECTLY, TSV, TURTLE, URLENCODED, XML,
                           SPARQLWrapper)
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from coopgraph.namespaces import SDO
from coopgraph.safety import parse_jsonld

PERSON = URIRef("https://w3id.org/coopgraph/id/person/vic-van-vuuren")
SELECT = f"""PREFIX schema: <http://schema.org/>
SELECT ?name ?given WHERE {{ <{PERSON}> schema:name ?name ; schema:givenName ?given }}"""
CONSTRUCT = f"CONSTRUCT {{ <{PERSON}> ?p ?o }} WHERE {{ <{PERSON}> ?p ?o }}"


def client(server, method=GET, request_method=URLENCODED) -> SPARQLWrapper:
    sparql = SPARQLWrapper(f"{server.url}sparql")
    sparql.setMethod(method)
    sparql.setRequestMethod(request_method)
    sparql.setTimeout(30)
    return sparql


METHODS = [(GET, URLENCODED), (POST, URLENCODED), (POST, POSTDIRECTLY)]


@pytest.mark.parametrize("method, request_method", METHODS)
def test_select_as_json(server, method, request_method):
    sparql = client(server, method, request_method)
    sparql.setQuery(SELECT)
    sparql.setReturnFormat(JSON)
    result = sparql.query()
    assert result.info()["content-type"].startswith("application/sparql-results+json")
    rows = result.convert()["results"]["bindings"]
    assert rows == [{"name": {"type": "literal", "value": "Vic Van Vuuren"},
                     "given": {"type": "literal", "value": "Vic"}}]


@pytest.mark.parametrize("method, request_method", METHODS)
def test_select_as_xml(server, method, request_method):
    sparql = client(server, method, request_method)
    sparql.setQuery(SELECT)
    sparql.setReturnFormat(XML)
    document = sparql.query().convert()  # an xml.dom.minidom Document
    literals = [node.firstChild.data for node in document.getElementsByTagName("literal")]
    assert sorted(literals) == ["Vic", "Vic Van Vuuren"]


def test_select_as_csv(server):
    sparql = client(server)
    sparql.setQuery(SELECT)
    sparql.setReturnFormat(CSV)
    text = sparql.query().convert().decode("utf-8")
    assert list(csv.reader(io.StringIO(text))) == [["name", "given"], ["Vic Van Vuuren", "Vic"]]


def test_select_as_tsv(server):
    sparql = client(server, POST)
    sparql.setQuery(SELECT)
    sparql.setReturnFormat(TSV)
    text = sparql.query().convert().decode("utf-8")
    assert text.splitlines() == ["?name\t?given", '"Vic Van Vuuren"\t"Vic"']


@pytest.mark.parametrize("fmt", [JSON, XML])
def test_ask(server, fmt):
    sparql = client(server)
    sparql.setQuery(f"ASK {{ <{PERSON}> a <http://schema.org/Person> }}")
    sparql.setReturnFormat(fmt)
    converted = sparql.query().convert()
    if fmt == JSON:
        assert converted["boolean"] is True
    else:
        assert converted.getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.parametrize("fmt", [TURTLE, N3, XML])
@pytest.mark.parametrize("query", [CONSTRUCT, f"DESCRIBE <{PERSON}>"])
def test_construct_and_describe_as_rdf(server, fmt, query):
    sparql = client(server)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    result = sparql.query()
    expected = {TURTLE: "text/turtle", N3: "text/turtle", XML: "application/rdf+xml"}[fmt]
    assert result.info()["content-type"].startswith(expected)
    converted = result.convert()
    graph = converted if isinstance(converted, Graph) else Graph().parse(data=converted, format="turtle")
    assert (PERSON, SDO.name, Literal("Vic Van Vuuren")) in graph


def test_construct_as_json_ld(server, toolkit):
    sparql = client(server)
    sparql.setQuery(CONSTRUCT)
    sparql.setReturnFormat(JSONLD)
    result = sparql.query()
    assert result.info()["content-type"].startswith("application/ld+json")
    # Read through pyld with our local loader (never rdflib's fetching JSON-LD parser).
    graph = parse_jsonld(result.response.read().decode("utf-8"), toolkit.loader)
    assert (PERSON, SDO.name, Literal("Vic Van Vuuren")) in graph


def test_bad_query_raises_query_bad_formed_with_the_message(server):
    sparql = client(server)
    sparql.setQuery("SELECT ?x WHERE { ?x ?y }")
    sparql.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed) as caught:
        sparql.query()
    assert "SPARQL syntax error" in str(caught.value)


def test_update_through_sparqlwrapper_is_refused(server):
    sparql = client(server, POST)
    sparql.setQuery("INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }")  # SPARQLWrapper sends it as update=
    with pytest.raises(urllib.error.HTTPError) as caught:
        sparql.query()
    assert caught.value.code == 403
    assert b"read-only" in caught.value.read()
