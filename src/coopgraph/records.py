"""Page records to graph: what a curator transcribed from a stored public page, as a source of its own.

A page record (``data/pages/KEY.yaml``, format in data/pages/README.md) states the facts one public
page gives: a listing page's items (position, category, headline, date, the countries and entities
each names) or an item's own page (its kind, date, responsible unit, the events it describes with
who spoke or chaired in which capacity, the documents it names, the identifiers it shows). It holds
facts and titles only, never page text. ``coopgraph ingest-pages`` turns every record into
``data/ingested/page-KEY.trig``:

* the page as a source ``src:page-KEY`` (address, date read, publisher) in graph:sources;
* every fact of the record in the graph ``src:page-KEY``;
* the English name, ISO code and the names in other languages of each country a record names by
  its ISO 3166-1 code, in the graph ``src:iso-3166`` (the Debian iso-codes database, as the
  ``pycountry`` package ships it).

Generation is a pure function of the hand-edited data (data/*.trig, without the generated
page-*.trig files) and the records, so the same records give byte-identical files. Entities are
resolved by their ``id``, else by a name already in the data (schema:name, schema:alternateName,
skos:prefLabel of an entity of the same kind), else minted from their kind and name
(:func:`coopgraph.ids.mint`): the same name in two records is one entity. An item is keyed as in
the listing (:func:`coopgraph.ids.item_iri`); one with the same date and a headline at least 75%
alike to an item already known is that item (its other headline is kept as
schema:alternativeHeadline), and so is an undated one with the same headline.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from rdflib import Dataset, Graph, Literal, URIRef

from . import ids
from .errors import InputError
from .namespaces import COOP, ID, PROV, RDF, SDO, SKOS, SOURCES_GRAPH, SRC, XSD
from .project import Project

RECORDS_DIR = "pages"
GENERATED_PREFIX = "page-"
#: The graph (and source) of the country names and codes taken from ISO 3166-1.
ISO_SOURCE = SRC["iso-3166"]
#: Languages whose country names are taken from the iso-codes translations (README "Labels").
COUNTRY_LANGUAGES = ("fr", "es", "ru", "tr", "it", "nl")
#: The region of the Europe and Central Asia listing.
REGION = ids.mint("place", "europe-and-central-asia")
REGION_NAME = "Europe and Central Asia"
SIMILAR = 0.75

TYPES: dict[str, tuple[str, URIRef]] = {
    "person": ("person", SDO.Person),
    "organization": ("organization", SDO.Organization),
    "governmentorganization": ("organization", SDO.GovernmentOrganization),
    "event": ("event", SDO.Event),
    "city": ("place", SDO.City),
    "country": ("place", SDO.Country),
    "place": ("place", SDO.Place),
    "document": ("document", SDO.CreativeWork),
    "creativework": ("document", SDO.CreativeWork),
    "legislation": ("document", SDO.Legislation),
    "report": ("document", SDO.Report),
}
#: Category line -> item types (as coopgraph ingest does for listings), more kinds of interview.
CATEGORY_TYPES: dict[str, tuple[URIRef, ...]] = {
    "news": (SDO.NewsArticle,),
    "presentation": (SDO.PresentationDigitalDocument,),
    "spotlight interviews with co-operators": (SDO.Article, COOP.Interview),
    "ilo coop 100 interview": (SDO.Article, COOP.Interview),
    "interview": (SDO.Article, COOP.Interview),
}
#: Keys of a mention that state facts of the entity (so an {id: ...} mention with one describes it).
FACT_KEYS = ("name", "alternateName", "country", "parent", "role", "of", "date", "adoptedBy", "adoptedAt",
             "labels", "symbol", "monitoredBy", "implementedBy", "identifiers", "partOf", "cites", "replaces")
#: Category lines the ILO writes in English on its pages in every language (kinds and series).
ENGLISH_CATEGORIES = {"news", "article", "feature", "event", "presentation", "publication", "press release",
                      "statement", "speech", "project documentation", "coop champions", "ilo coop 100 interview",
                      "spotlight interviews with co-operators", "spotlight interviews with cooperators",
                      "international day of cooperatives"}
ROLE_WORDS = {"speaker", "chair", "moderator", "panellist", "opening", "participant", "keynote",
              "presenter", "closing"}
EVENT_ROLE_PROPERTY = {"participant": SDO.attendee}

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'",
                         "–": "-", "—": "-", "\u00a0": " "})


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).translate(_QUOTES)).strip().casefold()


class RecordError(InputError):
    """A page record that cannot be read: the message names the file, line and field."""


# ----------------------------------------------------------------------------- reading

@dataclass
class Record:
    path: Path
    label: str  # path as shown in messages
    key: str
    data: dict
    lines: dict[tuple, int]

    def where(self, *path) -> str:
        for n in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:n]))
            if line:
                break
        else:
            line = 1
        field_name = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))
        return f"{self.label}:{line}: {field_name}" if field_name else f"{self.label}:{line}"

    def fail(self, path: tuple, problem: str) -> RecordError:
        return RecordError(f"{self.where(*path)}: {problem}")

    @property
    def source(self) -> URIRef:
        return ids.source_iri(GENERATED_PREFIX + self.key)


def _lines(node, path: tuple, out: dict[tuple, int]) -> None:
    import yaml
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out[path + (k.value,)] = k.start_mark.line + 1
            _lines(v, path + (k.value,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, path + (i,), out)


def _loader():
    """yaml.SafeLoader that leaves dates as text, so a bad date is our error, not PyYAML's."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass
    Loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    return Loader


