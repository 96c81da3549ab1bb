"""HTTP content negotiation: pick a representation from ``Accept`` (with q-values) or a format name.

Used by the server for SPARQL results, RDF documents and pages. A representation is offered under
one canonical media type; clients may name it by its media type, by an alias media type (e.g.
``application/json``) or by a short name in a ``format`` parameter (``json``, ``ttl``...), which is
what browsers and SPARQLWrapper send.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Representation:
    """One way to answer: a key, its Content-Type and the names a client may use for it."""

    key: str
    media_type: str
    aliases: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        """The Content-Type header value (text types declare UTF-8)."""
        textual = self.media_type.startswith("text/") or self.media_type in _UTF8_TYPES
        return f"{self.media_type}; charset=utf-8" if textual else self.media_type


_UTF8_TYPES = {"application/sparql-results+json", "application/sparql-results+xml", "application/ld+json",
               "application/n-triples", "application/rdf+xml", "application/json", "application/trig",
               "application/n-quads"}

HTML = Representation("html", "text/html", ("application/xhtml+xml",), ("html", "text/html"))

# SPARQL results (SELECT, ASK), in the order we prefer them when the client has no preference.
RESULTS_JSON = Representation("json", "application/sparql-results+json", ("application/json",),
                              ("json", "srj", "sparql-results+json"))
RESULTS_XML = Representation("xml", "application/sparql-results+xml", ("application/xml", "text/xml"),
                             ("xml", "srx", "sparql-results+xml"))
RESULTS_CSV = Representation("csv", "text/csv", (), ("csv",))
RESULTS_TSV = Representation("tsv", "text/tab-separated-values", (), ("tsv",))
RESULT_FORMATS = (RESULTS_JSON, RESULTS_XML, RESULTS_CSV, RESULTS_TSV, HTML)

# RDF graphs (CONSTRUCT, DESCRIBE, documents).
TURTLE = Representation("turtle", "text/turtle", ("application/turtle", "application/x-turtle", "text/n3",
                                                  "text/rdf+n3"),
                        ("turtle", "ttl", "n3"))
NTRIPLES = Representation("nt", "application/n-triples", (), ("nt", "ntriples", "n-triples"))
JSONLD = Representation("jsonld", "application/ld+json", ("application/x-json+ld", "application/json"),
                        ("jsonld", "json-ld", "json"))
RDFXML = Representation("rdfxml", "application/rdf+xml", ("application/xml", "text/xml"),
                        ("rdfxml", "rdf+xml", "xml", "rdf"))
GRAPH_FORMATS = (TURTLE, JSONLD, NTRIPLES, RDFXML, HTML)
#: What an RDF document (entity, source, ontology, VoID) is offered as; the suffix of its URL.
DOCUMENT_FORMATS = (HTML, TURTLE, JSONLD, NTRIPLES)
SUFFIXES = {".html": HTML, ".ttl": TURTLE, ".jsonld": JSONLD, ".nt": NTRIPLES}

#: Table results (named queries): HTML, SPARQL JSON and CSV.
TABLE_FORMATS = (HTML, RESULTS_JSON, RESULTS_CSV, RESULTS_TSV)


def parse_accept(header: str | None) -> list[tuple[str, float, int]]:
    """``(media range, q, position)`` for each entry of an Accept header (parameters other than q dropped)."""
    ranges = []
    for position, part in enumerate((header or "").split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media or "/" not in media:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media, q, position))
    return ranges


def _quality(media_type: str, ranges: list[tuple[str, float, int]]) -> tuple[float, int]:
    """(q, specificity) of the most specific range matching ``media_type`` (0 when none matches)."""
    kind, _, sub = media_type.partition("/")
    best: tuple[int, float] | None = None
    for media, q, _pos in ranges:
        r_kind, _, r_sub = media.partition("/")
        if media == media_type:
            spec = 3
        elif r_kind == kind and r_sub == "*":
            spec = 2
        elif media == "*/*":
            spec = 1
        else:
            continue
        if best is None or spec > best[0]:
            best = (spec, q)
    return (best[1], best[0]) if best else (0.0, 0)


def negotiate(accept: str | None, offers: tuple[Representation, ...],
              default: Representation | None = None) -> Representation | None:
    """The offer the client prefers (highest q; exact types before wildcards; then our order).

    No or empty Accept gives ``default`` (or the first offer); None when nothing is acceptable.
    """
    ranges = parse_accept(accept)
    if not ranges:
        return default or offers[0]
    scored = []
    for order, offer in enumerate(offers):
        # Aliases count only when named exactly (text/* means text/csv, not the text/xml alias).
        candidates = [_quality(offer.media_type, ranges)]
        candidates += [qs for qs in (_quality(a, ranges) for a in offer.aliases) if qs[1] == 3]
        q, spec = max(candidates)
        if q > 0:
            # Wildcard-only matches rank after explicit ones of the same q; the default goes first among those.
            wildcard_rank = 0 if spec >= 2 else (1 if offer is default else 2)
            scored.append((-q, wildcard_rank, order, offer))
    if not scored:
        return None
    scored.sort(key=lambda item: item[:3])
    return scored[0][3]


def by_name(names: list[str], offers: tuple[Representation, ...]) -> Representation | None:
    """The first offer named by one of ``names`` (short names or media types), or None."""
    for name in names:
        wanted = name.strip().lower().split(";")[0].strip()
        for offer in offers:
            if wanted in offer.names or wanted == offer.media_type or wanted in offer.aliases:
                return offer
    return None


def choose(accept: str | None, format_names: list[str], offers: tuple[Representation, ...],
           default: Representation | None = None) -> Representation | None:
    """A ``format`` parameter wins over Accept; None when neither names an offer."""
    names = [n for n in format_names if n and n.strip()]
    if names:
        return by_name(names, offers)
    return negotiate(accept, offers, default)


def prefers_html(accept: str | None, format_names: list[str] = ()) -> bool:
    """True when a browser (or ``format=html``) asks: HTML ranks first among HTML and the data types."""
    if any(n.strip().lower() in ("html", "text/html") for n in format_names):
        return True
    if format_names and any(n.strip() for n in format_names):
        return False
    ranges = parse_accept(accept)
    if not ranges:
        return False
    html_q, html_spec = _quality("text/html", ranges)
    return html_q > 0 and html_spec == 3 and all(
        _quality(m, ranges)[0] <= html_q for m in ("application/sparql-results+json", "text/turtle",
                                                   "application/ld+json"))
