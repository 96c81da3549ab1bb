"""Sources to graph: the real data loads, matches its sources, and bad input is named precisely."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from coopgraph.build import graph_names, load
from coopgraph.errors import InputError
from coopgraph.namespaces import COOP, ONTOLOGY_GRAPH, SDO, SOURCES_GRAPH, SRC, XSD

ROOT = Path(__file__).resolve().parents[1]


def parse_listing(text: str) -> list[dict]:
    """The ten items of the raw listing: number, category, headline, date, description."""
    items = []
    blocks = re.split(r"^\s*(\d+)\.\s+", text, flags=re.MULTILINE)[1:]
    for number, block in zip(blocks[::2], blocks[1::2]):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        category, headline, date, *rest = lines
        items.append({"n": int(number), "category": category, "headline": headline,
                      "date": date, "description": " ".join(rest) or None})
    return items


def test_raw_sources_are_unchanged_copies(dataset):
    """data/raw/ holds the sources byte for byte as recorded (sha256) in data/sources.trig."""
    sources = dataset.graph(SOURCES_GRAPH)
    copies = list(sources.subject_objects(COOP.localCopy))
    assert len(copies) == 2
    for source, path in copies:
        digest = hashlib.sha256((ROOT / str(path)).read_bytes()).hexdigest()
        assert str(sources.value(source, COOP.sha256)) == digest, f"{path} changed since it was recorded"


def test_every_listing_item_is_in_the_graph_as_written(dataset):
    """Each of the ten items of the raw listing is an item with its exact headline, date and text."""
    import datetime as dt
    listing = dataset.graph(SRC["ilo-listing"])
    raw = parse_listing((ROOT / "data/raw/ilo-coop-europe-listing.txt").read_text(encoding="utf-8"))
    assert len(raw) == 10
    for entry in raw:
        date = dt.datetime.strptime(entry["date"], "%d %B %Y").date()
        matches = list(listing.subjects(SDO.headline, Literal(entry["headline"], lang="en")))
        assert len(matches) == 1, entry["headline"]
        item = matches[0]
        assert listing.value(item, SDO.datePublished) == Literal(date.isoformat(), datatype=XSD.date)
        assert str(listing.value(item, SDO.genre)) == entry["category"]
        if entry["description"]:
            assert str(listing.value(item, SDO.description)) == entry["description"]
        else:
            assert listing.value(item, SDO.description) is None or (item, None, SDO.JobPosting) in listing


def test_one_named_graph_per_source(dataset):
    names = graph_names(dataset)
    assert ONTOLOGY_GRAPH in names and SOURCES_GRAPH in names
    sources = {s for s in dataset.graph(SOURCES_GRAPH).subjects(None, COOP.Source)}
    data_graphs = {g for g in names if str(g).startswith(str(SRC))}
    assert data_graphs <= sources, "every data graph is a described source"
    assert len(data_graphs) >= 20


def test_facts_from_research_are_in_the_graph_of_their_source(dataset):
    trento = URIRef("https://w3id.org/coopgraph/id/event/trento-2022-social-economy-primacy-of-people")
    press = dataset.graph(SRC["trento-press-release-2183"])
    assert press.value(trento, SDO.startDate) == Literal("2022-07-15T10:00:00+02:00", datatype=XSD.dateTime)
    assert Literal("L'economia sociale è la persona al centro", lang="it") in set(press.objects(trento, SDO.name))
    # the listing gives the publication date of the item, never the event date
    assert dataset.graph(SRC["ilo-listing"]).value(trento, SDO.startDate) is None


def _write(project, name, text):
    (project.data_dir / name).write_text(text, encoding="utf-8")


def test_broken_turtle_names_file_and_line(project_copy):
    path = project_copy.data_dir / "items.trig"
    lines = path.read_text(encoding="utf-8").splitlines()
    target = next(i for i, line in enumerate(lines) if "schema:genre" in line)
    lines[target] = lines[target].replace(" ;", " ;;;; @@@")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load(project_copy)
    assert re.search(r"data/items\.trig:\d+: syntax error", info.value.message), info.value.message
    line = int(re.search(r"items\.trig:(\d+)", info.value.message).group(1))
    assert abs(line - (target + 1)) <= 1


def test_triples_outside_a_graph_are_refused(project_copy):
    _write(project_copy, "zz-extra.trig",
           "@prefix schema: <http://schema.org/> .\n<https://w3id.org/coopgraph/id/place/x> schema:name \"X\"@en .\n")
    with pytest.raises(InputError, match="outside a GRAPH block"):
        load(project_copy)


def test_undeclared_source_graph_is_refused(project_copy):
    _write(project_copy, "zz-extra.trig",
           "@prefix schema: <http://schema.org/> .\n@prefix src: <https://w3id.org/coopgraph/source/> .\n"
           "src:made-up { <https://w3id.org/coopgraph/id/place/x> schema:name \"X\"@en . }\n")
    with pytest.raises(InputError, match=r"zz-extra\.trig: graph src:made-up is not described in data/sources\.trig"):
        load(project_copy)


def test_blank_nodes_are_refused(project_copy):
    _write(project_copy, "zz-extra.trig",
           "@prefix schema: <http://schema.org/> .\n@prefix src: <https://w3id.org/coopgraph/source/> .\n"
           "src:ilo-listing { <https://w3id.org/coopgraph/id/place/x> schema:geo [ schema:latitude 1 ] . }\n")
    with pytest.raises(InputError, match="blank node"):
        load(project_copy)


def test_missing_data_folder_files_is_a_clear_error(project_copy):
    for path in project_copy.data_dir.rglob("*.trig"):
        path.unlink()
    with pytest.raises(InputError, match="no \\*.trig files"):
        load(project_copy)
