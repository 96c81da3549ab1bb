"""build.load reads data/**/*.trig (hand-edited files and data/ingested/), never hidden files, and
data/dataset.ttl into the graph graph:dataset."""

from __future__ import annotations

from rdflib import URIRef

from coopgraph.build import data_trig_files, load
from coopgraph.namespaces import DATASET_GRAPH, DCTERMS
from coopgraph.project import Project

from publishing import copy_project

ITEM = "https://w3id.org/coopgraph/id/item/2022-10-03-test-item"
TRIG = f"""@prefix schema: <http://schema.org/> .
@prefix coop: <https://w3id.org/coopgraph/ontology#> .
<https://w3id.org/coopgraph/graph/sources> {{
  <https://w3id.org/coopgraph/source/test-source> a coop:Source ; schema:name "test source"@en .
}}
<https://w3id.org/coopgraph/source/test-source> {{
  <{ITEM}> schema:headline "Test item"@en .
}}
"""


def test_trig_files_in_subfolders_are_read_and_hidden_ones_are_not(tmp_path):
    project = Project(copy_project(tmp_path))
    (project.data_dir / "ingested").mkdir(exist_ok=True)
    (project.data_dir / "ingested" / "test-source.trig").write_text(TRIG, encoding="utf-8")
    (project.data_dir / "ingested" / ".half-written.trig").write_text("this is not TriG {", encoding="utf-8")
    (project.data_dir / ".hidden").mkdir()
    (project.data_dir / ".hidden" / "x.trig").write_text("neither is this {", encoding="utf-8")
    names = [p.relative_to(project.data_dir).as_posix() for p in data_trig_files(project)]
    assert "ingested/test-source.trig" in names
    assert not any(n.startswith(".") or "/." in n for n in names)
    assert names == sorted(names)
    loaded = load(project)
    assert (URIRef(ITEM), None, None) in loaded.union()
    assert "data/ingested/test-source.trig" in loaded.files.texts


def test_the_dataset_metadata_is_its_own_graph(dataset):
    graph = dataset.graph(DATASET_GRAPH)
    dataset_iri = URIRef("https://w3id.org/coopgraph/dataset")
    assert graph.value(dataset_iri, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert graph.value(dataset_iri, DCTERMS.publisher) == URIRef("https://w3id.org/coopgraph/")
