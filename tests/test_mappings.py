"""Mapping sets (data/mappings/*.sssom.tsv): the strict reader, the triples they give, no link lost."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Dataset, URIRef

from coopgraph import mappings
from coopgraph.build import load
from coopgraph.errors import InputError
from coopgraph.namespaces import SDO, SKOS, SRC
from coopgraph.project import Project

ROOT = Path(__file__).resolve().parents[1]

BASELINE = ROOT / "tests" / "data" / "mappings-baseline"
MAPPING_FILES = sorted((ROOT / "data" / "mappings").glob("*.sssom.tsv"))


@pytest.fixture()
def data_copy(tmp_path) -> Project:
    """A throw-away copy of ontology/ and data/ (enough to load the graph)."""
    for name in ("ontology", "data"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return Project(tmp_path)


def _links(ds: Dataset, predicate: URIRef) -> set[tuple[str, str, str]]:
    return {(str(s), str(o), str(g)) for s, _p, o, g in ds.quads((None, predicate, None, None))}


# ----------------------------------------------------------------------------- nothing lost

def test_every_link_of_the_foundation_is_still_there_in_the_same_source_graph(dataset):
    """The schema:sameAs quads before the move (frozen copy, see tests/data/README.md) equal those built now."""
    before = Dataset()
    for name in ("organizations.trig", "places.trig"):
        before.parse(BASELINE / name, format="trig")
    old = _links(before, SDO.sameAs)
    assert len(old) == 25  # 14 Wikidata, 10 GeoNames, 1 ROR: the count of the frozen files
    assert _links(dataset, SDO.sameAs) == old


def test_identity_links_come_with_skos_exact_match_in_the_same_graph(dataset):
    assert _links(dataset, SKOS.exactMatch) == _links(dataset, SDO.sameAs)


def test_data_files_no_longer_write_links_by_hand():
    for path in sorted((ROOT / "data").glob("*.trig")):
        assert "schema:sameAs" not in path.read_text(encoding="utf-8"), path


#: Mapping sets whose source is a published vocabulary file (schema:isBasedOn in data/sources.trig).
VOCABULARY_SOURCES = {str(SRC["essglobal-themes"])}


def test_every_identifier_is_written_in_research_notes():
    """Never invent an identifier: each object of each set appears in data/raw/RESEARCH.md, or, for a
    set whose source is a published vocabulary, in the row's comment that cites it."""
    research = (ROOT / "data" / "raw" / "RESEARCH.md").read_text(encoding="utf-8")
    table = {line.split("|")[1].strip(): line for line in research.splitlines() if line.startswith("| ")}
    for path in MAPPING_FILES:
        mset = mappings.read(path)
        provider = str(mset.header["mapping_provider"])
        if provider in VOCABULARY_SOURCES:
            # a vocabulary read where it is published (the source is based on that file): each row's
            # comment cites the identifier and the labels the file gives it
            for m in mset.rows:
                local = re.sub(r"^.*[/:#]", "", str(m.object).rstrip("/"))
                assert re.search(rf"\b{re.escape(local)}\b", m.values["comment"]), \
                    f"{path.name}:{m.line}: the comment does not cite {local} as the page gives it"
            continue
        for m in mset.rows:
            local = re.sub(r"^.*[/:]", "", str(m.object).rstrip("/"))
            row = m.values["comment"].split('row "', 1)[1].split('"', 1)[0]
            assert row in table, f"{path.name}:{m.line} cites a row RESEARCH.md does not have: {row}"
            assert re.search(rf"\b{re.escape(local)}\b", table[row]), f"{path.name}:{m.line}: {local} not in {row}"
            assert "not found" not in table[row].split("|")[2] or "Wikidata" not in str(m.object)


def test_entities_marked_not_found_have_no_wikidata_link(dataset):
    for slug in ("ilo-enterprises-department", "ilo-cooperatives-unit", "untfsse", "ica", "cooperatives-europe",
                 "ministry-of-trade-turkey", "pact-for-impact", "monitoring-committee-luxembourg-declaration"):
        iri = URIRef(f"https://w3id.org/coopgraph/id/organization/{slug}")
        assert not list(dataset.quads((iri, SDO.sameAs, None, None))), slug


# ----------------------------------------------------------------------------- sssom-py

