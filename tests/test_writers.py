"""The fast writers write the same bytes as rdflib's serializers and pyld's compaction.

On the real data this is checked by tests/test_store.py (every dump, both stores); here on
synthetic data in our model (benchmarks/generate.py), on literals that exercise every escaping
and number rule, and on what the writers hand back to the general path (blank nodes).
"""

from __future__ import annotations

import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import XSD

from coopgraph import export, writers
from coopgraph.build import bind_prefixes
from coopgraph.project import Project
from coopgraph.store import MemoryStore, OxigraphStore, open_store

from conftest import benchmark_module


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    generate = benchmark_module("generate")
    writer, _ = generate.generate(3000, seed=3)
    root = tmp_path_factory.mktemp("synthetic-writers")
    generate.write_project(root, writer.trig())
    project = Project(root)
    return open_store(project, "memory"), open_store(project, "oxigraph")


@pytest.mark.parametrize("fmt", list(export.FORMATS))
def test_fast_writers_match_rdflib_and_pyld_on_synthetic_data(toolkit, synthetic, fmt):
    memory, oxigraph = synthetic
    slow = "".join(export.store_dump(memory, fmt, context=toolkit.context, loader=toolkit.loader))
    fast = "".join(export.store_dump(oxigraph, fmt, context=toolkit.context, loader=toolkit.loader))
    assert fast == slow
    assert len(fast) > 100_000


def _graph_with(*objects) -> Graph:
    """One subject; each kind of object (IRI, string, language, datatype) under its own predicate.

    rdflib cannot order literals of different datatypes under one predicate totally, so its own
    Turtle for such a mix depends on hash order; our data never mixes them.
    """
    graph = Graph()
    bind_prefixes(graph)
    subject = URIRef("https://w3id.org/coopgraph/id/item/x")
    for obj in objects:
        kind = "iri" if isinstance(obj, URIRef) else (obj.language or str(obj.datatype or "plain"))
        graph.add((subject, URIRef("http://schema.org/p-" + kind.rsplit("#", 1)[-1]), obj))
    return graph


TRICKY = [
    Literal("line one\nline two"), Literal('ends with a quote"'), Literal('has """ three quotes\nand a line'),
    Literal("tab\there"), Literal("back\\slash"), Literal("carriage\rreturn"), Literal("ünïcödé ✓", lang="fr"),
    Literal("42", datatype=XSD.integer), Literal("-0.5", datatype=XSD.decimal), Literal("7", datatype=XSD.decimal),
    Literal("1.5E3", datatype=XSD.double), Literal("true", datatype=XSD.boolean), Literal("2022-07-29", datatype=XSD.date),
    Literal("2022-07", datatype=XSD.gYearMonth), Literal("x", lang="en"), Literal("y", lang="en"), Literal("z"),
    URIRef("https://w3id.org/coopgraph/id/place/trento"), URIRef("http://example.org/a(b)"),
    URIRef("http://schema.org/Thing"), URIRef("http://example.org/ends."),
]


def test_turtle_writer_matches_rdflib_on_tricky_terms():
    graph = _graph_with(*TRICKY)
    expected = export.turtle(graph)
    lines = export.ntriples(graph).splitlines()
    fresh = Graph()
    bind_prefixes(fresh)
    assert writers.turtle(lines, fresh) == expected


def test_jsonld_writer_matches_pyld_on_tricky_terms(toolkit):
    graph = _graph_with(*TRICKY)
    expected = export.dumps_json(export.jsonld_document(graph, toolkit.context, toolkit.loader))
    lines = export.ntriples(graph).splitlines()
    assert "".join(writers.JsonLdWriter(toolkit.context, toolkit.loader).chunks(lines)) == expected


def test_jsonld_writer_single_node_and_empty_graph(toolkit):
    one = _graph_with(Literal("only"))
    expected = export.dumps_json(export.jsonld_document(one, toolkit.context, toolkit.loader))
    got = "".join(writers.JsonLdWriter(toolkit.context, toolkit.loader).chunks(export.ntriples(one).splitlines()))
    assert got == expected and '"@graph"' not in got
    empty = "".join(writers.JsonLdWriter(toolkit.context, toolkit.loader).chunks([]))
    assert empty == export.dumps_json(export.jsonld_document(Graph(), toolkit.context, toolkit.loader))


def test_blank_nodes_fall_back_to_the_general_writers(toolkit):
    """The build refuses blank nodes, but a store may hold them: the dump is still rdflib's."""
    ds = Dataset(default_union=True)
    bind_prefixes(ds)
    g = ds.graph(URIRef("https://w3id.org/coopgraph/source/x"))
    node = BNode("b1")
    g.add((URIRef("https://w3id.org/coopgraph/id/place/p"), URIRef("http://schema.org/geo"), node))
    g.add((node, URIRef("http://schema.org/latitude"), Literal("1.5", datatype=XSD.decimal)))
    with pytest.raises(writers.Unsupported):
        writers.turtle(export.ntriples(g).splitlines(), Graph())
    oxigraph = OxigraphStore.in_memory()
    from coopgraph.store import rdflib_to_ox
    import pyoxigraph as ox
    for s, p, o in g:
        oxigraph.ox.add(ox.Quad(rdflib_to_ox(s), rdflib_to_ox(p), rdflib_to_ox(o), ox.NamedNode(str(g.identifier))))
    oxigraph.finish_load()
    memory = MemoryStore(ds)
    for fmt in ("turtle", "nt", "jsonld"):
        fast = "".join(export.store_dump(oxigraph, fmt, context=toolkit.context, loader=toolkit.loader))
        slow = "".join(export.store_dump(memory, fmt, context=toolkit.context, loader=toolkit.loader))
        assert Graph().parse(data=fast, format={"turtle": "turtle", "nt": "nt", "jsonld": "json-ld"}[fmt]) \
            .isomorphic(Graph().parse(data=slow, format={"turtle": "turtle", "nt": "nt", "jsonld": "json-ld"}[fmt]))


def test_oxigraph_escapes_are_turned_into_rdflibs():
    from coopgraph.store import _unescape_ox
    assert _unescape_ox('<a> <b> "x\\ty\\u0007\\"q\\\\t\\n" .') == '<a> <b> "x\ty\u0007\\"q\\\\t\\n" .'
