"""The JSON-LD block a website pastes into the page of an item, event or job posting.

It follows Google's structured-data guidelines: ``"@context": "https://schema.org"``, the most
specific schema.org types, absolute ``@id``s equal to our graph IRIs, plain strings and ISO 8601
dates, linked entities nested (an event's location is a Place with a PostalAddress).

What the block says is exactly :func:`schemaorg_reading` of the entity's description: its
schema.org statements, text in the page language, and each value typed the way the schema.org
context types that property (dates become ``schema:Date``/``schema:DateTime``, the names the
schema.org context gives xsd dates, other literals plain strings). A JSON-LD processor that reads
the block with the schema.org context gets those triples back, no more, no fewer.
"""

from __future__ import annotations

import json
from typing import Any

from rdflib import Graph, Literal, URIRef

from .build import bind_prefixes
from .errors import InputError
from .export import describe, ntriples
from .namespaces import RDF, SDO, XSD
from .safety import SCHEMAORG_CONTEXT_IRIS, LocalDocumentLoader, jsonld_options

SCHEMAORG_CONTEXT = "https://schema.org"
#: Links followed from the entity: 2 reaches an event's Place and its PostalAddress, a job's
#: hiring organisation and location, an article's publisher and subjects.
EMBED_DEPTH = 2
#: Types whose pages carry an embed block (Google rich-result types and our item types).
EMBEDDABLE = {SDO.Article, SDO.NewsArticle, SDO.Event, SDO.JobPosting, SDO.PresentationDigitalDocument,
              SDO.CreativeWork, SDO.Report, SDO.Legislation}


def _coercions(loader: LocalDocumentLoader) -> dict[str, str]:
    """schema.org property IRI -> the @type the schema.org context gives its values."""
    context = loader(SCHEMAORG_CONTEXT_IRIS[0])["document"]["@context"]
    vocab = context["@vocab"]
    out = {}
    for term, definition in context.items():
        if isinstance(definition, dict) and "@type" in definition and term[:1].islower():
            kind = definition["@type"]
            out[vocab + term] = kind if kind.startswith("@") else vocab + kind.split(":")[-1]
    return out


def schemaorg_reading(graph: Graph, loader: LocalDocumentLoader, lang: str = "en") -> Graph:
    """The statements of ``graph`` as a schema.org consumer reads them from an embed block."""
    coerce = _coercions(loader)
    out = Graph()
    bind_prefixes(out)
    chosen: dict[tuple, list[Literal]] = {}
    for s, p, o in graph:
        if not str(p).startswith(str(SDO)) and p != RDF.type:
            continue
        if p == RDF.type:
            if str(o).startswith(str(SDO)):
                out.add((s, p, o))
            continue
        if isinstance(o, URIRef):
            out.add((s, p, o))
            continue
        chosen.setdefault((s, p), []).append(o)
    for (s, p), values in chosen.items():
        tagged = [v for v in values if v.language]
        if tagged:
            in_lang = [v for v in values if v.language == lang]
            values = in_lang or [v for v in values if not v.language] or [sorted(tagged)[0]]
        for value in values:
            kind = coerce.get(str(p))
            if kind and not kind.startswith("@") and value.datatype in (XSD.date, XSD.dateTime, XSD.gYear, XSD.gYearMonth):
                out.add((s, p, Literal(str(value), datatype=URIRef(kind))))
            else:
                out.add((s, p, Literal(str(value))))
    return out


def embed_graph(graph: Graph, iri: URIRef, loader: LocalDocumentLoader, *, lang: str = "en",
                depth: int = EMBED_DEPTH) -> Graph:
    """The triples an embed block states: the schema.org reading of the entity's schema.org links."""
    return schemaorg_reading(describe(graph, iri, depth, follow=lambda p: str(p).startswith(str(SDO))), loader, lang)


def embed_document(graph: Graph, iri: URIRef, loader: LocalDocumentLoader, *, lang: str = "en",
                   depth: int = EMBED_DEPTH, any_type: bool = False) -> dict[str, Any]:
    """The framed schema.org JSON-LD document for the page of ``iri``.

    By default only items, events and job postings (EMBEDDABLE) have a block; ``any_type`` gives one
    to every entity with a schema.org type (a person, an organisation, a place...), as the server's
    entity pages embed it.
    """
    types = set(graph.objects(iri, RDF.type))
    if not types:
        raise InputError(f"no entity <{iri}> in the graph")
    if any_type:
        if not any(str(t).startswith(str(SDO)) for t in types):
            raise InputError(f"<{iri}> has no schema.org type, so no schema.org block can describe it")
    elif not types & EMBEDDABLE:
        names = ", ".join(sorted(t.split("/")[-1] for t in EMBEDDABLE))
        raise InputError(f"<{iri}> is not an item, event or job posting; embed blocks are for: {names} "
                         "(--any-type gives the schema.org block of any entity)")
    from pyld import jsonld  # imported where used (coopgraph.safety guards it on import)
    expanded = jsonld.from_rdf(ntriples(embed_graph(graph, iri, loader, lang=lang, depth=depth)),
                               {"format": "application/n-quads"})
    frame = {"@context": SCHEMAORG_CONTEXT, "@id": str(iri)}
    framed = jsonld.frame(expanded, frame, jsonld_options(loader, embed="@always", omitGraph=True))
    return _keywords(framed)


def _keywords(node: Any) -> Any:
    """Write the schema.org context's aliases ``id``/``type`` as ``@id``/``@type``, as Google's examples do."""
    if isinstance(node, list):
        return [_keywords(n) for n in node]
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            key = {"id": "@id", "type": "@type"}.get(key, key)
            if key == "@id" and isinstance(value, str) and value.startswith("schema:"):
                value = str(SDO) + value[len("schema:"):]  # an enumeration member, e.g. MixedEventAttendanceMode
            out[key] = _keywords(value)
        return out
    return node


def script_block(document: dict[str, Any]) -> str:
    """The ``<script type="application/ld+json">`` element, safe to paste into HTML."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/ld+json">\n{text}\n</script>\n'
