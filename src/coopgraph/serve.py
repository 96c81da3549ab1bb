"""``coopgraph serve``: a read-only SPARQL 1.1 endpoint, dereferenceable IRIs and pages, one process.

Routes (README "Serve the graph"):

* ``/sparql``: SPARQL 1.1 Protocol (GET ``?query=``, POST form, POST ``application/sparql-query``);
  results negotiated by ``Accept`` or ``format``; the Service Description without a query.
  Updates by any route are refused (403); SERVICE, LOAD and FROM/FROM NAMED outside our graphs
  are refused before evaluation (403); a query past the timeout is killed (503); a result over
  the row cap is refused (422, never cut silently); request bodies over the cap get 413.
* ``/queries`` and ``/queries/NAME`` (``.json``/``.csv``/``.tsv``/``.html``): the named queries
  of queries/, parameters as URL parameters.
* ``/id/KIND/SLUG``: 303 See Other to ``/doc/KIND/SLUG``, the document about the entity,
  negotiated as HTML, Turtle, JSON-LD, N-Triples (``.html``/``.ttl``/``.jsonld``/``.nt``).
* ``/source/KEY``, ``/graph/NAME``: a named graph and what it says; ``/ontology``: the vocabulary.
* ``/``: the home page with a query form that needs no JavaScript; ``/dumps/``: the dumps;
  ``/.well-known/void``: the VoID description; ``/status``: the query workers.

Extension point: :func:`create_app` takes ``extra_routes``, Starlette routes (``Route``, ``Mount``)
that are matched before the built-in ones, so another module serves its own paths from the same
process (e.g. ``create_app(kit, extra_routes=reconcile.routes(kit))`` mounts ``/reconcile``).
They get the CORS headers and the request body cap like every route.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from urllib.parse import parse_qsl, quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from rdflib import Graph, Literal, URIRef
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import __version__, export, negotiation as neg, queries
from .build import bind_prefixes
from .description import void_graph
from .errors import InputError
from .namespaces import BASE, ID, RDF, SD
from .pages import Site, entity_iri
from .pipeline import Toolkit, store_class_counts
from .querypool import Job, Payload, PoolBusy, QueryPool, QueryTimeout, WorkerDied, serialize_graph

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ROWS = 10_000
DEFAULT_MAX_BODY = 1_000_000
DEFAULT_WORKERS = 2
DEFAULT_WORKER_MEMORY_MB = 2048
_HERE = Path(__file__).resolve().parent
_FORMATS_NS = "http://www.w3.org/ns/formats/"
_SD_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
               "Turtle", "N-Triples", "JSON-LD", "RDF_XML")
_READ_ONLY = ("coopgraph is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE, "
              "COPY) is refused on every route")
EXAMPLE_QUERY = """PREFIX schema: <http://schema.org/>
SELECT ?item ?date ?headline WHERE {
  ?item schema:datePublished ?date ;
        schema:headline ?headline .
} ORDER BY DESC(?date)"""


@dataclass
class Settings:
    """The caps and addresses of one server."""

    base_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    max_body: int = DEFAULT_MAX_BODY
    workers: int = DEFAULT_WORKERS
    worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB


class BodyTooLarge(Exception):
    """A request body went past the cap while it was read."""


class BodyLimit:
    """ASGI middleware: 413 for a request body over ``max_body`` bytes (declared or streamed)."""

    def __init__(self, app, max_body: int):
        self.app = app
        self.max_body = max_body

    def _too_large(self, scope) -> Response:
        message = (f"request body too large: this server accepts at most {self.max_body:,} bytes "
                   "(send a shorter query, or use GET)")
        if scope.get("path", "").startswith("/reconcile"):  # JSON clients (OpenRefine) get a JSON error
            return JSONResponse({"error": message}, status_code=413, headers={"Connection": "close"})
        return PlainTextResponse(message + "\n", status_code=413, headers={"Connection": "close"})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_body:
                    return await self._too_large(scope)(scope, receive, send)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._too_large(scope)(scope, receive, send)


# ----------------------------------------------------------------------------- the server state

class Server:
    """What every request reads: the site (pages), the query pool, the named queries, the caches."""

    def __init__(self, toolkit: Toolkit, settings: Settings):
        t0 = time.perf_counter()
        self.toolkit = toolkit
        self.settings = settings
        store = self.store = toolkit.store
        if store.kind == "oxigraph":
            # Nothing is copied into rdflib: pages look facts up in the store, and the query workers
            # open the same on-disk store read-only (serve_toolkit gives every Oxigraph server one).
            from .store import StoreDataset, store_graph
            if store.path is None:
                raise InputError("coopgraph serve needs an on-disk Oxigraph store (--store-path DIR); "
                                 "create_app(serve_toolkit(kit)) gives it one")
            self.dataset = StoreDataset(store)
            self.union = store_graph(store)
            names = store.graph_names()
            nquads, store_path = "", str(store.path)
        else:
            self.dataset = store.dataset()
            self.union = store.union()
            names = export.graph_names(self.dataset)
            nquads, store_path = export.nquads(self.dataset), ""
        self.site = Site(self.dataset, self.union, toolkit.context, toolkit.loader, graphs=names,
                         store=store if store.kind == "oxigraph" else None)
        self.graph_names = [str(g) for g in self.site.graphs]
        self.graph_sizes = _graph_sizes(store)
        self.triples = len(store)
        self.counts = store_class_counts(store)
        queries_dir = toolkit.project.queries_dir
        self.named = {q.name: q for q in queries.list_queries(queries_dir)} if queries_dir.is_dir() else {}
        self.payload = Payload(nquads=nquads, store_path=store_path, ontology_dir=str(toolkit.project.ontology_dir),
                               context=toolkit.context, max_rows=settings.max_rows,
                               memory_mb=settings.worker_memory_mb)
        self.pool = QueryPool(self.payload, settings.workers)
        self._cache: dict[tuple, Response | bytes | str] = {}
        self.loaded_in = time.perf_counter() - t0
        self.started_at: float | None = None

    def store_info(self) -> dict:
        """Where the served graph lives and how it was opened (for /status and the start-up line)."""
        store = self.store
        info = {"kind": store.kind, "path": str(store.path) if getattr(store, "path", None) else None}
        if store.kind == "oxigraph":
            info.update(reused=bool(getattr(store, "reused", False)),
                        parsed_files=int(getattr(store, "parsed_files", 0)))
        return info

    def base(self, request: Request) -> str:
        """The public address links are built on: --base-url, or the address the request came to."""
        if self.settings.base_url:
            return self.settings.base_url.rstrip("/") + "/"
        return str(request.base_url)

    def cached(self, key: tuple, make):
        """A value computed once (the dataset never changes while served)."""
        if key not in self._cache:
            if len(self._cache) > 20_000:
                self._cache.clear()
            self._cache[key] = make()
        return self._cache[key]


templates = Environment(loader=PackageLoader("coopgraph", "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _html(name: str, base: str, **values) -> str:
    return templates.get_template(name).render(base=base, version=__version__, **values)


def _render(name: str, request: Request, status: int = 200, headers: dict | None = None, **values) -> Response:
    server: Server = request.app.state.server
    html = _html(name, server.base(request), **values)
    return Response(html, status_code=status, media_type="text/html; charset=utf-8", headers=headers)


def _error(request: Request, status: int, message: str, *, html: bool | None = None,
           headers: dict | None = None, **page) -> Response:
    """An error as plain text for programs, or as a page for browsers."""
    if html is None:
        html = neg.prefers_html(request.headers.get("accept"), _format_names(request.query_params))
    if html:
        return _render("error.html", request, status=status, headers=headers, status_code=status,
                       message=message, **page)
    return PlainTextResponse(message.rstrip("\n") + "\n", status_code=status, headers=headers)


def _format_names(params) -> list[str]:
    names = []
    for key in ("format", "output", "results"):
        names.extend(params.getlist(key) if hasattr(params, "getlist") else params.get(key, []))
    return [n for n in names if n]


def _graph_sizes(store) -> dict[str, int]:
    """Triples of each named graph, counted by the store (one query)."""
    if store.kind != "oxigraph":
        ds = store.dataset()
        return {str(name): len(ds.graph(name)) for name in store.graph_names()}
    rows = store.ox.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {row["g"].value: int(row["n"].value) for row in rows}


#: Where `coopgraph serve` keeps its on-disk store when no --store-path is given (gitignored).
CACHE_DIR = ".coopgraph-cache"


def default_store_path(project) -> Path:
    """``<project>/.coopgraph-cache/store``: built on the first start, reused while the sources are
    unchanged (the store's fingerprint, README "Stores")."""
    return project.root / CACHE_DIR / "store"


def serve_toolkit(toolkit: Toolkit) -> Toolkit:
    """``toolkit``, or a copy on an on-disk store when it is on an in-memory Oxigraph store.

    The query workers open the server's store read-only, so an Oxigraph server needs it on disk:
    the toolkit's --store-path, else :func:`default_store_path`; a project folder that cannot be
    written falls back to a temporary folder (built at each start, removed at exit).
    """
    if toolkit.store_kind != "oxigraph" or toolkit.store_path is not None:
        return toolkit
    path = default_store_path(toolkit.project)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.parent / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        import atexit
        import shutil
        import tempfile
        folder = Path(tempfile.mkdtemp(prefix="coopgraph-serve-store-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "store"
    return Toolkit(toolkit.project, store_kind="oxigraph", store_path=path, validator=toolkit.validator)


# ----------------------------------------------------------------------------- SPARQL endpoint

class _Params:
    """Query parameters merged from the URL and a form body, each name to its list of values."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.data: dict[str, list[str]] = {}
        for key, value in pairs:
            self.data.setdefault(key, []).append(value)

    def getlist(self, key: str) -> list[str]:
        return self.data.get(key, [])

    def get(self, key: str, default=None):
        values = self.data.get(key)
        return values[0] if values else default

    def __contains__(self, key: str) -> bool:
        return key in self.data


async def sparql_endpoint(request: Request) -> Response:
    """SPARQL 1.1 Protocol: query by GET or POST; the Service Description without a query."""
    pairs = list(request.query_params.multi_items())
    body_query: str | None = None
    if request.method == "POST":
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await request.body()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _error(request, 400, "the request body is not UTF-8 text")
        if ctype == "application/sparql-update":
            return _error(request, 403, _READ_ONLY)
        if ctype == "application/sparql-query":
            body_query = text
        elif ctype == "application/x-www-form-urlencoded":
            pairs += parse_qsl(text, keep_blank_values=True)
        elif body:
            return _error(request, 415, f"unsupported request body type {ctype or '(none)'!r}: send "
                                        "application/sparql-query, or a form (application/x-www-form-urlencoded) "
                                        "with query=...")
    params = _Params(pairs)
    formats = _format_names(params)
    wants_html = neg.prefers_html(request.headers.get("accept"), formats)
    if "update" in params:
        return _error(request, 403, _READ_ONLY, html=wants_html)
    queries_given = params.getlist("query") + ([body_query] if body_query is not None else [])
    if len(queries_given) > 1:
        return _error(request, 400, "give one query (the request has several query parameters)", html=wants_html)
    if not queries_given or not queries_given[0].strip():
        if request.method == "POST":
            return _error(request, 400, "no query: send query=... (form) or an application/sparql-query body",
                          html=wants_html)
        return service_description(request, formats)
    query = queries_given[0]
    job = Job(query=query, accept=request.headers.get("accept"), formats=tuple(formats),
              default_graphs=tuple(params.getlist("default-graph-uri")),
              named_graphs=tuple(params.getlist("named-graph-uri")))
    return await _answer(request, job, wants_html, page={"query": query, "format": (formats or ["html"])[0]})


async def _answer(request: Request, job: Job, wants_html: bool, *, page: dict,
                  template: str = "sparql.html") -> Response:
    """Run ``job`` on the pool and turn the answer (or the failure) into a response."""
    server: Server = request.app.state.server
    timeout = server.settings.timeout
    try:
        answer = await server.pool.run(job, timeout)
    except QueryTimeout:
        return _error(request, 503, f"query stopped: it ran longer than {timeout:g} s, the time limit of this "
                                    "server; narrow it (fewer patterns, a LIMIT) and send it again",
                      html=wants_html, headers={"X-Coopgraph-Timeout": f"{timeout:g}"}, **page)
    except PoolBusy:
        return _error(request, 503, f"server busy: every query worker stayed busy for {timeout:g} s; "
                                    "try again shortly", html=wants_html, headers={"Retry-After": "5"}, **page)
    except WorkerDied:
        return _error(request, 500, "the query worker ended without answering (it is being replaced); "
                                    "try again", html=wants_html, **page)
    headers = {"Vary": "Accept", **answer.headers}
    if answer.status != 200:
        return _error(request, answer.status, answer.message, html=wants_html, headers=headers, **page)
    if answer.table is not None:
        table = _html_table(answer.table, server.site, server.base(request))
        return _render(template, request, headers=headers, result=table, kind=answer.kind, rows=answer.rows,
                       **page)
    return Response(answer.body, status_code=200, media_type=answer.content_type, headers=headers)


def _html_table(table: dict, site: Site, base: str) -> dict:
    """SPARQL-JSON-like rows as cells with text, link and title for the results template."""
    rows = []
    for row in table["rows"]:
        cells = []
        for term in row:
            if term is None:
                cells.append(None)
            elif term["type"] == "uri":
                value = site.value(URIRef(term["value"]), base)
                cells.append({"text": value.text, "href": value.href, "title": term["value"]})
            elif term["type"] == "bnode":
                cells.append({"text": f"_:{term['value']}", "href": None, "title": None})
            else:
                note = term.get("xml:lang") or (term.get("datatype", "").rsplit("#", 1)[-1] or None)
                cells.append({"text": term["value"], "href": None, "title": note})
        rows.append(cells)
    return {"vars": table["vars"], "rows": rows, "boolean": table["boolean"]}


def service_description(request: Request, formats: list[str]) -> Response:
    """The SPARQL 1.1 Service Description of this endpoint (or the query page for a browser)."""
    server: Server = request.app.state.server
    base = server.base(request)
    chosen = neg.choose(request.headers.get("accept"), formats, neg.GRAPH_FORMATS, neg.TURTLE)
    if chosen is None:
        return _not_acceptable(request, neg.GRAPH_FORMATS)
    if chosen is neg.HTML:
        return _render("sparql.html", request, query=EXAMPLE_QUERY, format="html", result=None,
                       headers={"Vary": "Accept"})
    body = server.cached(("sd", base, chosen.key),
                         lambda: serialize_graph(_sd_graph(server, base), chosen, server.toolkit.context,
                                                 server.toolkit.loader))
    return Response(body, media_type=chosen.content_type, headers={"Vary": "Accept"})


def _sd_graph(server: Server, base: str) -> Graph:
    from .namespaces import VOID
    g = Graph()
    bind_prefixes(g)
    g.bind("sd", SD)
    endpoint = URIRef(base + "sparql")
    service = URIRef(base + "sparql#service")
    dataset = URIRef(base + "sparql#dataset")
    default = URIRef(base + "sparql#default-graph")
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, endpoint))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    for fmt in _SD_FORMATS:
        g.add((service, SD.resultFormat, URIRef(_FORMATS_NS + fmt)))
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, VOID.triples, Literal(server.triples)))
    for name in server.site.graphs:
        node = URIRef(f"{base}sparql#graph-{name[len(BASE):].replace('/', '-')}")
        g.add((dataset, SD.namedGraph, node))
        g.add((node, RDF.type, SD.NamedGraph))
        g.add((node, SD.name, name))
        graph_node = URIRef(f"{node}-content")
        g.add((node, SD.graph, graph_node))
        g.add((graph_node, RDF.type, SD.Graph))
        g.add((graph_node, VOID.triples, Literal(server.graph_sizes.get(str(name), 0))))
    return g


def _not_acceptable(request: Request, offers) -> Response:
    names = ", ".join(o.media_type for o in offers)
    return PlainTextResponse(f"none of the representations of {request.url.path} is acceptable "
                             f"(Accept: {request.headers.get('accept')}); available: {names}\n",
                             status_code=406, headers={"Vary": "Accept"})


# ----------------------------------------------------------------------------- named queries

async def queries_index(request: Request) -> Response:
    """The named queries: HTML list, or JSON with their parameters."""
    server: Server = request.app.state.server
    base = server.base(request)
    as_json = neg.Representation("json", "application/json", (), ("json",))
    if request.url.path.endswith(".json"):
        chosen = as_json
    else:
        chosen = neg.choose(request.headers.get("accept"), _format_names(request.query_params),
                            (neg.HTML, as_json), neg.HTML)
    if chosen is None:
        return _not_acceptable(request, (neg.HTML,))
    if chosen is neg.HTML:
        return _render("queries.html", request, queries=list(server.named.values()), headers={"Vary": "Accept"})
    listing = [{"name": q.name, "title": q.title, "description": q.description, "url": f"{base}queries/{q.name}",
                "params": [{"name": p.name, "type": p.type, "default": p.default, "required": p.required,
                            "description": p.description} for p in q.params]} for q in server.named.values()]
    return JSONResponse(listing, headers={"Vary": "Accept"})


async def named_query(request: Request) -> Response:
    """One named query, run with its URL parameters, as HTML, SPARQL JSON, CSV or TSV."""
    server: Server = request.app.state.server
    raw = request.path_params["name"]
    name, dot, ext = raw.rpartition(".")
    suffix = f".{ext}" if dot else ""
    if not dot:
        name = raw
    named = server.named.get(name)
    if named is None:
        known = ", ".join(server.named) or "none"
        return _error(request, 404, f"no named query {name!r}; the named queries are: {known}")
    reserved = {"format"} - {p.name for p in named.params}
    values = {k: v for k, v in request.query_params.items() if k not in reserved}
    formats = [] if "format" not in reserved else _format_names(request.query_params)
    by_suffix = {".json": "json", ".csv": "csv", ".tsv": "tsv", ".html": "html"}
    if suffix:
        if suffix not in by_suffix:
            return _error(request, 404, f"no format {suffix!r} for named queries; use .html, .json, .csv or .tsv")
        formats = [by_suffix[suffix]]
    wants_html = (formats == ["html"]) or (not formats and neg.choose(
        request.headers.get("accept"), [], neg.TABLE_FORMATS, neg.HTML) is neg.HTML)
    page = {"named": named, "values": {p.name: values.get(p.name, p.default or "") for p in named.params},
            "query": named.text}
    try:
        text = named.bind(values)
    except InputError as exc:
        return _error(request, 400, exc.message, html=wants_html, **page)
    page["query"] = text
    job = Job(query=text, accept=request.headers.get("accept"), formats=tuple(formats), offers="table")
    response = await _answer(request, job, wants_html, page=page, template="named_query.html")
    if response.status_code == 200 and not wants_html:
        response.headers["Content-Location"] = f"{server.base(request)}queries/{name}{_ext_of(response)}" + (
            f"?{urlencode(values)}" if values else "")
    return response


def _ext_of(response: Response) -> str:
    ctype = response.headers.get("content-type", "")
    return ".json" if "json" in ctype else ".tsv" if "tab-separated" in ctype else ".csv" if "csv" in ctype else ""


# ----------------------------------------------------------------------------- documents and pages

def _split_suffix(text: str) -> tuple[str, neg.Representation | None, bool]:
    """('slug', representation named by the suffix, whether a suffix was given)."""
    for suffix, rep in neg.SUFFIXES.items():
        if text.endswith(suffix):
            return text[: -len(suffix)], rep, True
    return text, None, False


async def _document(request: Request, *, path: str, rep: neg.Representation | None, key: tuple, graph_fn,
                    jsonld_fn=None, html_fn) -> Response:
    """A negotiated document: the HTML page ``html_fn(base)`` or Turtle / JSON-LD / N-Triples of
    ``graph_fn()``; made once (in a thread) and kept, as the dataset never changes while served."""
    server: Server = request.app.state.server
    base = server.base(request)
    chosen = rep or neg.choose(request.headers.get("accept"), _format_names(request.query_params),
                               neg.DOCUMENT_FORMATS, neg.HTML)
    if chosen is None:
        return _not_acceptable(request, neg.DOCUMENT_FORMATS)
    ext = {"html": ".html", "turtle": ".ttl", "jsonld": ".jsonld", "nt": ".nt"}
    links = ", ".join(f'<{base}{path}{ext[o.key]}>; rel="alternate"; type="{o.media_type}"'
                      for o in neg.DOCUMENT_FORMATS)
    headers = {"Content-Location": f"{base}{path}{ext[chosen.key]}", "Link": links}
    if rep is None:
        headers["Vary"] = "Accept"

    def make() -> bytes:
        if chosen is neg.HTML:
            return html_fn(base).encode("utf-8")
        if chosen is neg.JSONLD and jsonld_fn is not None:
            return export.dumps_json(jsonld_fn()).encode("utf-8")
        return serialize_graph(graph_fn(), chosen, server.toolkit.context, server.toolkit.loader)

    cache_key = (chosen.key,) + key + ((base,) if chosen is neg.HTML else ())
    body = server._cache.get(cache_key)
    if body is None:
        body = await asyncio.to_thread(server.cached, cache_key, make)
    return Response(body, media_type=chosen.content_type, headers=headers)


async def entity_redirect(request: Request) -> Response:
    """``/id/KIND/SLUG`` -> 303 See Other to the document about the entity."""
    server: Server = request.app.state.server
    kind, slug = request.path_params["kind"], request.path_params["slug"]
    iri = entity_iri(kind, slug)
    if iri is None or not server.site.exists(iri):
        return _error(request, 404, f"no entity {ID}{kind}/{slug} in coopgraph")
    return RedirectResponse(f"{server.base(request)}doc/{kind}/{slug}", status_code=303,
                            headers={"Vary": "Accept"})


async def entity_document(request: Request) -> Response:
    """``/doc/KIND/SLUG[.ext]``: the entity's page or its RDF."""
    server: Server = request.app.state.server
    kind = request.path_params["kind"]
    slug, rep, has_suffix = _split_suffix(request.path_params["slug"])
    iri = entity_iri(kind, slug)
    if iri is None or not server.site.exists(iri) or (has_suffix and rep is None):
        return _error(request, 404, f"no document doc/{kind}/{request.path_params['slug']}: "
                                    f"no entity {ID}{kind}/{slug} in coopgraph")

    def html(base: str) -> str:
        return _html("entity.html", base, page=server.site.entity(iri, base), doc=f"{base}doc/{kind}/{slug}")

    return await _document(request, path=f"doc/{kind}/{slug}", rep=rep, key=("entity", str(iri)),
                     graph_fn=lambda: server.site.entity_graph(iri),
                     jsonld_fn=lambda: server.site.entity_jsonld(iri), html_fn=html)


async def graph_document(request: Request) -> Response:
    """``/source/KEY`` and ``/graph/NAME``: a named graph, what it is and the facts it holds."""
    server: Server = request.app.state.server
    prefix = request.url.path.strip("/").split("/", 1)[0]
    name, rep, has_suffix = _split_suffix(request.path_params["name"])
    iri = server.site.graph_iri(f"{prefix}/{name}")
    if iri is None or (has_suffix and rep is None):
        return _error(request, 404, f"no graph {BASE}{prefix}/{name} in coopgraph")

    def html(base: str) -> str:
        return _html("graph.html", base, page=server.site.graph_page(iri, base), doc=f"{base}{prefix}/{name}")

    return await _document(request, path=f"{prefix}/{name}", rep=rep, key=("graph", str(iri)),
                     graph_fn=lambda: server.site.graph_document(iri), html_fn=html)


async def ontology_document(request: Request) -> Response:
    """``/ontology``: the coopgraph vocabulary (terms are ``/ontology#Term``)."""
    server: Server = request.app.state.server
    suffix = request.path_params.get("suffix", "")
    rep = neg.SUFFIXES.get(suffix) if suffix else None
    if suffix and rep is None:
        return _error(request, 404, f"no document ontology{suffix}")

    def html(base: str) -> str:
        return _html("ontology.html", base, page=server.site.ontology_page(base), doc=f"{base}ontology")

    return await _document(request, path="ontology", rep=rep, key=("ontology",),
                     graph_fn=server.site.ontology_graph, html_fn=html)


def _dump_urls(base: str) -> dict[str, str]:
    return {fmt: f"{base}dumps/{filename}" for fmt, (filename, _media) in export.FORMATS.items()}


async def void_document(request: Request) -> Response:
    """``/.well-known/void``: the VoID description of the dataset."""
    server: Server = request.app.state.server
    base = server.base(request)
    suffix = request.path_params.get("suffix", "")
    rep = neg.SUFFIXES.get(suffix) if suffix else None
    if suffix and rep is None:
        return _error(request, 404, f"no document .well-known/void{suffix}")

    def graph() -> Graph:
        return void_graph(server.store, sparql_endpoint=base + "sparql", dump_urls=_dump_urls(base))

    def html(base_: str) -> str:
        turtle = serialize_graph(graph(), neg.TURTLE, server.toolkit.context, server.toolkit.loader)
        return _html("rdf.html", base_, title="Dataset description (VoID)", doc=f"{base_}.well-known/void",
                     turtle=turtle.decode("utf-8"))

    return await _document(request, path=".well-known/void", rep=rep, key=("void", base), graph_fn=graph, html_fn=html)


async def dataset_redirect(request: Request) -> Response:
    """The dataset IRI (https://w3id.org/coopgraph/dataset) -> 303 to its VoID description."""
    server: Server = request.app.state.server
    return RedirectResponse(f"{server.base(request)}.well-known/void", status_code=303)


async def json_ld_context(request: Request) -> Response:
    """Our JSON-LD context (https://w3id.org/coopgraph/context.jsonld)."""
    server: Server = request.app.state.server
    body = server.cached(("context",), lambda: server.toolkit.project.context_file.read_bytes())
    return Response(body, media_type="application/ld+json")


async def dumps_index(request: Request) -> Response:
    """``/dumps/``: the dumps of the served dataset."""
    files = [{"name": name, "media": media, "format": fmt} for fmt, (name, media) in export.FORMATS.items()]
    return _render("dumps.html", request, files=files)


async def dump_file(request: Request) -> Response:
    """``/dumps/FILE``: one dump, made from the loaded dataset on first request and kept."""
    server: Server = request.app.state.server
    wanted = request.path_params["filename"]
    for fmt, (name, media) in export.FORMATS.items():
        if name == wanted:
            def make() -> bytes:
                return "".join(export.store_dump(server.store, fmt, context=server.toolkit.context,
                                                 loader=server.toolkit.loader)).encode("utf-8")
            body = server._cache.get(("dump", fmt))
            if body is None:
                body = await asyncio.to_thread(server.cached, ("dump", fmt), make)
            return Response(body, media_type=neg.Representation(fmt, media).content_type)
    names = ", ".join(name for name, _m in export.FORMATS.values())
    return _error(request, 404, f"no dump {wanted!r}; the dumps are: {names}")


async def home(request: Request) -> Response:
    """The home page: what the dataset is, counts per class, the named queries, a query form."""
    server: Server = request.app.state.server
    classes = []
    for cls, n in server.counts.items():
        query = (f"PREFIX {cls.split(':')[0]}: <{_prefix_iri(cls)}>\nSELECT ?entity ?name WHERE {{\n"
                 f"  ?entity a {cls} .\n  OPTIONAL {{ ?entity <http://schema.org/name> ?name }}\n}} ORDER BY ?entity")
        classes.append({"name": cls, "count": n, "href": f"sparql?query={quote(query)}&format=html"})
    return _render("home.html", request, triples=server.triples, graphs=len(server.graph_names),
                   classes=classes, queries=list(server.named.values()), example=EXAMPLE_QUERY,
                   dumps=[name for name, _m in export.FORMATS.values()],
                   settings=server.settings)


def _prefix_iri(curie: str) -> str:
    from .namespaces import PREFIXES
    return PREFIXES.get(curie.split(":")[0], "")


async def status(request: Request) -> Response:
    """The query workers and the caps, as JSON (for monitoring and tests)."""
    server: Server = request.app.state.server
    return JSONResponse({"version": __version__, "triples": server.triples, "graphs": len(server.graph_names),
                         "timeout": server.settings.timeout, "max_rows": server.settings.max_rows,
                         "max_body": server.settings.max_body, "load_seconds": round(server.loaded_in, 3),
                         "store": server.store_info(), "pool": server.pool.status()})


async def not_found(request: Request, exc) -> Response:
    return _error(request, 404, f"nothing at {request.url.path}; see the home page for what this server offers")


# ----------------------------------------------------------------------------- the app

def create_app(toolkit: Toolkit, *, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT,
               max_rows: int = DEFAULT_MAX_ROWS, max_body: int = DEFAULT_MAX_BODY,
               workers: int = DEFAULT_WORKERS, worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB,
               extra_routes: Sequence[BaseRoute] = (), reconcile: bool = True) -> Starlette:
    """The ASGI app serving ``toolkit``'s dataset; ``extra_routes`` are mounted before ours.

    With ``reconcile`` (the default) the OpenRefine reconciliation service is mounted at /reconcile.
    An in-memory Oxigraph toolkit is served from an on-disk store (:func:`serve_toolkit`).
    """
    toolkit = serve_toolkit(toolkit)
    settings = Settings(base_url=base_url, timeout=timeout, max_rows=max_rows, max_body=max_body,
                        workers=workers, worker_memory_mb=worker_memory_mb)
    server = Server(toolkit, settings)
    if reconcile:
        from . import reconcile as reconciliation
        service = reconciliation.Service.in_background(server.union)
        extra_routes = [*extra_routes, *reconciliation.routes(service)]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await server.pool.start()
        server.started_at = time.time()
        # The loaded dataset lives as long as the server: keep the collector from rescanning it.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await server.pool.close()

    routes = [
        *extra_routes,
        Route("/", home),
        Route("/sparql", sparql_endpoint, methods=["GET", "POST"]),
        Route("/queries", queries_index),
        Route("/queries.json", queries_index),
        Route("/queries/{name}", named_query),
        Route("/id/{kind}/{slug}", entity_redirect),
        Route("/doc/{kind}/{slug}", entity_document),
        Route("/source/{name}", graph_document),
        Route("/graph/{name}", graph_document),
        Route("/ontology", ontology_document),
        Route("/ontology{suffix:path}", ontology_document),
        Route("/dataset", dataset_redirect),
        Route("/.well-known/void", void_document),
        Route("/.well-known/void{suffix:path}", void_document),
        Route("/context.jsonld", json_ld_context),
        Route("/dumps/", dumps_index),
        Route("/dumps/{filename}", dump_file),
        Route("/status", status),
        Mount("/static", app=StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
                       allow_headers=["*"], expose_headers=["Content-Location", "Link", "Vary", "X-Coopgraph-Rows",
                                                            "X-Coopgraph-Row-Cap", "X-Coopgraph-Timeout",
                                                            "Retry-After"], max_age=3600),
            Middleware(BodyLimit, max_body=max_body),
        ],
        exception_handlers={404: not_found},
        lifespan=lifespan,
    )
    app.state.server = server
    return app


def run(toolkit: Toolkit, *, host: str = "127.0.0.1", port: int = 8000, base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT, max_rows: int = DEFAULT_MAX_ROWS, max_body: int = DEFAULT_MAX_BODY,
        workers: int = DEFAULT_WORKERS, log_level: str = "info") -> None:
    """Serve ``toolkit``'s dataset with uvicorn until interrupted."""
    import uvicorn
    app = create_app(toolkit, base_url=base_url, timeout=timeout, max_rows=max_rows, max_body=max_body,
                     workers=workers)
    server: Server = app.state.server
    shown = base_url or f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    print(f"coopgraph {__version__}: serving {server.triples} triples in {len(server.graph_names)} named graphs "
          f"(loaded in {server.loaded_in:.2f} s); {workers} query worker{'s' if workers != 1 else ''}, "
          f"timeout {timeout:g} s, row cap {max_rows}, body cap {max_body:,} bytes", flush=True)
    info = server.store_info()
    if info["kind"] == "oxigraph":
        how = ("reused: unchanged sources, nothing parsed" if info["reused"]
               else f"built: {info['parsed_files']} source files parsed")
        print(f"store {info['path']} ({how})", flush=True)
    else:
        print("store: rdflib in memory (--store memory); each query worker parses the data", flush=True)
    print(f"home page {shown}  SPARQL endpoint {shown.rstrip('/')}/sparql", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False, server_header=False,
                limit_concurrency=512, timeout_graceful_shutdown=5)
