"""Embed blocks: Google's required properties, and a third-party extractor reads back the same triples."""

from __future__ import annotations

import json

import extruct
import pytest
from rdflib import Literal, URIRef
from rdflib.compare import isomorphic

from coopgraph.embed import embed_document, embed_graph, schemaorg_reading, script_block
from coopgraph.export import describe
from coopgraph.namespaces import ID, RDF, SDO
from coopgraph.safety import parse_jsonld

from conftest import run_cli

SCHEMA_DATE = URIRef("http://schema.org/Date")
SCHEMA_DATETIME = URIRef("http://schema.org/DateTime")


def pages(union):
    """Every item, event and job posting: the entities that have a page with an embed block."""
    types = (SDO.NewsArticle, SDO.Article, SDO.Event, SDO.JobPosting, SDO.PresentationDigitalDocument)
    return sorted({s for t in types for s in union.subjects(RDF.type, t)})


def extract(html: str, loader):
    """What extruct (a third-party extractor) finds in a page, read as RDF with the schema.org context."""
    data = extruct.extract(html, base_url="https://example.org/page", syntaxes=["json-ld"], uniform=False)
    assert len(data["json-ld"]) == 1
    return data["json-ld"][0], parse_jsonld(json.dumps(data["json-ld"][0]), loader)


def test_every_item_and_event_has_a_page(union):
    items = {s for s in union.subjects(None, None) if str(s).startswith(f"{ID}item/")}
    events = set(union.subjects(RDF.type, SDO.Event))
    assert len(items) >= 31 and len(events) >= 8
    assert set(pages(union)) == items | events  # the job posting is an item too


def test_extruct_reads_back_exactly_the_schema_org_reading(toolkit, union):
    for iri in pages(union):
        html = f"<html><head>{script_block(embed_document(union, iri, toolkit.loader))}</head><body></body></html>"
        doc, triples = extract(html, toolkit.loader)
        assert doc["@context"] == "https://schema.org"
        assert doc["@id"] == str(iri), "the page and the graph name the same thing"
        assert isomorphic(triples, embed_graph(union, iri, toolkit.loader)), iri


def test_the_reading_only_restates_graph_facts(toolkit, union):
    """Each embedded triple is a graph triple: same subject, predicate and value (dates typed the
    schema.org context's way, text in the page language)."""
    for iri in pages(union):
        for s, p, o in embed_graph(union, iri, toolkit.loader):
            if isinstance(o, Literal):
                assert any(str(v) == str(o) for v in union.objects(s, p)), (s, p, o)
            else:
                assert (s, p, o) in union, (s, p, o)


def test_dates_become_schema_org_dates(toolkit, union):
    trento = URIRef("https://w3id.org/coopgraph/id/event/trento-2022-social-economy-primacy-of-people")
    reading = schemaorg_reading(describe(union, trento, 0), toolkit.loader)
    assert reading.value(trento, SDO.startDate) == Literal("2022-07-15T10:00:00+02:00", datatype=SCHEMA_DATETIME) or \
        reading.value(trento, SDO.startDate).datatype in (SCHEMA_DATE, SCHEMA_DATETIME)
    names = {str(n) for n in reading.objects(trento, SDO.name)}
    assert names == {"Social Economy: Primacy of People"}, "the page language only; no guessed translation"


def test_google_required_properties(toolkit, union):
    for iri in pages(union):
        doc = embed_document(union, iri, toolkit.loader)
        types = doc["@type"] if isinstance(doc["@type"], list) else [doc["@type"]]
        if "Event" in types and "startDate" not in doc:
            # an event a page names without its date: validation warns (Google's required start date)
            assert (iri, SDO.startDate, None) not in union, iri
            continue
        if "Event" in types:
            assert doc["name"] and doc["startDate"], iri
            mode = doc.get("eventAttendanceMode", {})
            online = mode in ({"@id": "http://schema.org/MixedEventAttendanceMode"},
                              {"@id": "http://schema.org/OnlineEventAttendanceMode"})
            if "location" in doc:
                locations = doc["location"] if isinstance(doc["location"], list) else [doc["location"]]
                # a place embeds its address when the graph has one (a venue a page names without
                # its address has none: validation warns, nothing is made up)
                for loc in locations:
                    place = URIRef(loc["@id"]) if "@id" in loc else None
                    assert "address" in loc or (place is not None and (place, SDO.address, None) not in union), iri
            else:
                # Google requires a location unless the event is online or mixed; an event whose
                # sources give no place has none in the graph either (validation warns), none is made up
                assert online or (iri, SDO.location, None) not in union, \
                    f"{iri}: an event with a location in the graph must embed it"
        if "JobPosting" in types:
            for key in ("title", "datePosted", "hiringOrganization", "jobLocation"):
                assert key in doc, (iri, key)
            assert doc["jobLocation"]["address"]["addressCountry"] == "TR"
            # no source gives the job's description or contract type: none is embedded (a warning says so)
            assert "description" not in doc and "employmentType" not in doc
        if {"NewsArticle", "Article"} & set(types):
            assert doc["headline"], iri
            # the one item no stored page dates (the 9th ILO Academy on the SSE) has a warning instead
            assert "datePublished" in doc or (iri, SDO.datePublished, None) not in union, iri
            assert doc["publisher"]["name"] == "International Labour Organization"


def test_script_block_cannot_break_out_of_the_script_element():
    block = script_block({"@context": "https://schema.org", "name": "</script><script>alert(1)</script> & more"})
    assert block.count("</script>") == 1
    assert "\\u003c/script\\u003e" in block


def test_embed_cli(union):
    result = run_cli("embed", "item:2022-03-01-call-national-consultant-evaluate-make")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith('<script type="application/ld+json">')
    doc = json.loads(result.stdout.split("\n", 1)[1].rsplit("</script>", 1)[0])
    assert set(doc["@type"]) == {"NewsArticle", "JobPosting"}


@pytest.mark.parametrize("iri,message", [("event:no-such-event", "no entity"),
                                         ("address:trento", "not an item, event or job posting")])
def test_embed_refuses_what_has_no_page(iri, message):
    result = run_cli("embed", iri)
    assert result.exit_code == 2
    assert message in result.stderr
