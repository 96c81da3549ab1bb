"""Bring the new items of a listing or feed into data/, with their provenance, safely.

One retrieval of a page or feed is one source, ``src:<kind>-<url slug>-<retrieval date>``. An
ingest that finds new items writes two files, all or nothing (the .trig last, so it is the commit
point): the raw input unchanged, ``data/raw/<key>.<ext>``, and ``data/ingested/<key>.trig`` with
the source's description (graph graph:sources) and the new items (graph src:<key>). Hand-edited
files are never touched, and an ingest that finds nothing new writes nothing.

Matching an item against the data (README "Ingesting new listing items"):

1. Same key: the item IRI ``ids.item_iri(date, headline)`` (date and the first words of the
   headline, so whitespace, quotes, case and punctuation do not matter) is already in the data:
   the item is *matched*. If its headline, category or description differ once whitespace, quotes
   and case are normalised, the difference is a *change for review*; nothing is overwritten.
2. No same key, but an item of the same date has a similar headline (difflib ratio >= 0.75 on the
   normalised headlines), or an item with the same headline has another date: a *change for
   review* (probably an edited headline or a corrected date); nothing is written for it.
3. Otherwise the item is *new*.

New items are checked before anything is written: the would-be dataset is validated against
shapes/ and any violation it has that the current data has not refuses the ingest. Names in the
new items' headlines and descriptions (acronyms, runs of capitalised words) that match no label in
the data are listed for curation; no entity is invented.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from rdflib import Dataset, Graph, Literal, URIRef

from . import faults, ids
from .build import Loaded, load, new_dataset, union_graph
from .errors import CoopgraphError, InputError
from .export import trig, write_all
from .listing import Listing, ListingItem, clean, read_listing
from .namespaces import COOP, ID, PROV, RDF, RDFS, SDO, SKOS, SOURCES_GRAPH, XSD
from .project import Project
from .shaclsparql import new_violations
from .validate import Report, load_shapes

#: The listing's category line -> the types an item gets (README "Ingesting new listing items").
GENRE_TYPES: dict[str, tuple[URIRef, ...]] = {
    "news": (SDO.NewsArticle,),
    "presentation": (SDO.PresentationDigitalDocument,),
    "spotlight interviews with co-operators": (SDO.Article, COOP.Interview),
}
#: The type of an item whose category is not in GENRE_TYPES (reported, so a curator can refine it).
DEFAULT_TYPES: tuple[URIRef, ...] = (SDO.Article,)
#: Headlines at least this similar (difflib ratio, normalised text) on the same date are one item.
SIMILAR_HEADLINE = 0.75
#: Where ingests write, under data/.
INGESTED_DIR = "ingested"
RAW_SUFFIX = {"listing": ".txt", "rss": ".rss.xml", "atom": ".atom.xml"}
KIND_KEY = {"listing": "listing", "rss": "feed", "atom": "feed"}

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'",
                         "–": "-", "—": "-", "\u00a0": " "})


class IngestRefused(CoopgraphError):
    """The new items would make the dataset fail its shapes; nothing was written."""

    def __init__(self, message: str, report: Report | None = None):
        super().__init__(message)
        self.report = report


def normalise(text: str | None) -> str:
    """Text compared for matching: quotes and dashes made plain, whitespace collapsed, case folded."""
    return clean((text or "").translate(_QUOTES)).casefold()


@dataclass(frozen=True)
class Change:
    """A difference between an incoming item and the data, left for a curator to review."""

    line: int
    iri: URIRef
    field: str  # headline, datePublished, genre, description, or "similar item"
    old: str | None
    new: str | None
    note: str

    def text(self, source: str) -> str:
        return f"{source}:{self.line}: {self.note}\n    {self.field}: {self.old!r}\n -> {self.new!r}"


@dataclass
class Plan:
    """What an ingest found and what it would write."""

    source: str  # the input file, for messages
    listing: Listing
    key: str
    source_iri: URIRef
    url: str
    retrieved: dt.date
    new: list[tuple[ListingItem, URIRef]] = field(default_factory=list)
    matched: list[tuple[ListingItem, URIRef]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    to_curate: list[tuple[str, list[URIRef]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: dict[Path, bytes | str] = field(default_factory=dict)
    report: Report | None = None
    violations: list = field(default_factory=list)  # new shape violations: the plan is refused
    written: list[Path] = field(default_factory=list)

    @property
    def trig_text(self) -> str | None:
        for path, text in self.files.items():
            if path.suffix == ".trig":
                return text if isinstance(text, str) else text.decode("utf-8")
        return None


# ----------------------------------------------------------------------------- the data we have

@dataclass
class _Known:
    items: dict[URIRef, dict[str, set[str]]]  # item IRI -> field -> normalised values
    raw: dict[URIRef, dict[str, list[str]]]  # item IRI -> field -> values as written
    by_key: dict[URIRef, URIRef]  # computed key IRI -> item IRI
    pages: dict[str, URIRef]  # page url -> WebPage IRI
    labels: list[str]  # normalised labels of every entity


def _known(graph: Graph) -> _Known:
    items: dict[URIRef, dict[str, set[str]]] = {}
    raw: dict[URIRef, dict[str, list[str]]] = {}
    by_key: dict[URIRef, URIRef] = {}
    for item in sorted(set(graph.subjects(SDO.headline, None))):
        if not str(item).startswith(f"{ID}item/"):
            continue
        fields = {name: sorted({str(v) for v in graph.objects(item, prop)})
                  for name, prop in (("headline", SDO.headline), ("datePublished", SDO.datePublished),
                                     ("genre", SDO.genre), ("description", SDO.description))}
        raw[item] = fields
        items[item] = {name: {normalise(v) for v in values} for name, values in fields.items()}
        by_key[item] = item
        for headline in fields["headline"]:
            for date in fields["datePublished"]:
                try:
                    by_key.setdefault(ids.item_iri(date[:10], headline), item)
                except ValueError:
                    pass
    pages = {}
    for page in sorted(graph.subjects(RDF.type, SDO.WebPage)):
        for url in graph.objects(page, SDO.url):
            pages.setdefault(str(url), page)
    labels = sorted({normalise(str(o)) for p in (SDO.name, SDO.alternateName, SKOS.prefLabel, SKOS.altLabel,
                                                 RDFS.label) for o in graph.objects(None, p)})
    return _Known(items=items, raw=raw, by_key=by_key, pages=pages, labels=labels)


# ----------------------------------------------------------------------------- planning

def _match(listing: Listing, known: _Known, source: str, plan: Plan) -> None:
    seen: dict[URIRef, ListingItem] = {}
    for item in listing.items:
        try:
            iri = ids.item_iri(item.date, item.headline)
        except ValueError as exc:
            raise InputError(f"{source}:{item.line}: {exc}") from None
        if iri in seen:
            first = seen[iri]
            if (normalise(first.headline), first.genre, normalise(first.description)) != \
                    (normalise(item.headline), item.genre, normalise(item.description)):
                raise InputError(f"{source}:{item.line}: this item has the same date and headline key as the "
                                 f"item on line {first.line} but different text; keep one of them")
            plan.notes.append(f"{source}:{item.line}: the item of line {first.line} again; read once")
            continue
        seen[iri] = item
        existing = known.by_key.get(iri)
        if existing is not None:
            plan.matched.append((item, existing))
            _compare(item, existing, known, plan)
            continue
        suspect = _similar(item, known)
        if suspect is not None:
            plan.changes.append(suspect)
            continue
        plan.new.append((item, iri))


def _compare(item: ListingItem, existing: URIRef, known: _Known, plan: Plan) -> None:
    have, raw = known.items[existing], known.raw[existing]
    incoming = {"headline": item.headline, "datePublished": item.date.isoformat(), "genre": item.genre,
                "description": item.description}
    for name, value in incoming.items():
        if value is None or not have[name]:
            if value is not None and name == "description":
                plan.changes.append(Change(item.line, existing, name, None, value,
                                           f"{_short(existing)} has a description in the listing and none in the data"))
            continue
        if normalise(value) not in have[name] and not (name == "datePublished" and
                                                       any(v[:10] == value for v in have[name])):
            plan.changes.append(Change(item.line, existing, name, " | ".join(raw[name]), value,
                                       f"{_short(existing)}: the {name} changed in the listing"))


def _similar(item: ListingItem, known: _Known) -> Change | None:
    headline, day = normalise(item.headline), item.date.isoformat()
    best: tuple[float, URIRef] | None = None
    for iri, fields in known.items.items():
        dates = {d[:10] for d in fields["datePublished"]}
        for other in fields["headline"]:
            ratio = difflib.SequenceMatcher(None, headline, other, autojunk=False).ratio()
            if day in dates and ratio >= SIMILAR_HEADLINE and (best is None or ratio > best[0]):
                best = (ratio, iri)
            elif day not in dates and other == headline:
                return Change(item.line, iri, "datePublished", " | ".join(known.raw[iri]["datePublished"]), day,
                              f"same headline as {_short(iri)} with another date: a corrected date? "
                              "(not written; correct the data by hand, or the listing)")
    if best is not None:
        ratio, iri = best
        return Change(item.line, iri, "headline", " | ".join(known.raw[iri]["headline"]), item.headline,
                      f"same date as {_short(iri)} and a similar headline ({ratio:.0%} alike): an edited "
                      "headline? (not written; correct the data by hand if so)")
    return None


def _short(iri: URIRef) -> str:
    return "item:" + str(iri).rsplit("/", 1)[-1]


_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]{1,}\b")
_WORD = r"[A-Z][\w’'\-]*"
_CONNECTOR = r"(?:of|the|for|on|de|du|la|van|von|der|da|di)"
_PROPER = re.compile(rf"\b{_WORD}(?:\s+(?:{_CONNECTOR}\s+)*{_WORD})+")
_SKIP_WORDS = {"the", "a", "an", "on", "in", "at", "for", "of", "and", "mr", "ms", "mrs", "dr"}


def names_in(text: str) -> list[str]:
    """Candidate names in ``text``: acronyms (ILO, UNTFSSE) and runs of two or more capitalised words
    (joined by of, the, for, on, van, de...; a leading 'The', 'Mr'... and possessives dropped)."""
    found: list[str] = []
    text = re.sub(r"(\w)[’']s\b", r"\1", text)  # possessives: "Pact for Impact’s" -> "Pact for Impact"
    for match in _PROPER.finditer(text):
        words = match.group(0).split()
        while words and words[0].lower() in _SKIP_WORDS:
            words = words[1:]
        while words and re.fullmatch(_CONNECTOR, words[-1]):
            words = words[:-1]
        if len(words) >= 2 and not any(w.lower() in MONTH_WORDS for w in words):
            found.append(" ".join(words).strip("’'"))
    found.extend(_ACRONYM.findall(text))
    unique: dict[str, str] = {}
    for name in found:
        unique.setdefault(name.casefold(), name)
    return list(unique.values())


MONTH_WORDS = {"january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december"}


def _label_matches(name: str, labels: list[str]) -> bool:
    needle = normalise(name)
    pattern = re.compile(rf"(?<![\w]){re.escape(needle)}(?![\w])")
    return any(pattern.search(label) or re.search(rf"(?<![\w]){re.escape(label)}(?![\w])", needle)
               for label in labels if label)


def _to_curate(new: list[tuple[ListingItem, URIRef]], known: _Known) -> list[tuple[str, list[URIRef]]]:
    where: dict[str, list[URIRef]] = {}
    for item, iri in new:
        for name in names_in(f"{item.headline}. {item.description or ''}"):
            if not _label_matches(name, known.labels):
                where.setdefault(name, [])
                if iri not in where[name]:
                    where[name].append(iri)
    return sorted(where.items(), key=lambda kv: kv[0].casefold())


# ----------------------------------------------------------------------------- the new triples

def _publisher(graph: Graph, url: str, page: URIRef | None, given: URIRef | None) -> URIRef | None:
    if given is not None:
        return given
    if page is not None:
        existing = graph.value(page, SDO.publisher)
        if existing is not None:
            return existing
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    for org, site in sorted(graph.subject_objects(SDO.url)):
        parts = urlsplit(str(site))
        if parts.path.strip("/") == "" and (parts.hostname or "").removeprefix("www.") == host \
                and str(org).startswith(f"{ID}organization/"):
            return org
    return None


def _new_quads(plan: Plan, known: _Known, graph: Graph, raw_rel: str, sha256: str, lang: str,
               publisher: URIRef | None) -> Dataset:
    listing = plan.listing
    ds = new_dataset()
    sources = ds.graph(SOURCES_GRAPH)
    facts = ds.graph(plan.source_iri)
    s = plan.source_iri
    what = {"listing": "listing page", "rss": "RSS feed", "atom": "Atom feed"}[listing.kind]
    name = f"{listing.title or plan.url} ({what}, retrieved {plan.retrieved.isoformat()})"
    sources.add((s, RDF.type, COOP.Source))
    sources.add((s, RDF.type, PROV.Entity))
    sources.add((s, SDO.name, Literal(name, lang=lang)))
    sources.add((s, SDO.url, URIRef(plan.url)))
    sources.add((s, SDO.encodingFormat, Literal(listing.media_type)))
    sources.add((s, COOP.dateRetrieved, Literal(plan.retrieved.isoformat(), datatype=XSD.date)))
    sources.add((s, COOP.localCopy, Literal(raw_rel)))
    sources.add((s, COOP.sha256, Literal(sha256)))
    if publisher is not None:
        sources.add((s, SDO.publisher, publisher))
    page_url = listing.page_url or plan.url
    page = known.pages.get(page_url)
    if page is None:
        page = ids.mint("webpage", ids.url_slug(page_url))
        facts.add((page, RDF.type, SDO.WebPage))
        if listing.title:
            facts.add((page, SDO.name, Literal(listing.title, lang=lang)))
        facts.add((page, SDO.url, URIRef(page_url)))
        facts.add((page, SDO.inLanguage, Literal(lang)))
        if publisher is not None:
            facts.add((page, SDO.publisher, publisher))
    for item, iri in plan.new:
        types = GENRE_TYPES.get(normalise(item.genre), DEFAULT_TYPES)
        if item.genre and normalise(item.genre) not in GENRE_TYPES:
            plan.notes.append(f"{plan.source}:{item.line}: unknown category {item.genre!r}: typed schema:Article; "
                              "refine the type by hand (and add the category to ingest.GENRE_TYPES)")
        for t in types:
            facts.add((iri, RDF.type, t))
        if item.genre:
            facts.add((iri, SDO.genre, Literal(item.genre, lang=lang)))
        facts.add((iri, SDO.headline, Literal(item.headline, lang=lang)))
        facts.add((iri, SDO.datePublished, Literal(item.date.isoformat(), datatype=XSD.date)))
        if item.description:
            facts.add((iri, SDO.description, Literal(item.description, lang=lang)))
        facts.add((iri, SDO.inLanguage, Literal(lang)))
        facts.add((iri, SDO.isPartOf, page))
        if publisher is not None:
            facts.add((iri, SDO.publisher, publisher))
        if item.url:
            facts.add((iri, SDO.url, URIRef(item.url)))
    return ds


def _trig_file(plan: Plan, ds: Dataset, raw_rel: str) -> str:
    header = (f"# Ingested by `coopgraph ingest` from {plan.url}\n"
              f"# retrieved {plan.retrieved.isoformat()}; raw copy {raw_rel} (unchanged).\n"
              f"# {len(plan.new)} new item(s), newest first in the listing; sorted by IRI here. The source is\n"
              "# described in the graph graph:sources, the facts read off the listing in its own graph.\n"
              "# Curate by editing this file (types, about, mentions); the next ingest never rewrites it.\n\n")
    return header + trig(ds)


# ----------------------------------------------------------------------------- the entry point

def _load_existing(project: Project) -> Loaded:
    """The data as it is; an empty data/ (no .trig yet) gives the ontology alone."""
    try:
        return load(project)
    except InputError as exc:
        if "no *.trig files" not in exc.message:
            raise
    from .build import SourceFiles
    from .namespaces import ONTOLOGY_GRAPH
    from .safety import parse_into
    ds = new_dataset()
    for path in sorted(project.ontology_dir.glob("*.ttl")):
        parse_into(ds.graph(ONTOLOGY_GRAPH), path, fmt="turtle", label=project.relative(path))
    return Loaded(ds, SourceFiles(project))


def plan_ingest(project: Project, path: Path | str, *, url: str | None = None, retrieved: dt.date | None = None,
                publisher: URIRef | None = None, lang: str | None = None, check_shapes: bool = True) -> Plan:
    """Read ``path``, match its items against the data, and work out the files to write."""
    label = str(path)
    if re.match(r"^[a-z][a-z0-9+.-]*://", str(path), re.IGNORECASE):
        raise InputError(f"{path}: coopgraph never fetches anything: save the page or feed to a file "
                         "and give the file (and its address with --url)")
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{label}: cannot read: {exc.strerror}") from None
    listing = read_listing(data, source=label)
    address = url or listing.self_url or listing.page_url
    if not address:
        raise InputError(f"{label}: the address of this {listing.kind} is unknown: give it with --url "
                         "(the page or feed it was saved from)")
    if not re.match(r"^https?://[^\s/]+", address):
        raise InputError(f"--url {address!r}: give the http(s) address the listing was retrieved from")
    when = retrieved or dt.date.today()
    key = ids.source_key(KIND_KEY[listing.kind], address, when)
    plan = Plan(source=label, listing=listing, key=key, source_iri=ids.source_iri(key), url=address,
                retrieved=when)
    loaded = _load_existing(project)
    union = union_graph(loaded.dataset)
    known = _known(union)
    _match(listing, known, label, plan)
    if not plan.new:
        return plan
    lang = lang or listing.language or "en"
    raw_rel = f"{project.relative(project.data_dir)}/raw/{key}{RAW_SUFFIX[listing.kind]}"
    trig_path = project.data_dir / INGESTED_DIR / f"{key}.trig"
    raw_path = project.root / raw_rel
    if plan.source_iri in set(union.subjects(RDF.type, COOP.Source)):
        raise IngestRefused(f"{label}: the source src:{key} (this address, retrieved {when.isoformat()}) is "
                            f"already in the data with other items; give another --retrieved date or "
                            f"curate {project.relative(trig_path)} by hand")
    if raw_path.exists() and raw_path.read_bytes() != data:
        raise IngestRefused(f"{raw_rel} exists with other content; move it away or give another --retrieved date")
    page = known.pages.get(listing.page_url or address)
    who = _publisher(union, address, page, publisher)
    if who is None:
        plan.notes.append(f"{label}: no publisher known for {address}: give --publisher (e.g. organization:ilo)")
    new_ds = _new_quads(plan, known, union, raw_rel, hashlib.sha256(data).hexdigest(), lang, who)
    plan.to_curate = _to_curate(plan.new, known)
    if check_shapes:
        plan.report, plan.violations = _check(project, loaded, new_ds)
    plan.files = {raw_path: data, trig_path: _trig_file(plan, new_ds, raw_rel)}
    return plan


def _check(project: Project, loaded: Loaded, new_ds: Dataset) -> tuple[Report, list]:
    """Validate the would-be dataset; the violations it has that the current data has not."""
    shapes = load_shapes(project.shapes_dir, label_root=project.root)
    after_graph = loaded.union()
    for s, p, o, _g in new_ds.quads((None, None, None, None)):
        after_graph.add((s, p, o))
    return new_violations(shapes, loaded.union(), after_graph)


def refusal(plan: Plan) -> str:
    """Why the plan's new items are refused: one line per new violation."""
    lines = [f"  {r.focus} {r.path}: {r.message}" + (f" [value: {r.value}]" if r.value else "")
             for r in plan.violations]
    return (f"{plan.source}: the new items would not conform to the shapes; nothing was written:\n"
            + "\n".join(lines) + "\n(`coopgraph ingest --dry-run` shows the file that would be written: "
            "complete it by hand in data/ingested/, or curate the data it refers to, then ingest again)")


