"""coopgraph diff: per-entity changes in words, and patches that turn OLD into NEW (RDF Patch
applied by coopgraph, SPARQL Update applied by rdflib's own update engine)."""

from __future__ import annotations

import pytest
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from coopgraph.diff import apply_patch, diff_paths, patch, read_side
from coopgraph.pipeline import build
from coopgraph.project import Project

from conftest import run_cli
from publishing import INGEST_DATA, LISTING_URL, copy_project

# an item no page record restates (the 18 May interview's headline is also stated by its own page)
OLD_HEADLINE = "Select References - Decent Work & Social and Solidarity Economy"
NEW_HEADLINE = "Select References: Decent Work and the Social and Solidarity Economy"


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Two builds: the data as it is, then with two ingested items, a changed headline, a removed place."""
    root = tmp_path_factory.mktemp("diff")
    project = Project(copy_project(root / "p"))
    old = root / "old"
    build(project, old)
    result = run_cli("ingest", str(INGEST_DATA / "listing-longer.txt"), "--url", LISTING_URL,
                     "--retrieved", "2026-12-01", root=project.root)
    assert result.exit_code == 0, result.output
    items = project.data_dir / "items.trig"
    items.write_text(items.read_text(encoding="utf-8").replace(OLD_HEADLINE, NEW_HEADLINE), encoding="utf-8")
    events = project.data_dir / "events.trig"
    text = events.read_text(encoding="utf-8")
    events.write_text(text.replace('    schema:startDate "2022-03-04"^^xsd:date ;\n', "", 1), encoding="utf-8")
    new = root / "new"
    build(project, new)
    return old, new


def _dataset(path) -> Dataset:
    ds = Dataset()
    ds.parse(path, format="nquads")
    return ds


def _quads(ds: Dataset) -> set:
    return {(s, p, o, str(g.identifier) if isinstance(g, Graph) else str(g)) for s, p, o, g in ds.quads()}


def test_the_report_names_each_entity_and_each_changed_property(builds):
    old, new = builds
    result = run_cli("diff", str(old), str(new))
    assert result.exit_code == 0
    out = result.output
    assert "entities: +3 added, -0 removed, 2 changed" in out
    assert "added item:2022-10-03-ilo-cooperatives-europe-discuss-cooperative (schema:NewsArticle)" in out
    assert "added src:listing-ilo-org-global-topics-cooperatives-regions-europe-nextrow-30-2026-12-01" in out
    assert "changed item:2022-05-04-select-references-decent-work-social-solidarity" in out
    assert f'    schema:headline: "{OLD_HEADLINE}"@en -> "{NEW_HEADLINE}"@en' in out
    assert "changed event:pact-for-impact-2022-international-recognition-sse" in out
    # the start date stays (another source says so too): only its source graph changed
    assert '    schema:startDate "2022-03-04"^^xsd:date: no longer in src:ilo-listing (source graphs)' in out
    assert run_cli("diff", str(old), str(new), "--exit-code").exit_code == 1


def test_the_rdf_patch_turns_old_into_new(builds, tmp_path):
    old, new = builds
    target = tmp_path / "change.rdfp"
    assert run_cli("diff", str(old), str(new), "--patch", str(target)).exit_code == 0
    text = target.read_text(encoding="utf-8")
    assert text.splitlines()[1] == "TX ." and text.splitlines()[-1] == "TC ."
    assert any(line.startswith("D ") for line in text.splitlines())
    ds = _dataset(old / "coopgraph.nq")
    apply_patch(ds, text, source=str(target))
    assert _quads(ds) == _quads(_dataset(new / "coopgraph.nq"))


def test_the_sparql_update_applied_by_rdflib_turns_old_into_new(builds, tmp_path):
    old, new = builds
    target = tmp_path / "change.ru"
    assert run_cli("diff", str(old), str(new), "--patch", str(target), "--patch-format", "sparql").exit_code == 0
    ds = _dataset(old / "coopgraph.nq")
    ds.update(target.read_text(encoding="utf-8"))  # rdflib's SPARQL Update engine, on a local copy
    assert _quads(ds) == _quads(_dataset(new / "coopgraph.nq"))


def test_dump_files_without_graphs_are_compared_as_triples(builds, tmp_path):
    old, new = builds
    change = diff_paths(old / "coopgraph.nt", new / "coopgraph.ttl")
    assert not change.by_quad
    graph = Graph().parse(old / "coopgraph.nt", format="nt")
    ds = Dataset()
    for triple in graph:
        ds.add(triple)
    apply_patch(ds, patch(change))
    assert isomorphic(Graph().parse(new / "coopgraph.ttl", format="turtle"), Graph(store=ds.store,
                      identifier=ds.default_graph.identifier))


def test_identical_builds_have_no_change(builds):
    old, _new = builds
    change = diff_paths(old, old / "coopgraph.trig")
    assert change.unchanged
    assert run_cli("diff", str(old), str(old), "--exit-code").exit_code == 0


def test_unreadable_sides_are_clear_errors(builds, tmp_path):
    old, _new = builds
    (tmp_path / "empty").mkdir()
    result = run_cli("diff", str(old), str(tmp_path / "empty"))
    assert result.exit_code == 2 and "no dump in this folder" in result.output
    assert run_cli("diff", str(old), str(old / "coopgraph.jsonld")).exit_code == 2
    broken = tmp_path / "broken.nq"
    broken.write_text("<a> <b> .\n", encoding="utf-8")
    result = run_cli("diff", str(old), str(broken))
    assert result.exit_code == 2 and "broken.nq" in result.output
    with pytest.raises(Exception, match="not an RDF Patch row"):
        apply_patch(Dataset(), "X <a> <b> <c> .\n")
    assert read_side(old).has_graphs
