"""Named SPARQL queries: find queries/*.rq, read their header, bind parameters, run, format.

A query file starts with a comment header::

    # title: Items published since a date
    # description: Every item published on or after a date, newest first.
    # param: since (xsd:date, default 2022-05-01) Items published on or after this date.

and refers to a parameter as ``$since`` in its body. Binding replaces each ``$name`` with the
value written as a SPARQL term, so the same text runs on any SPARQL engine.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.query import Result

from . import ids
from .errors import InputError
from .namespaces import PREFIXES, XSD

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
from .safety import after_import, check_query

PARAM_TYPES = ("xsd:date", "xsd:dateTime", "xsd:gYear", "xsd:integer", "xsd:decimal", "xsd:string", "iri")
FORMATS = ("table", "csv", "tsv", "json")
_HEADER = re.compile(r"^#\s*(title|description|param)\s*:\s*(.*)$")
_PARAM = re.compile(r"^(\w+)\s*\(\s*([\w:]+)\s*(?:,\s*(required|default\s+(.+?)))?\s*\)\s*(.*)$")
_TOKEN = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
#: Characters SPARQL's IRIREF production excludes; in a parameter they would end the IRI early.
_IRI_FORBIDDEN = re.compile(r'[<>"{}|^`\\\x00-\x20]')


@dataclass(frozen=True)
class Param:
    """A declared query parameter."""

    name: str
    type: str
    description: str
    default: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass
class NamedQuery:
    """A query file and its header."""

    name: str
    path: Path
    title: str
    description: str
    text: str
    params: list[Param] = field(default_factory=list)

    def bind(self, values: dict[str, str] | None = None) -> str:
        """The query text with every ``$param`` replaced by its value (or default)."""
        values = dict(values or {})
        known = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            allowed = ", ".join(f"{p.name} ({p.type})" for p in self.params) or "none"
            raise InputError(f"query {self.name} has no parameter {', '.join(unknown)}; its parameters: {allowed}")
        terms = {}
        for p in self.params:
            raw = values.get(p.name, p.default)
            if raw is None:
                raise InputError(f"query {self.name} needs --param {p.name}=VALUE ({p.type}): {p.description}")
            terms[p.name] = to_term(p, raw).n3()
        return _TOKEN.sub(lambda m: terms.get(m.group(1), m.group(0)), self.text)


def to_term(param: Param, raw: str) -> URIRef | Literal:
    """The RDF term for a parameter value; InputError says what is wrong with it."""
    where = f"--param {param.name}={raw}"
    raw = raw.strip()
    try:
        if param.type == "iri":
            iri = expand_curie(raw)
            bad = _IRI_FORBIDDEN.search(iri)
            if bad:
                raise InputError(f"{where}: not a valid iri: {bad.group(0)!r} is not allowed in an IRI "
                                 "(expected an IRI or prefix:name)")
            return URIRef(iri)
        if param.type == "xsd:date":
            return Literal(dt.date.fromisoformat(raw).isoformat(), datatype=XSD.date)
        if param.type == "xsd:dateTime":
            return Literal(dt.datetime.fromisoformat(raw).isoformat(), datatype=XSD.dateTime)
        if param.type == "xsd:gYear":
            if not re.fullmatch(r"-?\d{4}", raw):
                raise ValueError
            return Literal(raw, datatype=XSD.gYear)
        if param.type == "xsd:integer":
            return Literal(int(raw), datatype=XSD.integer)
        if param.type == "xsd:decimal":
            return Literal(Decimal(raw), datatype=XSD.decimal)
        return Literal(raw)
    except (ValueError, InvalidOperation):
        hint = {"xsd:date": "YYYY-MM-DD", "xsd:dateTime": "YYYY-MM-DDThh:mm:ss", "xsd:gYear": "YYYY",
                "xsd:integer": "a whole number", "xsd:decimal": "a number", "iri": "an IRI or prefix:name"}
        raise InputError(f"{where}: not a valid {param.type} (expected {hint.get(param.type, 'text')})") from None


def expand_curie(text: str) -> str:
    """An absolute IRI from ``text``: ``<iri>``, ``http(s)://...`` or a prefixed name we know."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if re.match(r"^[a-z][a-z0-9+.-]*://\S+$", text, re.IGNORECASE) or text.startswith("urn:"):
        return text
    prefix, sep, local = text.partition(":")
    known = {**PREFIXES, **ids.prefixes()}
    if sep and prefix in known:
        return known[prefix] + local
    raise ValueError(f"{text!r} is neither an absolute IRI nor a known prefix:name")


