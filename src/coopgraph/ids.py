"""IRI minting and slug rules: the only place where our entity IRIs are built or checked.

Every entity IRI is ``https://w3id.org/coopgraph/id/<kind>/<slug>``: readable, derived from a
stable key (a name, or a publication date and headline for items), never random, never versioned.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata

from rdflib import URIRef

from urllib.parse import urlsplit

from .namespaces import BASE, ID, SRC

#: kind -> prefix used in Turtle/TriG files and in SPARQL examples.
KINDS: dict[str, str] = {
    "item": "item",
    "event": "event",
    "person": "person",
    "organization": "organization",
    "place": "place",
    "document": "doc",
    "topic": "topic",
    "role": "role",
    "webpage": "page",
    "address": "address",
    "coordinates": "coordinates",
    "scheme": "scheme",
    "action": "action",
}

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Pattern every IRI under id/ must match. shapes/common.ttl holds the same text as an sh:pattern
#: (tests/test_shapes.py checks it), so it keeps to the XPath regex syntax SHACL uses: no ``(?:``.
ENTITY_IRI_RE = re.compile(
    r"^" + re.escape(str(ID)) + r"(" + "|".join(KINDS) + r")/[a-z0-9]+(-[a-z0-9]+)*$"
)

# Letters NFKD does not split into a base letter and a mark.
_FOLD = str.maketrans({"ı": "i", "İ": "I", "ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE",
                       "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "’": "", "'": ""})
_STOPWORDS = frozenset("a an and at for in is of on the to with".split())
ITEM_SLUG_MAX = 50


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: 'Ticaret Bakanlığı' -> 'ticaret-bakanligi'."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def mint(kind: str, slug: str) -> URIRef:
    """The IRI of an entity of ``kind`` with ``slug``; raises ValueError on a bad kind or slug."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not SLUG_RE.match(slug):
        raise ValueError(f"bad slug {slug!r}: use lower-case letters, digits and single hyphens")
    return URIRef(f"{ID}{kind}/{slug}")


def item_slug(date: _dt.date | str, headline: str) -> str:
    """The stable key of a listing item: its publication date and the first words of its headline.

    Stop words are dropped and words are kept while the headline part stays within 50 characters,
    so the key survives changes of punctuation, quotes, case and whitespace in the listing.
    """
    day = date.isoformat() if isinstance(date, _dt.date) else _dt.date.fromisoformat(date).isoformat()
    words = [w for w in slugify(headline).split("-") if w and w not in _STOPWORDS]
    kept: list[str] = []
    for word in words:
        if kept and len("-".join(kept + [word])) > ITEM_SLUG_MAX:
            break
        kept.append(word)
    if not kept:
        raise ValueError(f"headline {headline!r} has no words to build a key from")
    return f"{day}-{'-'.join(kept)}"


def item_iri(date: _dt.date | str, headline: str) -> URIRef:
    """The IRI of the listing item published on ``date`` with ``headline``."""
    return mint("item", item_slug(date, headline))


def is_entity_iri(iri: str) -> bool:
    """True when ``iri`` is one of our entity IRIs and well formed."""
    return bool(ENTITY_IRI_RE.match(str(iri)))


def split(iri: str) -> tuple[str, str]:
    """(kind, slug) of one of our entity IRIs; ValueError otherwise."""
    if not is_entity_iri(iri):
        raise ValueError(f"{iri} is not a coopgraph entity IRI ({ID}<kind>/<slug>)")
    kind, slug = str(iri)[len(str(ID)):].split("/", 1)
    return kind, slug


# ----------------------------------------------------------------------------- sources

def url_slug(url: str, max_length: int = 60) -> str:
    """A readable key for a web address: host (without www.) and path segments as a slug, leaving
    out 'index.htm' and 'lang--xx' segments and, while it is longer than ``max_length``, the
    first path segments: 'https://www.ilo.org/a/b/lang--en/nextRow--30/index.htm' ->
    'ilo-org-a-b-nextrow-30'."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    segments = [seg for seg in parts.path.split("/")
                if seg and not re.match(r"^(index\.[a-z]+|lang--[a-z]+)$", seg, re.IGNORECASE)]
    pieces = [p for p in (slugify(x) for x in [host, *segments, parts.query]) if p]
    if not pieces:
        raise ValueError(f"{url!r} has nothing to build a key from")
    while len("-".join(pieces)) > max_length and len(pieces) > 2:
        del pieces[1]
    return "-".join(pieces)[:max_length].strip("-")


def source_key(kind: str, url: str, retrieved: _dt.date) -> str:
    """The key of one retrieval of a listing or feed: '<kind>-<url slug>-<date>'."""
    key = f"{slugify(kind)}-{url_slug(url)}-{retrieved.isoformat()}"
    if not SLUG_RE.match(key):
        raise ValueError(f"bad source key {key!r}")
    return key


def source_iri(key: str) -> URIRef:
    """The IRI of source ``key``, also the name of the graph of the facts it supports."""
    if not SLUG_RE.match(key):
        raise ValueError(f"bad source key {key!r}: use lower-case letters, digits and single hyphens")
    return URIRef(f"{SRC}{key}")


# ----------------------------------------------------------------------------- the dataset

#: Release versions: MAJOR.MINOR.PATCH with an optional pre-release label (semantic versioning).
VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-([0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*))?$")


def check_version(version: str) -> str:
    """``version`` when it is MAJOR.MINOR.PATCH[-label]; ValueError otherwise."""
    if not VERSION_RE.match(version):
        raise ValueError(f"bad version {version!r}: write MAJOR.MINOR.PATCH, e.g. 1.0.0 or 1.1.0-rc.1")
    return version


def version_key(version: str) -> tuple:
    """Sort key of a version: numbers compared as numbers, a pre-release before its release."""
    match = VERSION_RE.match(version)
    if not match:
        raise ValueError(f"bad version {version!r}")
    major, minor, patch, label = match.groups()
    pre = () if label is None else tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in label.split("."))
    return (int(major), int(minor), int(patch), label is None, pre)


def catalog_iri() -> URIRef:
    """The DCAT catalog that lists the dataset and its releases."""
    return URIRef(f"{BASE}catalog")


def dataset_iri(version: str | None = None) -> URIRef:
    """The dataset (``BASE/dataset``), or one release of it (``BASE/dataset/<version>``)."""
    if version is None:
        return URIRef(f"{BASE}dataset")
    return URIRef(f"{BASE}dataset/{check_version(version)}")


def dataset_part(dataset: URIRef, kind: str, name: str) -> URIRef:
    """A part of a dataset description (a partition, a distribution, a linkset): a hash IRI."""
    slug = slugify(name)
    if not slug or not SLUG_RE.match(kind):
        raise ValueError(f"bad dataset part {kind!r} {name!r}")
    return URIRef(f"{dataset}#{kind}-{slug}")


def prefixes() -> dict[str, str]:
    """Prefix -> namespace for every entity kind."""
    return {prefix: f"{ID}{kind}/" for kind, prefix in KINDS.items()}
