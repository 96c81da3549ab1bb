"""push and query --endpoint against real SPARQL stores: a private Virtuoso Open Source instance
(tests/virtuoso.py), and a small SPARQL 1.1 server over pyoxigraph that demands HTTP Basic
authentication (Virtuoso's authenticated endpoints speak Digest only).

Every named query must give the same rows on Virtuoso as on the embedded store, for the real data
(pushed with SPARQL Update) and a synthetic dataset (pushed with the Graph Store Protocol, in
batches). ORDER BY ties may come in another order on another engine, so rows are compared as
multisets and the header exactly.
"""

from __future__ import annotations

import base64
import json
import shutil
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from coopgraph import queries, remote
from coopgraph.errors import InputError
from coopgraph.pipeline import Toolkit
from coopgraph.project import Project

from conftest import ROOT, benchmark_module, run_cli
from test_store import example_values

import virtuoso as virtuoso_helper

SYNTHETIC_TRIPLES = 20_000
#: Queries whose answers Virtuoso changes on purpose; each with the reason.
VIRTUOSO_DIFFERS = {
    "places-map": "Virtuoso turns a geo:wktLiteral made with STRDT into its own virtrdf:Geometry, "
                  "with coordinates in single precision",
}


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory):
    try:
        instance = virtuoso_helper.start(tmp_path_factory.mktemp("virtuoso"))
    except FileNotFoundError as missing:
        pytest.fail(str(missing))
    yield instance
    instance.stop()


def _with_shapes(project: Project) -> Project:
    """The project copy validates against the project's shapes, or the minimal test shapes."""
    if not any(project.shapes_dir.glob("*.ttl")):
        project.shapes_dir.mkdir(exist_ok=True)
        shutil.copy(ROOT / "tests/data/minimal-shapes.ttl", project.shapes_dir)
    return project


@pytest.fixture(scope="session")
def synthetic_project(tmp_path_factory):
    generate = benchmark_module("generate")
    writer, _ = generate.generate(SYNTHETIC_TRIPLES, seed=7)
    root = tmp_path_factory.mktemp("synthetic")
    generate.write_project(root, writer.trig())
    return _with_shapes(Project(root))


def endpoint_for(instance, **kwargs) -> remote.Endpoint:
    options = dict(update_url=instance.sparql_auth, gsp_url=instance.gsp_auth, user="dba",
                   password=instance.password)
    options.update(kwargs)
    return remote.Endpoint(instance.sparql, **options)


def rows(text: str) -> tuple[str, list[str]]:
    lines = text.splitlines()
    return lines[0], sorted(lines[1:])


def compare_every_query(project: Project, endpoint: remote.Endpoint, union_graph: str) -> list[str]:
    """Names of the queries compared; asserts each gives the same rows locally and remotely."""
    kit = Toolkit(project)
    named = queries.list_queries(project.queries_dir)
    assert named, "queries/ has no named queries"
    graphs = remote.our_graphs(endpoint, union_graph)
    assert graphs == [str(g) for g in kit.store.graph_names()]
    compared = []
    for query in named:
        text = query.bind(example_values(query))
        local = queries.format_result(kit.store.query(text), "tsv")
        there = queries.format_result(remote.query(endpoint, text, union_graph=union_graph, graphs=graphs), "tsv")
        if query.name in VIRTUOSO_DIFFERS:
            assert rows(local) != rows(there), f"{query.name} now agrees: drop it from VIRTUOSO_DIFFERS"
            assert len(rows(local)[1]) == len(rows(there)[1])
            continue
        assert rows(local) == rows(there), query.name
        compared.append(query.name)
    return compared


def test_real_dataset_pushed_with_sparql_update_answers_every_query_the_same(virtuoso, project_copy):
    project = _with_shapes(project_copy)
    endpoint = endpoint_for(virtuoso)
    kit = Toolkit(project)
    result = remote.push(kit.store, endpoint, method="update", batch_size=200)
    assert result.graphs[remote.UNION_GRAPH] == len(kit.store)
    assert len(result.graphs) == len(kit.store.graph_names()) + 2  # + the union and the list of graphs
    assert result.requests > len(result.graphs)  # batches: more requests than graphs
    compared = compare_every_query(project, endpoint, remote.UNION_GRAPH)
    assert len(compared) >= 10


def test_synthetic_dataset_pushed_with_the_graph_store_protocol_answers_every_query_the_same(
        virtuoso, synthetic_project):
    endpoint = endpoint_for(virtuoso)
    union = "https://w3id.org/coopgraph/graph/union-synthetic"
    kit = Toolkit(synthetic_project)
    assert len(kit.store) > SYNTHETIC_TRIPLES
    result = remote.push(kit.store, endpoint, method="gsp", batch_size=4000, union_graph=union)
    assert result.graphs[union] == len(kit.store)
    compare_every_query(synthetic_project, endpoint, union)
    # pushing again replaces each graph: the counts stay the same
    again = remote.push(kit.store, endpoint, method="gsp", batch_size=50_000, union_graph=union)
    assert again.graphs == result.graphs


def test_cli_push_and_query_endpoint(virtuoso, project_copy, monkeypatch):
    project = _with_shapes(project_copy)
    monkeypatch.setenv("COOPGRAPH_ENDPOINT_USER", "dba")
    monkeypatch.setenv("COOPGRAPH_ENDPOINT_PASSWORD", virtuoso.password)
    union = "https://w3id.org/coopgraph/graph/union-cli"
    pushed = run_cli("push", "--endpoint", virtuoso.sparql, "--gsp-endpoint", virtuoso.gsp_auth,
                     "--method", "gsp", "--graph", union, root=project.root)
    assert pushed.exit_code == 0, pushed.stderr
    assert "every graph's triple count checked" in pushed.stdout
    assert virtuoso.password not in pushed.stdout + pushed.stderr
    local = run_cli("query", "items-timeline", root=project.root)
    there = run_cli("query", "items-timeline", "--endpoint", virtuoso.sparql, "--graph", union, root=project.root)
    assert there.exit_code == 0, there.stderr
    assert there.stdout == local.stdout