def read_record(path: Path, label: str | None = None) -> Record:
    """Parse one record; RecordError names the file, line and field of any problem."""
    import yaml
    label = label or str(path)
    key = path.stem
    if not ids.SLUG_RE.match(key):
        raise RecordError(f"{label}: the file name {path.name!r} is the record's key: use lower-case "
                          "letters, digits and hyphens (e.g. ilo-europe-nextrow-220.yaml)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{label}: cannot read: {exc}") from None
    try:
        node = yaml.compose(text, Loader=_loader())
        data = yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{label}:{mark.line + 1}" if mark else label
        raise RecordError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)}); "
                          "quote strings with double quotes") from None
    if not isinstance(data, dict):
        raise RecordError(f"{label}:1: a page record is a YAML mapping (url:, title:, read:, kind: ...)")
    lines: dict[tuple, int] = {}
    _lines(node, (), lines)
    record = Record(path=path, label=label, key=key, data=data, lines=lines)
    _check(record)
    return record


def _need(record: Record, path: tuple, value, kind, what: str):
    if value is None:
        raise record.fail(path, f"missing: give {what}")
    if kind is dt.date:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            try:
                value = dt.date.fromisoformat(str(value))
            except ValueError:
                raise record.fail(path, f"{value!r} is not a date: write YYYY-MM-DD") from None
        return value
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise record.fail(path, f"{value!r} is not {what}")
    if isinstance(value, str) and not value.strip():
        raise record.fail(path, f"empty: give {what}")
    return value


COMMON_KEYS = {"url", "title", "label", "read", "lang", "kind", "publisher"}
KIND_KEYS = {
    "listing": {"listing", "offset", "shown", "complete", "items"},
    "item": {"category", "headline", "date", "unit", "countries", "mentions", "about", "events", "documents",
             "identifiers", "item"},
    "reference": {"documents", "events", "mentions", "identifiers"},
}
LISTING_ITEM_KEYS = {"position", "category", "headline", "date", "countries", "mentions", "about", "item"}
EVENT_KEYS = {"id", "name", "alternateName", "lang", "start", "end", "place", "online", "organizer", "roles"}
ROLE_KEYS = {"person", "role", "capacity"}
MENTION_KEYS = {"type", "id", "lang", "code", *FACT_KEYS}
#: Keys of a mention whose values name other entities (checked as mentions in their turn).
NESTED_MENTION_KEYS = ("parent", "of", "adoptedBy", "adoptedAt", "monitoredBy", "implementedBy", "partOf", "cites",
                       "replaces")


def _keys(record: Record, path: tuple, d: dict, allowed: set, what: str) -> None:
    for key in d:
        if key not in allowed:
            raise record.fail(path + (key,), f"{key!r} is not a field of {what} (fields: {', '.join(sorted(allowed))}); "
                              "see data/pages/README.md")


def _check_mentions(record: Record, path: tuple, value) -> None:
    """Every mapping below ``path`` that names an entity has only known fields (typos are errors)."""
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_mentions(record, path + (i,), v)
    elif isinstance(value, dict):
        _keys(record, path, value, MENTION_KEYS, "an entity")
        for key in NESTED_MENTION_KEYS:
            if isinstance(value.get(key), (dict, list)):
                _check_mentions(record, path + (key,), value[key])


def _check_events(record: Record, path: tuple, events) -> None:
    for j, ev in enumerate(events or []):
        if not isinstance(ev, dict):
            raise record.fail(path + (j,), "an event is a mapping (name:, start:, place: ...)")
        _keys(record, path + (j,), ev, EVENT_KEYS, "an event")
        for key in ("place", "organizer"):
            if isinstance(ev.get(key), (dict, list)):
                _check_mentions(record, path + (j, key), ev[key])
        for k, role in enumerate(ev.get("roles") or []):
            if isinstance(role, dict):
                _keys(record, path + (j, "roles", k), role, ROLE_KEYS, "a role")
                if isinstance(role.get("person"), dict):
                    _check_mentions(record, path + (j, "roles", k, "person"), role["person"])


