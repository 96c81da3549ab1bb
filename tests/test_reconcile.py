"""The reconciliation service (Reconciliation API 0.2) over real HTTP, answers checked with the spec's schemas.

The JSON schemas and examples are those of ../shared/specs/reconciliation-0.2 (read-only, never copied
into the project); the tests that need them skip, saying so, only when that folder is absent.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import SHARED_SPECS

SPEC = SHARED_SPECS / "reconciliation-0.2"
needs_spec = pytest.mark.skipif(not SPEC.is_dir(), reason=f"needs the Reconciliation API 0.2 schemas in {SPEC} "
                                                          "(../shared/specs/reconciliation-0.2), absent here")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(server):
    """The real `coopgraph serve` process of the session (tests/conftest.py), which mounts /reconcile."""
    return server.url.rstrip("/")


def call(url: str, *, data: bytes | None = None, headers: dict | None = None, method: str | None = None):
    """(status, headers, body) of one real HTTP request."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def post_queries(base: str, batch) -> tuple[int, dict, dict]:
    text = batch if isinstance(batch, str) else json.dumps(batch)
    status, headers, body = call(base + "/reconcile", data=urllib.parse.urlencode({"queries": text}).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    return status, headers, json.loads(body)


def get_queries(base: str, batch) -> tuple[int, dict, dict]:
    status, headers, body = call(base + "/reconcile?" + urllib.parse.urlencode({"queries": json.dumps(batch)}))
    return status, headers, json.loads(body)


@pytest.fixture(scope="module")
def schemas():
    if not SPEC.is_dir():
        pytest.skip(f"needs the Reconciliation API 0.2 schemas in {SPEC} (../shared/specs/reconciliation-0.2), absent here")
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7
    docs = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (SPEC / "schemas").glob("*.json")}
    registry = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT7)) for doc in docs.values() if "$id" in doc)
    return {name[:-5]: Draft7Validator(doc, registry=registry) for name, doc in docs.items()}


def valid(schemas, name: str, instance) -> None:
    errors = sorted(schemas[name].iter_errors(instance), key=str)
    assert not errors, f"{name}: {errors[0].message} at {list(errors[0].path)}"


# ----------------------------------------------------------------------------- manifest

def test_manifest(server, schemas):
    status, headers, body = call(server + "/reconcile")
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    manifest = json.loads(body)
    valid(schemas, "manifest", manifest)
    assert manifest["versions"] == ["0.2"]
    assert {t["id"] for t in manifest["defaultTypes"]} == {"Organization", "Person", "Place", "Event"}
    assert manifest["view"]["url"] == server + "/id/{{id}}"
    assert manifest["identifierSpace"] == "https://w3id.org/coopgraph/id/"


def test_the_manifest_check_can_fail(schemas):
    """The schema check above is real: the spec's invalid manifests are refused by it."""
    for path in sorted((SPEC / "examples" / "manifest" / "invalid").glob("*.json")):
        if path.name == "bad-authentication.json":
            continue  # its schema $ref points to swagger.io, which the tests never fetch
        assert list(schemas["manifest"].iter_errors(json.loads(path.read_text(encoding="utf-8")))), path.name


def test_jsonp(server):
    status, headers, body = call(server + "/reconcile?callback=cb")
    assert status == 200 and headers["content-type"].startswith("application/javascript")
    assert body.startswith(b"/**/cb(") and body.endswith(b");")
    status, _h, body = call(server + "/reconcile?callback=alert(1)//")
    assert status == 400 and b"callback" in body


# ----------------------------------------------------------------------------- queries