def parse_header(path: Path, text: str, *, require_title: bool = True) -> tuple[str, str, list[Param]]:
    """(title, description, params) from the leading comment lines of a query file."""
    title, description, params = "", [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = _HEADER.match(line)
        if not match:
            if description and line.startswith("#  "):
                description.append(line[1:].strip())
            continue
        key, value = match.groups()
        if key == "title":
            title = value.strip()
        elif key == "description":
            description.append(value.strip())
        else:
            pm = _PARAM.match(value.strip())
            if not pm or pm.group(2) not in PARAM_TYPES:
                raise InputError(f"{path}:{lineno}: bad parameter line; write "
                                 f"'# param: NAME (TYPE[, default VALUE | , required]) description' "
                                 f"with TYPE one of {', '.join(PARAM_TYPES)}")
            name, ptype, _req, default, desc = pm.groups()
            params.append(Param(name, ptype, desc.strip(), default.strip() if default else None))
    if not title and require_title:
        raise InputError(f"{path}:1: a named query starts with a '# title: ...' line")
    return title, " ".join(description), params


def load_query(path: Path, *, require_title: bool = True) -> NamedQuery:
    """Read one query file (a named query needs a title; a file run by path does not)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"{path}: cannot read: {why}") from exc
    title, description, params = parse_header(path, text, require_title=require_title)
    return NamedQuery(path.stem, path, title or path.name, description, text, params)


def list_queries(queries_dir: Path) -> list[NamedQuery]:
    """Every named query in ``queries_dir``, sorted by name."""
    return [load_query(p) for p in sorted(queries_dir.glob("*.rq"))]


def find_query(queries_dir: Path, name_or_file: str) -> NamedQuery:
    """A named query by name, or a query file by path; InputError lists the names otherwise."""
    candidate = Path(name_or_file)
    if candidate.suffix in (".rq", ".sparql") and candidate.is_file():
        return load_query(candidate, require_title=False)
    path = queries_dir / f"{name_or_file}.rq"
    if path.is_file():
        return load_query(path)
    names = ", ".join(q.name for q in list_queries(queries_dir))
    raise InputError(f"no query named {name_or_file!r} (and no such .rq file); available: {names}")


def _order_key(term) -> tuple:
    """Sort key of one ORDER BY value, in the order SPARQL 1.1 (section 15.1) fixes."""
    if isinstance(term, BNode):
        return (1, term)
    if isinstance(term, URIRef):
        return (2, term)
    if isinstance(term, Literal):
        return (3, term)
    return (0,)  # unbound, or an error: lowest


def _order_by(ctx, part):
    """rdflib CUSTOM_EVALS hook: ORDER BY where a key that is unbound or an error sorts lowest.

    rdflib's own ORDER BY raises TypeError on such a key (e.g. ``ORDER BY STR(?x)`` with ``?x``
    unbound in some rows), although the query is valid SPARQL.
    """
    if part.name != "OrderBy":
        raise NotImplementedError()
    from rdflib.plugins.sparql.evaluate import evalPart
    from rdflib.plugins.sparql.parserutils import value
    rows = list(evalPart(ctx, part.p))
    for condition in reversed(part.expr):
        descending = bool(condition.order and condition.order == "DESC")
        rows.sort(key=lambda row: _order_key(value(row, condition.expr, variables=True)), reverse=descending)
    return rows


def _register_order_by(sparql) -> None:
    sparql.CUSTOM_EVALS["coopgraph-order-by"] = _order_by


# When rdflib's SPARQL engine is imported (now, if it is already): the Oxigraph store never needs it.
after_import("rdflib.plugins.sparql", _register_order_by)


def run(dataset: Dataset | Graph, text: str, *, allowed_graphs: Iterable[str] = ()) -> Result:
    """Check ``text`` (see safety.check_query) and run it on ``dataset``."""
    query = check_query(text, allowed_graphs)
    try:
        return dataset.query(query)
    except Exception as exc:
        if hasattr(exc, "exit_code"):
            raise
        raise InputError(f"SPARQL evaluation failed: {exc}") from exc


# ----------------------------------------------------------------------------- formatting

def _cell(term, nm=None) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return nm.normalizeUri(term) if nm is not None else str(term)
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def format_result(result: Result, fmt: str, *, namespace_manager=None) -> str:
    """A SELECT/ASK result as table, csv, tsv or json (SPARQL 1.1 JSON results); graphs as Turtle."""
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if hasattr(result, "solutions"):  # coopgraph.store.NativeAnswer: Oxigraph's own answer
        if result.kind == "SELECT":
            return format_native(result, fmt, namespace_manager=namespace_manager)
        result = result.to_result()
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        graph = result.graph
        return graph.serialize(format="json-ld" if fmt == "json" else "turtle")
    if result.type == "ASK":
        answer = bool(result.askAnswer)
        return json.dumps({"head": {}, "boolean": answer}) + "\n" if fmt == "json" else ("true\n" if answer else "false\n")
    if fmt == "json":
        # Each binding's keys in the order of the variables: rdflib writes them in the order its
        # evaluation bound them, which differs between engines (and stores).
        document = json.loads(result.serialize(format="json").decode("utf-8"))
        order = document.get("head", {}).get("vars", [])
        for row in document.get("results", {}).get("bindings", []):
            ordered = {name: row[name] for name in order if name in row}
            row.clear()
            row.update(ordered)
        return json.dumps(document) + "\n"
    names = [str(v) for v in result.vars]
    if fmt in ("csv", "tsv"):
        out = io.StringIO()
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(names)
            for row in result:
                writer.writerow([_cell(row[v]) for v in result.vars])
        else:
            out.write("\t".join(f"?{n}" for n in names) + "\n")
            for row in result:
                out.write("\t".join(_tsv(row[v]) for v in result.vars) + "\n")
        return out.getvalue()
    rows = [[_cell(row[v], namespace_manager) for v in result.vars] for row in result]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    line = "  ".join(n.ljust(w) for n, w in zip(names, widths)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join([line, rule, *body, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"]) + "\n"


def _tsv(term) -> str:
    if term is None:
        return ""
    return term.n3().replace("\t", "\\t").replace("\n", "\\n")


def _native_cells(fmt: str, namespace_manager=None):
    """A function turning one pyoxigraph term into its cell text (or JSON term) for ``fmt``.

    IRIs are written directly (their text is the same in every path); literals and blank nodes go
    through the rdflib term and the very functions the rdflib path uses (``_cell``, ``_tsv``,
    rdflib's JSON term writer), once per distinct term, so the bytes are the same by construction.
    """
    import pyoxigraph as ox

    from .store import ox_to_rdflib
    cache: dict = {}
    named = ox.NamedNode
    literal_type = ox.Literal
    kept = _lexical_kept()

    def literal(term):
        """(lexical form, language, datatype) when rdflib keeps the lexical form as Oxigraph gives
        it (plain, language-tagged, and datatypes rdflib does not parse); else None (rdflib's way)."""
        if type(term) is not literal_type:
            return None
        language = term.language
        if language:
            return term.value, language, None
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return term.value, None, None
        if datatype in kept:
            form = _KEPT_FORMS.get(datatype)
            if form is None or not form.fullmatch(term.value):
                return None
        return term.value, None, datatype

    if fmt == "json":
        from rdflib.plugins.sparql.results.jsonresults import termToJSON

        def slow(term):
            return termToJSON(None, ox_to_rdflib(term))  # type: ignore[arg-type]

        def iri(value: str):
            return {"type": "uri", "value": value}
    elif fmt == "tsv":
        def slow(term):
            return _tsv(ox_to_rdflib(term))

        def iri(value: str):
            return f"<{value}>"
    elif fmt == "csv":
        def slow(term):
            return _cell(ox_to_rdflib(term))

        def iri(value: str):
            return value
    else:
        def slow(term):
            return _cell(ox_to_rdflib(term), namespace_manager)

        iri = None if namespace_manager is not None else (lambda value: value)

    def fast_literal(parts):
        value, language, datatype = parts
        if fmt == "json":
            out = {"type": "literal", "value": value}
            if datatype is not None:
                out["datatype"] = datatype
            if language is not None:
                out["xml:lang"] = language
            return out
        if fmt != "tsv":
            return value
        encoded = Literal._quote_encode(value)  # rdflib's n3 quoting, on the same text
        text = f"{encoded}@{language}" if language else f"{encoded}^^<{datatype}>" if datatype else encoded
        return text.replace("\t", "\\t").replace("\n", "\\n")

    def cell(term):
        if term is None:
            return None
        out = cache.get(term)
        if out is None:
            if iri is not None and type(term) is named:
                out = iri(term.value)
            else:
                parts = literal(term)
                out = fast_literal(parts) if parts is not None else slow(term)
            cache[term] = out
        return out
    return cell


#: Lexical forms rdflib keeps as they are, for datatypes it parses (tests compare with rdflib).
_KEPT_FORMS = {
    f"{XSD}integer": re.compile(r"0|-?[1-9][0-9]{0,17}"),
    f"{XSD}decimal": re.compile(r"-?(?:0|[1-9][0-9]{0,17})\.[0-9]{1,17}"),
    f"{XSD}boolean": re.compile(r"true|false"),
    f"{XSD}date": re.compile(r"[1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"),
}


def _lexical_kept() -> frozenset:
    """Datatypes whose literals rdflib parses (and may rewrite): those go through rdflib terms."""
    from rdflib.term import _NUMERIC_INF_NAN_LITERAL_TYPES, _toPythonMapping
    return frozenset(str(d) for d in (*_toPythonMapping, *_NUMERIC_INF_NAN_LITERAL_TYPES) if d is not None)


def format_native(answer, fmt: str, *, namespace_manager=None) -> str:
    """A SELECT answered by Oxigraph (coopgraph.store.NativeAnswer) as table, csv, tsv or json.

    The same bytes as :func:`format_result` on the rdflib Result of the same answer (tests compare
    both on the real data and on awkward literals), without building rdflib terms and rows for
    every solution: at tens of thousands of rows that was most of a named query's time.
    """
    names = answer.names
    cell = _native_cells(fmt, namespace_manager)
    if fmt == "json":
        bindings = []
        for values in answer.rows():
            row = {}
            for name, value in zip(names, values):
                if value is not None:
                    row[name] = cell(value)
            bindings.append(row)
        return json.dumps({"results": {"bindings": bindings}, "head": {"vars": names}}) + "\n"
    if fmt == "tsv":
        lines = ["\t".join(f"?{n}" for n in names)]
        lines.extend(["\t".join([cell(value) or "" for value in values]) for values in answer.rows()])
        return "\n".join(lines) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([cell(value) or "" for value in values] for values in answer.rows())
        return out.getvalue()
    rows = [[cell(value) or "" for value in values] for values in answer.rows()]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    line = "  ".join(n.ljust(w) for n, w in zip(names, widths)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join([line, rule, *body, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"]) + "\n"
