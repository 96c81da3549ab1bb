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

import rdflib.plugins.sparql
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.plugins.sparql.evaluate import evalPart
from rdflib.plugins.sparql.parserutils import CompValue, value
from rdflib.query import Result

from . import ids
from .errors import InputError
from .namespaces import PREFIXES, XSD
from .safety import check_query

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


def _order_by(ctx, part: CompValue):
    """rdflib CUSTOM_EVALS hook: ORDER BY where a key that is unbound or an error sorts lowest.

    rdflib's own ORDER BY raises TypeError on such a key (e.g. ``ORDER BY STR(?x)`` with ``?x``
    unbound in some rows), although the query is valid SPARQL.
    """
    if part.name != "OrderBy":
        raise NotImplementedError()
    rows = list(evalPart(ctx, part.p))
    for condition in reversed(part.expr):
        descending = bool(condition.order and condition.order == "DESC")
        rows.sort(key=lambda row: _order_key(value(row, condition.expr, variables=True)), reverse=descending)
    return rows


rdflib.plugins.sparql.CUSTOM_EVALS["coopgraph-order-by"] = _order_by


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
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        graph = result.graph
        return graph.serialize(format="json-ld" if fmt == "json" else "turtle")
    if result.type == "ASK":
        answer = bool(result.askAnswer)
        return json.dumps({"head": {}, "boolean": answer}) + "\n" if fmt == "json" else ("true\n" if answer else "false\n")
    if fmt == "json":
        return result.serialize(format="json").decode("utf-8") + "\n"
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
