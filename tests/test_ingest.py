"""coopgraph ingest: new items in, nothing duplicated, changes reported, bad input refused with
nothing written, and a killed or failing ingest leaves data/ byte-identical."""

from __future__ import annotations

import datetime as dt
import signal
import time

import pytest
from rdflib import Literal, URIRef

from coopgraph import ids
from coopgraph.build import load
from coopgraph.ingest import ingest, names_in, plan_ingest
from coopgraph.namespaces import COOP, RDF, SDO, SOURCES_GRAPH, XSD
from coopgraph.project import Project

from conftest import run_cli
from publishing import INGEST_DATA, LISTING, LISTING_URL, copy_project, coopgraph, snapshot, start

DAY = "2026-01-10"
ILO = URIRef("https://w3id.org/coopgraph/id/organization/ilo")


@pytest.fixture()
def proj(tmp_path):
    return Project(copy_project(tmp_path / "p"))


def _ingest(project, path, *extra, retrieved=DAY, url=LISTING_URL):
    args = ["ingest", str(path), "--retrieved", retrieved]
    if url:
        args += ["--url", url]
    return run_cli(*args, *extra, root=project.root)


def _items(graph):
    return {s for s in graph.subjects(SDO.headline, None) if str(s).startswith(str(ids.ID) + "item/")}


# ----------------------------------------------------------------------------- the real listing

#: Compared on every item: what ingest reads off the listing. Not compared: schema:about and
#: schema:mentions (curated by hand), schema:isPartOf and schema:publisher (the listing page and
#: the ILO entity are curated data; an empty data folder has neither).
COMPARED = (SDO.headline, SDO.datePublished, SDO.genre, SDO.description, SDO.inLanguage)
#: Items the curators typed more precisely than the category line allows, with why.
HAND_TYPED = {
    # listed as "News" but a list of references, not a news article
    ids.mint("item", "2022-05-04-select-references-decent-work-social-solidarity"),
}
#: Values the curators wrote that the listing does not show, with why.
HAND_WRITTEN = {
    # the job posting needs a description (Google JobPosting); the listing shows none for item 9
    (ids.mint("item", "2022-03-01-call-national-consultant-evaluate-make"), SDO.description),
}


def test_ingesting_the_real_listing_into_an_empty_data_folder_reproduces_the_curated_items(tmp_path, dataset):
    empty = Project(copy_project(tmp_path / "empty", data=False))
    # The project's shapes cannot pass here: an empty data folder has none of the entities they
    # require (the publisher, the people an interview is about), so `coopgraph ingest` would refuse
    # and write nothing. The library's check_shapes=False writes the items so they can be compared.
    ingest(empty, LISTING, url=LISTING_URL, retrieved=dt.date(2026, 1, 10), publisher=ILO, check_shapes=False)
    ingested = load(empty).union()
    curated = dataset.graph(URIRef(f"{ids.SRC}ilo-listing"))  # what the curators read off the listing
    assert _items(ingested) == _items(curated) and len(_items(curated)) == 10
    for item in sorted(_items(curated)):
        for prop in COMPARED:
            expected = set() if (item, prop) in HAND_WRITTEN else set(curated.objects(item, prop))
            assert set(ingested.objects(item, prop)) == expected, (item, prop)
        derived = set(ingested.objects(item, RDF.type))
        curated_types = set(curated.objects(item, RDF.type))
        if item in HAND_TYPED:
            assert derived == {SDO.NewsArticle} and SDO.NewsArticle not in curated_types
        else:
            assert derived and derived <= curated_types, (item, derived, curated_types)
        assert set(ingested.objects(item, SDO.publisher)) == {ILO}


def test_ingesting_the_real_listing_into_the_real_data_changes_nothing(proj):
    before = snapshot(proj.data_dir)
    result = _ingest(proj, LISTING)
    assert result.exit_code == 0, result.output
    assert "0 new, 10 already in the data, 0 change(s) for review" in result.output
    assert "nothing to write" in result.output
    assert snapshot(proj.data_dir) == before


# ----------------------------------------------------------------------------- new items

