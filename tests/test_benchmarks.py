"""The benchmark script runs end to end at a tiny size and reports every stage of both pipelines
(a smoke test: timings are never asserted; the million-triple run is done by hand, README)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def test_pipeline_benchmark_reports_every_stage_for_both_pipelines(tmp_path):
    # the hand-edited data only: pySHACL and rdflib, the baseline, take a minute more on the whole record
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks/pipeline.py"), "--triples", "2000",
                          "--without-page-records", "--out", str(tmp_path)], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    table = (tmp_path / "pipeline-2000.md").read_text(encoding="utf-8")
    assert table in out.stdout
    for stage in ("load", "validate", "queries (all)", "export turtle", "export nt", "export jsonld",
                  "whole pipeline", "coopgraph build (end to end)"):
        assert f"| {stage} |" in table, stage
    data = json.loads((tmp_path / "pipeline-2000.json").read_text(encoding="utf-8"))
    queries = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
    assert queries, "no named queries to benchmark"
    for name in queries:
        assert f"| query {name} |" in table
        assert data["results"]["baseline"]["queries"]["queries"][name]["rows"] == \
            data["results"]["ours"]["queries"]["queries"][name]["rows"], name
    for impl in ("baseline", "ours"):
        for stage, result in data["results"][impl].items():
            assert result["peak_mb"] > 10, (impl, stage)
    assert data["totals"]["same_validation_results"]
    assert data["results"]["ours"]["build"]["exit"] == 0