def test_wrong_password_is_a_clear_error_that_never_shows_the_password(virtuoso, project_copy):
    project = _with_shapes(project_copy)
    secret = "not-the-password-42"
    result = run_cli("push", "--endpoint", virtuoso.sparql, "--update-endpoint", virtuoso.sparql_auth,
                     "--user", "dba", "--password", secret, root=project.root)
    assert result.exit_code == 1
    assert "HTTP 401" in result.stderr and "sparql-auth" in result.stderr
    assert secret not in result.stdout + result.stderr
    in_url = run_cli("push", "--endpoint", f"http://dba:{secret}@127.0.0.1:{virtuoso.http_port}/sparql-auth",
                     root=project.root)
    assert in_url.exit_code == 1 and "HTTP 401" in in_url.stderr
    assert secret not in in_url.stdout + in_url.stderr


def test_anonymous_update_is_refused_with_the_servers_message(virtuoso, project):
    endpoint = remote.Endpoint(virtuoso.sparql)
    with pytest.raises(remote.EndpointError) as err:
        remote.push(Toolkit(project).store, endpoint, method="update")
    message = err.value.message
    assert "POST " + virtuoso.sparql in message and "HTTP" in message
    assert "Virtuoso" in message or "SPARQL" in message, message


def test_unreachable_endpoint_and_bad_options(project):
    port = virtuoso_helper.free_port()
    with pytest.raises(remote.EndpointError, match="cannot reach the endpoint"):
        remote.our_graphs(remote.Endpoint(f"http://127.0.0.1:{port}/sparql"))
    with pytest.raises(InputError, match="both a user and a password"):
        remote.Endpoint("http://127.0.0.1:1/sparql", user="dba")
    with pytest.raises(InputError, match="http:// or https://"):
        remote.Endpoint("file:///etc/passwd")
    with pytest.raises(InputError, match="needs --gsp-endpoint"):
        remote.push(Toolkit(project).store, remote.Endpoint(f"http://127.0.0.1:{port}/sparql"), method="gsp")
    with pytest.raises(InputError, match="one of the dataset's own graphs"):
        remote.push(Toolkit(project).store, remote.Endpoint(f"http://127.0.0.1:{port}/sparql"),
                    union_graph="https://w3id.org/coopgraph/graph/sources")


def test_refused_queries_never_reach_the_endpoint(virtuoso):
    endpoint = endpoint_for(virtuoso)
    from coopgraph.errors import QueryRefused
    for text in ("SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }", "DROP ALL"):
        with pytest.raises(QueryRefused):
            remote.query(endpoint, text, graphs=["https://w3id.org/coopgraph/graph/sources"])


# ----------------------------------------------------------------------------- Basic authentication

class _BasicSparqlServer(BaseHTTPRequestHandler):
    """SPARQL 1.1 query and update over a pyoxigraph Store, behind HTTP Basic authentication."""

    store = None
    credentials = ""
    seen_auth: list = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_POST(self):  # noqa: N802 - http.server's naming
        import pyoxigraph as ox
        header = self.headers.get("Authorization", "")
        self.seen_auth.append(header.split(" ")[0])
        if header != "Basic " + base64.b64encode(self.credentials.encode()).decode():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="test"')
            self.end_headers()
            self.wfile.write(b"authentication required")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        form = urllib.parse.parse_qs(body)
        try:
            if "update" in form:
                self.store.update(form["update"][0])
                self.send_response(204)
                self.end_headers()
                return
            answer = self.store.query(
                form["query"][0],
                default_graph=[ox.NamedNode(g) for g in form.get("default-graph-uri", [])] or None,
                named_graphs=[ox.NamedNode(g) for g in form.get("named-graph-uri", [])] or None)
            data = answer.serialize(format=ox.QueryResultsFormat.JSON)
        except (SyntaxError, OSError, ValueError) as exc:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(str(exc).encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def basic_server():
    import pyoxigraph as ox
    handler = type("Handler", (_BasicSparqlServer,), {"store": ox.Store(), "credentials": "ann:s3cret",
                                                      "seen_auth": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql", handler
    server.shutdown()
    server.server_close()


def test_basic_authentication_from_the_environment(basic_server, project, monkeypatch):
    url, handler = basic_server
    monkeypatch.setenv("COOPGRAPH_ENDPOINT_USER", "ann")
    monkeypatch.setenv("COOPGRAPH_ENDPOINT_PASSWORD", "s3cret")
    endpoint = remote.Endpoint(url, auth="basic")
    kit = Toolkit(project)
    result = remote.push(kit.store, endpoint, method="update")
    assert result.graphs[remote.UNION_GRAPH] == len(kit.store)
    assert set(handler.seen_auth) == {"Basic"}, "basic credentials are sent with every request"
    answer = remote.query(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(next(iter(answer))["n"]) == len(kit.store)
    monkeypatch.setenv("COOPGRAPH_ENDPOINT_PASSWORD", "wrong")
    with pytest.raises(remote.EndpointError, match="HTTP 401"):
        remote.query(remote.Endpoint(url, auth="basic"), "ASK {}", graphs=[remote.UNION_GRAPH + "x"])
    assert json.dumps(handler.seen_auth)