NEW_IN_LONGER = {ids.mint("item", "2022-10-03-ilo-cooperatives-europe-discuss-cooperative"),
                 ids.mint("item", "2022-09-15-presentation-invented-test-toolkit-cooperative")}


def test_a_longer_listing_adds_exactly_its_two_new_items_with_their_provenance(proj, union):
    before = snapshot(proj.data_dir)
    result = _ingest(proj, INGEST_DATA / "listing-longer.txt", retrieved="2026-02-01")
    assert result.exit_code == 0, result.output
    assert "2 new, 10 already in the data, 0 change(s) for review" in result.output
    key = "listing-ilo-org-global-topics-cooperatives-regions-europe-nextrow-30-2026-02-01"
    after = snapshot(proj.data_dir)
    assert set(after) - set(before) == {f"ingested/{key}.trig", f"raw/{key}.txt"}
    assert {k: after[k] for k in before} == before, "hand-edited files untouched"
    assert after[f"raw/{key}.txt"] == (INGEST_DATA / "listing-longer.txt").read_bytes()
    loaded = load(proj)
    graph = loaded.union()
    assert _items(graph) - _items(union) == NEW_IN_LONGER
    source = ids.source_iri(key)
    described = loaded.dataset.graph(SOURCES_GRAPH)
    assert (source, RDF.type, COOP.Source) in described
    assert (source, SDO.url, URIRef(LISTING_URL)) in described
    assert (source, COOP.dateRetrieved, Literal("2026-02-01", datatype=XSD.date)) in described
    assert (source, COOP.localCopy, Literal(f"data/raw/{key}.txt")) in described
    import hashlib
    assert (source, COOP.sha256, Literal(hashlib.sha256(after[f"raw/{key}.txt"]).hexdigest())) in described
    facts = loaded.dataset.graph(source)
    new = ids.mint("item", "2022-10-03-ilo-cooperatives-europe-discuss-cooperative")
    assert (new, RDF.type, SDO.NewsArticle) in facts
    assert (new, SDO.datePublished, Literal("2022-10-03", datatype=XSD.date)) in facts
    assert (new, SDO.isPartOf, ids.mint("webpage", "ilo-cooperatives-europe-central-asia-nextrow-30")) in facts
    assert (new, SDO.publisher, ILO) in facts  # the listing page's publisher
    pres = ids.mint("item", "2022-09-15-presentation-invented-test-toolkit-cooperative")
    assert (pres, RDF.type, SDO.PresentationDigitalDocument) in facts
    assert set(facts.subjects()) == NEW_IN_LONGER, "matched items are not written again"
    # entities the new items name that the data lacks are listed, not invented
    assert "Jane Example of the Nordic Housing Federation" in result.output
    assert "FAKECOOP" in result.output and "NHF" in result.output
    assert "Cooperatives Europe  (" not in result.output  # known: an organisation's name
    assert run_cli("validate", root=proj.root).exit_code == 0


def test_the_same_source_twice_changes_nothing(proj):
    assert _ingest(proj, INGEST_DATA / "listing-longer.txt").exit_code == 0
    once = snapshot(proj.data_dir)
    again = _ingest(proj, INGEST_DATA / "listing-longer.txt")
    assert again.exit_code == 0 and "0 new, 12 already in the data" in again.output
    later = _ingest(proj, INGEST_DATA / "listing-longer.txt", retrieved="2026-03-01")
    assert later.exit_code == 0 and "nothing to write" in later.output
    assert snapshot(proj.data_dir) == once


def test_shuffled_items_and_changed_whitespace_are_matched_not_duplicated(proj):
    before = snapshot(proj.data_dir)
    result = _ingest(proj, INGEST_DATA / "listing-shuffled-whitespace.txt")
    assert result.exit_code == 0, result.output
    assert "0 new, 10 already in the data, 0 change(s) for review" in result.output
    assert snapshot(proj.data_dir) == before