def _check(record: Record) -> None:
    d = record.data
    kind = d.get("kind")
    if kind == "reference":
        for name in ("headline", "items", "category", "unit", "countries", "item"):
            if name in d:
                raise record.fail((name,), f"a reference page is not an item: it has no {name}; record its "
                                  "documents, events, mentions and identifiers")
    if kind in KIND_KEYS:
        _keys(record, (), d, COMMON_KEYS | KIND_KEYS[kind], f"a {kind} record")
        for key in ("mentions", "about", "documents", "publisher", "unit"):
            if isinstance(d.get(key), (dict, list)):
                _check_mentions(record, (key,), d[key])
        _check_events(record, ("events",), d.get("events"))
        if kind == "listing" and isinstance(d.get("items"), list):
            for i, item in enumerate(d["items"]):
                if isinstance(item, dict):
                    _keys(record, ("items", i), item, LISTING_ITEM_KEYS, "a listing item")
                    for key in ("mentions", "about"):
                        if isinstance(item.get(key), list):
                            _check_mentions(record, ("items", i, key), item[key])
    url = _need(record, ("url",), d.get("url"), str, "the page's address (http or https)")
    if not re.match(r"^https?://[^\s/]+/?\S*$", url):
        raise record.fail(("url",), f"{url!r} is not an http(s) address")
    if kind in ("reference", "listing") and d.get("title") is None and d.get("label") is not None:
        # a stored copy that shows no title: the curator describes the page (never a made-up title)
        _need(record, ("label",), d.get("label"), str, "a description of the page (its title is not shown)")
    else:
        _need(record, ("title",), d.get("title"), str, "the page's title, exactly as it reads")
    _need(record, ("read",), d.get("read"), dt.date, "the date the stored copy was read (YYYY-MM-DD)")
    lang = d.get("lang", "en")
    if not isinstance(lang, str) or not re.fullmatch(r"[a-z]{2}", lang):
        raise record.fail(("lang",), f"{lang!r}: the page's language as a two-letter code (en, fr, es, ru, tr, it, nl ...)")
    if kind not in ("listing", "item", "reference"):
        raise record.fail(("kind",), f"{kind!r}: write listing (a page of items), item (an item's own page) "
                          "or reference (another page that states facts: a standard's page, a partner's news)")
    if kind == "listing":
        _need(record, ("listing",), d.get("listing"), str, "which listing (europe, cooperatives-news, ...)")
        items = d.get("items")
        if not isinstance(items, list):
            raise record.fail(("items",), "a listing record needs items: a list (items: [] if none concerns the region)")
        positions = set()
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise record.fail(("items", i), "an item is a mapping (position:, headline:, date: ...)")
            pos = _need(record, ("items", i, "position"), item.get("position"), int, "a whole number")
            if pos < 1 or pos in positions:
                raise record.fail(("items", i, "position"), f"{pos}: positions are 1, 2, 3 ... once each")
            positions.add(pos)
            _need(record, ("items", i, "headline"), item.get("headline"), str, "the headline, exactly")
            if item.get("date") is not None:
                _need(record, ("items", i, "date"), item.get("date"), dt.date, "a date")
            _check_entity_lists(record, ("items", i), item)
    elif kind == "reference":
        _check_entity_lists(record, (), d)
    else:
        _need(record, ("headline",), d.get("headline"), str, "the item's headline, exactly")
        _need(record, ("date",), d.get("date"), dt.date, "the item's date (YYYY-MM-DD)")
        _check_entity_lists(record, (), d)


def _check_entity_lists(record: Record, path: tuple, d: dict) -> None:
    countries = d.get("countries") or []
    if not isinstance(countries, list):
        raise record.fail(path + ("countries",), "a list of ISO 3166-1 alpha-2 codes, like [TR, GR]")
    for j, code in enumerate(countries):
        if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{2}", code):
            raise record.fail(path + ("countries", j), f"{code!r} is not an ISO 3166-1 alpha-2 code (two capitals)")
    for name in ("mentions", "about", "events", "documents", "identifiers"):
        value = d.get(name)
        if value is not None and not isinstance(value, list):
            raise record.fail(path + (name,), "a list (write [] for none)")


def record_files(project: Project) -> list[Path]:
    folder = project.data_dir / RECORDS_DIR
    return sorted(p for p in folder.glob("*.yaml") if not p.name.startswith(".")) if folder.is_dir() else []


def read_records(project: Project, paths: list[Path] | None = None) -> list[Record]:
    return [read_record(p, project.relative(p)) for p in (paths if paths is not None else record_files(project))]


# ----------------------------------------------------------------------------- resolving

@dataclass
class Resolver:
    """Names and items known so far: the hand-edited data, then each record in turn."""

    by_label: dict[tuple[str, str], URIRef] = field(default_factory=dict)  # (kind, label) -> IRI
    entities: set[URIRef] = field(default_factory=set)
    countries: dict[str, URIRef] = field(default_factory=dict)  # ISO code -> IRI
    items: dict[URIRef, tuple[str | None, set[str]]] = field(default_factory=dict)  # IRI -> date, headlines
    names: dict[URIRef, str] = field(default_factory=dict)  # IRI -> a name as written, for labels

    @classmethod
    def from_graph(cls, graph: Graph) -> "Resolver":
        r = cls()
        for s in sorted(set(graph.subjects(RDF.type, None))):
            if not ids.is_entity_iri(s):
                continue
            r.entities.add(s)
            kind, _slug = ids.split(s)
            for p in (SDO.name, SDO.alternateName, SKOS.prefLabel, SKOS.altLabel):
                for o in sorted(graph.objects(s, p)):
                    r.by_label.setdefault((kind, normalise(o)), s)
            english = sorted(str(o) for o in graph.objects(s, SDO.name)
                             if getattr(o, "language", None) in (None, "en"))
            if english:
                r.names[s] = english[0]
            if kind == "item":
                date = graph.value(s, SDO.datePublished)
                r.items[s] = (str(date)[:10] if date is not None else None,
                              {normalise(h) for h in graph.objects(s, SDO.headline)})
        for s, code in graph.subject_objects(COOP.iso3166Alpha2):
            r.countries.setdefault(str(code), s)
        return r

    def item(self, date: dt.date | None, headline: str) -> tuple[URIRef, URIRef | None]:
        """(IRI, the known item it was matched to by a similar headline, or None)."""
        h = normalise(headline)
        if date is None:
            for iri, (_d, heads) in sorted(self.items.items()):
                if h in heads:
                    return iri, None
            slug = "-".join(w for w in ids.slugify(headline).split("-") if w not in ids._STOPWORDS)[:ids.ITEM_SLUG_MAX]
            iri = ids.mint("item", "undated-" + slug.strip("-"))
            self.items.setdefault(iri, (None, set())) [1].add(h)
            return iri, None
        iri = ids.item_iri(date, headline)
        if iri in self.items:
            self.items[iri][1].add(h)
            return iri, None
        best = None
        for other, (d, heads) in sorted(self.items.items()):
            if d == date.isoformat():
                for known in heads:
                    ratio = difflib.SequenceMatcher(None, h, known, autojunk=False).ratio()
                    if ratio >= SIMILAR and (best is None or ratio > best[0]):
                        best = (ratio, other)
        if best is not None:
            self.items[best[1]][1].add(h)
            return best[1], best[1]
        # an undated item of the same headline now has its date
        for other, (d, heads) in sorted(self.items.items()):
            if d is None and h in heads:
                self.items[other] = (date.isoformat(), heads)
        self.items[iri] = (date.isoformat(), {h})
        return iri, None


