"""Every fact of the listing's graph (src:ilo-listing) is stated by the listing text.

data/raw/ilo-coop-europe-listing.txt is the page as retrieved. A fact filed under it must be
readable off it: a headline or description word for word, a name whose every word is in the
listing (or begins one of its words: "Expert" of "Experts"; "speaker" for "spoke at"), a date the listing writes ("29 July 2022", "5-6 May", "4th March 2022"), a position the
listing numbers, an entity the listing names (one of its labels is in the text). What the curators
or other sources add (topics, full names, law numbers, contract types) lives in their own graphs.
"""

from __future__ import annotations

import calendar
import re

import pytest
from rdflib import Literal, URIRef

from coopgraph.namespaces import RDF, SDO, SKOS, SRC, XSD

from conftest import ROOT

LISTING = (ROOT / "data" / "raw" / "ilo-coop-europe-listing.txt").read_text(encoding="utf-8")
#: Properties whose literal is text of the page, checked word for word.
VERBATIM = {SDO.headline, SDO.description, SDO.alternativeHeadline, SDO.genre, SDO.namedPosition}
#: Facts about the page itself rather than stated in it: its language (English), our own types.
NOT_STATEMENTS = {RDF.type, SDO.inLanguage}
LABELS = (SDO.name, SDO.alternateName, SKOS.prefLabel)


def _plain(text: str) -> str:
    text = text.translate(str.maketrans({"“": '"', "”": '"', "’": "'", "‘": "'", "–": "-"}))
    return " ".join(re.findall(r"[^\W_]+", text.casefold()))


PLAIN = f" {_plain(LISTING)} "
WORDS = set(PLAIN.split())
#: A role is named by the verb the listing uses: "spoke at" -> speaker, "has participated" -> participant.
ROLE_WORDS = {"speaker": "spoke", "participant": "participated"}


def _word_stated(word: str) -> bool:
    """A word of the listing, or the start of one (Expert of Experts), or a role its verb gives."""
    word = ROLE_WORDS.get(word, word)
    return word in WORDS or (len(word) >= 4 and any(w.startswith(word) for w in WORDS))


def _words_stated(text: str) -> bool:
    return all(_word_stated(w) for w in _plain(text).split())


def stated(value: Literal, prop: URIRef) -> bool:
    if value.datatype in (XSD.date, XSD.dateTime):
        year, month, day = (int(x) for x in str(value)[:10].split("-"))
        name = calendar.month_name[month]
        return bool(re.search(rf"\b0?{day}(st|nd|rd|th)?(\s*-\s*\d+)?\s+{name}\b", LISTING)
                    or re.search(rf"\b\d+\s*-\s*0?{day}\s+{name}\b", LISTING)) and str(year) in LISTING
    if value.datatype == XSD.integer:
        return bool(re.search(rf"^\s*{int(value)}\.\s", LISTING, re.M))
    if prop in VERBATIM:
        return f" {_plain(str(value))} " in PLAIN
    return _words_stated(str(value))


@pytest.fixture(scope="module")
def listing_graph(dataset):
    return dataset.graph(SRC["ilo-listing"])


def test_the_listing_graph_is_not_empty(listing_graph):
    assert len(listing_graph) > 100


def test_every_literal_of_the_listing_graph_is_in_the_listing(listing_graph):
    absent = [(s, p, o) for s, p, o in listing_graph
              if isinstance(o, Literal) and p not in NOT_STATEMENTS and not stated(o, p)]
    assert not absent, "facts in src:ilo-listing that the listing does not state:\n" + "\n".join(
        f"  {s.n3()} {p.n3()} {o.n3()}" for s, p, o in absent)


def test_every_entity_the_listing_graph_refers_to_is_named_in_the_listing(listing_graph, union):
    absent = []
    for s, p, o in listing_graph:
        if p in NOT_STATEMENTS or not isinstance(o, URIRef) or "/id/" not in str(o) or "/id/role/" in str(o):
            continue  # a role node is how a fact is shaped: its own literals are checked above
        labels = [label for prop in LABELS for label in union.objects(o, prop)]
        labels += list(union.objects(o, SDO.headline))
        if not any(_words_stated(str(label)) for label in labels):
            absent.append((s, p, o))
    assert not absent, "entities the listing does not name:\n" + "\n".join(
        f"  {s.n3()} {p.n3()} {o.n3()}" for s, p, o in absent)


@pytest.mark.parametrize("value, prop, ok", [
    (Literal("2022-07-29", datatype=XSD.date), SDO.datePublished, True),
    (Literal("2022-05-05", datatype=XSD.date), SDO.startDate, True),  # "on 5-6 May"
    (Literal("2022-05-06", datatype=XSD.date), SDO.endDate, True),
    (Literal("2022-03-04", datatype=XSD.date), SDO.startDate, True),  # "4th March 2022"
    (Literal("2022-07-15", datatype=XSD.date), SDO.startDate, False),  # the press release's date
    (Literal("Law No. 7339", lang="en"), SDO.name, False),
    (Literal("UN Inter-Agency Task Force on Social and Solidarity Economy", lang="en"), SDO.name, False),
    (Literal("CONTRACTOR"), SDO.employmentType, False),
    (Literal("ILO COOP", lang="en"), SDO.alternateName, True),
    (Literal("Melih Toprak and Fatih Polattimur, Trade Experts at the Turkish Ministry of Trade", lang="en"),
     SDO.headline, True),
    (Literal("Melih Toprak and Fatih Polattimur, Trade Experts at the Ministry of Trade of Turkey", lang="en"),
     SDO.headline, False),
    (Literal(10), SDO.position, True),
    (Literal(11), SDO.position, False),
])
def test_the_check_tells_stated_from_unstated(value, prop, ok):
    assert stated(value, prop) is ok
