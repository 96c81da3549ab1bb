"""Read a listing: the ILO listing page saved as text, or an RSS 2.0 or Atom news feed.

Both give a :class:`Listing`: its title, address and items (headline, publication date, category,
description, link), each item with the line it starts on, so every error can name a line.
Nothing is fetched: the input is bytes already on disk. Feeds are parsed with defusedxml, which
refuses DTDs, entity declarations and external references (XML bombs, XXE).

The text form is the one of data/raw/ilo-coop-europe-listing.txt::

    ILO's work on cooperatives in Europe and Central Asia      <- title

      1. News                                                  <- number and category
        ILO participates in the conference ...                 <- headline
        29 July 2022                                           <- date
        The first event of the Monitoring Committee ...        <- description (optional)

Indentation, blank lines, tabs, no-break spaces and line endings may vary.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from xml.etree.ElementTree import Element, TreeBuilder

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from .errors import InputError

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

MONTHS = {name.lower(): i for i, name in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"], start=1)}
MONTHS.update({name[:3]: i for name, i in list(MONTHS.items())})
MONTHS["sept"] = 9

_ITEM_LINE = re.compile(r"^(\d{1,4})[.)]\s+(\S.*)$")
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s+([^\W\d_]+)\.?,?\s+(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


@dataclass(frozen=True)
class ListingItem:
    """One item of a listing, as read."""

    headline: str
    date: dt.date
    line: int
    genre: str | None = None
    description: str | None = None
    url: str | None = None
    number: int | None = None


@dataclass(frozen=True)
class Listing:
    """A listing page or feed: what it is, its title and addresses, and its items in page order."""

    kind: str  # "listing" (text), "rss" or "atom"
    media_type: str
    title: str | None
    items: list[ListingItem] = field(default_factory=list)
    page_url: str | None = None  # the web page the items appear on (a feed's alternate link)
    self_url: str | None = None  # the feed's own address, when it states it
    language: str | None = None


def clean(text: str) -> str:
    """Whitespace (no-break spaces, tabs, line breaks) collapsed to single spaces, trimmed."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def parse_date(text: str, where: str) -> dt.date:
    """'29 July 2022', '4 Mar 2022' or '2022-07-29'; InputError (naming ``where``) otherwise."""
    value = clean(text)
    match = _DAY_MONTH_YEAR.match(value)
    if match:
        day, month_name, year = match.groups()
        month = MONTHS.get(month_name.lower())
        if month is None:
            raise InputError(f"{where}: cannot read the date {value!r}: unknown month {month_name!r} "
                             "(write English month names, e.g. '29 July 2022')")
        try:
            return dt.date(int(year), month, int(day))
        except ValueError as exc:
            raise InputError(f"{where}: cannot read the date {value!r}: {exc}") from None
    match = _ISO_DATE.match(value)
    if match:
        try:
            return dt.date(*(int(g) for g in match.groups()))
        except ValueError as exc:
            raise InputError(f"{where}: cannot read the date {value!r}: {exc}") from None
    raise InputError(f"{where}: expected a date such as '29 July 2022', found {value!r}")


def read_listing(data: bytes, *, source: str) -> Listing:
    """Read a text listing, an RSS 2.0 feed or an Atom feed; InputError names ``source`` and a line."""
    if not data.strip():
        raise InputError(f"{source}:1: the file is empty: there is no listing to read")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"{source}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                         "save the listing as UTF-8") from None
    head = text.lstrip()[:2048].lower()
    if head.startswith("<"):
        if "<html" in head or head.startswith("<!doctype html"):
            line = _line_of(text, "<")
            raise InputError(f"{source}:{line}: not a listing: this is an HTML page; save the listing as "
                             "text (like data/raw/ilo-coop-europe-listing.txt) or give its RSS or Atom feed")
        return _read_feed(data, source=source)
    return _read_text(text, source=source)


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text[:max(index, 0)].count("\n") + 1


# ----------------------------------------------------------------------------- text listing