def clean_stale(folder: Path) -> list[Path]:
    """Remove the hidden temporary files (.NAME.XXXX.tmp) a killed write left in ``folder``."""
    removed = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.name.startswith(".") and path.name.endswith(".tmp"):
                path.unlink()
                removed.append(path)
    return removed


def apply(plan: Plan) -> list[Path]:
    """Write the plan's files, all or nothing: the raw copy first, the .trig (the commit point) last."""
    if not plan.files:
        return []
    if plan.violations:
        raise IngestRefused(refusal(plan), report=plan.report)
    for folder in sorted({path.parent for path in plan.files}):
        clean_stale(folder)
    faults.point("ingest:validated")
    ordered = dict(sorted(plan.files.items(), key=lambda kv: kv[0].suffix == ".trig"))
    plan.written = write_all(ordered)
    return plan.written


def ingest(project: Project, path: Path | str, *, url: str | None = None, retrieved: dt.date | None = None,
           publisher: URIRef | None = None, lang: str | None = None, dry_run: bool = False,
           check_shapes: bool = True) -> Plan:
    """Plan the ingest of ``path`` and, unless ``dry_run``, write its new items (see module doc).

    Raises IngestRefused when the new items bring new shape violations (``check_shapes=False``,
    a library-only option, skips the check: for a data folder that has none of the entities the
    shapes require, such as an empty one).
    """
    plan = plan_ingest(project, path, url=url, retrieved=retrieved, publisher=publisher, lang=lang,
                       check_shapes=check_shapes)
    if plan.violations and not dry_run:
        raise IngestRefused(refusal(plan), report=plan.report)
    if not dry_run:
        apply(plan)
    return plan