# ----------------------------------------------------------------------------- writing the graph

@dataclass
class Result:
    record: Record
    dataset: Dataset
    new_entities: list[URIRef] = field(default_factory=list)
    items: list[URIRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Writer:
    def __init__(self, record: Record, resolver: Resolver, ds: Dataset, result: Result):
        self.r, self.res, self.ds, self.result = record, resolver, ds, result
        self.g = ds.graph(record.source)
        self.iso = ds.graph(ISO_SOURCE)

    @property
    def lang(self) -> str:
        """The language of the page (``lang:``, default en): its title, headline and category are in it."""
        return str(self.r.data.get("lang") or "en")

    def lit(self, text: str, lang: str = "en") -> Literal:
        return Literal(str(text).strip(), lang=lang)

    def page_lit(self, text: str) -> Literal:
        return Literal(str(text).strip(), lang=self.lang)

    def entity(self, m, path: tuple) -> URIRef:
        """The IRI of a mention ({type, id} or {type, name, ...}); new entities are described."""
        if isinstance(m, str):
            m = {"name": m}
        if not isinstance(m, dict):
            raise self.r.fail(path, "an entity is {type: T, id: KIND/SLUG} or {type: T, name: \"...\"}")
        given = m.get("type")
        key = re.sub(r"[^a-z]", "", str(given or "").lower())
        if "id" in m and m["id"]:
            iri = URIRef(f"{ID}{m['id']}")
            if not ids.is_entity_iri(iri):
                raise self.r.fail(path + ("id",), f"{m['id']!r} is not KIND/SLUG (e.g. organization/ilo)")
            if iri not in self.res.entities:
                raise self.r.fail(path + ("id",), f"{m['id']} is not in the data: check the id with "
                                  "`coopgraph query entities`, or give type and name for a new entity")
            if any(k in m for k in FACT_KEYS):
                # facts this page states of a known entity (its name here, a date, the body that adopted it ...)
                kind = ids.split(iri)[0]
                cls = TYPES[key][1] if key in TYPES and TYPES[key][0] == kind else None
                self.describe(iri, kind, cls, m, path)
            return iri
        if key not in TYPES:
            raise self.r.fail(path + ("type",), f"{given!r}: give one of {', '.join(sorted(TYPES))}")
        if key == "country" and isinstance(m.get("code"), str):
            return self.country(m["code"], path + ("code",))
        name = m.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.r.fail(path + ("name",), "give the entity's name as the page writes it, or its id")
        kind, cls = TYPES[key]
        iri = self.res.by_label.get((kind, normalise(name)))
        if iri is None:
            slug = ids.slugify(name)
            if not slug:
                raise self.r.fail(path + ("name",), f"{name!r} has no letters to build an IRI from")
            iri = ids.mint(kind, slug[:80].strip("-"))
            self.res.by_label[(kind, normalise(name))] = iri
            if iri not in self.res.entities:
                self.result.new_entities.append(iri)
            self.res.entities.add(iri)
        self.res.names.setdefault(iri, name.strip())
        self.describe(iri, kind, cls, m, path)
        return iri

    def name_lit(self, text, kind: str, m: dict) -> Literal:
        """A name as the page writes it, tagged English unless the mention says ``lang:``; a person's untagged.

        Pages in other languages mostly write organisations, events and places by their English or
        their own proper names; a name in the page's language says so (``lang: tr``)."""
        if kind == "person":
            return Literal(str(text).strip())
        return self.lit(text, str(m.get("lang") or "en"))

    def describe(self, iri: URIRef, kind: str, cls: URIRef | None, m: dict, path: tuple) -> None:
        g = self.g
        if cls is not None:
            g.add((iri, RDF.type, cls))
        if m.get("name"):
            g.add((iri, SDO.name, self.name_lit(m["name"], kind, m)))
        for alt in _as_list(m.get("alternateName")):
            g.add((iri, SDO.alternateName, self.name_lit(alt, kind, m)))
        code = m.get("country")
        if code and kind in ("place", "organization", "event"):
            country = self.country(code, path + ("country",))
            if kind == "place":
                g.add((iri, SDO.containedInPlace, country))
            elif kind == "organization":
                g.add((iri, SDO.location, country))
            else:
                g.add((iri, SDO.location, country))
        if m.get("parent"):
            parent = self.entity({"type": "Organization", **m["parent"]} if isinstance(m["parent"], dict)
                                 else {"type": "Organization", "id": m["parent"]}, path + ("parent",))
            g.add((iri, SDO.parentOrganization, parent))
        if kind == "person" and (m.get("of") or m.get("role")):
            self.person_role(iri, m, path)
        if kind == "document":
            self.document_facts(iri, cls, m, path)

    def person_role(self, person: URIRef, m: dict, path: tuple) -> None:
        role_name, of = m.get("role"), m.get("of")
        org = None
        if of:
            org = self.entity(of if isinstance(of, dict) else {"type": "Organization", "name": of}, path + ("of",))
        if org is None:
            return
        if not role_name:
            self.g.add((person, SDO.affiliation, org))
            return
        _kind, pslug = ids.split(person)
        _kind, oslug = ids.split(org)
        # one role node per person, organisation and role as worded: two pages that word it
        # differently give two roles, each with one name
        role = ids.mint("role", f"{pslug}-{oslug}"[:100].strip("-") + "-" + (ids.slugify(role_name)[:40].strip("-") or "member"))
        g = self.g
        g.add((role, RDF.type, SDO.OrganizationRole))
        org_name = self.res_name(org, of)
        label = f"{self.res_name(person, m)}, {role_name.strip()}"
        g.add((role, SDO.name, self.page_lit(f"{label} ({org_name})")))
        g.add((role, SDO.roleName, self.page_lit(role_name)))
        g.add((role, SDO.memberOf, org))
        g.add((person, SDO.memberOf, role))

    def res_name(self, iri: URIRef, given) -> str:
        """The name a label is made of: the one the record gives, else the one the data knows."""
        if isinstance(given, str):
            return given.strip()
        if isinstance(given, dict) and given.get("name"):
            return str(given["name"]).strip()
        if iri in self.res.names:
            return self.res.names[iri]
        return str(iri).rsplit("/", 1)[-1]

    def document_facts(self, doc: URIRef, cls: URIRef, m: dict, path: tuple) -> None:
        g = self.g
        date = m.get("date")
        if date is not None:
            day = _need(self.r, path + ("date",), date, dt.date, "a date")
            g.add((doc, SDO.legislationDate if cls == SDO.Legislation else COOP.dateAdopted,
                   Literal(day.isoformat(), datatype=XSD.date)))
        many = isinstance(m.get("adoptedBy"), list)
        for j, by in enumerate(_as_list(m.get("adoptedBy"))):
            body = self.entity(by if isinstance(by, dict) else {"type": "Organization", "name": by},
                               path + ("adoptedBy", j) if many else path + ("adoptedBy",))
            g.add((doc, SDO.legislationPassedBy if cls == SDO.Legislation else COOP.adoptedBy, body))
        for j, label in enumerate(_as_list(m.get("labels"))):
            if not isinstance(label, dict) or not label.get("lang") or not label.get("text"):
                raise self.r.fail(path + ("labels", j), "a label is {lang: fr, text: \"...\"} (a title a page gives)")
            g.add((doc, SDO.name, self.lit(label["text"], str(label["lang"]))))
        if m.get("symbol"):
            g.add((doc, SDO.legislationIdentifier, Literal(str(m["symbol"]).strip())))
        if m.get("adoptedAt"):
            at = m["adoptedAt"]
            event = self.entity(at if isinstance(at, dict) else {"type": "Event", "name": at}, path + ("adoptedAt",))
            g.add((event, SDO.workFeatured, doc))
        for key, action_type, verb in (("monitoredBy", SDO.CheckAction, "monitors"),
                                       ("implementedBy", SDO.UseAction, "implements")):
            for j, body in enumerate(_as_list(m.get(key))):
                agent = self.entity(body if isinstance(body, dict) else {"type": "Organization", "name": body},
                                    path + (key, j))
                _k, aslug = ids.split(agent)
                _k, dslug = ids.split(doc)
                action = ids.mint("action", f"{aslug}-{verb}-{dslug}"[:150].strip("-"))
                g.add((action, RDF.type, action_type))
                g.add((action, SDO.name, self.lit(f"{self.res_name(agent, body)} {verb} {self.res_name(doc, m)}")))
                g.add((action, SDO.agent, agent))
                g.add((action, SDO.object, doc))
        for key, prop in (("partOf", SDO.isPartOf), ("cites", SDO.citation), ("replaces", SDO.legislationChanges)):
            for j, other in enumerate(_as_list(m.get(key))):
                target = self.entity(other if isinstance(other, dict) else {"type": "Document", "name": other},
                                     path + (key, j))
                g.add((doc, prop, target))
        for j, ident in enumerate(_as_list(m.get("identifiers"))):
            if not isinstance(ident, dict) or not ident.get("scheme") or not ident.get("value"):
                raise self.r.fail(path + ("identifiers", j), "an identifier is {scheme: NORMLEX, value: \"...\"}")
            self.add_identifier(doc, ident)

    def country(self, code: str, path: tuple) -> URIRef:
        code = str(code).upper()
        known = self.res.countries.get(code)
        import pycountry
        found = pycountry.countries.get(alpha_2=code)
        if found is None:
            raise self.r.fail(path, f"{code!r} is not an ISO 3166-1 alpha-2 code")
        name = getattr(found, "common_name", None) or found.name
        iri = known or ids.mint("place", ids.slugify(name))
        if known is None:
            self.res.countries[code] = iri
            if iri not in self.res.entities:
                self.result.new_entities.append(iri)
                self.res.entities.add(iri)
        self.iso_facts(iri, code, found, name)
        return iri

    def iso_facts(self, iri: URIRef, code: str, found, name: str) -> None:
        import gettext
        import pycountry
        g = self.iso
        g.add((iri, RDF.type, SDO.Country))
        g.add((iri, SDO.name, self.lit(name)))
        g.add((iri, COOP.iso3166Alpha2, Literal(code)))
        address = ids.mint("address", ids.split(iri)[1])
        g.add((iri, SDO.address, address))
        g.add((address, RDF.type, SDO.PostalAddress))
        g.add((address, SDO.addressCountry, Literal(code)))
        for lang in COUNTRY_LANGUAGES:
            try:
                tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
            except OSError:
                continue
            for english in dict.fromkeys([found.name, getattr(found, "common_name", None)]):
                if english and tr.gettext(english) != english:
                    g.add((iri, SDO.name, self.lit(tr.gettext(english), lang)))
                    break

    # ------------------------------------------------------------------ items and pages

    def page(self) -> URIRef:
        d = self.r.data
        page = ids.mint("webpage", self.r.key)
        g = self.g
        g.add((page, RDF.type, SDO.WebPage))
        if d.get("title") is not None:
            g.add((page, SDO.name, self.page_lit(d["title"])))
        else:
            g.add((page, SDO.name, self.lit(f"[{d['label'].strip()}]")))
        g.add((page, SDO.url, URIRef(d["url"].strip())))
        g.add((page, SDO.inLanguage, Literal(self.lang)))
        publisher = publisher_of(d["url"])
        if publisher is not None:
            g.add((page, SDO.publisher, publisher))
        if d.get("listing") == "europe":
            self.region()
            g.add((page, SDO.about, REGION))
        return page

    def region(self) -> None:
        self.g.add((REGION, RDF.type, SDO.Place))
        self.g.add((REGION, SDO.name, self.lit(REGION_NAME)))

    def item(self, d: dict, path: tuple, page: URIRef | None) -> URIRef:
        date = d.get("date")
        day = _need(self.r, path + ("date",), date, dt.date, "a date") if date is not None else None
        headline = str(d["headline"]).strip()
        explicit = d.get("item")
        if explicit:
            iri = URIRef(f"{ID}{explicit}")
            if not ids.is_entity_iri(iri) or ids.split(iri)[0] != "item":
                raise self.r.fail(path + ("item",), f"{explicit!r} is not item/KEY (e.g. item/2021-10-21-ayse-turunc-kankal-ilo-office-turkey-ankara)")
            known = self.res.items.get(iri)
            if known is None:
                if self.lang == "en":
                    raise self.r.fail(path + ("item",), f"{explicit} is not an item in the data (an English page's "
                                      "item is keyed by its date and headline: leave item: out)")
                # an item published in another language only: the record names its key
                self.res.items[iri] = (day.isoformat() if day else None, {normalise(headline)})
                matched = None
            else:
                matched = None if normalise(headline) in known[1] else iri
                known[1].add(normalise(headline))
        else:
            iri, matched = self.res.item(day, headline)
        g = self.g
        category, category_lang = d.get("category"), None
        if isinstance(category, dict):
            # a kind line in another language than the page's text: {text: "Actualité", lang: fr}
            category, category_lang = category.get("text"), category.get("lang")
            if not isinstance(category, str) or not isinstance(category_lang, str) \
                    or not re.fullmatch(r"[a-z]{2}", category_lang):
                raise self.r.fail(path + ("category",), "a category is \"News\", or {text: \"Actualité\", lang: fr}")
        for t in CATEGORY_TYPES.get(normalise(category or ""), (SDO.Article,)):
            g.add((iri, RDF.type, t))
        if self.lang != "en":
            # the same item on a page in another language: its headline in that language
            g.add((iri, SDO.headline, self.page_lit(headline)))
        elif matched is not None:
            g.add((iri, SDO.alternativeHeadline, self.lit(headline)))
            self.result.notes.append(f"{self.r.where(*path, 'headline')}: the same item as "
                                     f"item:{ids.split(iri)[1]} (same date, a similar headline): kept as "
                                     "its schema:alternativeHeadline")
        else:
            g.add((iri, SDO.headline, self.lit(headline)))
        if category:
            # the ILO's English kind and series lines stay English on a page in another language
            english = normalise(category) in ENGLISH_CATEGORIES
            lang = category_lang or ("en" if english else self.lang)
            g.add((iri, SDO.genre, self.lit(category, lang)))
        if day is not None:
            g.add((iri, SDO.datePublished, Literal(day.isoformat(), datatype=XSD.date)))
        g.add((iri, SDO.inLanguage, Literal(self.lang)))
        publisher = publisher_of(self.r.data["url"])
        if publisher is not None:
            g.add((iri, SDO.publisher, publisher))
        if page is not None:
            g.add((iri, SDO.isPartOf, page))
            g.add((iri, SDO.position, Literal(int(d["position"]))))
            if self.r.data.get("listing") == "europe":
                g.add((iri, SDO.spatialCoverage, REGION))
        for j, code in enumerate(d.get("countries") or []):
            g.add((iri, SDO.spatialCoverage, self.country(code, path + ("countries", j))))
        for j, m in enumerate(d.get("mentions") or []):
            g.add((iri, SDO.mentions, self.entity(m, path + ("mentions", j))))
        for j, m in enumerate(_as_list(d.get("about"))):
            g.add((iri, SDO.about, self.entity(m, path + ("about", j))))
        self.result.items.append(iri)
        return iri

    def own_page(self) -> None:
        d = self.r.data
        iri = self.item(d, (), None)
        g = self.g
        g.add((iri, SDO.url, URIRef(d["url"].strip())))
        if d.get("unit"):
            unit = d["unit"]
            g.add((iri, SDO.sourceOrganization,
                   self.entity(unit if isinstance(unit, dict) else {"type": "Organization", "id": unit}, ("unit",))))
        for target in self.events_and_documents():
            g.add((iri, SDO.about, target))
        self.identifiers()

    def reference(self) -> None:
        """A page that is not an item: the facts it states of documents, events and entities."""
        self.events_and_documents()
        for j, m in enumerate(self.r.data.get("mentions") or []):
            self.entity(m, ("mentions", j))
        self.identifiers()

    def events_and_documents(self) -> list[URIRef]:
        """The events and documents a page describes (events:, documents:, a document's type by default)."""
        d = self.r.data
        described = [self.event(ev, ("events", j)) for j, ev in enumerate(d.get("events") or [])]
        for j, doc in enumerate(d.get("documents") or []):
            if isinstance(doc, dict) and "type" not in doc:
                doc = {"type": "Document", **doc}
            described.append(self.entity(doc, ("documents", j)))
        return described

    def identifiers(self) -> None:
        for j, ident in enumerate(self.r.data.get("identifiers") or []):
            self.identifier(ident, ("identifiers", j))

    def event(self, ev: dict, path: tuple) -> URIRef:
        if not isinstance(ev, dict):
            raise self.r.fail(path, "an event is a mapping (name:, start:, place: ...)")
        iri = self.entity({"type": "Event", **{k: v for k, v in ev.items() if k in ("id", "name", "alternateName")}}, path)
        g = self.g
        g.add((iri, RDF.type, SDO.Event))
        for key, prop in (("start", SDO.startDate), ("end", SDO.endDate)):
            if ev.get(key) is not None:
                day = _need(self.r, path + (key,), ev[key], dt.date, "a date")
                g.add((iri, prop, Literal(day.isoformat(), datatype=XSD.date)))
        if ev.get("place"):
            place = ev["place"]
            g.add((iri, SDO.location, self.entity(place if isinstance(place, dict) else {"type": "City", "name": place},
                                                  path + ("place",))))
        if ev.get("online"):
            g.add((iri, SDO.eventAttendanceMode,
                   SDO.MixedEventAttendanceMode if ev.get("place") else SDO.OnlineEventAttendanceMode))
        for j, org in enumerate(_as_list(ev.get("organizer"))):
            g.add((iri, SDO.organizer, self.entity(org if isinstance(org, dict) else {"type": "Organization", "name": org},
                                                   path + ("organizer", j))))
        for j, role in enumerate(ev.get("roles") or []):
            self.event_role(iri, role, path + ("roles", j))
        return iri

    def event_role(self, event: URIRef, role: dict, path: tuple) -> None:
        if not isinstance(role, dict) or not role.get("person"):
            raise self.r.fail(path, "a role is {person: {...}, role: speaker, capacity: \"...\"}")
        who = role["person"]
        person = self.entity(who if isinstance(who, dict) else {"type": "Person", "name": who}, path + ("person",))
        word = normalise(role.get("role") or "participant")
        if word not in ROLE_WORDS:
            raise self.r.fail(path + ("role",), f"{role.get('role')!r}: write one of {', '.join(sorted(ROLE_WORDS))}")
        prop = EVENT_ROLE_PROPERTY.get(word, SDO.performer)
        g = self.g
        g.add((event, prop, person))
        _k, eslug = ids.split(event)
        _k, pslug = ids.split(person)
        node = ids.mint("role", f"{eslug}-{pslug}-{ids.slugify(word)}"[:150].strip("-"))
        g.add((node, RDF.type, SDO.PerformanceRole))
        g.add((event, prop, node))
        g.add((node, prop, person))
        g.add((node, SDO.roleName, self.lit(word)))
        name = self.res_name(person, who)
        g.add((node, SDO.name, self.lit(f"{name}, {word}")))
        if role.get("capacity"):
            g.add((node, SDO.namedPosition, self.lit(role["capacity"])))

    def identifier(self, ident: dict, path: tuple) -> None:
        if not isinstance(ident, dict) or not ident.get("entity") or not ident.get("scheme") or not ident.get("value"):
            raise self.r.fail(path, "an identifier is {entity: KIND/SLUG, scheme: NORMLEX, value: \"...\"}")
        self.add_identifier(self.entity({"id": ident["entity"]}, path + ("entity",)), ident)

    def add_identifier(self, target: URIRef, ident: dict) -> None:
        """An address as skos:exactMatch, any other value as schema:identifier SCHEME:VALUE."""
        value = str(ident["value"]).strip()
        if re.match(r"^https?://", value):
            self.g.add((target, SKOS.exactMatch, URIRef(value)))
        else:
            self.g.add((target, SDO.identifier, Literal(f"{ident['scheme']}:{value}")))


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def publisher_of(url: str) -> URIRef | None:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    if host in ("ilo.org", "www2.ilo.org", "oit.org", "ilo.int", "ilo.ch", "ilo.msgfocus.com", "normlex.ilo.org",
                "libguides.ilo.org", "webapps.ilo.org"):
        return ids.mint("organization", "ilo")
    return None


def source_description(record: Record, ds: Dataset, writer: "_Writer") -> None:
    d = record.data
    g = ds.graph(SOURCES_GRAPH)
    s = record.source
    g.add((s, RDF.type, COOP.Source))
    g.add((s, RDF.type, PROV.Entity))
    if d.get("title") is not None:
        name = Literal(f"{d['title'].strip()} (public page, read {_day(d['read'])})", lang=str(d.get("lang") or "en"))
    else:
        name = Literal(f"[{d['label'].strip()}] (public page, read {_day(d['read'])})", lang="en")
    g.add((s, SDO.name, name))
    g.add((s, SDO.url, URIRef(d["url"].strip())))
    g.add((s, COOP.dateRetrieved, Literal(_day(d["read"]), datatype=XSD.date)))
    g.add((s, COOP.record, Literal(f"data/{RECORDS_DIR}/{record.path.name}")))
    publisher = publisher_of(d["url"])
    if publisher is not None:
        g.add((s, SDO.publisher, publisher))
    if d.get("publisher") and publisher is None:
        g.add((s, SDO.publisher, writer.entity(d["publisher"], ("publisher",))))


def _day(value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)).isoformat()


