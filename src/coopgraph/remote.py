"""An external SPARQL 1.1 store: push a build into it, run the named queries on it.

For graphs that outgrow one machine. ``push`` loads every named graph of the build into its own
graph on the endpoint (SPARQL 1.1 Update ``INSERT DATA`` or the Graph Store Protocol, in batches),
plus one *union graph* holding the set union of them, then checks the triple count of every graph.
``query`` runs a checked query with the SPARQL protocol's dataset parameters: the union graph as
the default graph (``default-graph-uri``) and our graphs as the named graphs
(``named-graph-uri``). That reproduces our dataset exactly: stores such as Virtuoso make the
default graph of a query without a dataset the union of *all* their graphs (system graphs
included, and a triple in two graphs counts twice), which would change counts and rows.

Only the standard library speaks HTTP here (urllib: Basic and Digest authentication). Credentials
come from options or $COOPGRAPH_ENDPOINT_USER / $COOPGRAPH_ENDPOINT_PASSWORD and are never printed.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .errors import CoopgraphError, InputError
from .namespaces import GRAPH

#: The graph that receives the union of our graphs (the default graph of our queries).
UNION_GRAPH = str(GRAPH["union"])
#: ``<union> dcterms:hasPart <graph>`` for each graph pushed, in the graph manifest_graph(union).
HAS_PART = "http://purl.org/dc/terms/hasPart"
USER_ENV = "COOPGRAPH_ENDPOINT_USER"
PASSWORD_ENV = "COOPGRAPH_ENDPOINT_PASSWORD"
METHODS = ("update", "gsp")
AUTHS = ("any", "basic", "digest")
#: Triples per request by default, per method (Virtuoso's SPARQL compiler fails on ~5000-line INSERT DATA).
DEFAULT_BATCH = {"update": 1000, "gsp": 10_000}
TIMEOUT = 300


class EndpointError(CoopgraphError):
    """The endpoint refused a request or could not be reached (the message gives status and reason)."""


@dataclass
class Endpoint:
    """Where and how to reach a SPARQL 1.1 store."""

    url: str
    update_url: str | None = None
    gsp_url: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: str = "any"
    timeout: float = TIMEOUT

    def __post_init__(self):
        self.url = self._strip_userinfo(self.url)
        self.update_url = self._strip_userinfo(self.update_url) if self.update_url else self.url
        self.gsp_url = self._strip_userinfo(self.gsp_url) if self.gsp_url else None
        if self.user is None:
            self.user = os.environ.get(USER_ENV) or None
        if self.password is None:
            self.password = os.environ.get(PASSWORD_ENV) or None
        if self.auth not in AUTHS:
            raise InputError(f"unknown authentication {self.auth!r}; use one of {', '.join(AUTHS)}")
        if (self.user is None) != (self.password is None):
            raise InputError(f"give both a user and a password (--user/--password or ${USER_ENV}/${PASSWORD_ENV}), "
                             "or neither")
        for url in (self.url, self.update_url, self.gsp_url):
            if url and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise InputError(f"{url}: an endpoint is an http:// or https:// URL")
        self._opener = self._build_opener()

    def _strip_userinfo(self, url: str) -> str:
        """Move user:password@ out of a URL into the credentials (so no message shows them)."""
        parts = urllib.parse.urlsplit(url)
        if parts.username is None:
            return url
        if self.user is None:
            self.user = urllib.parse.unquote(parts.username)
            self.password = urllib.parse.unquote(parts.password or "")
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def _build_opener(self):
        self._challenges: dict[str, dict] = {}
        self._digest = urllib.request.HTTPDigestAuthHandler(urllib.request.HTTPPasswordMgrWithDefaultRealm())
        if self.user is not None:
            for url in {self.url, self.update_url, self.gsp_url} - {None}:
                self._digest.passwd.add_password(None, url, self.user, self.password)
        return urllib.request.build_opener()

    # ------------------------------------------------------------------ HTTP

    def _authorize(self, req: urllib.request.Request, url: str) -> None:
        """Add the Authorization header: Basic up front, or Digest from the server's last challenge."""
        if self.user is None:
            return
        challenge = self._challenges.get(url)
        if self.auth == "basic" or (challenge is not None and challenge["scheme"] == "basic"):
            import base64
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            req.add_unredirected_header("Authorization", f"Basic {token}")
        elif challenge is not None:
            header = self._digest.get_authorization(req, challenge["params"])
            if header:
                req.add_unredirected_header("Authorization", f"Digest {header}")

    def _remember_challenge(self, url: str, headers) -> bool:
        """Keep the WWW-Authenticate challenge of a 401; False when there is none we can answer."""
        for value in headers.get_all("WWW-Authenticate") or []:
            scheme, _, rest = value.partition(" ")
            scheme = scheme.lower()
            if scheme == "digest" and self.auth in ("any", "digest"):
                params = urllib.request.parse_keqv_list(filter(None, urllib.request.parse_http_list(rest)))
                self._challenges[url] = {"scheme": "digest", "params": params}
                return True
            if scheme == "basic" and self.auth in ("any", "basic"):
                self._challenges[url] = {"scheme": "basic", "params": {}}
                return True
        return False

    def request(self, method: str, url: str, *, data: bytes | None = None, headers: dict | None = None,
                params: dict | None = None) -> tuple[int, bytes, str]:
        """(status, body, content type) of one request; EndpointError on failure.

        With credentials, a large body is never sent unauthenticated (a server that answers 401
        at once would cut the upload): a bodiless GET fetches the Digest challenge first.
        """
        target = url + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
        shown = f"{method} {url}"
        if self.user is not None and self.auth != "basic" and url not in self._challenges \
                and data is not None and len(data) > 32_000:
            try:
                self._open(urllib.request.Request(target, method="GET"))
            except urllib.error.HTTPError as exc:
                if exc.code == 401:
                    self._remember_challenge(url, exc.headers)
                exc.close()
            except (urllib.error.URLError, OSError) as exc:
                raise EndpointError(f"{shown}: cannot reach the endpoint: {getattr(exc, 'reason', exc)}") from None
        for attempt in (1, 2):
            req = urllib.request.Request(target, data=data, method=method, headers=dict(headers or {}))
            self._authorize(req, url)
            try:
                with self._open(req) as response:
                    return response.status, response.read(), response.headers.get("Content-Type", "")
            except urllib.error.HTTPError as exc:
                body = exc.read().decode("utf-8", "replace") if exc.fp else ""
                if exc.code == 401 and attempt == 1 and self.user is not None \
                        and self._remember_challenge(url, exc.headers):
                    continue
                message = " ".join(body.split())[:500]
                hint = ""
                if exc.code in (401, 403):
                    hint = (" (check --user/--password or $COOPGRAPH_ENDPOINT_USER/PASSWORD, --auth, and that this "
                            "user may update the store)")
                raise EndpointError(f"{shown}: HTTP {exc.code} {exc.reason}{hint}"
                                    + (f": {message}" if message else "")) from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise EndpointError(f"{shown}: cannot reach the endpoint: {reason}") from None
        raise EndpointError(f"{shown}: authentication failed")  # pragma: no cover - loop always returns

    def _open(self, req):
        return self._opener.open(req, timeout=self.timeout)

    def select(self, text: str, *, default_graphs: Iterable[str] = (), named_graphs: Iterable[str] = ()) -> dict:
        """A SELECT/ASK answer as SPARQL 1.1 JSON results."""
        named_graphs = list(named_graphs)
        form = [("query", text)] + [("default-graph-uri", g) for g in default_graphs] \
            + [("named-graph-uri", g) for g in named_graphs]
        _allow_headers(len(named_graphs))
        status, body, ctype = self.request(
            "POST", self.url, data=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/sparql-results+json"})
        try:
            return json.loads(body.decode("utf-8"))
        except ValueError:
            raise EndpointError(f"POST {self.url}: the answer is not SPARQL JSON results ({ctype}): "
                                f"{body[:200]!r}") from None

    def construct(self, text: str, *, default_graphs: Iterable[str] = (), named_graphs: Iterable[str] = ()) -> bytes:
        """A CONSTRUCT/DESCRIBE answer as N-Triples."""
        named_graphs = list(named_graphs)
        form = [("query", text)] + [("default-graph-uri", g) for g in default_graphs] \
            + [("named-graph-uri", g) for g in named_graphs]
        _allow_headers(len(named_graphs))
        _status, body, _ctype = self.request(
            "POST", self.url, data=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/n-triples"})
        return body

    def update(self, text: str) -> None:
        self.request("POST", self.update_url, data=urllib.parse.urlencode({"update": text}).encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})

    def gsp(self, method: str, graph: str, ntriples: str) -> None:
        if not self.gsp_url:
            raise InputError("--method gsp needs --gsp-endpoint URL (the store's Graph Store Protocol address, "
                             "e.g. http://HOST:8890/sparql-graph-crud-auth for Virtuoso)")
        self.request(method, self.gsp_url, data=ntriples.encode("utf-8"), params={"graph": graph},
                     headers={"Content-Type": "application/n-triples"})


def _allow_headers(named_graphs: int) -> None:
    """Let http.client read one response header per named graph: Virtuoso echoes each
    ``named-graph-uri`` as an ``X-SPARQL-named-graph`` header, past http.client's limit of 100."""
    import http.client
    needed = named_graphs + 100
    if getattr(http.client, "_MAXHEADERS", 100) < needed:
        http.client._MAXHEADERS = needed


# ----------------------------------------------------------------------------- push

def manifest_graph(union_graph: str) -> str:
    """The graph listing the graphs of the dataset pushed with ``union_graph`` (``<union>-graphs``)."""
    return union_graph + "-graphs"


@dataclass
class PushResult:
    graphs: dict[str, int]  # graph -> triples, as counted on the endpoint after the push
    requests: int
    seconds: float


def _batches(lines: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(lines), size):
        yield lines[start:start + size]


def push(store, endpoint: Endpoint, *, union_graph: str = UNION_GRAPH, method: str = "update",
         batch_size: int | None = None, progress: Callable[[str], None] | None = None) -> PushResult:
    """Load every named graph of ``store`` and their union into ``endpoint``; verify the counts.

    Each graph is replaced (GSP PUT then POSTs, or DROP SILENT then INSERT DATA batches) so a
    push can be repeated. EndpointError names the request that failed and what the server said.
    """
    if method not in METHODS:
        raise InputError(f"unknown push method {method!r}; use one of {', '.join(METHODS)}")
    batch_size = DEFAULT_BATCH[method] if batch_size is None else batch_size
    if batch_size < 1:
        raise InputError("--batch-size must be at least 1")
    started = time.monotonic()
    names = [str(g) for g in store.graph_names()]
    if union_graph in names or manifest_graph(union_graph) in names:
        raise InputError(f"--graph {union_graph} is one of the dataset's own graphs; name another graph")
    expected: dict[str, int] = {}
    requests = 0
    plan = [(name, lambda name=name: store.graph_lines(name)) for name in names]
    plan.append((union_graph, store.ntriples_lines))
    manifest = [f"<{union_graph}> <{HAS_PART}> <{name}> ." for name in names]
    plan.append((manifest_graph(union_graph), lambda: manifest))
    for name, get_lines in plan:
        lines = get_lines()
        expected[name] = len(lines)
        if progress:
            progress(f"{name}: {len(lines)} triples")
        if method == "gsp":
            first = True
            for batch in _batches(lines, batch_size) if lines else [[]]:
                endpoint.gsp("PUT" if first else "POST", name, "".join(line + "\n" for line in batch))
                requests += 1
                first = False
        else:
            endpoint.update(f"DROP SILENT GRAPH <{name}>")
            requests += 1
            for batch in _batches(lines, batch_size):
                endpoint.update(f"INSERT DATA {{ GRAPH <{name}> {{\n" + "\n".join(batch) + "\n} }")
                requests += 1
    counts = graph_counts(endpoint, list(expected))
    wrong = {g: (expected[g], counts.get(g, 0)) for g in expected if counts.get(g, 0) != expected[g]}
    if wrong:
        detail = "; ".join(f"<{g}>: {n} pushed, {m} on the endpoint" for g, (n, m) in sorted(wrong.items())[:5])
        raise EndpointError(f"the endpoint does not hold what was pushed ({len(wrong)} graph(s) differ): {detail}")
    return PushResult(graphs=counts, requests=requests, seconds=time.monotonic() - started)


def graph_counts(endpoint: Endpoint, graphs: list[str], chunk: int = 200) -> dict[str, int]:
    """Triples per graph on the endpoint."""
    counts: dict[str, int] = {}
    for start in range(0, len(graphs), chunk):
        part = graphs[start:start + chunk]
        values = " ".join(f"<{g}>" for g in part)
        answer = endpoint.select(f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                                 f"GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g")
        for row in answer.get("results", {}).get("bindings", []):
            counts[row["g"]["value"]] = int(row["n"]["value"])
    return counts


# ----------------------------------------------------------------------------- query

def our_graphs(endpoint: Endpoint, union_graph: str = UNION_GRAPH) -> list[str]:
    """The graphs pushed with ``union_graph`` (from its manifest graph), sorted."""
    answer = endpoint.select(f"SELECT ?g WHERE {{ GRAPH <{manifest_graph(union_graph)}> "
                             f"{{ <{union_graph}> <{HAS_PART}> ?g }} }}")
    names = {row["g"]["value"] for row in answer.get("results", {}).get("bindings", [])}
    if not names:
        raise EndpointError(f"{endpoint.url}: holds no coopgraph dataset with the union graph <{union_graph}>; "
                            "run `coopgraph push --endpoint ...` first (with the same --graph)")
    return sorted(names)


def query(endpoint: Endpoint, text: str, *, union_graph: str = UNION_GRAPH, graphs: list[str] | None = None):
    """Run a checked query on the endpoint over our dataset; an rdflib Result (as the local stores give)."""
    from rdflib import Graph
    from rdflib.query import Result

    from .build import bind_prefixes
    from .safety import check_query
    graphs = graphs if graphs is not None else our_graphs(endpoint, union_graph)
    checked = check_query(text, graphs + [union_graph])
    kind = checked.algebra.name
    dataset = {"default_graphs": [union_graph], "named_graphs": graphs}
    if kind in ("ConstructQuery", "DescribeQuery"):
        graph = Graph()
        bind_prefixes(graph)
        graph.parse(data=endpoint.construct(text, **dataset).decode("utf-8"), format="nt")
        result = Result("CONSTRUCT")
        result.graph = graph
        return result
    answer = endpoint.select(text, **dataset)
    return results_from_json(answer, checked)


def results_from_json(answer: dict, checked=None):
    """An rdflib Result from SPARQL 1.1 JSON results (variables in the query's order)."""
    from rdflib import BNode, Literal, URIRef, Variable
    from rdflib.query import Result
    if "boolean" in answer:
        result = Result("ASK")
        result.askAnswer = bool(answer["boolean"])
        return result
    names = list(answer.get("head", {}).get("vars", []))
    if checked is not None and checked.algebra.get("PV"):
        order = [str(v) for v in checked.algebra["PV"]]
        if sorted(order) == sorted(names):
            names = order
    result = Result("SELECT")
    result.vars = [Variable(n) for n in names]
    rows = []
    for binding in answer.get("results", {}).get("bindings", []):
        row = {}
        for name, var in zip(names, result.vars):
            cell = binding.get(name)
            if cell is None:
                continue
            kind, value = cell["type"], cell["value"]
            if kind == "uri":
                row[var] = URIRef(value)
            elif kind == "bnode":
                row[var] = BNode(value)
            else:
                lang = cell.get("xml:lang")
                datatype = cell.get("datatype")
                if datatype == "http://www.w3.org/2001/XMLSchema#string":
                    datatype = None
                row[var] = Literal(value, lang=lang, datatype=URIRef(datatype) if datatype and not lang else None)
        rows.append(row)
    result.bindings = rows
    return result