@pytest.mark.parametrize("path", MAPPING_FILES, ids=lambda p: p.name)
def test_mapping_set_validates_with_sssom_py(path, caplog):
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate as sssom_validate
    with caplog.at_level(logging.WARNING):
        msdf = parse_sssom_table(path)
    complaints = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not complaints, complaints
    reports = sssom_validate(msdf, fail_on_error=False)
    assert all(not report.results for report in reports.values()), reports
    assert len(msdf.df) == len(mappings.read(path).rows)


def test_sssom_py_catches_a_broken_set(tmp_path):
    """The check above can fail: a row with a justification SEMAPV does not have is reported."""
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate as sssom_validate
    text = MAPPING_FILES[0].read_text(encoding="utf-8").replace("semapv:ManualMappingCuration", "semapv:Guesswork", 1)
    broken = tmp_path / "broken.sssom.tsv"
    broken.write_text(text, encoding="utf-8")
    reports = sssom_validate(parse_sssom_table(broken), fail_on_error=False)
    assert any(report.results for report in reports.values())


# ----------------------------------------------------------------------------- the strict reader

def _edit(project: Project, name: str, old: str, new: str, count: int = 1) -> Path:
    path = project.data_dir / "mappings" / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return n
    raise AssertionError(needle)


@pytest.mark.parametrize("old,new,needle,expected", [
    ("wikidata:Q54129", "wd:Q54129", "wd:Q54129", "unknown CURIE prefix 'wd'"),
    ("skos:exactMatch\twikidata:Q54129", "owl:sameAs\twikidata:Q54129", "owl:sameAs", "predicate_id 'owl:sameAs' is not one we build"),
    ("wikidata:Q54129", "wikidata:P31", "wikidata:P31", "not a well-formed Wikidata item IRI"),
    ("wikidata:Q54129", "wikidata:Q054129", "wikidata:Q054129", "not a well-formed Wikidata item IRI"),
    ("organization:ilo\t", "organization:ilo-typo\t", "organization:ilo-typo", "is not an entity of the graph"),
    ("organization:ilo\t", "organization:Bad_Slug\t", "organization:Bad_Slug", "is not one of our entities"),
    ("semapv:ManualMappingCuration", "semapv:Guesswork", "semapv:Guesswork", "not a SEMAPV justification"),
    ("wikidata:Q54129", "http://www.wikidata.org/entity/Q54129", "http://www.wikidata.org/entity/Q54129", "is not a CURIE"),
    ("wikidata:Q8880", "wikidata:Q54129", "organization:european-commission\t", "is already the identity of organization:ilo"),
    ("ManualMappingCuration", "LexicalMatching", "organization:european-commission\t", "nobody reviewed"),
])
def test_bad_row_is_refused_with_file_and_line(data_copy, old, new, needle, expected):
    path = _edit(data_copy, "wikidata.sssom.tsv", old, new)
    if expected == "nobody reviewed":  # the first data row, whichever it is
        needle = path.read_text(encoding="utf-8").splitlines()[_first_data_line(path) - 1].split("\t")[0] + "\t"
    with pytest.raises(InputError) as info:
        load(data_copy)
    line = _line_of(path, needle)
    assert f"data/mappings/wikidata.sssom.tsv:{line}:" in info.value.message
    assert expected in info.value.message