def test_batch_by_post_and_get(server, schemas):
    batch = {
        "q0": {"query": "International Co-operative Alliance", "type": "Organization", "limit": 3},
        "q1": {"query": "Van Vuuren, Vic", "type": "Person"},
        "q2": {"query": "Ministry of Trade", "type": "Organization",
               "properties": [{"pid": "schema:addressCountry", "v": "TR"}]},
        "q3": {"query": "Ministry of Trade", "properties": [{"pid": "schema:addressCountry", "v": "Kenya"}]},
        "q4": {"query": "Geneva", "type": ["Place"]},
        "q5": {"query": "Institute of Nothing Whatsoever"},
    }
    valid(schemas, "reconciliation-query-batch", batch)
    for send in (post_queries, get_queries):
        status, headers, answer = send(server, batch)
        assert status == 200 and headers["access-control-allow-origin"] == "*"
        valid(schemas, "reconciliation-result-batch", answer)
        assert set(answer) == set(batch)
        top = {k: v["result"][0] if v["result"] else None for k, v in answer.items()}
        assert top["q0"]["id"] == "organization/ica" and top["q0"]["match"] is True and top["q0"]["score"] >= 90
        assert top["q1"]["id"] == "person/vic-van-vuuren" and top["q1"]["match"] is True
        assert top["q2"]["id"] == "organization/ministry-of-trade-turkey" and top["q2"]["match"] is True
        assert top["q3"] is None or top["q3"]["match"] is False
        assert top["q4"]["id"] == "place/geneva"
        assert all(not c["match"] for c in answer["q5"]["result"])
        scores = [c["score"] for c in answer["q0"]["result"]]
        assert scores == sorted(scores, reverse=True) and len(scores) <= 3


def test_match_is_the_same_rule_as_link(server, toolkit):
    from coopgraph import link
    matcher = link.matcher_for(toolkit.loaded.union())
    for name in ("ILO", "ICA Headquarters", "International Labour Office", "Cooperatives Unit"):
        expected = [(link.short_id(c.entity.id), c.match) for c in matcher.match(link.Record(id="", names=[name]))][:5]
        _s, _h, answer = post_queries(server, {"q": {"query": name}})
        assert [(c["id"], c["match"]) for c in answer["q"]["result"]] == expected


def test_identifier_as_query(server):
    _s, _h, answer = post_queries(server, {"a": {"query": "organization/ilo"},
                                           "b": {"properties": [{"pid": "schema:sameAs", "v": "Q54129"}]}})
    assert answer["a"]["result"][0]["id"] == "organization/ilo" and answer["a"]["result"][0]["score"] == 100
    assert answer["b"]["result"][0]["id"] == "organization/ilo"


@needs_spec
@pytest.mark.parametrize("path", sorted((SPEC / "examples" / "reconciliation-query-batch" / "valid").glob("*.json")),
                         ids=lambda p: p.name)
def test_spec_valid_batches_get_valid_answers(server, schemas, path):
    batch = json.loads(path.read_text(encoding="utf-8"))
    status, _h, answer = post_queries(server, batch)
    assert status == 200, answer
    valid(schemas, "reconciliation-result-batch", answer)
    assert set(answer) == set(batch)
    for key, query in batch.items():
        if query.get("type") == "DifferentiatedPerson":
            assert answer[key]["result"] == [] and "unknown type" in answer[key]["warnings"][0]


@needs_spec
@pytest.mark.parametrize("path", sorted((SPEC / "examples" / "reconciliation-query-batch" / "invalid").glob("*.json")),
                         ids=lambda p: p.name)
def test_spec_invalid_batches_get_a_clear_400(server, path):
    status, headers, answer = post_queries(server, path.read_text(encoding="utf-8"))
    assert status == 400 and headers["access-control-allow-origin"] == "*"
    assert answer["status"] == 400 and answer["error"]


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("text,status,words", [
    ('{"q0": {"query": "ILO"', 400, "not valid JSON"),
    ('["ILO"]', 400, "must be a JSON object"),
    ('{"q0": "ILO"}', 400, "must be an object"),
    ('{"q0": {"query": ""}}', 400, "non-empty string"),
    ('{"q0": {"query": "ILO", "limit": -1}}', 400, "positive integer"),
    ('{"q0": {"query": "ILO", "properties": [{"pid": "x"}]}}', 400, "pid"),
    (json.dumps({"q0": {"query": "x" * 501}}), 400, "at most 500"),
    (json.dumps({f"q{i}": {"query": "ILO"} for i in range(51)}), 413, "at most 50"),
])
def test_bad_input_gets_a_json_error_and_the_service_stays_up(server, text, status, words):
    got, headers, answer = post_queries(server, text)
    assert got == status and headers["content-type"].startswith("application/json")
    assert words in answer["error"]
    ok, _h, _b = call(server + "/reconcile")
    assert ok == 200


