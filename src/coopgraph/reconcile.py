"""An OpenRefine reconciliation service (Reconciliation Service API 0.2) over our entities.

Routes (Starlette), all with CORS and optional JSONP (``callback=``):

* ``GET /reconcile``: the service manifest; ``GET /reconcile?queries=...`` and ``POST /reconcile``
  (form field ``queries``): a batch of reconciliation queries, answered with the matcher of
  :mod:`coopgraph.link` (same scores, same precision-first threshold: ``match: true`` only at or above
  :data:`coopgraph.link.MATCH_THRESHOLD` and when no other candidate is as good);
* ``GET /reconcile/suggest/entity|type|property?prefix=``: auto-complete for OpenRefine;
* ``GET /reconcile/preview?id=``: a small HTML card of one entity.

Entity ids are our IRIs without ``https://w3id.org/coopgraph/id/`` (the identifier space), e.g.
``organization/ilo``; the manifest's ``view`` sends them to the entity pages of ``coopgraph serve``
(``/id/organization/ilo``). Bad input gets a JSON error body: 400 for malformed JSON or a malformed
query, 413 for a batch over :data:`MAX_BATCH` queries or a body over :data:`MAX_BODY` bytes. An
unknown type or property is not an error in 0.2 (the specification's own valid examples use types
a given service may not have): the query gets an empty result, or the property is ignored, and a
``warnings`` list in that query's answer says so.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from . import __version__, link
from .namespaces import ID, SDO

PATH = "/reconcile"
#: The most queries one batch may hold (announced as the manifest's batchSize).
MAX_BATCH = 50
#: The longest query string accepted, in characters.
MAX_QUERY_LENGTH = 500
#: The largest request body accepted, in bytes.
MAX_BODY = 1_000_000
DEFAULT_LIMIT = 5
MAX_LIMIT = 25
QUERY_KEYS = {"query", "type", "limit", "properties", "type_strict"}
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type"}
_CALLBACK = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$")

#: Property ids a query may use, and the role each fills in the matcher.
PROPERTIES = {
    "schema:addressCountry": ("country", "Country (ISO code or name)"),
    "schema:location": ("city", "City or place"),
    "schema:foundingDate": ("date", "Founding or start date (year)"),
    "schema:startDate": ("date", "Start date (events)"),
    "schema:worksFor": ("affiliation", "Affiliation (people)"),
    "schema:alternateName": ("name", "Another name"),
    "schema:sameAs": ("same_as", "Same as (e.g. a Wikidata IRI or Q-id)"),
}
_PROPERTY_ALIASES = {
    **{k: k for k in PROPERTIES},
    **{k.split(":", 1)[1]: k for k in PROPERTIES},
    **{str(SDO) + k.split(":", 1)[1]: k for k in PROPERTIES},
    "https://schema.org/addressCountry": "schema:addressCountry", "country": "schema:addressCountry",
    "city": "schema:location", "schema:addressLocality": "schema:location", "date": "schema:foundingDate",
    "year": "schema:foundingDate", "affiliation": "schema:worksFor", "schema:affiliation": "schema:worksFor",
    "schema:memberOf": "schema:worksFor", "owl:sameAs": "schema:sameAs", "wikidata": "schema:sameAs",
}


class BadRequest(Exception):
    """A request the service refuses, with its HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Service:
    """The matcher and the entity index behind the routes."""

    matcher: link.Matcher

    @classmethod
    def from_graph(cls, graph) -> "Service":
        return cls(link.matcher_for(graph))

    @classmethod
    def in_background(cls, graph) -> "Service":
        """The service for ``graph``, its index built in a background thread from now on (a request
        that comes before it is ready waits for it): ``coopgraph serve`` starts without waiting."""
        return _BackgroundService(lambda: link.matcher_for(graph))

    # -- manifest
    def manifest(self, base: str) -> dict:
        return {
            "versions": ["0.2"],
            "name": "coopgraph: the ILO's work on cooperatives in Europe and Central Asia",
            "identifierSpace": str(ID),
            "schemaSpace": str(SDO),
            "documentation": "https://w3id.org/coopgraph/",
            "serviceVersion": __version__,
            "defaultTypes": [{"id": f, "name": f} for f in link.FAMILIES],
            "view": {"url": f"{base}/id/{{{{id}}}}"},
            "preview": {"url": f"{base}{PATH}/preview?id={{{{id}}}}", "width": 400, "height": 140},
            "suggest": {kind: {"service_url": base, "service_path": f"{PATH}/suggest/{kind}"}
                        for kind in ("entity", "type", "property")},
            "batchSize": MAX_BATCH,
        }

    # -- queries
    def answer(self, batch: Any) -> dict:
        """A reconciliation result batch for a parsed query batch; BadRequest when malformed."""
        if not isinstance(batch, dict):
            raise BadRequest("queries must be a JSON object of queries keyed by id, e.g. "
                             '{"q0": {"query": "International Cooperative Alliance"}}')
        if len(batch) > MAX_BATCH:
            raise BadRequest(f"batch of {len(batch)} queries; at most {MAX_BATCH} per request "
                             "(the manifest's batchSize)", 413)
        return {key: self._one(key, q) for key, q in batch.items()}

    def _one(self, key: str, q: Any) -> dict:
        if not isinstance(q, dict):
            raise BadRequest(f"query {key!r} must be an object with a 'query' or 'properties'")
        unknown = sorted(set(q) - QUERY_KEYS)
        if unknown:
            raise BadRequest(f"query {key!r}: unknown field {unknown[0]!r}; fields are "
                             f"{', '.join(sorted(QUERY_KEYS))}")
        text = q.get("query")
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise BadRequest(f"query {key!r}: 'query' must be a non-empty string")
        if text is not None and len(text) > MAX_QUERY_LENGTH:
            raise BadRequest(f"query {key!r}: 'query' is {len(text)} characters; at most {MAX_QUERY_LENGTH}")
        props = q.get("properties")
        if props is not None and (not isinstance(props, list) or not props):
            raise BadRequest(f"query {key!r}: 'properties' must be a non-empty array of {{pid, v}} objects")
        if text is None and not props:
            raise BadRequest(f"query {key!r}: give 'query' (a name) or 'properties'")
        limit = q.get("limit", DEFAULT_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 1 or limit != int(limit):
            raise BadRequest(f"query {key!r}: 'limit' must be a positive integer")
        limit = min(int(limit), MAX_LIMIT)
        warnings: list[str] = []
        families = self._families(key, q.get("type"), warnings)
        if families == set():
            return {"result": [], "warnings": warnings}
        rec = link.Record(id="", names=[text.strip()] if text else [])
        if families and len(families) == 1:
            rec.family = next(iter(families))
        for prop in props or []:
            self._property(key, prop, rec, warnings)
        direct = self._by_identifier(text) if text else None
        if direct is not None:
            return {"result": [direct]}
        if not rec.names:
            cands = [link.Candidate(e, 1.0, ["same identifier"], None, True) for e in self.matcher.entities
                     if rec.same_as and e.same_as & rec.same_as]
        else:
            cands = self.matcher.match(rec)
        cands = [c for c in cands if not families or c.entity.family in families][:limit]
        out = {"result": [self._candidate(c) for c in cands]}
        if warnings:
            out["warnings"] = warnings
        return out

    def _families(self, key: str, value: Any, warnings: list[str]) -> set[str] | None:
        if value is None:
            return None
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise BadRequest(f"query {key!r}: 'type' must be a type id or an array of them")
        found = set()
        for v in values:
            fam = link.family_of([v]) if v.strip() else None
            if fam is None:
                warnings.append(f"unknown type {v!r}: this service has {', '.join(link.FAMILIES)}")
            else:
                found.add(fam)
        return found

    def _property(self, key: str, prop: Any, rec: link.Record, warnings: list[str]) -> None:
        if not isinstance(prop, dict) or "pid" not in prop or "v" not in prop or not isinstance(prop["pid"], str):
            raise BadRequest(f"query {key!r}: each property is an object {{\"pid\": ..., \"v\": ...}}")
        pid = _PROPERTY_ALIASES.get(prop["pid"])
        if pid is None:
            warnings.append(f"unknown property {prop['pid']!r} ignored; properties: {', '.join(PROPERTIES)}")
            return
        values = prop["v"] if isinstance(prop["v"], list) else [prop["v"]]
        texts = []
        for v in values:
            if isinstance(v, dict):
                if "id" not in v:
                    raise BadRequest(f"query {key!r}: a property value object needs an 'id'")
                ent = self.matcher.by_id.get(_full_id(str(v["id"])))
                texts.append(ent.label if ent else str(v.get("name") or v["id"]))
            elif isinstance(v, (str, int, float)) and not isinstance(v, bool):
                texts.append(str(v))
            else:
                raise BadRequest(f"query {key!r}: property {prop['pid']!r}: values are strings, numbers or "
                                 "{id, name} objects")
        role = PROPERTIES[pid][0]
        if role == "country":
            for t in texts:
                rec.countries |= self.matcher.normalise_country(t)
        elif role == "city":
            for t in texts:
                ent = self.matcher.by_id.get(_full_id(t))
                rec.cities.add(" ".join(link.words(ent.label if ent else t)))
        elif role == "date":
            rec.years |= link._years(texts)
        elif role == "affiliation":
            rec.affiliations += [_full_id(t) if self.matcher.by_id.get(_full_id(t)) else t for t in texts]
        elif role == "name":
            rec.names += [t for t in texts if t.strip()]
        elif role == "same_as":
            rec.same_as |= {link._expand_known(t) for t in texts}

    def _by_identifier(self, text: str) -> dict | None:
        ent = self.matcher.by_id.get(_full_id(text.strip()))
        if ent is None:
            return None
        cand = link.Candidate(ent, 1.0, ["the query is this entity's identifier"], None, True)
        return self._candidate(cand)

    def _candidate(self, c: link.Candidate) -> dict:
        e = c.entity
        out = {
            "id": link.short_id(e.id),
            "name": e.label,
            "type": [{"id": t, "name": t} for t in (e.types or [e.family])],
            "score": round(c.score * 100, 1),
            "match": bool(c.match),
            "features": [{"id": "name_similarity", "value": round(c.name.score, 3) if c.name else 1.0}],
        }
        desc = e.description or self._describe(e)
        if desc:
            out["description"] = desc
        if c.reasons:
            out["description"] = (out.get("description", "") + " | " if out.get("description") else "") \
                + "why: " + c.explanation
        return out

    @staticmethod
    def _describe(e: link.Record) -> str:
        parts = [e.family or ""]
        codes = sorted(c for c in e.countries if len(c) == 2 and c.isupper())
        if codes:
            parts.append(", ".join(codes))
        if e.years:
            parts.append(str(min(e.years)))
        return " ".join(p for p in parts if p)

    # -- suggest and preview
    def suggest_entity(self, prefix: str, cursor: int) -> dict:
        key = " ".join(link.words(prefix))
        ranked = []
        for e in self.matcher.entities:
            names = [" ".join(link.words(n)) for n in e.names]
            exact_id = link.short_id(e.id) == prefix.strip()
            if key and any(n.startswith(key) or f" {key}" in f" {n}" for n in names) or exact_id:
                # the id itself, then a name that starts with the prefix, then one with a word that
                # does; shorter names first (the closest to what was typed), then by name
                rank = 0 if exact_id else 1 if any(n.startswith(key) for n in names) else 2
                ranked.append(((rank, len(e.label), e.label, e.id), {
                    "id": link.short_id(e.id), "name": e.label,
                    "notable": [{"id": e.family, "name": e.family}],
                    **({"description": e.description} if e.description else {})}))
        hits = [hit for _key, hit in sorted(ranked, key=lambda pair: pair[0])]
        return {"result": hits[cursor:cursor + 10]}

    @staticmethod
    def suggest_type(prefix: str) -> dict:
        key = prefix.strip().lower()
        return {"result": [{"id": f, "name": f} for f in link.FAMILIES if f.lower().startswith(key) or not key]}

    @staticmethod
    def suggest_property(prefix: str) -> dict:
        key = prefix.strip().lower()
        return {"result": [{"id": pid, "name": label} for pid, (_role, label) in PROPERTIES.items()
                           if not key or key in pid.lower() or key in label.lower()]}

    def preview(self, ident: str, base: str) -> str | None:
        e = self.matcher.by_id.get(_full_id(ident))
        if e is None:
            return None
        alt = ", ".join(html.escape(n) for n in e.names[1:4])
        return (f'<html><head><meta charset="utf-8"><title>{html.escape(e.label)}</title></head>'
                f'<body style="font-family:sans-serif;margin:8px">'
                f'<a href="{html.escape(base)}/id/{html.escape(link.short_id(e.id))}" target="_blank">'
                f"<strong>{html.escape(e.label)}</strong></a> <small>({html.escape(e.family or '')})</small>"
                + (f"<p>{html.escape(e.description)}</p>" if e.description else "")
                + (f"<p><small>also: {alt}</small></p>" if alt else "")
                + f"<p><small>{html.escape(e.id)}</small></p></body></html>")


def _full_id(text: str) -> str:
    """Our IRI for 'organization/ilo', 'organization:ilo' or the IRI itself."""
    text = text.strip()
    if text.startswith(str(ID)):
        return text
    text = re.sub(r"^(doc):", "document/", text)
    for kind, prefix in link.ids.KINDS.items():
        if text.startswith(prefix + ":"):
            return f"{ID}{kind}/{text.split(':', 1)[1]}"
    return f"{ID}{text}"


# ----------------------------------------------------------------------------- HTTP

def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _reply(request: Request, payload: Any, status: int = 200) -> Response:
    callback = request.query_params.get("callback")
    if callback:
        if not _CALLBACK.match(callback) or len(callback) > 100:
            payload, status, callback = {"error": "callback must be a JavaScript identifier", "status": 400}, 400, None
        else:
            body = f"/**/{callback}({json.dumps(payload, ensure_ascii=False)});"
            return Response(body, status_code=status, media_type="application/javascript", headers=CORS)
    return JSONResponse(payload, status_code=status, headers=CORS)


def _error(request: Request, exc: BadRequest) -> Response:
    return _reply(request, {"error": exc.message, "status": exc.status}, exc.status)


async def _queries_param(request: Request) -> str | None:
    if request.method == "GET":
        return request.query_params.get("queries")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise BadRequest(f"request body of {length} bytes; at most {MAX_BODY}", 413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BadRequest(f"request body over {MAX_BODY} bytes", 413)
    ctype = request.headers.get("content-type", "")
    if "application/json" in ctype:
        return body.decode("utf-8", "replace")
    if "multipart/form-data" in ctype:
        raise BadRequest("send the queries as application/x-www-form-urlencoded (queries=...)")
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8") from None
    values = form.get("queries")
    return values[0] if values else None


class _BackgroundService(Service):
    """A Service whose matcher is being built by a daemon thread (see Service.in_background)."""

    def __init__(self, make):  # noqa: D107 (not the dataclass __init__: no matcher yet)
        import threading
        self._ready = threading.Event()
        self._made = None
        self._error: BaseException | None = None

        def build() -> None:
            try:
                self._made = make()
            except BaseException as exc:  # re-raised to the request that needs the index
                self._error = exc
            finally:
                self._ready.set()
        threading.Thread(target=build, name="coopgraph-reconcile-index", daemon=True).start()

    @property
    def matcher(self) -> link.Matcher:  # type: ignore[override]
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self._made


def routes(service: Service) -> list[Route]:
    """The Starlette routes of the reconciliation service, to mount in any app (``coopgraph serve``)."""

    async def endpoint(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=CORS)
        try:
            text = await _queries_param(request)
            if text is None:
                if request.method == "POST":
                    raise BadRequest("POST a form field 'queries' holding a JSON batch of queries")
                return _reply(request, service.manifest(_base(request)))
            try:
                batch = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BadRequest(f"queries is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") \
                    from None
            return _reply(request, service.answer(batch))
        except BadRequest as exc:
            return _error(request, exc)

    async def suggest(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=CORS)
        kind = request.path_params["kind"]
        prefix = request.query_params.get("prefix", "")
        try:
            if len(prefix) > MAX_QUERY_LENGTH:
                raise BadRequest(f"prefix over {MAX_QUERY_LENGTH} characters")
            cursor_text = request.query_params.get("cursor", "0")
            if not cursor_text.isdigit():
                raise BadRequest("cursor must be a non-negative integer")
            if kind == "entity":
                return _reply(request, service.suggest_entity(prefix, int(cursor_text)))
            if kind == "type":
                return _reply(request, service.suggest_type(prefix))
            if kind == "property":
                return _reply(request, service.suggest_property(prefix))
            raise BadRequest(f"no suggest service for {kind!r}: entity, type or property", 404)
        except BadRequest as exc:
            return _error(request, exc)

    async def preview(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=CORS)
        ident = request.query_params.get("id", "")
        page = service.preview(ident, _base(request)) if ident else None
        if page is None:
            return _error(request, BadRequest(f"no entity {ident!r}", 404))
        return HTMLResponse(page, headers=CORS)

    methods = ["GET", "POST", "OPTIONS"]
    return [
        Route(PATH, endpoint, methods=methods),
        Route(PATH + "/", endpoint, methods=methods),
        Route(PATH + "/suggest/{kind}", suggest, methods=["GET", "OPTIONS"]),
        Route(PATH + "/preview", preview, methods=["GET", "OPTIONS"]),
    ]


def create_app(toolkit) -> Starlette:
    """A Starlette app serving only the reconciliation routes (``coopgraph serve`` mounts the same routes)."""
    return Starlette(routes=routes(Service.from_graph(toolkit.loaded.union())))


def app_from_env() -> Starlette:
    """The service for the project found from $COOPGRAPH_ROOT or the current folder, for
    ``uvicorn --factory coopgraph.reconcile:app_from_env`` (``coopgraph serve`` mounts the same routes)."""
    from .pipeline import Toolkit
    from .project import find_project
    return create_app(Toolkit(find_project()))