def test_changed_titles_dates_and_descriptions_are_reported_for_review_never_written(proj):
    before = snapshot(proj.data_dir)
    result = _ingest(proj, INGEST_DATA / "listing-changed.txt")
    assert result.exit_code == 1, result.output
    out = result.output
    assert "0 new, 8 already in the data, 4 change(s) for review" in out
    # same key, other text: the headline (words past the key) and the description
    assert "item:2022-05-10-ilo-untfsse-participation-conference-social: the headline changed" in out
    assert "item:2022-07-29-ilo-participates-conference-social-economy-primacy: the description changed" in out
    # another key: a similar headline on the same date, the same headline on another date
    assert "same date as item:2022-05-17-ilo-untfsse-participate-catalysing-change-week and a similar headline" in out
    assert "same headline as item:2022-03-28-ilo-untfsse-participated-pact-impacts-event-social with another date" in out
    assert "-> '2022-03-29'" in out
    assert snapshot(proj.data_dir) == before


def test_feeds_rss_then_atom_add_the_same_two_items_once(proj):
    rss = _ingest(proj, INGEST_DATA / "news.rss", url=None)
    assert rss.exit_code == 0, rss.output
    assert "2 new, 1 already in the data" in rss.output
    assert "src:feed-example-org-coopgraph-tests-ilo-coop-europe-rss-2026-01-10" in rss.output
    atom = _ingest(proj, INGEST_DATA / "news.atom", url=None)
    assert atom.exit_code == 0 and "0 new, 3 already in the data" in atom.output
    graph = load(proj).union()
    roundtable = ids.mint("item", "2022-10-10-invented-test-item-cooperative-housing-roundtable")
    assert (roundtable, SDO.url, URIRef("https://example.org/coopgraph-tests/news/housing-roundtable")) in graph
    assert (roundtable, SDO.headline, Literal("Invented test item: cooperative housing roundtable with "
                                              "<Cooperatives Europe>", lang="en")) in graph


def test_dry_run_shows_the_file_and_writes_nothing(proj):
    before = snapshot(proj.data_dir)
    result = _ingest(proj, INGEST_DATA / "listing-longer.txt", "--dry-run")
    assert result.exit_code == 0
    assert "would write:" in result.output and "(would be written)" in result.output
    assert "item:2022-10-03-ilo-cooperatives-europe-discuss-cooperative a schema:NewsArticle" in result.output
    assert snapshot(proj.data_dir) == before


@pytest.mark.parametrize("name", sorted(p.name for p in (INGEST_DATA / "bad").iterdir()))
def test_bad_input_exits_2_names_the_line_and_writes_nothing(proj, name):
    before = snapshot(proj.data_dir)
    path = INGEST_DATA / "bad" / name
    result = _ingest(proj, path)
    assert result.exit_code == 2, result.output
    assert f"error: {path}:" in result.output
    assert snapshot(proj.data_dir) == before


def test_a_text_listing_needs_its_address_and_nothing_is_fetched(proj):
    result = _ingest(proj, INGEST_DATA / "listing-longer.txt", url=None)
    assert result.exit_code == 2 and "give it with --url" in result.output
    result = run_cli("ingest", LISTING_URL, "--retrieved", DAY, root=proj.root)
    assert result.exit_code == 2 and "never fetches" in result.output


def test_new_items_that_fail_the_shapes_are_refused_and_nothing_is_written(proj):
    # A stricter project rule: every news article must say what it is about (ingest cannot know).
    (proj.shapes_dir / "zz-test-news-about.ttl").write_text("""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
<urn:test:NewsAbout> a sh:NodeShape ; sh:targetClass schema:NewsArticle ;
    sh:property [ sh:path schema:about ; sh:minCount 1 ; sh:message "say what the news is about" ] .
""", encoding="utf-8")
    before = snapshot(proj.data_dir)
    result = _ingest(proj, INGEST_DATA / "listing-longer.txt")
    assert result.exit_code == 1, result.output
    assert "would not conform to the shapes; nothing was written" in result.output
    assert "item:2022-10-03-ilo-cooperatives-europe-discuss-cooperative" in result.output
    assert "say what the news is about" in result.output
    assert snapshot(proj.data_dir) == before
    dry = _ingest(proj, INGEST_DATA / "listing-longer.txt", "--dry-run")
    assert dry.exit_code == 1 and "(would be written)" in dry.output  # the curator can complete it
    assert "would not conform to the shapes" in dry.output
    assert snapshot(proj.data_dir) == before


