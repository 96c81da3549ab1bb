"""Reading listings and feeds: the real listing, whitespace and order changes, RSS and Atom, and
every kind of bad input with an error that names the line."""

from __future__ import annotations

import datetime as dt

import pytest

from coopgraph.errors import InputError
from coopgraph.listing import html_to_text, parse_date, read_listing

from publishing import INGEST_DATA, LISTING

BAD = INGEST_DATA / "bad"


def _read(path):
    return read_listing(path.read_bytes(), source=path.name)


def test_the_real_listing_gives_its_ten_items_in_page_order():
    listing = _read(LISTING)
    assert listing.kind == "listing" and listing.media_type == "text/plain"
    assert listing.title == "ILO's work on cooperatives in Europe and Central Asia"
    assert [i.number for i in listing.items] == list(range(1, 11))
    first, last = listing.items[0], listing.items[-1]
    assert first.headline == "ILO participates in the conference “Social Economy: Primacy of People”"
    assert first.date == dt.date(2022, 7, 29) and first.genre == "News" and first.line == 3
    assert first.description.startswith("The first event of the Monitoring Committee")
    assert last.date == dt.date(2022, 2, 28) and last.description is None  # the file ends after the date
    assert listing.items[1].genre == "Spotlight Interviews with Co-operators"
    assert listing.items[4].date == dt.date(2022, 5, 4)  # "04 May 2022"


def test_whitespace_line_endings_and_order_do_not_change_the_items():
    real = {(i.headline, i.date, i.genre, i.description) for i in _read(LISTING).items}
    shuffled = _read(INGEST_DATA / "listing-shuffled-whitespace.txt")
    assert [i.date for i in shuffled.items] != sorted((i.date for i in shuffled.items), reverse=True)
    assert {(i.headline, i.date, i.genre, i.description) for i in shuffled.items} == real


def test_rss_and_atom_feeds_give_the_same_items():
    rss, atom = _read(INGEST_DATA / "news.rss"), _read(INGEST_DATA / "news.atom")
    assert (rss.kind, atom.kind) == ("rss", "atom")
    assert rss.self_url == "https://example.org/coopgraph-tests/ilo-coop-europe.rss"
    assert atom.page_url == rss.page_url
    assert rss.language == "en" and atom.language == "en"
    as_tuples = lambda l: [(i.headline, i.date, i.genre, i.description, i.url) for i in l.items]  # noqa: E731
    assert as_tuples(rss) == as_tuples(atom)
    first = rss.items[0]
    assert first.headline == "Invented test item: cooperative housing roundtable with <Cooperatives Europe>"
    assert first.description == ("Invented test item: the ILO Cooperatives Unit and Cooperatives Europe met the "
                                 "FAKECOOP Network in Geneva.")  # HTML markup removed
    # a feed's date is the date in its own time zone, not converted to UTC
    assert rss.items[1].date == dt.date(2022, 9, 30)


@pytest.mark.parametrize("name, line, words", [
    ("empty.txt", 1, "the file is empty"),
    ("page.html", 1, "not a listing: this is an HTML page"),
    ("listing.csv", 2, "looks like CSV"),
    ("date-unknown-month.txt", 23, "unknown month 'Februar'"),
    ("date-iso-month-13.txt", 31, "'2022-13-01': month must be in 1..12"),
    ("date-day-out-of-range.txt", 39, "'31 April 2022': day is out of range"),
    ("truncated-after-category.txt", 47, "ends after its category line"),
    ("truncated-feed.rss", 20, "is the file truncated?"),
    ("feed-bad-date.rss", 20, "cannot read the date 'Fri, 31 Feb 2022"),
    ("atom-bad-date.atom", 21, "cannot read the date '2022-13-01T10:00:00Z'"),
    ("billion-laughs.rss", 2, "declares a DTD or entities"),
    ("not-a-feed.xml", 2, "the root element is <catalog>"),
])
def test_bad_input_is_an_error_naming_the_line(name, line, words):
    with pytest.raises(InputError) as caught:
        _read(BAD / name)
    assert caught.value.message.startswith(f"{name}:{line}: "), caught.value.message
    assert words in caught.value.message


def test_a_listing_cut_after_a_headline_says_the_date_is_missing():
    text = LISTING.read_text(encoding="utf-8")
    cut = text[:text.index("31 March 2022")]
    with pytest.raises(InputError, match=r"^x.txt:49: item 7 has a headline but no date \(is the file truncated"):
        read_listing(cut.encode("utf-8"), source="x.txt")


def test_dates_in_the_listing_forms():
    assert parse_date("29 July 2022", "x") == dt.date(2022, 7, 29)
    assert parse_date("4 Mar 2022", "x") == dt.date(2022, 3, 4)
    assert parse_date("2022-07-29", "x") == dt.date(2022, 7, 29)
    for bad in ("29/07/2022", "July 29, 2022", "31 Februar 2022", "2022-02-30"):
        with pytest.raises(InputError, match="^x: "):
            parse_date(bad, "x")


def test_html_descriptions_become_plain_text():
    assert html_to_text("<p>A <b>bold</b>&nbsp;move &amp; more</p>") == "A bold move & more"
    assert html_to_text(None) is None