def _read_text(text: str, *, source: str) -> Listing:
    lines = text.splitlines()
    title: str | None = None
    title_line = 0
    blocks: list[tuple[int, int, str, list[tuple[int, str]]]] = []  # (line, number, category, lines)
    for index, raw in enumerate(lines, start=1):
        line = clean(raw)
        if not line:
            if blocks:
                blocks[-1][3].append((index, ""))
            continue
        match = _ITEM_LINE.match(line)
        if match:
            blocks.append((index, int(match.group(1)), clean(match.group(2)), []))
        elif blocks:
            blocks[-1][3].append((index, line))
        elif title is None:
            title, title_line = line, index
        else:
            hint = " (this looks like CSV)" if line.count(",") >= 2 or "\t" in raw else ""
            raise InputError(f"{source}:{index}: not a listing: expected numbered items such as "
                             f"'  1. News' after the title line {title_line}, found {line[:80]!r}{hint}")
    if not blocks:
        hint = " (this looks like CSV)" if title and title.count(",") >= 2 else ""
        raise InputError(f"{source}:{title_line or 1}: not a listing: no numbered items such as '  1. News' "
                         f"(title, then for each item its number and category, headline, date){hint}")
    items = [_text_item(block, source) for block in blocks]
    return Listing(kind="listing", media_type="text/plain", title=title, items=items)


def _text_item(block: tuple[int, int, str, list[tuple[int, str]]], source: str) -> ListingItem:
    start, number, category, body = block
    content = [(i, line) for i, line in body if line]
    if not content:
        raise InputError(f"{source}:{start}: item {number} ({category!r}) ends after its category line: "
                         "its headline and date are missing (is the file truncated?)")
    headline_line, headline = content[0]
    if len(content) < 2:
        raise InputError(f"{source}:{headline_line}: item {number} has a headline but no date "
                         "(is the file truncated?)")
    date_line, date_text = content[1]
    date = parse_date(date_text, f"{source}:{date_line}: item {number}")
    paragraphs: list[list[str]] = []
    previous = date_line
    for i, line in body:
        if i <= date_line:
            continue
        if not line:
            previous = -1
            continue
        if previous == i - 1 and paragraphs:
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
        previous = i
    description = "\n\n".join(" ".join(p) for p in paragraphs) or None
    return ListingItem(headline=headline, date=date, line=start, genre=category or None,
                       description=description, number=number)


# ----------------------------------------------------------------------------- feeds