def summary(plan: Plan, project: Project, *, dry_run: bool) -> str:
    """The report the CLI prints: counts, new items, changes for review, names to curate, files."""
    out = [f"{plan.source}: {plan.listing.kind}, {len(plan.listing.items)} items; source src:{plan.key} "
           f"({plan.url}, retrieved {plan.retrieved.isoformat()})",
           f"  {len(plan.new)} new, {len(plan.matched)} already in the data, {len(plan.changes)} change(s) for review"]
    for item, iri in plan.new:
        out.append(f"  + {_short(iri)}  ({plan.source}:{item.line})")
    if plan.changes:
        out.append("changes for review (nothing was overwritten):")
        for change in plan.changes:
            out.append("  " + change.text(plan.source).replace("\n", "\n  "))
    if plan.to_curate:
        out.append("named in the new items but not in the data (curate: add the entity, or ignore):")
        for name, iris in plan.to_curate:
            out.append(f"  {name}  (in {', '.join(_short(i) for i in iris)})")
    for note in plan.notes:
        out.append(f"note: {note}")
    if plan.files:
        verb = "would write" if dry_run else "wrote"
        out.append(f"{verb}:")
        for target in plan.files:
            out.append(f"  {project.relative(target)}")
    else:
        out.append("nothing to write: every item is already in the data")
    return "\n".join(out) + "\n"
