"""The SPARQL validation engine gives exactly pySHACL's results (differential tests).

Compared on every result: focus node, path, source constraint component, severity, value,
message, source shape, and the report graph as a whole (isomorphic). Shapes: the project's
shapes/, the hand-written tests/data/scale-shapes.ttl (every translated SHACL Core component), and
every shape test case under tests/shapes/; data: the real data, and synthetic data with injected
faults (benchmarks/generate.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import SH

from coopgraph.build import bind_prefixes, new_dataset
from coopgraph.pipeline import Toolkit
from coopgraph.project import Project
from coopgraph.safety import parse_into
from coopgraph.shaclsparql import Engine, validate_store
from coopgraph.store import MemoryStore, OxigraphStore, open_store, rdflib_to_ox
from coopgraph.validate import load_shapes, validate

from conftest import ROOT, benchmark_module

SCALE_SHAPES = ROOT / "tests/data/scale-shapes.ttl"
SHAPE_CASES = sorted(p for p in (ROOT / "tests/shapes").rglob("*") if p.suffix in (".ttl", ".trig")) \
    if (ROOT / "tests/shapes").is_dir() else []


def keys(report) -> list[tuple]:
    """(focus, path, component, severity, value, message, shape) of every result, sorted."""
    graph = report.graph
    out = []
    for node in graph.subjects(SH.resultSeverity, None):
        shape = graph.value(node, SH.sourceShape)
        path = graph.value(node, SH.resultPath)
        out.append(tuple(str(x) if x is not None else "" for x in (
            graph.value(node, SH.focusNode), path if isinstance(path, URIRef) else (path is not None),
            graph.value(node, SH.sourceConstraintComponent), graph.value(node, SH.resultSeverity),
            graph.value(node, SH.value), graph.value(node, SH.resultMessage),
            shape if isinstance(shape, URIRef) else "")))
    return sorted(out)


def both(store_pair, shapes: Graph):
    memory, oxigraph = store_pair
    expected = validate(memory.union(), shapes, files=memory.files)
    got = validate_store(oxigraph, shapes, files=oxigraph.files)
    return expected, got


def assert_same(expected, got):
    assert keys(got) == keys(expected)
    assert got.text() == expected.text()
    assert isomorphic(got.graph, expected.graph)


@pytest.fixture(scope="module")
def real_stores(project):
    return open_store(project, "memory"), open_store(project, "oxigraph")


def _faulty(tmp_path_factory, triples: int):
    generate = benchmark_module("generate")
    writer, injected = generate.generate(triples, seed=5, violations=12)
    assert len(injected) == 12
    root = tmp_path_factory.mktemp("faulty")
    generate.write_project(root, writer.trig())
    project = Project(root)
    return (open_store(project, "memory"), open_store(project, "oxigraph")), injected


@pytest.fixture(scope="module")
def faulty_stores(tmp_path_factory):
    return _faulty(tmp_path_factory, 6000)


@pytest.fixture(scope="module")
def small_faulty_stores(tmp_path_factory):
    """Small: pySHACL runs the project's SHACL-SPARQL constraints once per focus node."""
    return _faulty(tmp_path_factory, 1000)


def project_shapes(project) -> Graph | None:
    if not any(project.shapes_dir.glob("*.ttl")):
        return None
    return load_shapes(project.shapes_dir)


def test_scale_shapes_on_the_real_data(real_stores):
    expected, got = both(real_stores, Graph().parse(SCALE_SHAPES))
    assert_same(expected, got)
    assert got.engine == "sparql", got.engine


def test_scale_shapes_on_synthetic_data_with_injected_faults(faulty_stores):
    stores, injected = faulty_stores
    expected, got = both(stores, Graph().parse(SCALE_SHAPES))
    assert_same(expected, got)
    found = {r[0] for r in keys(got)}
    for fault, focus in injected:
        if fault in ("two-start-dates", "latitude-out-of-range"):  # what scale-shapes checks at that focus
            assert focus in found, f"injected {fault} at {focus} was not reported"
    components = {r[2].rsplit("#", 1)[-1] for r in keys(got)}
    assert {"MinCountConstraintComponent", "MaxCountConstraintComponent", "DatatypeConstraintComponent",
            "NodeConstraintComponent", "MaxInclusiveConstraintComponent",
            "LessThanOrEqualsConstraintComponent", "ClassConstraintComponent"} <= components, components


def test_project_shapes_on_real_and_faulty_data(project, real_stores, small_faulty_stores):
    shapes = project_shapes(project)
    assert shapes is not None, "shapes/ has no shapes"
    for pair in (real_stores, small_faulty_stores[0]):
        expected, got = both(pair, shapes)
        assert_same(expected, got)


def test_project_shapes_are_all_translated(project, real_stores):
    """Every shape of shapes/ runs as SPARQL (a fallback to pySHACL would be named here)."""
    shapes = project_shapes(project)
    assert shapes is not None, "shapes/ has no shapes"
    engine = Engine(real_stores[1], shapes)
    engine.run()
    assert engine.fallback == [], engine.fallback


def _case_stores(path: Path, tmp_path):
    """A shape test case file: its data as both stores, and the shapes to run (the project's)."""
    ds = new_dataset()
    parse_into(ds, path, fmt="trig" if path.suffix == ".trig" else "turtle")
    oxigraph = OxigraphStore.in_memory()
    import pyoxigraph as ox
    union = Graph()
    bind_prefixes(union)
    for s, p, o, _g in ds.quads((None, None, None, None)):
        union.add((s, p, o))
    for s, p, o in union:
        oxigraph.ox.add(ox.Quad(rdflib_to_ox(s), rdflib_to_ox(p), rdflib_to_ox(o),
                                ox.NamedNode("https://w3id.org/coopgraph/source/case")))
    oxigraph.finish_load()
    memory = MemoryStore(ds)
    memory._union = union
    return memory, oxigraph


@pytest.mark.parametrize("case", SHAPE_CASES, ids=lambda p: str(p.relative_to(ROOT / "tests/shapes")))
def test_every_shape_test_case_gives_pyshacls_results(project, case, tmp_path):
    shapes = project_shapes(project)
    assert shapes is not None
    expected, got = both(_case_stores(case, tmp_path), shapes)
    assert_same(expected, got)


def test_there_are_shape_test_cases():
    assert SHAPE_CASES, "tests/shapes/ has no case files for the differential test"


def test_untranslatable_shape_falls_back_to_pyshacl_and_says_so(real_stores):
    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix schema: <http://schema.org/> .
        @prefix t: <https://w3id.org/coopgraph/test-shapes#> .
        t:Q a sh:NodeShape ; sh:targetClass schema:Event ;
            sh:property [ sh:path schema:attendee ; sh:qualifiedValueShape [ sh:class schema:Person ] ;
                          sh:qualifiedMinCount 1 ; sh:qualifiedValueShapesDisjoint true ] .
        t:N a sh:NodeShape ; sh:targetClass schema:Event ; sh:property [ sh:path schema:name ; sh:minCount 1 ] .
    """, format="turtle")
    expected, got = both(real_stores, shapes)
    assert_same(expected, got)
    assert "pySHACL for 1 shape" in got.engine and "qualifiedValueShapesDisjoint" in got.engine


def test_toolkit_uses_the_sparql_engine_on_oxigraph_and_pyshacl_on_memory(project):
    if project_shapes(project) is None:
        pytest.fail("shapes/ has no shapes")
    assert Toolkit(project).validate().engine.startswith("sparql")
    assert Toolkit(project, store_kind="memory").validate().engine == "pyshacl"
    assert Toolkit(project, validator="pyshacl").validate().engine == "pyshacl"
