"""Page records and `coopgraph ingest-pages`: records to graph, deterministic and reviewable.

tests/data/pages/ holds two records (a listing page and an item's own page, README there); the
tests copy them into a throw-away project and ingest them the way a curator does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Dataset, Literal, URIRef

from coopgraph.namespaces import ID, SDO, SOURCES_GRAPH, SRC, XSD

from conftest import ROOT, run_cli

PAGES = Path(__file__).parent / "data" / "pages"


def _with_records(project, *names: str) -> Path:
    folder = project.data_dir / "pages"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.yaml"):
        old.unlink()
    for generated in (project.data_dir / "ingested").glob("page-*.trig") if (project.data_dir / "ingested").is_dir() else []:
        generated.unlink()
    for name in names:
        shutil.copy(PAGES / name, folder / f"test-{Path(name).stem}.yaml")
    return folder


def _quads(path: Path) -> Dataset:
    ds = Dataset()
    ds.parse(path, format="trig")
    return ds


def test_a_listing_record_becomes_items_in_the_graph_of_its_page(project_copy):
    _with_records(project_copy, "listing.yaml")
    result = run_cli("ingest-pages", root=project_copy.root)
    assert result.exit_code == 0, result.output
    out = project_copy.data_dir / "ingested" / "page-test-listing.trig"
    assert "wrote:\n  data/ingested/page-test-listing.trig" in result.output
    ds = _quads(out)
    graph = ds.graph(SRC["page-test-listing"])
    item = ID["item/2017-09-27-dialogue-between-greek-international-cooperative"]
    assert (item, SDO.headline, Literal("A dialogue between Greek and international cooperative and SSE leaders", lang="en")) in graph
    assert (item, SDO.position, Literal(2)) in graph
    assert (item, SDO.spatialCoverage, ID["place/europe-and-central-asia"]) in graph
    assert (item, SDO.spatialCoverage, ID["place/greece"]) in graph
    # the country's name and code come from ISO 3166, in that source's graph, with its translations
    iso = ds.graph(SRC["iso-3166"])
    assert (ID["place/greece"], SDO.name, Literal("Grèce", lang="fr")) in iso
    assert (ID["place/greece"], SDO.name, Literal("Greece", lang="en")) not in graph
    # an entity the data has is referred to by its id, a new one is minted from its name
    first = ID["item/2017-09-27-ilo-coop-presents-role-cooperatives-overcoming"]
    assert (first, SDO.mentions, ID["organization/ilo-cooperatives-unit"]) in graph
    assert (first, SDO.mentions, ID["event/36th-session-of-the-human-rights-council"]) in graph
    # and the whole project still validates and builds
    assert run_cli("validate", root=project_copy.root).exit_code == 0


def test_the_same_records_give_the_same_bytes_and_a_second_run_writes_nothing(project_copy):
    _with_records(project_copy, "listing.yaml", "own-page.yaml")
    assert run_cli("ingest-pages", root=project_copy.root).exit_code == 0
    files = sorted((project_copy.data_dir / "ingested").glob("page-*.trig"))
    before = {p.name: p.read_bytes() for p in files}
    again = run_cli("ingest-pages", root=project_copy.root)
    assert again.exit_code == 0
    assert "nothing to write: every generated file is up to date" in again.output
    assert {p.name: p.read_bytes() for p in files} == before
    assert run_cli("ingest-pages", "--check", root=project_copy.root).exit_code == 0
    # a record changed: --check says so (exit 1) and writes nothing; --dry-run writes nothing
    record = project_copy.data_dir / "pages" / "test-listing.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("countries: [GR]", "countries: [GR, CY]"),
                      encoding="utf-8")
    check = run_cli("ingest-pages", "--check", root=project_copy.root)
    assert check.exit_code == 1 and "not up to date" in check.output
    assert run_cli("ingest-pages", "--dry-run", root=project_copy.root).exit_code == 0
    assert {p.name: p.read_bytes() for p in files} == before
    # a record removed: its generated file goes too
    record.unlink()
    result = run_cli("ingest-pages", root=project_copy.root)
    assert "removed (no record):\n  data/ingested/page-test-listing.trig" in result.output
    assert not (project_copy.data_dir / "ingested" / "page-test-listing.trig").exists()


def test_an_own_page_joins_its_listing_item_and_states_events_roles_and_documents(project_copy):
    _with_records(project_copy, "listing.yaml", "own-page.yaml")
    result = run_cli("ingest-pages", root=project_copy.root)
    assert result.exit_code == 0, result.output
    assert "the same item as item:2017-09-27-dialogue-between-greek-international-cooperative" in result.output
    ds = _quads(project_copy.data_dir / "ingested" / "page-test-own-page.trig")
    g = ds.graph(SRC["page-test-own-page"])
    item = ID["item/2017-09-27-dialogue-between-greek-international-cooperative"]
    assert (item, SDO.alternativeHeadline, None) in g and (item, SDO.headline, None) not in g
    assert (item, SDO.url, URIRef("https://www.ilo.org/global/topics/cooperatives/news/WCMS_000001/lang--en/index.htm")) in g
    assert (item, SDO.sourceOrganization, ID["organization/ilo-cooperatives-unit"]) in g
    event = ID["event/test-dialogue-of-cooperative-leaders"]
    assert (event, SDO.startDate, Literal("2017-09-20", datatype=XSD.date)) in g
    role = ID["role/test-dialogue-of-cooperative-leaders-vic-van-vuuren-speaker"]
    assert (event, SDO.performer, role) in g and (role, SDO.performer, ID["person/vic-van-vuuren"]) in g
    assert (role, SDO.namedPosition, Literal("Director of the ILO Enterprises Department", lang="en")) in g
    doc = ID["document/test-recommendation-2002-no-193"]
    assert (doc, SDO.legislationPassedBy, ID["organization/test-conference"]) in g
    assert (doc, SDO.name, Literal("Recommandation de test", lang="fr")) in g
    rows = run_cli("query", "event-roles", "--format", "csv", root=project_copy.root).stdout
    assert "test-dialogue-of-cooperative-leaders" in rows and "Director of the ILO Enterprises Department" in rows


def test_a_page_in_another_language_gives_the_item_its_headline_in_that_language(project_copy):
    _with_records(project_copy, "listing.yaml", "own-page.yaml", "translation.yaml")
    result = run_cli("ingest-pages", root=project_copy.root)
    assert result.exit_code == 0, result.output
    g = _quads(project_copy.data_dir / "ingested" / "page-test-translation.trig").graph(SRC["page-test-translation"])
    item = ID["item/2017-09-27-dialogue-between-greek-international-cooperative"]
    headline = Literal("Un dialogue entre dirigeants coopératifs grecs et internationaux", lang="fr")
    assert (item, SDO.headline, headline) in g
    assert (item, SDO.alternativeHeadline, None) not in g
    # the page is in French; its kind line is one of the ILO's English ones, so it stays English
    assert (item, SDO.inLanguage, Literal("fr")) in g and (item, SDO.genre, Literal("Article", lang="en")) in g
    # names of new entities are in the page's language, never relabelled as English
    assert (ID["organization/cooperative-de-test"], SDO.name, Literal("Coopérative de test", lang="fr")) in g
    assert (item, SDO.about, ID["organization/cooperative-de-test"]) in g
    # the item now has a headline in two languages, and the graph still validates
    assert run_cli("validate", root=project_copy.root).exit_code == 0
    rows = run_cli("query", "labels-by-language", "--format", "csv", root=project_copy.root).stdout
    assert "Un dialogue entre dirigeants" in rows


def test_a_reference_page_states_who_adopts_monitors_and_implements_a_text(project_copy):
    _with_records(project_copy, "reference.yaml")
    result = run_cli("ingest-pages", root=project_copy.root)
    assert result.exit_code == 0, result.output
    ds = _quads(project_copy.data_dir / "ingested" / "page-test-reference.trig")
    g = ds.graph(SRC["page-test-reference"])
    doc = ID["document/test-recommendation-2002-no-193"]
    assert (doc, SDO.legislationPassedBy, ID["organization/test-conference"]) in g
    assert (doc, SDO.legislationIdentifier, Literal("R-TEST")) in g
    assert (doc, SDO.identifier, Literal("TESTREG:000193")) in g
    assert (doc, SDO.citation, ID["document/luxembourg-declaration"]) in g
    assert (ID["event/test-session-of-the-test-conference"], SDO.workFeatured, doc) in g
    monitor = ID["action/test-monitoring-committee-monitors-test-recommendation-2002-no-193"]
    assert (monitor, SDO.agent, ID["organization/test-monitoring-committee"]) in g
    assert (monitor, SDO.object, doc) in g
    implement = ID["action/ilo-cooperatives-unit-implements-test-recommendation-2002-no-193"]
    assert (implement, SDO.agent, ID["organization/ilo-cooperatives-unit"]) in g
    # a reference page is no item: no headline, no listing; the source is named by the curator's label
    assert not list(g.subjects(SDO.headline, None))
    sources = ds.graph(SOURCES_GRAPH)
    source = SRC["page-test-reference"]
    names = [str(o) for o in sources.objects(source, SDO.name)]
    assert names and names[0].startswith("[Test register record"), names
    assert (source, SDO.publisher, ID["organization/test-standards-register"]) in sources
    assert run_cli("validate", root=project_copy.root).exit_code == 0
    rows = run_cli("query", "documents-and-items", "--format", "csv", root=project_copy.root).stdout
    assert "Test Monitoring Committee" in rows and "monitored by" in rows


@pytest.mark.parametrize("edit, words", [
    (("kind: reference", "kind: reference\nheadline: \"A headline\""), ["test-reference.yaml:", "headline", "not an item"]),
    (("symbol: \"R-TEST\"", "symbl: \"R-TEST\""), ["test-reference.yaml:", "documents[0].symbl", "not a field"]),
    (("read: 2026-12-06", "read: 2026-12-06\nlang: French"), ["test-reference.yaml:", "lang", "two-letter"]),
    (("    start: 2002-06-03", "    begin: 2002-06-03"), ["test-reference.yaml:", "events[0].begin", "not a field"]),
    (("{scheme: TESTREG, value:", "{value:"), ["test-reference.yaml:", "documents[0].identifiers[0]", "scheme"]),
])
def test_a_bad_reference_record_is_an_error_naming_the_field_and_writes_nothing(project_copy, edit, words):
    _assert_bad_record(project_copy, "reference", edit, words)


@pytest.mark.parametrize("edit, words", [
    (("date: 2017-09-27\n", "date: 2017-13-27\n"), ["test-listing.yaml:", "items[0].date", "not a date"]),
    (("countries: [GR]", "countries: [Greece]"), ["test-listing.yaml:", "items[1].countries[0]", "ISO 3166-1"]),
    (("id: organization/ilo-cooperatives-unit", "id: organization/no-such-unit"),
     ["test-listing.yaml:", "items[0].mentions[0].id", "not in the data"]),
    (("kind: listing", "kind: page"), ["test-listing.yaml:", "kind", "listing"]),
    (("    headline: \"A dialogue", "    title: \"A dialogue"), ["items[1].title", "not a field of a listing item"]),
    (("    headline: \"A dialogue", "    position_: 9\n    headline: \"A dialogue"), ["items[1].position_", "not a field"]),
    (("    headline: \"A dialogue between Greek and international cooperative and SSE leaders\"\n", ""),
     ["items[1].headline", "missing"]),
    (("items:\n", "items:\n  - [\n"), ["test-listing.yaml:", "not valid YAML"]),
])
def test_a_bad_record_is_an_error_naming_file_line_and_field_and_writes_nothing(project_copy, edit, words):
    _assert_bad_record(project_copy, "listing", edit, words)


def _assert_bad_record(project_copy, name: str, edit: tuple[str, str], words: list[str]) -> None:
    """tests/data/pages/NAME.yaml with edit[0] replaced by edit[1]: exit 2, the words, no file written."""
    record = _with_records(project_copy, f"{name}.yaml") / f"test-{name}.yaml"
    text = record.read_text(encoding="utf-8")
    assert edit[0] in text
    record.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    result = run_cli("ingest-pages", root=project_copy.root)
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output, result.output
    assert not (project_copy.data_dir / "ingested" / f"page-test-{name}.trig").exists()


def test_every_generated_file_of_the_project_is_up_to_date():
    """data/ingested/page-*.trig are generated from data/pages/*.yaml: never edited by hand."""
    result = run_cli("ingest-pages", "--check")
    assert result.exit_code == 0, result.output


def test_every_record_names_a_stored_public_page_and_the_day_it_was_read(project):
    from coopgraph.records import read_records
    for record in read_records(project):
        assert record.data["url"].startswith(("http://", "https://")), record.label
        assert str(record.data["read"]) >= "2026-11-01", record.label