def test_oversized_body_is_refused(server):
    """A body announced over 1 MB gets 413 before it is read; a real one too (the server may then close
    the connection while the client still sends, which the client sees as a reset); the service stays up."""
    import http.client
    host, port = server.rsplit("/", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("POST", "/reconcile")
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", "2000000")
    conn.endheaders()
    conn.send(b"queries=")
    resp = conn.getresponse()
    answer = json.loads(resp.read())
    conn.close()
    assert resp.status == 413 and "at most" in answer["error"]
    try:
        status, _h, body = call(server + "/reconcile", data=b"queries=" + b"x" * 1_100_000,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 413 and b"at most" in body
    except (urllib.error.URLError, ConnectionError) as exc:
        assert isinstance(getattr(exc, "reason", exc), (ConnectionError, BrokenPipeError)), exc
    assert call(server + "/reconcile")[0] == 200


def test_post_without_queries(server):
    status, _h, body = call(server + "/reconcile", data=b"", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and b"queries" in body


def test_cors_preflight(server):
    status, headers, _b = call(server + "/reconcile", method="OPTIONS",
                               headers={"Origin": "http://127.0.0.1:3333", "Access-Control-Request-Method": "POST"})
    assert status in (200, 204) and "POST" in headers["access-control-allow-methods"]  # CORS: any ok status


# ----------------------------------------------------------------------------- suggest, preview

def test_suggest_services(server, schemas):
    status, headers, body = call(server + "/reconcile/suggest/entity?prefix=international%20coop")
    answer = json.loads(body)
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    valid(schemas, "suggest-entities-response", answer)
    assert "organization/ica" in {r["id"] for r in answer["result"]}
    # entities with a name (or another name) that starts with what was typed come first, the
    # shortest first: more than ten match "intern", the ten shortest are shown
    _s, _h, body = call(server + "/reconcile/suggest/entity?prefix=intern")
    names = [r["name"] for r in json.loads(body)["result"]]
    assert len(names) == 10 and "International Labour Organization" in names, names
    assert [len(n) for n in names] == sorted(len(n) for n in names), names
    _s, _h, body = call(server + "/reconcile/suggest/type?prefix=Pe")
    types = json.loads(body)
    valid(schemas, "suggest-types-response", types)
    assert [t["id"] for t in types["result"]] == ["Person"]
    _s, _h, body = call(server + "/reconcile/suggest/property?prefix=country")
    props = json.loads(body)
    valid(schemas, "suggest-properties-response", props)
    assert props["result"][0]["id"] == "schema:addressCountry"


def test_preview(server):
    status, headers, body = call(server + "/reconcile/preview?id=" + urllib.parse.quote("organization/ica", safe=""))
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"International Cooperative Alliance" in body and headers["access-control-allow-origin"] == "*"
    assert call(server + "/reconcile/preview?id=organization/nothing")[0] == 404


def test_view_url_of_the_manifest_reaches_the_entity_page(server):
    """OpenRefine fills the manifest's view URL with the id, percent-encoded; both forms reach the page."""
    manifest = json.loads(call(server + "/reconcile")[2])
    for ident in ("organization/ica", urllib.parse.quote("organization/ica", safe="")):
        url = manifest["view"]["url"].replace("{{id}}", ident)
        status, _h, body = call(url, headers={"Accept": "text/html"})
        assert status == 200, url
        assert b"International Cooperative Alliance" in body


def test_home_page_links_to_the_reconciliation_service(server):
    home = call(server + "/")[2]
    assert b'reconcile"><code>' in home and b"Add standard service" in home
