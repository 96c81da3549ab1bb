"""Graph to report: pySHACL over shapes/*.ttl, with results in plain words and a file:line each."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from .build import SourceFiles, bind_prefixes
from .errors import InputError
from .namespaces import SH
from .safety import check_query, parse_into

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
#: Validation engines: pySHACL, SHACL translated to SPARQL on the store (coopgraph.shaclsparql), or
#: "auto" (SPARQL on the Oxigraph store, pySHACL on the memory store).
VALIDATORS = ("auto", "sparql", "pyshacl")


@dataclass(frozen=True, order=True)
class Result:
    """One validation result, in the order reports list them."""

    focus: str
    path: str
    message: str
    severity: str
    value: str | None = None
    shape: str | None = None
    location: str | None = None


@dataclass
class Report:
    """What validation found: ``conforms`` is False when there is at least one Violation."""

    results: list[Result]
    graph: Graph = field(repr=False)
    #: Which engine produced it: "pyshacl", or "sparql" (coopgraph.shaclsparql, naming any shape
    #: it left to pySHACL).
    engine: str = "pyshacl"

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Warning"]

    @property
    def conforms(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        """One line: 'conforms' or the counts per severity."""
        if not self.results:
            return "conforms: no violations, no warnings"
        counts = {}
        for r in self.results:
            counts[r.severity] = counts.get(r.severity, 0) + 1
        parts = [f"{n} {sev.lower()}{'s' if n != 1 else ''}" for sev, n in sorted(counts.items(), key=_sev_order)]
        return ("conforms, with " if self.conforms else "does not conform: ") + ", ".join(parts)

    def text(self) -> str:
        """The readable report: the summary, then one block per result."""
        lines = [self.summary()]
        for r in self.results:
            where = f"  ({r.location})" if r.location else ""
            lines.append(f"{r.severity}: {r.focus}{where}")
            head = f"  {r.path}: " if r.path else "  "
            lines.append(head + r.message + (f"  [value: {r.value}]" if r.value is not None else ""))
        return "\n".join(lines) + "\n"

    def turtle(self) -> str:
        """The SHACL validation report graph as Turtle, the same bytes on every run.

        The report is all blank nodes; canonical labels (RDFC) make the output independent of
        parse order and PYTHONHASHSEED.
        """
        return self.graph.serialize(format="longturtle", canon=True)


def _sev_order(item: tuple[str, int]) -> int:
    return ["Violation", "Warning", "Info"].index(item[0])


def load_shapes(shapes_dir: Path, *, label_root: Path | None = None) -> Graph:
    """All shapes/*.ttl in one graph; SHACL-SPARQL constraints are checked to fetch nothing."""
    graph = Graph()
    files = sorted(shapes_dir.glob("*.ttl"))
    if not files:
        raise InputError(f"{shapes_dir}: no shapes (*.ttl) to validate with")
    for path in files:
        label = path.relative_to(label_root).as_posix() if label_root else str(path)
        parse_into(graph, path, fmt="turtle", label=label)
    for prop in (SH.select, SH.ask):
        for node, text in graph.subject_objects(prop):
            try:
                check_query(_declared_prefixes(graph, node) + str(text))
            except Exception as exc:
                raise InputError(f"shape {node}: its SPARQL is refused: {getattr(exc, 'message', exc)}") from exc
    return graph


def _declared_prefixes(graph: Graph, node: Node) -> str:
    """The PREFIX lines that ``node``'s sh:prefixes declare (sh:declare), as pySHACL prepends them."""
    lines = {}
    for holder in graph.objects(node, SH.prefixes):
        for decl in graph.objects(holder, SH.declare):
            prefix, namespace = graph.value(decl, SH.prefix), graph.value(decl, SH.namespace)
            if prefix is not None and namespace is not None:
                lines[str(prefix)] = f"PREFIX {prefix}: <{namespace}>\n"
    return "".join(lines[k] for k in sorted(lines))


_QUERY_LOCK = threading.Lock()


@contextmanager
def _prepared_queries() -> Iterator[None]:
    """While it lasts, rdflib parses each distinct SPARQL text once.

    pySHACL runs a SHACL-SPARQL constraint once per focus node, passing the same query text each
    time with $this bound; rdflib would parse and translate it again on every call (over 90% of
    the validation time of the whole dataset). A translated query is made to be evaluated again
    with other bindings (rdflib's prepareQuery), so the translation is kept, keyed by its text.
    """
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.processor import SPARQLProcessor
    original = SPARQLProcessor.query
    cache: dict[tuple, object] = {}

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((initNs or {}).items())))
            if key not in cache:
                cache[key] = translateQuery(parseQuery(strOrQuery), base, initNs)
            strOrQuery = cache[key]
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    with _QUERY_LOCK:
        SPARQLProcessor.query = query
        try:
            yield
        finally:
            SPARQLProcessor.query = original


def validate(data: Graph, shapes: Graph, *, files: SourceFiles | None = None) -> Report:
    """Validate ``data`` against ``shapes`` (no inference, no imports, no JavaScript)."""
    from pyshacl import validate as shacl_validate  # imported here: it is slow to import
    with _prepared_queries():
        _conforms, report_graph, _text = shacl_validate(
            data, shacl_graph=shapes, inference="none", abort_on_first=False, allow_infos=True,
            allow_warnings=True, advanced=True, js=False, do_owl_imports=False, inplace=False,
            meta_shacl=False, debug=False)
    return report_from_graph(report_graph, data.namespace_manager, files)


def report_from_graph(report_graph: Graph, nm, files: SourceFiles | None = None) -> Report:
    """The Report of a SHACL validation report graph (pySHACL's, or coopgraph.shaclsparql's)."""
    bind_prefixes(report_graph)
    results = []
    # Top-level results only: pySHACL also types the nested results of sh:node as sh:ValidationResult
    # (linked from their parent by sh:detail); they repeat the parent's finding in its own words.
    for node in report_graph.objects(None, SH.result):
        focus = report_graph.value(node, SH.focusNode)
        path = report_graph.value(node, SH.resultPath)
        value = report_graph.value(node, SH.value)
        messages = sorted(str(m) for m in report_graph.objects(node, SH.resultMessage))
        severity = SEVERITIES.get(report_graph.value(node, SH.resultSeverity), "Violation")
        shape = report_graph.value(node, SH.sourceShape)
        results.append(Result(
            focus=show_term(focus, nm), path=show_term(path, nm) if isinstance(path, URIRef) else "",
            message=messages[0] if messages else "does not conform",
            severity=severity, value=show_term(value, nm) if value is not None else None,
            shape=show_term(shape, nm) if isinstance(shape, URIRef) else None,
            location=files.locate(focus, value) if files is not None else None))
    results.sort(key=lambda r: (["Violation", "Warning", "Info"].index(r.severity), r.focus, r.path, r.message,
                                r.value or "", r.shape or "", r.location or ""))
    return Report(results=list(dict.fromkeys(results)), graph=report_graph)


def show_term(term: Node | None, nm, limit: int | None = None) -> str:
    """A term as a person reads it: a prefixed name, or a literal in Turtle (cut at ``limit``)."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        try:
            return nm.normalizeUri(term)
        except Exception:
            return f"<{term}>"
    if isinstance(term, Literal):
        text = term.n3(nm)
        return text if limit is None or len(text) <= limit else text[:limit - 3] + "...\""
    return str(term)
