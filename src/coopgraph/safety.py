"""Nothing is fetched, ever: a pinned JSON-LD document loader, a SPARQL guard, safe parsing.

rdflib and pyld reach the network when asked to (remote ``@context``, ``SERVICE``, ``FROM``,
``LOAD``; see shared notes SECURITY.md). This module is the single place where coopgraph closes
those doors; every other module goes through it.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .errors import InputError, NetworkRefused, QueryRefused

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.plugins.sparql.sparql import Query

_HERE = Path(__file__).resolve().parent

#: The IRI under which our JSON-LD context is published (w3id.org redirects it to ontology/).
CONTEXT_IRI = "https://w3id.org/coopgraph/context.jsonld"
#: Every address by which documents refer to the schema.org context.
SCHEMAORG_CONTEXT_IRIS = (
    "https://schema.org", "https://schema.org/", "http://schema.org", "http://schema.org/",
    "https://schema.org/docs/jsonldcontext.jsonld", "http://schema.org/docs/jsonldcontext.jsonld",
    "https://schema.org/docs/jsonldcontext.json",
)


# ----------------------------------------------------------------------------- guards on import

class _AfterImport:
    """Runs a function on a module right after its first import, whoever imports it.

    pyld and rdflib's SPARQL engine take 60 and 80 ms to import, and most commands need neither
    (``coopgraph query`` on the Oxigraph store needs no pyld, and rdflib's SPARQL parser only for
    a query the quick check sends to the full one). So their guards are not applied by importing
    them here: this finder, first on ``sys.meta_path``, lets the usual finders find the module and
    wraps its loader's ``exec_module`` so the guard runs as soon as the module has executed, before
    the import statement that asked for it returns. A module imported already is guarded at once.
    (A meta path finder needs only ``find_spec``; importlib.abc is not imported: 12 ms.)
    """

    def __init__(self) -> None:
        self.hooks: dict[str, list[Callable[[Any], None]]] = {}
        self._local = threading.local()

    def add(self, name: str, hook: Callable[[Any], None]) -> None:
        module = sys.modules.get(name)
        if module is not None:
            hook(module)
        else:
            self.hooks.setdefault(name, []).append(hook)

    def find_spec(self, name, path, target=None):  # noqa: D102 (importlib protocol)
        if name not in self.hooks or getattr(self._local, "finding", False):
            return None
        self._local.finding = True
        try:
            from importlib.util import find_spec
            spec = find_spec(name)
        finally:
            self._local.finding = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader, hooks = spec.loader, self.hooks.pop(name)
        execute = loader.exec_module

        def exec_module(module):
            execute(module)
            for hook in hooks:
                hook(module)
            try:
                del loader.exec_module  # back to the class's method once the module is guarded
            except AttributeError:
                pass
        loader.exec_module = exec_module
        return spec


_GUARDS = next((f for f in sys.meta_path if type(f).__name__ == "_AfterImport"), None) or _AfterImport()
if _GUARDS not in sys.meta_path:
    sys.meta_path.insert(0, _GUARDS)


def after_import(name: str, hook: Callable[[Any], None]) -> None:
    """Run ``hook(module)`` once module ``name`` is imported (now, if it is already)."""
    _GUARDS.add(name, hook)


def _guard_rdflib_sparql(sparql) -> None:
    # rdflib: FROM / FROM NAMED never load anything from the web or disk; SERVICE never runs.
    sparql.SPARQL_LOAD_GRAPHS = False
    sparql.CUSTOM_EVALS["coopgraph-refuse-service"] = _refuse_service


def _guard_pyld(jsonld_module) -> None:
    # Pin pyld's process-wide default too, so a call that forgets its options fetches nothing.
    jsonld_module.set_document_loader(_refuse_everything)


# ----------------------------------------------------------------------------- JSON-LD

class LocalDocumentLoader:
    """A pyld document loader that serves our local context files and refuses everything else."""

    def __init__(self, files: dict[str, Path]):
        self.files = dict(files)
        self.refused: list[str] = []
        self._cache: dict[str, Any] = {}

    def __call__(self, url: str, options: dict | None = None) -> dict:
        path = self.files.get(url)
        if path is None:
            from pyld import jsonld
            self.refused.append(url)
            raise jsonld.JsonLdError(
                f"refused to load {url!r}: coopgraph never fetches JSON-LD documents; "
                f"the contexts it knows are {', '.join(sorted(self.files))}",
                "jsonld.LoadDocumentError", code="loading document failed")
        if url not in self._cache:
            self._cache[url] = json.loads(path.read_text(encoding="utf-8"))
        return {"contextUrl": None, "documentUrl": url, "document": self._cache[url]}


def default_loader(ontology_dir: Path) -> LocalDocumentLoader:
    """The loader for a project's ontology/ folder: our context and the schema.org context."""
    files = {CONTEXT_IRI: ontology_dir / "context.jsonld"}
    files.update({iri: ontology_dir / "contexts" / "schemaorg.jsonld" for iri in SCHEMAORG_CONTEXT_IRIS})
    return LocalDocumentLoader(files)