class _LineBuilder(TreeBuilder):
    """A TreeBuilder that records the line each element starts on."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: DefusedXMLParser | None = None
        self.lines: dict[int, int] = {}

    def start(self, tag, attrs):  # type: ignore[override]
        element = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        return element


def _parse_xml(data: bytes, source: str) -> tuple[Element, dict[int, int]]:
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        line = getattr(exc, "line", None) or data[:data.find(b"<!")].count(b"\n") + 1
        raise InputError(f"{source}:{line}: refused: the feed declares a DTD or entities "
                         "(XML bombs and external entities are never read); remove the DOCTYPE") from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        reason = str(exc).split(":")[0]
        cut = " (is the file truncated?)" if "no element found" in reason or "unclosed token" in reason else ""
        raise InputError(f"{source}:{line}: not well-formed XML at column {column + 1}: {reason}{cut}") from None
    return root, builder.lines


def _read_feed(data: bytes, *, source: str) -> Listing:
    root, lines = _parse_xml(data, source)
    if root.tag == "rss":
        return _read_rss(root, lines, source)
    if root.tag == f"{ATOM}feed":
        return _read_atom(root, lines, source)
    raise InputError(f"{source}:{lines.get(id(root), 1)}: not a listing or a news feed: the root element is "
                     f"<{root.tag}>, expected <rss version=\"2.0\"> or an Atom <feed>")


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    value = clean("".join(element.itertext()))
    return value or None


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str | None) -> str | None:
    """The text of an HTML fragment (a feed's description), whitespace collapsed."""
    if markup is None:
        return None
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    return clean(" ".join(parser.parts)) or None


def _require(value: str | None, what: str, where: str) -> str:
    if not value:
        raise InputError(f"{where}: the entry has no {what} (is the feed truncated?)")
    return value


def _read_rss(root: Element, lines: dict[int, int], source: str) -> Listing:
    version = root.get("version", "")
    if not version.startswith("2."):
        raise InputError(f"{source}:{lines.get(id(root), 1)}: RSS version {version or '(none)'} is not read; "
                         "coopgraph reads RSS 2.0 and Atom")
    channel = root.find("channel")
    if channel is None:
        raise InputError(f"{source}:{lines.get(id(root), 1)}: the RSS feed has no <channel>")
    self_url = None
    for link in channel.findall(f"{ATOM}link"):
        if link.get("rel") == "self" and link.get("href"):
            self_url = link.get("href")
    items = []
    for number, element in enumerate(channel.findall("item"), start=1):
        where = f"{source}:{lines.get(id(element), 0)}"
        headline = _require(_text(element.find("title")), "<title>", where)
        date_el = element.find("pubDate")
        date_text = _require(_text(date_el), "<pubDate>", where)
        items.append(ListingItem(
            headline=headline, date=_rfc822_date(date_text, f"{source}:{lines.get(id(date_el), 0)}"),
            line=lines.get(id(element), 0), genre=_text(element.find("category")),
            description=html_to_text(element.findtext("description")), url=_text(element.find("link")),
            number=number))
    if not items:
        raise InputError(f"{source}:{lines.get(id(channel), 1)}: the feed has no <item>: nothing to ingest")
    return Listing(kind="rss", media_type="application/rss+xml", title=_text(channel.find("title")), items=items,
                   page_url=_text(channel.find("link")), self_url=self_url,
                   language=(_text(channel.find("language")) or "").split("-")[0].lower() or None)


def _rfc822_date(text: str, where: str) -> dt.date:
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        raise InputError(f"{where}: cannot read the date {text!r}: RSS dates are RFC 822, "
                         "e.g. 'Fri, 29 Jul 2022 09:00:00 +0200'")
    return parsed.date()


def _rfc3339_date(text: str, where: str) -> dt.date:
    value = text.strip()
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")).date()
    except ValueError:
        raise InputError(f"{where}: cannot read the date {value!r}: Atom dates are RFC 3339, "
                         "e.g. '2022-07-29T09:00:00+02:00'") from None


def _atom_link(element: Element, rel: str) -> str | None:
    for link in element.findall(f"{ATOM}link"):
        if link.get("rel", "alternate") == rel and link.get("href"):
            return link.get("href")
    return None


def _read_atom(root: Element, lines: dict[int, int], source: str) -> Listing:
    items = []
    for number, entry in enumerate(root.findall(f"{ATOM}entry"), start=1):
        where = f"{source}:{lines.get(id(entry), 0)}"
        headline = _require(_text(entry.find(f"{ATOM}title")), "<title>", where)
        date_el = entry.find(f"{ATOM}published")
        if date_el is None:
            date_el = entry.find(f"{ATOM}updated")
        date_text = _require(_text(date_el), "<published> or <updated>", where)
        category = entry.find(f"{ATOM}category")
        genre = None
        if category is not None:
            genre = clean(category.get("label") or category.get("term") or "") or None
        summary = entry.find(f"{ATOM}summary")
        if summary is None:
            summary = entry.find(f"{ATOM}content")
        description = None
        if summary is not None:
            raw = "".join(summary.itertext())
            description = html_to_text(raw) if summary.get("type") in ("html", "xhtml") else (clean(raw) or None)
        items.append(ListingItem(
            headline=headline, date=_rfc3339_date(date_text, f"{source}:{lines.get(id(date_el), 0)}"),
            line=lines.get(id(entry), 0), genre=genre, description=description,
            url=_atom_link(entry, "alternate"), number=number))
    if not items:
        raise InputError(f"{source}:{lines.get(id(root), 1)}: the feed has no <entry>: nothing to ingest")
    lang = (root.get(XML_LANG) or "").split("-")[0].lower() or None
    return Listing(kind="atom", media_type="application/atom+xml", title=_text(root.find(f"{ATOM}title")),
                   items=items, page_url=_atom_link(root, "alternate"), self_url=_atom_link(root, "self"),
                   language=lang)
