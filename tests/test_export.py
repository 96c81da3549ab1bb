"""Graph to files: byte-stable dumps, round trips, framed JSON-LD, and writes that lose nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from coopgraph import export
from coopgraph.description import DESCRIPTION_FILES
from coopgraph.namespaces import SDO
from coopgraph.pipeline import Toolkit, ValidationFailed, build
from coopgraph.safety import parse_jsonld

from conftest import ROOT, run_cli

DUMPS = ["coopgraph.ttl", "coopgraph.nt", "coopgraph.trig", "coopgraph.nq", "coopgraph.jsonld"]
#: Every file the build writes: the dumps and the dataset description (description.py).
BUILT = DUMPS + list(DESCRIPTION_FILES)
TRENTO = URIRef("https://w3id.org/coopgraph/id/event/trento-2022-social-economy-primacy-of-people")


@pytest.fixture()
def buildable(project_copy):
    """A project copy that has at least one shape, so build() runs whatever shapes/ holds."""
    shutil.copy(ROOT / "tests/data/minimal-shapes.ttl", project_copy.shapes_dir / "zz-minimal-test.ttl")
    return project_copy


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    for name in ("ontology", "data", "shapes", "queries"):
        if (ROOT / name).is_dir():  # git keeps no empty folder: queries/ may not exist yet
            shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "tests/data/minimal-shapes.ttl", root / "shapes" / "zz-minimal-test.ttl")
    from coopgraph.project import Project
    project = Project(root)
    kit = Toolkit(project)
    result = build(project, root / "dist", toolkit=kit)
    return kit, result, root / "dist"


def test_build_writes_every_dump(built):
    _kit, result, out = built
    assert sorted(p.name for p in result.written) == sorted(BUILT)
    for name in DUMPS:
        assert (out / name).stat().st_size > 1000
    assert not list(out.glob(".*.tmp")), "no temporary files left"


def test_dumps_round_trip_to_the_built_graph(built):
    kit, _result, out = built
    union = kit.loaded.union()
    for name, fmt in [("coopgraph.ttl", "turtle"), ("coopgraph.nt", "nt")]:
        assert isomorphic(Graph().parse(out / name, format=fmt), union), name
    for name, fmt in [("coopgraph.trig", "trig"), ("coopgraph.nq", "nquads")]:
        ds = Dataset()
        ds.parse(out / name, format=fmt)
        for graph_name in export.graph_names(kit.loaded.dataset):
            assert isomorphic(ds.graph(graph_name), kit.loaded.dataset.graph(graph_name)), (name, graph_name)


def test_json_ld_export_parsed_back_is_isomorphic(built):
    kit, _result, out = built
    text = (out / "coopgraph.jsonld").read_text(encoding="utf-8")
    document = json.loads(text)
    assert isinstance(document["@context"], dict), "the context is inlined: readers need no network"
    assert isomorphic(parse_jsonld(text, kit.loader), kit.loaded.union())


def test_n_triples_are_sorted_and_unique(built):
    lines = (built[2] / "coopgraph.nt").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(set(lines))


def _build_in_subprocess(root: Path, out: Path, seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run([sys.executable, "-m", "coopgraph", "--root", str(root), "build", "--out", str(out)],
                   check=True, env=env, capture_output=True)


def test_build_is_byte_identical_across_runs_and_hash_seeds(buildable, tmp_path):
    outs = []
    for seed in ("0", "1", "4242"):
        out = tmp_path / f"dist-{seed}"
        _build_in_subprocess(buildable.root, out, seed)
        outs.append(out)
    for name in BUILT:
        first = (outs[0] / name).read_bytes()
        for other in outs[1:]:
            assert (other / name).read_bytes() == first, f"{name} differs between runs"


def test_failed_validation_leaves_previous_output_untouched(buildable, tmp_path):
    out = tmp_path / "dist"
    build(buildable, out)
    before = {name: (out / name).read_bytes() for name in DUMPS}
    events = buildable.data_dir / "events.trig"
    text = events.read_text(encoding="utf-8")
    events.write_text(text.replace('schema:name "Catalysing Change Week 2022"@en ;', ""), encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        build(buildable, out)
    assert "catalysing-change-week-2022" in info.value.report.text()
    assert {name: (out / name).read_bytes() for name in DUMPS} == before
    result = run_cli("build", "--out", str(out), root=buildable.root)
    assert result.exit_code == 1
    assert "nothing was written" in result.stderr
    assert {name: (out / name).read_bytes() for name in DUMPS} == before


def test_a_write_that_fails_midway_replaces_nothing(buildable, tmp_path, monkeypatch):
    out = tmp_path / "dist"
    build(buildable, out)
    before = {name: (out / name).read_bytes() for name in DUMPS}
    (buildable.data_dir / "events.trig").write_text(
        (buildable.data_dir / "events.trig").read_text(encoding="utf-8").replace(
            "Catalysing Change Week 2022\"@en", "Catalysing Change Week 2022 (changed)\"@en"), encoding="utf-8")
    real_fdopen = os.fdopen
    calls = {"n": 0}

    def failing_fdopen(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real_fdopen(*args, **kwargs)

    monkeypatch.setattr(export.os, "fdopen", failing_fdopen)
    with pytest.raises(OSError):
        build(buildable, out)
    monkeypatch.undo()
    assert {name: (out / name).read_bytes() for name in DUMPS} == before
    assert sorted(p.name for p in out.iterdir()) == sorted(BUILT), "no temporary files left"



def test_a_build_that_fails_after_staging_one_dump_replaces_nothing(buildable, tmp_path):
    """The fault point of the atomic writer, in a real `coopgraph build` on the default store."""
    out = tmp_path / "dist"
    build(buildable, out)
    before = {name: (out / name).read_bytes() for name in DUMPS}
    events = buildable.data_dir / "events.trig"
    events.write_text(events.read_text(encoding="utf-8").replace(
        "Catalysing Change Week 2022\"@en", "Catalysing Change Week 2022 (changed)\"@en"), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "coopgraph", "--root", str(buildable.root), "build", "--out", str(out)],
                            capture_output=True, text=True, env={**os.environ, "COOPGRAPH_FAULT": "write_all:staged"},
                            timeout=300)
    assert result.returncode != 0
    assert "fault injected at write_all:staged" in result.stderr
    assert {name: (out / name).read_bytes() for name in DUMPS} == before
    assert sorted(p.name for p in out.iterdir()) == sorted(BUILT), "no temporary files left"

def test_frame_entity_is_one_self_contained_document(toolkit, union):
    doc = export.frame_entity(union, TRENTO, toolkit.context, toolkit.loader)
    assert doc["@id"] == str(TRENTO)
    assert "@graph" not in doc
    locations = doc["location"] if isinstance(doc["location"], list) else [doc["location"]]
    assert {loc["@id"].rsplit("/", 1)[1] for loc in locations} == {"sala-depero", "trento"}
    venue = next(loc for loc in locations if loc["@id"].endswith("sala-depero"))
    assert venue["address"]["streetAddress"] == "Piazza Dante", "linked entities are nested, not referenced"
    back = parse_jsonld(json.dumps(doc), toolkit.loader)
    assert set(back) <= set(union), "framing adds no statement"
    assert set(export.describe(union, TRENTO)) == set(back)


def test_frame_type_gives_every_event(toolkit, union):
    doc = export.frame_type(union, SDO.Event, toolkit.context, toolkit.loader)
    ids = [node["@id"] for node in doc["@graph"]]
    assert len(ids) == len(set(union.subjects(export.RDF.type, SDO.Event))) >= 20
    assert ids == sorted(ids)


def test_export_cli_formats_and_output_file(tmp_path):
    result = run_cli("export", "--format", "nt")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) > 800
    out = tmp_path / "event.jsonld"
    result = run_cli("export", "--format", "jsonld", "--id", "event:catalysing-change-week-2022", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["@id"].endswith("/event/catalysing-change-week-2022")
    assert doc["organizer"]["name"] == {"@language": "en", "@value": "Catalyst 2030"}
    result = run_cli("export", "--frame", "Event", "--format", "turtle")
    assert result.exit_code == 0 and "schema:Event" in result.stdout


def test_export_unknown_entity_is_bad_input():
    result = run_cli("export", "--id", "event:no-such-event")
    assert result.exit_code == 2
    assert "no entity" in result.stderr
    result = run_cli("export", "--id", "nope:thing")
    assert result.exit_code == 2 and "known prefix" in result.stderr
