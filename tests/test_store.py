"""The two stores give the same dataset: same query rows, same dump bytes, same errors.

The Oxigraph store is the default (README "Stores"); the rdflib store is the original one. On the
real data every named query and every dump must be identical between them.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time

import pytest
from rdflib import URIRef

from coopgraph import export, queries
from coopgraph.errors import InputError, QueryRefused
from coopgraph.pipeline import Toolkit
from coopgraph.store import MARKER, MemoryStore, OxigraphStore, open_store

from conftest import ROOT, run_cli


@pytest.fixture(scope="module")
def stores(project):
    return {"memory": open_store(project, "memory"), "oxigraph": open_store(project, "oxigraph")}


def named_queries(project):
    found = queries.list_queries(project.queries_dir)
    return found


def example_values(query) -> dict:
    """Values for the required parameters, from the 'e.g. VALUE' of their descriptions."""
    values = {}
    for param in query.params:
        if param.required:
            match = re.search(r"e\.g\.\s+(\S+?)[.,;)]?$", param.description) or re.search(r"e\.g\.\s+(\S+)", param.description)
            assert match, f"query {query.name}: required parameter {param.name} has no 'e.g. VALUE' in its description"
            values[param.name] = match.group(1).rstrip(".,;)")
    return values


def test_the_project_has_named_queries(project):
    assert named_queries(project), "queries/ has no named queries to compare the stores with"


def test_every_named_query_gives_the_same_output_on_both_stores(project, stores):
    for query in named_queries(project):
        text = query.bind(example_values(query))
        outputs = {}
        for kind, store in stores.items():
            result = store.query(text)
            outputs[kind] = {fmt: queries.format_result(result, fmt, namespace_manager=store.namespace_manager)
                             for fmt in ("table", "tsv", "csv", "json")}
        assert outputs["memory"] == outputs["oxigraph"], query.name


def test_oxigraph_answers_formatted_directly_are_the_bytes_of_the_rdflib_path(project, stores):
    """queries.format_result on Oxigraph's own answer (no rdflib terms) = on the rdflib Result, for
    every named query and format (the rdflib Result's bytes = the memory store's: the test above)."""
    store = stores["oxigraph"]
    for query in named_queries(project):
        text = query.bind(example_values(query))
        for fmt in queries.FORMATS:
            native = store.query_native(text)
            assert native.kind == "SELECT" and hasattr(native, "solutions")
            fast = queries.format_result(native, fmt, namespace_manager=store.namespace_manager)
            slow = queries.format_result(store.query(text), fmt, namespace_manager=store.namespace_manager)
            assert fast == slow, (query.name, fmt)  # and slow == the memory store's: the test above
            if fmt == "tsv":
                assert fast.count("\n") >= 2, (query.name, "no rows to compare")


AWKWARD = r"""PREFIX ex: <https://example.org/> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX schema: <http://schema.org/>
INSERT DATA { GRAPH <https://w3id.org/coopgraph/source/awkward> {
  ex:a schema:name "plain", "en text"@en, "EN-GB text"@en-GB, "with \"quotes\" and 'single'",
      "tab\there", "new\nline", "cr\rreturn", "back\\slash", "triple \"\"\" quote\nand newline",
      "ends with quote\"", "ünïcødé ✓ 中文 😀", "", "  spaces  ", "a,b;c", 42, "007"^^xsd:integer,
      1.50, 1.0e3, true, "2022-05-01"^^xsd:date, "x"^^ex:custom, "comma, \"and\" newline\n"@fr ;
    schema:knows _:b1, ex:b, <https://w3id.org/coopgraph/id/person/someone> .
  _:b1 schema:name "a blank node" .
  ex:b schema:name "b" .
} }"""


def test_native_formatting_on_awkward_literals_matches_the_rdflib_path():
    """Language tags, datatypes, quotes, tabs, newlines, unicode, blank nodes, unbound values."""
    store = OxigraphStore.in_memory()
    store.ox.update(AWKWARD)
    store.finish_load()
    texts = [
        "PREFIX schema: <http://schema.org/> SELECT ?s ?name WHERE { ?s schema:name ?name } ORDER BY ?s ?name",
        "PREFIX schema: <http://schema.org/> SELECT ?s ?k ?n WHERE { ?s schema:knows ?k OPTIONAL { ?k schema:name ?n } } ORDER BY ?k",
        "SELECT * WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o",
        "PREFIX schema: <http://schema.org/> SELECT ?nothing WHERE { ?s schema:none ?nothing }",
    ]
    nm = store.namespace_manager
    seen_bnode = False
    for text in texts:
        for fmt in queries.FORMATS:
            fast = queries.format_result(store.query_native(text, check=False), fmt, namespace_manager=nm)
            slow = queries.format_result(store.query(text, check=False), fmt, namespace_manager=nm)
            assert fast == slow, (text, fmt)
            seen_bnode |= "_:" in fast or '"bnode"' in fast
    assert seen_bnode
    tsv = queries.format_result(store.query_native(texts[0], check=False), "tsv")
    assert '"""' in tsv and "@en-gb" in tsv.lower() and "😀" in tsv and "\\t" in tsv


