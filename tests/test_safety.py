"""Nothing fetches: the pyld loader, JSON-LD inputs, SPARQL SERVICE/LOAD/FROM, XML entity bombs.

Every test here also runs under the conftest audit hook, which fails any non-loopback connection;
several tests additionally check that nothing was even attempted (conftest.ATTEMPTS stays empty)
and that a loopback listener standing in for a remote endpoint receives no connection.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from pyld import jsonld
from rdflib import Graph

from coopgraph.errors import InputError, NetworkRefused, QueryRefused
from coopgraph.queries import run
from coopgraph.safety import check_query, default_loader, parse_into, parse_jsonld

import conftest


@pytest.fixture()
def loader(project):
    return default_loader(project.ontology_dir)



def test_the_guard_itself_blocks_the_network():
    """The audit hook is installed: a direct connection attempt to a public address fails."""
    with pytest.raises(conftest.NetworkBlocked):
        socket.create_connection(("93.184.216.34", 80), timeout=1)


@pytest.mark.parametrize("context", ["http://example.org/context.jsonld", "https://schema.org/other.jsonld",
                                     "file:///etc/passwd"])
def test_json_ld_with_an_unknown_context_is_refused_without_fetching(loader, context):
    before = len(conftest.ATTEMPTS)
    doc = json.dumps({"@context": context, "@id": "http://example.org/a", "name": "A"})
    with pytest.raises(NetworkRefused, match="refused to load"):
        parse_jsonld(doc, loader, source="input.jsonld")
    assert len(conftest.ATTEMPTS) == before, "nothing may even try the network"


def test_json_ld_with_the_schema_org_context_reads_offline(loader):
    doc = json.dumps({"@context": "https://schema.org", "@type": "Event", "@id": "http://example.org/e",
                      "name": "E", "startDate": "2022-05-05", "url": "http://example.org/"})
    graph = parse_jsonld(doc, loader)
    assert len(graph) == 4
    assert {str(o) for o in graph.objects()} >= {"http://schema.org/Event", "E", "http://example.org/"}


def test_pyld_default_loader_is_pinned():
    """A pyld call that forgets the options still fetches nothing."""
    before = len(conftest.ATTEMPTS)
    with pytest.raises(jsonld.JsonLdError):
        jsonld.expand({"@context": "http://example.org/ctx.jsonld", "name": "x"})
    assert len(conftest.ATTEMPTS) == before, "the pinned loader refused before any connection"


def test_rdflib_json_ld_parser_would_fetch_and_the_guard_stops_it():
    """Why we never use rdflib's JSON-LD parser on input: it fetches remote contexts."""
    doc = json.dumps({"@context": "http://example.org/ctx.jsonld", "@id": "http://example.org/a", "name": "A"})
    with pytest.raises(Exception) as info:
        Graph().parse(data=doc, format="json-ld")
    assert "network access refused" in repr(info.value) or "refused" in str(info.value) or isinstance(
        info.value, conftest.NetworkBlocked)


@pytest.mark.parametrize("context", ["http://example.org/c", "secret.json"])
def test_json_ld_file_with_remote_or_relative_context_is_refused(tmp_path, loader, context):
    """A relative context next to the file (rdflib #1369) is not read either."""
    (tmp_path / "secret.json").write_text('{"@context": {"name": "http://example.org/leaked"}}', encoding="utf-8")
    path = tmp_path / "x.jsonld"
    path.write_text(json.dumps({"@context": context, "name": "x"}), encoding="utf-8")
    graph = Graph()
    with pytest.raises(NetworkRefused, match="refused to load"):
        parse_into(graph, path, loader=loader)
    assert len(graph) == 0


def test_relative_context_without_a_base_is_bad_input(loader):
    with pytest.raises(InputError, match="JSON-LD could not be read"):
        parse_jsonld(json.dumps({"@context": "secret.json", "name": "x"}), loader)


def test_xml_entity_bomb_is_refused_quickly(tmp_path):
    bomb = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            + "".join(f'<!ENTITY {chr(98 + i)} "&{chr(97 + i)};&{chr(97 + i)};&{chr(97 + i)};&{chr(97 + i)};">' for i in range(8))
            + ']><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
              'rdf:about="http://example.org/x"><rdf:value>&i;</rdf:value></rdf:Description></rdf:RDF>')
    path = tmp_path / "bomb.rdf"
    path.write_text(bomb, encoding="utf-8")
    graph = Graph()
    started = time.perf_counter()
    with pytest.raises(InputError, match="DOCTYPE or ENTITY"):
        parse_into(graph, path)
    assert time.perf_counter() - started < 1.0
    assert len(graph) == 0


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE SILENT <{url}> { ?s ?p ?o } } }",
    "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <{url}> { ?s ?p ?o } } } }",
])
def test_service_is_refused_and_the_endpoint_receives_nothing(dataset, listener, query):
    url, hits = listener
    with pytest.raises(QueryRefused, match="SERVICE is refused"):
        run(dataset, query.replace("{url}", url))
    time.sleep(0.3)
    assert hits == []