def generate(records: list[Record], base: Graph) -> list[Result]:
    """Each record's dataset, resolved against ``base`` (the hand-edited data) and the records before it.

    Records are taken item pages last, so an item page finds the listing's key for its item."""
    resolver = Resolver.from_graph(base)
    results = []
    ordered = sorted(records, key=lambda r: (r.data.get("kind") != "listing", r.key))
    for record in ordered:
        from .build import new_dataset
        ds = new_dataset()
        result = Result(record, ds)
        writer = _Writer(record, resolver, ds, result)
        source_description(record, ds, writer)
        if record.data["kind"] == "listing":
            page = writer.page()
            for i, item in enumerate(record.data["items"]):
                writer.item(item, ("items", i), page)
        elif record.data["kind"] == "reference":
            writer.reference()
        else:
            writer.own_page()
        results.append(result)
    return sorted(results, key=lambda r: r.record.key)


def trig_text(result: Result) -> str:
    from .export import trig
    rec = result.record
    header = (f"# Generated by `coopgraph ingest-pages` from {rec.label} (a curator's record of\n"
              f"# {rec.data['url'].strip()}, read {_day(rec.data['read'])}): do not edit; edit the record and\n"
              "# run `coopgraph ingest-pages` again. The facts are in the graph of the page's source.\n\n")
    return header + trig(result.dataset)