@pytest.mark.parametrize("fmt", list(export.FORMATS))
def test_every_dump_is_byte_identical_on_both_stores(toolkit, stores, fmt):
    memory = "".join(export.store_dump(stores["memory"], fmt, context=toolkit.context, loader=toolkit.loader))
    oxigraph = "".join(export.store_dump(stores["oxigraph"], fmt, context=toolkit.context, loader=toolkit.loader))
    assert memory == oxigraph
    assert memory == export.serialize(toolkit.loaded.dataset, fmt, context=toolkit.context, loader=toolkit.loader)


def test_the_default_graph_is_the_set_union_of_the_named_graphs(stores):
    """A fact stated by two sources is one triple of the union on both stores (Oxigraph's own
    union-of-graphs mode would count it twice)."""
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    counts = {kind: int(next(iter(store.query(text)))["n"]) for kind, store in stores.items()}
    quads = {kind: store.quad_count() for kind, store in stores.items()}
    assert counts["memory"] == counts["oxigraph"] == len(stores["memory"]) == len(stores["oxigraph"])
    assert quads["oxigraph"] == quads["memory"] > counts["oxigraph"], "the data states some facts in two graphs"
    assert stores["memory"].graph_names() == stores["oxigraph"].graph_names()


def test_materialised_dataset_equals_the_parsed_one(stores):
    from rdflib.compare import isomorphic
    ox, mem = stores["oxigraph"].dataset(), stores["memory"].dataset()
    for name in stores["memory"].graph_names():
        assert isomorphic(ox.graph(name), mem.graph(name)), name


def test_describe_is_the_same_on_both_stores(stores):
    from rdflib.compare import isomorphic
    iri = URIRef("https://w3id.org/coopgraph/id/event/trento-2022-social-economy-primacy-of-people")
    assert isomorphic(stores["memory"].describe(iri, 2), stores["oxigraph"].describe(iri, 2))
    assert len(stores["oxigraph"].describe(iri, 2)) > 20


# ----------------------------------------------------------------------------- safety

