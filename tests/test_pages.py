"""What the server's pages say (coopgraph.pages) and the embed block for any entity type."""

from __future__ import annotations

import json

import pytest
from rdflib import URIRef

from coopgraph.embed import EMBEDDABLE, embed_document
from coopgraph.errors import InputError
from coopgraph.namespaces import SDO, SRC
from coopgraph.pages import Site, entity_iri, humanize

from conftest import run_cli

BASE = "http://127.0.0.1:1/"
PERSON = URIRef("https://w3id.org/coopgraph/id/person/vic-van-vuuren")


@pytest.fixture(scope="module")
def site(toolkit):
    loaded = toolkit.loaded
    return Site(loaded.dataset, loaded.union(), toolkit.context, toolkit.loader)


@pytest.mark.parametrize("local, words", [
    ("datePublished", "date published"), ("worksFor", "works for"), ("name", "name"),
    ("iso3166Alpha2", "iso3166 alpha2"), ("addressCountry", "address country"), ("URL", "URL"),
])
def test_humanize(local, words):
    assert humanize(local) == words


def test_entity_iri_accepts_only_iris_we_mint():
    assert entity_iri("person", "vic-van-vuuren") == PERSON
    assert entity_iri("person", "Vic") is None
    assert entity_iri("unicorn", "x") is None
    assert entity_iri("person", "../../etc") is None


def test_entity_page_facts_have_words_links_and_sources(site):
    page = site.entity(PERSON, BASE)
    assert page.label == "Vic Van Vuuren"
    assert page.sentence.startswith("Vic Van Vuuren is a person in coopgraph")
    facts = {f.label: f for f in page.facts}
    assert [v.text for v in facts["name"].values] == ["Vic Van Vuuren"]
    keys = {key for key, _name, _href in facts["name"].values[0].sources}
    assert "ilo-listing" in keys
    roles = facts["works for"].values
    assert all(v.href.startswith(BASE + "id/role/") for v in roles)
    assert (("ilo-listing", site.label(SRC["ilo-listing"]), BASE + "source/ilo-listing") in page.sources)
    assert any(v.href == BASE + "id/event/catalysing-change-week-2022" for v, _p in page.incoming)
    assert json.loads(page.embed.split(">", 1)[1].rsplit("<", 1)[0])["@id"] == str(PERSON)


def test_unknown_entities_are_input_errors(site):
    with pytest.raises(InputError, match="no entity"):
        site.entity(URIRef("https://w3id.org/coopgraph/id/person/nobody"), BASE)


def test_source_page_lists_the_facts_of_its_graph(site, dataset):
    page = site.graph_page(SRC["ilo-listing"], BASE)
    assert page["is_source"] and page["triples"] == len(dataset.graph(SRC["ilo-listing"]))
    assert sum(len(rows) for _s, rows in page["subjects"]) == page["triples"]


def test_embed_block_for_every_entity_type(union, loader_for):
    """Every entity with a schema.org type gets a block; Google's rich-result types are unchanged."""
    from coopgraph import ids
    from coopgraph.namespaces import RDF
    kinds_seen = set()
    for iri in sorted({s for s in union.subjects(RDF.type, None) if ids.is_entity_iri(s)}):
        doc = embed_document(union, iri, loader_for, any_type=True)
        assert doc["@id"] == str(iri) and doc["@context"] == "https://schema.org"
        kinds_seen.add(ids.split(iri)[0])
    assert {"person", "organization", "place", "document", "topic", "item", "event"} <= kinds_seen
    assert SDO.Event in EMBEDDABLE


def test_embed_refuses_an_entity_without_a_schema_org_type(union, loader_for):
    with pytest.raises(InputError, match="no schema.org type"):
        embed_document(union, URIRef("https://w3id.org/coopgraph/ontology#Interview"), loader_for, any_type=True)


def test_cli_embed_any_type_prints_the_block_the_entity_page_embeds(union, loader_for):
    refused = run_cli("embed", "person:vic-van-vuuren")
    assert refused.exit_code == 2 and "--any-type" in refused.stderr
    result = run_cli("embed", "--any-type", "person:vic-van-vuuren")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith('<script type="application/ld+json">')
    doc = json.loads(result.stdout.split("\n", 1)[1].rsplit("</script>", 1)[0])
    assert doc == embed_document(union, PERSON, loader_for, any_type=True) and doc["@type"] == "Person"


@pytest.fixture(scope="module")
def loader_for(toolkit):
    return toolkit.loader