def output_path(project: Project, record: Record) -> Path:
    return project.data_dir / "ingested" / f"{GENERATED_PREFIX}{record.key}.trig"


# ----------------------------------------------------------------------------- the command

@dataclass
class PagesPlan:
    """What `coopgraph ingest-pages` found and would write."""

    results: list[Result]
    files: dict[Path, str] = field(default_factory=dict)  # new or changed generated files
    unchanged: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)  # generated files whose record is gone
    violations: list = field(default_factory=list)
    report: object = None
    written: list[Path] = field(default_factory=list)


def plan_pages(project: Project, paths: list[Path] | None = None, *, check_shapes: bool = True) -> PagesPlan:
    """Generate every record's file (resolved against the hand-edited data and all the records)."""
    from .build import load, union_graph
    loaded = load(project, skip_generated=True)
    base = union_graph(loaded.dataset)
    records = read_records(project)
    if paths is not None:
        wanted = {p.resolve() for p in paths}
        for p in paths:
            if p.resolve() not in {r.path.resolve() for r in records}:
                raise RecordError(f"{p}: not a record in {project.relative(project.data_dir / RECORDS_DIR)}/ "
                                  "(records are data/pages/KEY.yaml)")
    results = generate(records, base)
    plan = PagesPlan(results=results)
    for result in results:
        if paths is not None and result.record.path.resolve() not in wanted:
            continue
        target = output_path(project, result.record)
        text = trig_text(result)
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            plan.unchanged.append(target)
        else:
            plan.files[target] = text
    if paths is None:
        keys = {GENERATED_PREFIX + r.key + ".trig" for r in records}
        folder = project.data_dir / "ingested"
        plan.stale = sorted(p for p in folder.glob(GENERATED_PREFIX + "*.trig") if p.name not in keys) \
            if folder.is_dir() else []
    if check_shapes and (plan.files or plan.stale):
        from .shaclsparql import new_violations
        from .validate import load_shapes
        shapes = load_shapes(project.shapes_dir, label_root=project.root)
        try:
            current = load(project).union()
        except InputError:
            # the current files do not load (e.g. a mapping set cites a page source not generated
            # yet): compare with the hand-edited data alone
            current = union_graph(loaded.dataset)
        after_graph = loaded.union()
        for result in results:
            for s, p, o, _g in result.dataset.quads((None, None, None, None)):
                after_graph.add((s, p, o))
        plan.report, plan.violations = new_violations(shapes, current, after_graph)
    return plan