@pytest.fixture()
def listener():
    """A loopback TCP listener that records every connection it receives."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    hits: list = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                hits.append(conn.recv(1000))
                conn.close()
            except OSError:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(2)
    server.close()


@pytest.mark.parametrize("kind", ["oxigraph", "memory"])
@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:{port}/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE SILENT <http://127.0.0.1:{port}/> { ?s ?q ?x } } }",
    "SELECT * FROM <http://127.0.0.1:{port}/data.ttl> WHERE { ?s ?p ?o }",
    "LOAD <http://127.0.0.1:{port}/data.ttl>",
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "DROP ALL",
])
def test_oxigraph_never_sees_a_refused_query(stores, listener, kind, text):
    """SERVICE would make Oxigraph send HTTP from Rust, where no audit hook sees it: the query is
    refused before evaluation, and the listener receives nothing."""
    port, hits = listener
    before = len(stores[kind])
    with pytest.raises(QueryRefused):
        stores[kind].query(text.replace("{port}", str(port)))
    time.sleep(0.3)
    assert hits == []
    assert len(stores[kind]) == before


# ----------------------------------------------------------------------------- loading errors

@pytest.mark.parametrize("kind", ["oxigraph", "memory"])
def test_syntax_error_names_file_and_line_on_both_stores(project_copy, kind):
    path = project_copy.data_dir / "people.trig"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if "schema:givenName" in line)
    lines[index] = lines[index].replace("schema:givenName", "schema:givenName schema:x")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        open_store(project_copy, kind)
    assert re.match(rf"data/people\.trig:{index + 1}: syntax error", err.value.message), err.value.message


@pytest.mark.parametrize("kind", ["oxigraph", "memory"])
@pytest.mark.parametrize("text, message", [
    ("<https://w3id.org/coopgraph/id/person/x> <http://schema.org/name> \"X\" .\n", "triples outside a GRAPH block"),
    ("<https://w3id.org/coopgraph/source/ilo-listing> { [] <http://schema.org/name> \"X\" . }\n", "blank node in"),
    ("<https://w3id.org/coopgraph/source/nowhere> { <https://w3id.org/coopgraph/id/person/x> "
     "<http://schema.org/name> \"X\" . }\n", "graph src:nowhere is not described in data/sources.trig"),
    ("<https://example.org/g> { <https://w3id.org/coopgraph/id/person/x> <http://schema.org/name> \"X\" . }\n",
     "is not a source graph"),
])
def test_bad_data_gives_the_same_error_on_both_stores(project_copy, kind, text, message):
    (project_copy.data_dir / "zz-extra.trig").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        open_store(project_copy, kind)
    assert message in err.value.message
    assert "zz-extra.trig" in err.value.message


@pytest.mark.parametrize("kind", ["oxigraph", "memory"])
def test_a_blank_node_is_reported_in_the_first_file_that_has_it(project_copy, kind):
    """The Oxigraph loader scans for blank nodes once, after every file: it still names the file."""
    (project_copy.data_dir / "0-early.trig").write_text(
        "<https://w3id.org/coopgraph/source/ilo-listing> { <https://w3id.org/coopgraph/id/person/x> "
        "<http://schema.org/knows> [] . }\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        open_store(project_copy, kind)
    assert err.value.message.startswith("data/0-early.trig: blank node in <https://w3id.org/coopgraph/source/ilo-listing>")


def test_unknown_store_and_misused_store_path_are_input_errors(project, tmp_path):
    with pytest.raises(InputError, match="unknown store"):
        open_store(project, "sqlite")
    with pytest.raises(InputError, match="needs --store oxigraph"):
        open_store(project, "memory", tmp_path / "s")


# ----------------------------------------------------------------------------- on-disk store

def test_on_disk_store_is_reused_until_a_source_changes(project_copy, tmp_path, monkeypatch):
    path = tmp_path / "store"
    first = open_store(project_copy, "oxigraph", path)
    assert isinstance(first, OxigraphStore) and first.read_only
    assert (path / MARKER).is_file()
    triples = len(first)
    names = first.graph_names()
    first.close()
    del first

    import coopgraph.store as store_module

    def no_parsing(*args, **kwargs):
        raise AssertionError("the up-to-date on-disk store was parsed again")
    monkeypatch.setattr(store_module, "load_into", no_parsing)
    again = open_store(project_copy, "oxigraph", path)
    assert len(again) == triples and again.graph_names() == names
    again.close()
    del again
    monkeypatch.undo()

    data = project_copy.data_dir / "people.trig"
    data.write_text(data.read_text(encoding="utf-8").replace('"Vic Van Vuuren" ;', '"Vic Van Vuuren" ; schema:jobTitle "Director"@en ;', 1),
                    encoding="utf-8")
    os.utime(data, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    rebuilt = open_store(project_copy, "oxigraph", path)
    assert len(rebuilt) == triples + 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".store.")], "no staging folder left behind"


def test_store_path_that_is_not_a_store_is_refused(project, tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="is not a coopgraph store"):
        open_store(project, "oxigraph", tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_cli_store_options_give_the_same_output(tmp_path):
    """`coopgraph --store memory` and `--store oxigraph --store-path DIR` print the same bytes."""
    memory = run_cli("--store", "memory", "export", "--format", "turtle")
    disk = run_cli("--store", "oxigraph", "--store-path", str(tmp_path / "s"), "export", "--format", "turtle")
    reopened = run_cli("--store-path", str(tmp_path / "s"), "export", "--format", "turtle")
    assert memory.exit_code == disk.exit_code == reopened.exit_code == 0, disk.stderr
    assert memory.stdout == disk.stdout == reopened.stdout
    assert memory.stdout.startswith("@prefix")


def test_toolkit_exposes_the_store_for_other_commands(project):
    kit = Toolkit(project, store_kind="memory")
    assert isinstance(kit.store, MemoryStore)
    assert kit.loaded.dataset is kit.store.dataset()
    ox = Toolkit(project)
    assert isinstance(ox.store, OxigraphStore)
    assert len(ox.loaded.union()) == len(kit.loaded.union())
    assert ROOT.is_dir()
