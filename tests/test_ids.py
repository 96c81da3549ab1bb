"""IRI minting: slugs, item keys, and that the curated items use the keys ids.py computes."""

from __future__ import annotations

import re

import pytest
from rdflib import URIRef

from coopgraph import ids
from coopgraph.namespaces import SDO, SRC


def test_slugify_folds_accents_and_turkish_letters():
    assert ids.slugify("Ticaret Bakanlığı") == "ticaret-bakanligi"
    assert ids.slugify("Palais de la Musique et des Congrès") == "palais-de-la-musique-et-des-congres"
    assert ids.slugify("  “Social Economy: Primacy of People”  ") == "social-economy-primacy-of-people"


def test_item_slug_ignores_case_quotes_punctuation_and_whitespace():
    a = ids.item_slug("2022-07-29", "ILO participates in the conference “Social Economy: Primacy of People”")
    b = ids.item_slug("2022-07-29", 'ilo  participates in the conference "Social economy - primacy of people"')
    assert a == b == "2022-07-29-ilo-participates-conference-social-economy-primacy"


def test_item_slug_stays_short():
    slug = ids.item_slug("2022-03-01", "Call for a national consultant to evaluate and make recommendations "
                                       "on the Guidelines concerning Statistics of Cooperatives in Turkey")
    assert len(slug) <= len("2022-03-01-") + ids.ITEM_SLUG_MAX


@pytest.mark.parametrize("bad", ["", "Bad Slug", "a--b", "-a", "a_b", "é"])
def test_mint_refuses_bad_slugs(bad):
    with pytest.raises(ValueError, match="bad slug"):
        ids.mint("event", bad)


def test_mint_refuses_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        ids.mint("thing", "x")


def test_split_round_trips():
    iri = ids.mint("place", "trento")
    assert ids.split(iri) == ("place", "trento")
    assert ids.is_entity_iri(iri)
    assert not ids.is_entity_iri("https://w3id.org/coopgraph/id/place/Trento")


def test_every_curated_item_iri_is_its_key(dataset):
    listing = dataset.graph(SRC["ilo-listing"])
    items = [s for s in listing.subjects(SDO.datePublished, None) if "/id/item/" in s]
    assert len(items) == 10
    for item in items:
        date = listing.value(item, SDO.datePublished)
        headline = listing.value(item, SDO.headline)
        assert item == ids.item_iri(str(date), str(headline)), f"{item} should be {ids.item_iri(str(date), str(headline))}"


def test_every_iri_under_id_is_well_formed(union):
    bad = sorted({str(t) for triple in union for t in triple
                  if isinstance(t, URIRef) and str(t).startswith(str(ids.ID)) and not ids.is_entity_iri(t)})
    assert bad == []


def test_entity_prefixes_in_data_files_match_ids(project):
    """Every data and ontology file declares entity prefixes exactly as ids.KINDS mints them."""
    expected = ids.prefixes()
    declared = re.compile(r"@prefix\s+([\w-]+):\s*<([^>]+)>")
    for path in sorted(project.data_dir.glob("*.trig")) + sorted(project.ontology_dir.glob("*.ttl")):
        for prefix, ns in declared.findall(path.read_text(encoding="utf-8")):
            if ns.startswith(str(ids.ID)):
                assert expected.get(prefix) == ns, f"{path.name}: @prefix {prefix}: <{ns}> does not match ids.py"