def _refuse_everything(url: str, options: dict | None = None) -> dict:
    from pyld import jsonld
    raise jsonld.JsonLdError(f"refused to load {url!r}: coopgraph never fetches JSON-LD documents",
                             "jsonld.LoadDocumentError", code="loading document failed")


def jsonld_options(loader: LocalDocumentLoader, **extra: Any) -> dict:
    """pyld options with our loader; pass them to every pyld call."""
    return {"documentLoader": loader, **extra}


def parse_jsonld(text: str, loader: LocalDocumentLoader, *, source: str = "<input>",
                 base: str | None = None) -> Graph:
    """Parse JSON-LD through pyld with the local loader (never rdflib's fetching parser)."""
    from pyld import jsonld
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    refused_before = len(loader.refused)
    try:
        nquads = jsonld.to_rdf(document, jsonld_options(
            loader, format="application/n-quads", base=base or "", produceGeneralizedRdf=False))
    except jsonld.JsonLdError as exc:
        if len(loader.refused) > refused_before:
            raise NetworkRefused(
                f"{source}: refused to load the JSON-LD context {loader.refused[-1]!r}: coopgraph never "
                f"fetches; use one of {', '.join(sorted(loader.files))} or an inline context") from exc
        raise InputError(f"{source}: JSON-LD could not be read: {exc.args[0] if exc.args else exc}") from exc
    except ValueError as exc:  # pyld: e.g. a relative context IRI with no base
        raise InputError(f"{source}: JSON-LD could not be read: {exc}") from exc
    from rdflib import Graph
    graph = Graph()
    graph.parse(data=nquads, format="nquads")
    return graph


# ----------------------------------------------------------------------------- RDF files