def apply_pages(plan: PagesPlan) -> list[Path]:
    """Write the changed files (each all or nothing) and remove the stale ones."""
    from .export import write_all
    if plan.violations:
        raise InputError("the records would make the graph fail its shapes; nothing was written")
    if plan.files:
        plan.written = write_all(dict(sorted(plan.files.items())))
    for path in plan.stale:
        path.unlink()
    return plan.written


def pages_summary(plan: PagesPlan, project: Project, *, dry_run: bool) -> str:
    items = {i for r in plan.results for i in r.items}
    new = sorted({e for r in plan.results for e in r.new_entities})
    out = [f"{len(plan.results)} page records: {len(items)} items, {len(new)} entities not in the hand-edited data"]
    for result in plan.results:
        for note in result.notes:
            out.append(f"note: {note}")
    verb = "would write" if dry_run or plan.violations else "wrote"
    if plan.files:
        out.append(f"{verb}:")
        out.extend(f"  {project.relative(p)}" for p in sorted(plan.files))
    if plan.stale:
        out.append("would remove (no record):" if dry_run else "removed (no record):")
        out.extend(f"  {project.relative(p)}" for p in plan.stale)
    if plan.unchanged:
        out.append(f"{len(plan.unchanged)} file(s) already up to date")
    if not plan.files and not plan.stale:
        out.append("nothing to write: every generated file is up to date")
    for v in plan.violations:
        out.append(f"violation: {v.focus} {v.path}: {v.message}")
    return "\n".join(out) + "\n"