def test_names_for_curation():
    text = "The ILO and the UNTFSSE participated in Pact for Impact’s event with Mr Vic van Vuuren on 4 March"
    assert names_in(text) == ["Pact for Impact", "Vic van Vuuren", "ILO", "UNTFSSE"]


def test_plan_matches_by_key_whatever_the_page_order(proj):
    plan = plan_ingest(proj, INGEST_DATA / "listing-shuffled-whitespace.txt", url=LISTING_URL,
                       retrieved=dt.date(2026, 1, 10), check_shapes=False)
    assert len(plan.matched) == 10 and not plan.new and not plan.files
    assert {iri for _item, iri in plan.matched} == _items(load(proj).dataset.graph(ids.source_iri("ilo-listing")))


# ----------------------------------------------------------------------------- interruptions

def test_a_fault_between_files_leaves_data_byte_identical_and_no_temporary_files(proj):
    before = snapshot(proj.data_dir)
    result = coopgraph("--root", str(proj.root), "ingest", str(INGEST_DATA / "listing-longer.txt"),
                       "--url", LISTING_URL, "--retrieved", DAY, env={"COOPGRAPH_FAULT": "write_all:staged"})
    assert result.returncode == 1, result.stderr
    assert "fault injected at write_all:staged" in result.stderr
    assert snapshot(proj.data_dir) == before  # snapshot lists hidden files too: no .tmp left


def _kill_while_writing(proj, sig):
    before = snapshot(proj.data_dir)
    process = start("--root", str(proj.root), "ingest", str(INGEST_DATA / "listing-longer.txt"), "--url",
                    LISTING_URL, "--retrieved", DAY, env={"COOPGRAPH_FAULT": "write_all:staged:sleep"})
    deadline = time.monotonic() + 120
    staged = []
    while time.monotonic() < deadline and not staged and process.poll() is None:
        staged = [p for p in proj.data_dir.rglob(".*.tmp")]
        time.sleep(0.05)
    assert staged, "the ingest should have staged a temporary file before the fault point"
    process.send_signal(sig)
    process.wait(timeout=60)
    return before, staged, process


def test_an_ingest_killed_with_sigterm_midway_leaves_data_byte_identical_and_no_temporary_files(proj):
    before, _staged, process = _kill_while_writing(proj, signal.SIGTERM)
    assert process.returncode == 128 + signal.SIGTERM
    assert snapshot(proj.data_dir) == before


def test_an_ingest_killed_with_sigkill_midway_leaves_data_intact_and_the_next_run_cleans_up(proj):
    before, staged, process = _kill_while_writing(proj, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    after = snapshot(proj.data_dir)
    leftovers = set(after) - set(before)
    assert leftovers == {p.relative_to(proj.data_dir).as_posix() for p in staged}
    assert all(name.rsplit("/", 1)[-1].startswith(".") and name.endswith(".tmp") for name in leftovers)
    assert {k: after[k] for k in before} == before
    assert run_cli("build", "--out", str(proj.root / "dist"), root=proj.root).exit_code == 0  # hidden: ignored
    result = _ingest(proj, INGEST_DATA / "listing-longer.txt")
    assert result.exit_code == 0, result.output
    assert not list(proj.data_dir.rglob(".*.tmp")), "the next ingest removed what the killed one left"


def test_a_second_retrieval_the_same_day_with_more_items_is_refused_not_merged(proj, tmp_path):
    assert _ingest(proj, INGEST_DATA / "listing-longer.txt").exit_code == 0
    before = snapshot(proj.data_dir)
    text = (INGEST_DATA / "listing-longer.txt").read_text(encoding="utf-8")
    more = tmp_path / "more.txt"  # one more invented test item on top
    more.write_text(text.replace("  1. News\n", "  0. News\n\n    Invented test item: a third one\n\n"
                                 "    20 October 2022\n\n  1. News\n", 1), encoding="utf-8")
    result = _ingest(proj, more)
    assert result.exit_code == 1, result.output
    assert "is already in the data with other items; give another --retrieved date" in result.output
    assert snapshot(proj.data_dir) == before
    assert _ingest(proj, more, retrieved="2026-01-11").exit_code == 0
