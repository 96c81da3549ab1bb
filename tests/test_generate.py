"""benchmarks/generate.py: seeded, deterministic, in our model, valid against our shapes."""

from __future__ import annotations

import subprocess
import sys

from coopgraph import ids
from coopgraph.pipeline import Toolkit
from coopgraph.project import Project

from conftest import ROOT, benchmark_module


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    script = str(ROOT / "benchmarks/generate.py")
    outs = []
    for n, seed in enumerate((4, 4, 5)):
        path = tmp_path / f"g{n}.trig"
        subprocess.run([sys.executable, script, "--triples", "3000", "--seed", str(seed), "--out", str(path)],
                       check=True, capture_output=True, env={"PYTHONHASHSEED": str(n + 1), "PATH": ""})
        outs.append(path.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]


def test_about_the_size_asked_for_with_ids_minted_by_coopgraph():
    generate = benchmark_module("generate")
    for size in (1000, 20_000):
        writer, injected = generate.generate(size, seed=1)
        assert size <= writer.count < size + 200
        assert injected == []
    subjects = {s for graph in writer.graphs.values() for s in graph}
    ours = [s for s in subjects if s.startswith("https://w3id.org/coopgraph/id/")]
    assert ours and all(ids.is_entity_iri(s) for s in ours)


def test_a_small_generated_graph_conforms_to_the_shapes_and_builds(tmp_path):
    generate = benchmark_module("generate")
    writer, _ = generate.generate(2000, seed=2)
    generate.write_project(tmp_path, writer.trig())
    kit = Toolkit(Project(tmp_path))
    report = kit.validate()
    assert report.conforms, report.text()
    assert len(kit.store) > 2000 + 800  # the synthetic data and the real data
    nquads = generate.generate(2000, seed=2)[0].nquads()
    assert nquads.count("\n") == writer.count


def test_injected_faults_make_the_graph_fail_validation(tmp_path):
    generate = benchmark_module("generate")
    writer, injected = generate.generate(3000, seed=2, violations=6)
    assert [fault for fault, _ in injected] == list(generate.INJECTIONS)
    generate.write_project(tmp_path, writer.trig())
    report = Toolkit(Project(tmp_path)).validate()
    assert not report.conforms