def test_service_is_refused_even_without_the_guard(dataset, listener):
    """Defence in depth: rdflib's evaluator itself refuses SERVICE (CUSTOM_EVALS hook)."""
    url, hits = listener
    with pytest.raises(QueryRefused):
        list(dataset.query(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"))
    time.sleep(0.3)
    assert hits == []


@pytest.mark.parametrize("update", [
    "LOAD <{url}>", "LOAD <{url}> INTO GRAPH <http://example.org/g>",
    "INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }",
    "DELETE WHERE { ?s ?p ?o }", "DROP ALL", "CLEAR DEFAULT",
])
def test_updates_and_load_are_refused(dataset, listener, update):
    url, hits = listener
    size = len(dataset)
    with pytest.raises(QueryRefused, match="updates are refused"):
        run(dataset, update.replace("{url}", url))
    assert len(dataset) == size
    assert hits == []


def test_from_outside_our_graphs_is_refused(dataset, listener):
    url, hits = listener
    with pytest.raises(QueryRefused, match="FROM <"):
        run(dataset, f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}", allowed_graphs=["https://w3id.org/coopgraph/graph/ontology"])
    with pytest.raises(QueryRefused, match="FROM NAMED"):
        run(dataset, f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}")
    time.sleep(0.3)
    assert hits == []


def test_from_one_of_our_graphs_is_allowed(dataset):
    g = "https://w3id.org/coopgraph/source/geonames"
    rows = list(run(dataset, f"SELECT (COUNT(*) AS ?n) FROM <{g}> WHERE {{ ?s ?p ?o }}", allowed_graphs=[g]))
    assert int(rows[0][0]) == len(dataset.graph(g))


def test_a_syntax_error_is_bad_input_with_the_parser_message():
    with pytest.raises(InputError, match="SPARQL syntax error"):
        check_query("SELECT * WHERE { ?s ?p }")


_LAZY_GUARDS = r"""
import json, sys
attempts = []
sys.addaudithook(lambda event, args: attempts.append(str(args)) if event == "socket.connect" else None)
import coopgraph.cli  # every command's module, as `coopgraph ...` loads it
lazy = {name: name in sys.modules for name in ("pyld", "pyld.jsonld", "rdflib.plugins.sparql")}
from pyld import jsonld                      # first import, after coopgraph: guarded on import
import rdflib.plugins.sparql as sparql
from coopgraph import safety
try:
    jsonld.expand({"@context": "http://example.org/ctx.jsonld", "name": "x"})
    expand = "fetched"
except jsonld.JsonLdError as exc:
    causes = []
    while exc is not None:
        causes.append(str(exc.args[0]) if exc.args else str(exc))
        exc = exc.__cause__
    expand = " <- ".join(causes)
print(json.dumps({"attempts": attempts, "imported_by_coopgraph": lazy, "load_graphs": sparql.SPARQL_LOAD_GRAPHS,
                  "evals": sorted(k for k in sparql.CUSTOM_EVALS if k.startswith("coopgraph-")),
                  "loader_pinned": jsonld.get_document_loader() is safety._refuse_everything,
                  "expand": expand}))
"""


def test_guards_apply_when_pyld_and_rdflib_sparql_are_first_imported_later():
    """pyld and rdflib's SPARQL engine are imported only where used (60 and 80 ms): coopgraph
    guards each the moment it is imported, whoever imports it."""
    import subprocess
    import sys
    answer = subprocess.run([sys.executable, "-c", _LAZY_GUARDS], capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    state = json.loads(answer.stdout)
    assert state["imported_by_coopgraph"] == {"pyld": False, "pyld.jsonld": False, "rdflib.plugins.sparql": False}
    assert state["load_graphs"] is False
    assert state["evals"] == ["coopgraph-order-by", "coopgraph-refuse-service"]
    assert state["loader_pinned"] is True
    assert "refused to load 'http://example.org/ctx.jsonld'" in state["expand"]
    assert state["attempts"] == [], "the pinned loader refused before any connection"


def test_guards_apply_when_pyld_and_rdflib_sparql_were_imported_first():
    import subprocess
    import sys
    code = ("import json, rdflib.plugins.sparql as sparql\nfrom pyld import jsonld\nimport coopgraph.queries\n"
            "from coopgraph import safety\n"
            "print(json.dumps([sparql.SPARQL_LOAD_GRAPHS, sorted(k for k in sparql.CUSTOM_EVALS if "
            "k.startswith('coopgraph-')), jsonld.get_document_loader() is safety._refuse_everything]))")
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout) == [False, ["coopgraph-order-by", "coopgraph-refuse-service"], True]