def _first_data_line(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    return header + 2


def test_missing_required_column_is_refused(data_copy):
    path = data_copy.data_dir / "mappings" / "ror.sssom.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    cols = lines[header].split("\t")
    drop = cols.index("mapping_justification")
    path.write_text("\n".join(lines[:header] + ["\t".join(c for j, c in enumerate(line.split("\t")) if j != drop)
                                                for line in lines[header:]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"ror.sssom.tsv:{header + 1}: missing required column 'mapping_justification'"):
        load(data_copy)


def test_wrong_number_of_fields_is_refused(data_copy):
    path = _edit(data_copy, "ror.sssom.tsv", "skos:exactMatch\tror:", "skos:exactMatch\t\tror:")
    with pytest.raises(InputError, match=rf"ror.sssom.tsv:{_first_data_line(path)}: 8 fields, the column header has 7"):
        load(data_copy)


def test_duplicate_row_is_refused(data_copy):
    path = data_copy.data_dir / "mappings" / "ror.sssom.tsv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + text.splitlines()[-1] + "\n", encoding="utf-8")
    first = _first_data_line(path)
    with pytest.raises(InputError, match=rf"ror.sssom.tsv:{first + 1}: the same mapping as line {first}"):
        load(data_copy)


@pytest.mark.parametrize("old,new,expected", [
    ("# mapping_provider: https://w3id.org/coopgraph/source/ror\n", "", "header misses mapping_provider"),
    ("# license: https://creativecommons.org/licenses/by/4.0/\n", "", "header misses license"),
    ("source/ror\n", "source/nowhere\n", "source src:nowhere is not described in data/sources.trig"),
    ("#   ror: https://ror.org/\n", "#   ror https://ror.org/\n", "the YAML header does not parse"),
    ("# identity_links: true", "# identity_links: yes please", "identity_links must be true or false"),
    ("# mapping_set_title:", "# title:", "unknown header key 'title'"),
])
def test_bad_header_is_refused(data_copy, old, new, expected):
    _edit(data_copy, "ror.sssom.tsv", old, new)
    with pytest.raises(InputError) as info:
        load(data_copy)
    assert info.value.message.startswith("data/mappings/ror.sssom.tsv:")
    assert expected in info.value.message


# ----------------------------------------------------------------------------- the triples

def test_close_match_gives_no_same_as(data_copy):
    _edit(data_copy, "ror.sssom.tsv", "skos:exactMatch\tror:", "skos:closeMatch\tror:")
    ds = load(data_copy).dataset
    ec, ror = URIRef("https://w3id.org/coopgraph/id/organization/european-commission"), URIRef("https://ror.org/00k4n6c32")
    assert (ec, SKOS.closeMatch, ror) in ds.graph(SRC["ror"])
    assert (ec, SDO.sameAs, ror) not in ds.graph(SRC["ror"])


def test_a_set_without_identity_links_gives_skos_only(data_copy):
    _edit(data_copy, "ror.sssom.tsv", "# identity_links: true", "# identity_links: false")
    ds = load(data_copy).dataset
    assert not list(ds.quads((None, SDO.sameAs, URIRef("https://ror.org/00k4n6c32"), None)))
    assert list(ds.quads((None, SKOS.exactMatch, URIRef("https://ror.org/00k4n6c32"), None)))


def test_a_rejected_pair_gives_no_triple(data_copy):
    path = data_copy.data_dir / "mappings" / "ror.sssom.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    lines[header] = lines[header].replace("predicate_id\t", "predicate_id\tpredicate_modifier\t")
    lines[header + 1] = lines[header + 1].replace("skos:exactMatch\t", "skos:exactMatch\tNot\t")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = load(data_copy).dataset
    assert not list(ds.quads((None, None, URIRef("https://ror.org/00k4n6c32"), None)))


def test_export_is_byte_identical_across_hash_seeds(tmp_path):
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"dump-{seed}.nq"
        subprocess.run([sys.executable, "-m", "coopgraph", "--root", str(ROOT), "export", "--format", "nquads",
                        "-o", str(out)], check=True, env={"PYTHONHASHSEED": seed, "PATH": ""}, capture_output=True)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert b"<http://www.w3.org/2004/02/skos/core#exactMatch> <http://www.wikidata.org/entity/Q54129>" in outputs[0]


def test_every_external_identifier_sits_in_the_graph_of_a_source_that_says_where_it_was_read(dataset):
    """No external identifier without a source: every link to another dataset (schema:sameAs, the SKOS
    mapping properties) and every code or identifier (schema:identifier, schema:legislationIdentifier,
    ISO 3166-1 codes) is stated in the named graph of a coop:Source, and that source says where it
    was read: a local copy, a page record, the source that quotes it, or the dataset it is based on."""
    from coopgraph.namespaces import COOP, PROV, RDF, SOURCES_GRAPH
    sources = dataset.graph(SOURCES_GRAPH)
    traced = {s for s in sources.subjects(RDF.type, COOP.Source)
              if any(True for p in (COOP.localCopy, COOP.record, PROV.wasQuotedFrom, SDO.isBasedOn)
                     for _ in sources.objects(s, p))}
    properties = (SDO.sameAs, SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch,
                  SKOS.relatedMatch, SDO.identifier, SDO.legislationIdentifier, COOP.iso3166Alpha2)
    checked = 0
    for prop in properties:
        for s, _p, o, g in dataset.quads((None, prop, None, None)):
            if not str(s).startswith("https://w3id.org/coopgraph/id/"):
                continue  # the dataset's own description, the ontology
            name = g.identifier if hasattr(g, "identifier") else g
            assert name in traced, f"{s} {prop} {o} is in <{name}>, not the graph of a traced source"
            checked += 1
    assert checked > 50