#: File suffix -> rdflib format name.
FORMATS = {
    ".ttl": "turtle", ".turtle": "turtle", ".trig": "trig", ".nt": "nt", ".ntriples": "nt",
    ".nq": "nquads", ".nquads": "nquads", ".n3": "n3", ".jsonld": "json-ld", ".json": "json-ld",
    ".rdf": "xml", ".owl": "xml", ".xml": "xml",
}
_XML_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def guess_format(path: Path | str) -> str:
    """rdflib format name for a file's suffix; InputError for an unknown one."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{path}: unknown RDF file type {suffix!r}; use one of {', '.join(sorted(FORMATS))}")
    return FORMATS[suffix]


def syntax_error_message(path: str, exc: Exception) -> str:
    """``path:line: message`` from an rdflib parser exception."""
    why = getattr(exc, "_why", None) or getattr(exc, "msg", None) or str(exc)
    text, offset = getattr(exc, "_str", None), getattr(exc, "_i", None)
    if isinstance(text, (str, bytes)) and isinstance(offset, int):
        newline = "\n" if isinstance(text, str) else b"\n"
        return f"{path}:{text[:offset].count(newline) + 1}: syntax error: {why}"
    line = getattr(exc, "lines", None)
    if line is not None:
        return f"{path}:{line + 1}: syntax error: {why}"
    match = re.search(r"line (\d+)", str(exc))
    if match:
        return f"{path}:{match.group(1)}: syntax error: {why}"
    return f"{path}: syntax error: {why}"


def parse_into(graph: Graph, path: Path, *, fmt: str | None = None, loader: LocalDocumentLoader | None = None,
               label: str | None = None) -> None:
    """Parse one RDF file into ``graph`` (a Graph or a Dataset), safely; InputError names file and line."""
    label = label or str(path)
    fmt = fmt or guess_format(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{label}: cannot read: {exc.strerror}") from exc
    if fmt == "json-ld":
        if loader is None:
            raise InputError(f"{label}: JSON-LD needs the project's context loader")
        parsed = parse_jsonld(data.decode("utf-8"), loader, source=label, base=path.resolve().as_uri())
        for triple in parsed:
            graph.add(triple)
        return
    if fmt == "xml" and _XML_DTD.search(data):
        raise InputError(f"{label}: RDF/XML with a DOCTYPE or ENTITY declaration is refused "
                         "(entity expansion attacks); remove the DTD")
    try:
        graph.parse(data=data, format=fmt, publicID=path.resolve().as_uri())
    except Exception as exc:  # rdflib raises many parser-specific exception types
        raise InputError(syntax_error_message(label, exc)) from exc


# ----------------------------------------------------------------------------- SPARQL

def _refuse_service(ctx: Any, part: Any) -> Any:
    """rdflib CUSTOM_EVALS hook: a SERVICE that slipped past the guard still never runs."""
    if getattr(part, "name", None) == "ServiceGraphPattern":
        raise QueryRefused("SERVICE is refused: coopgraph never queries other endpoints")
    raise NotImplementedError()


after_import("rdflib.plugins.sparql", _guard_rdflib_sparql)
after_import("pyld.jsonld", _guard_pyld)


def _walk(node: Any) -> Iterable[Any]:
    stack = [node]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, (list, tuple, set)):
            stack.extend(current)


def check_query(text: str, allowed_graphs: Iterable[str] = (), *, base: str | None = None) -> Query:
    """Parse and check a SPARQL query; return it translated, or raise QueryRefused / InputError.

    Refused: any update (INSERT, DELETE, LOAD, CLEAR, DROP...), SERVICE anywhere in the query,
    and FROM / FROM NAMED naming a graph that is not one of ``allowed_graphs``.
    """
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
    from rdflib.plugins.sparql.parserutils import CompValue
    try:
        parsed = parseQuery(text)
    except Exception as query_exc:
        try:
            parseUpdate(text)
        except Exception:
            raise InputError(f"SPARQL syntax error: {query_exc}") from query_exc
        raise QueryRefused("updates are refused: coopgraph is read-only "
                           "(INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE, COPY)") from None
    try:
        query = translateQuery(parsed, base=base)
    except Exception as exc:
        raise InputError(f"SPARQL error: {exc}") from exc
    allowed = {str(g) for g in allowed_graphs}
    for clause in query.algebra.get("datasetClause") or []:
        named = "named" in clause
        iri = clause["named"] if named else clause["default"]
        if str(iri) not in allowed:
            kind = "FROM NAMED" if named else "FROM"
            raise QueryRefused(f"{kind} <{iri}> is refused: it is not one of coopgraph's graphs "
                               "(list them with: SELECT DISTINCT ?g { GRAPH ?g {} })")
    for node in _walk(query.algebra):
        if isinstance(node, CompValue) and node.name == "ServiceGraphPattern":
            raise QueryRefused("SERVICE is refused: coopgraph never queries other endpoints")
    return query



#: What sends a query through :func:`check_query`'s full parse before Oxigraph sees it: any word
#: the guard refuses or inspects (SERVICE, FROM, every update keyword), ``SELECT *`` (whose
#: variable order comes from rdflib's algebra), a ``\u`` escape, and long strings (a line inside
#: one could look like a comment line here and be followed by code).
_NEEDS_CHECK = re.compile(
    r"\b(?:service|from|load|insert|delete|clear|drop|create|add|move|copy|with|to|into|silent)\b"
    r"|\\[uU]|\"\"\"|'''|\bselect\s+(?:distinct\s+|reduced\s+)?\*", re.IGNORECASE)


def needs_full_check(text: str) -> bool:
    """False only when ``text`` plainly holds nothing :func:`check_query` would refuse or inspect.

    The word test runs on the text without its comment lines (a line whose first character after
    spaces and tabs is ``#``: in SPARQL such a line is a comment, or the inside of a long string,
    which this test sends to the full check anyway; lines end at LF or CR only, as in SPARQL,
    since an IRI may hold other line separators). It over-approximates: a query using any of
    these words, even as a variable (``?from``) or a prefixed name, gets the full check. For the
    Oxigraph store a query that passes it goes straight to Oxigraph, which only runs queries (an
    update is a syntax error there, answered by the full check's refusal); rdflib's parser costs
    20–50 ms a query, far more than Oxigraph's answer to most of our named queries.
    """
    code = "\n".join(line for line in re.split(r"[\r\n]", text) if not line.lstrip(" \t").startswith("#"))
    return _NEEDS_CHECK.search(code) is not None
