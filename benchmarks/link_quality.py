"""Link quality: precision, recall and F1 of `coopgraph link` against the gold standard.

Runs the matcher on the invented test datasets of tests/data/link/ (partners.csv, members.ttl) and
compares every candidate at or above a threshold with tests/data/link/gold.tsv. A candidate is a link
the data team would accept with `coopgraph accept --min-score THRESHOLD`; it is right when the gold
standard pairs that record with that entity. Precision comes first: a wrong link is worse than a
missed one.

    python benchmarks/link_quality.py            # the table over thresholds, and the default one
    python benchmarks/link_quality.py --json     # the same figures as JSON

This measures quality, not speed: no timing, so it is deterministic.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from coopgraph import link  # noqa: E402
from coopgraph.namespaces import ID  # noqa: E402
from coopgraph.pipeline import Toolkit  # noqa: E402
from coopgraph.project import Project  # noqa: E402

DATA = ROOT / "tests" / "data" / "link"
DATASETS = {"partners.csv": {"id_prefix": "partner=https://example.org/partners/"}, "members.ttl": {}}
THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)


def gold() -> dict[tuple[str, str], str]:
    """(dataset, their IRI) -> our IRI ('' when coopgraph does not have it)."""
    out = {}
    with (DATA / "gold.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            their = row["their_id"]
            if row["dataset"] == "partners.csv":
                their = "https://example.org/partners/" + their
            out[(row["dataset"], their)] = f"{ID}{row['our_id']}" if row["our_id"] else ""
    return out


def candidates(toolkit: Toolkit) -> list[tuple[str, str, str, float]]:
    """Every (dataset, their IRI, our IRI, score) the matcher proposes, down to the report floor."""
    matcher = link.matcher_for(toolkit.loaded.union())
    out = []
    for name, options in DATASETS.items():
        other = link.read_other(DATA / name, loader=toolkit.loader, matcher=matcher, **options)
        result = link.discover(matcher, other, min_score=link.REPORT_FLOOR, limit=20)
        out += [(name, rec.id, cand.entity.id, cand.score) for rec, cand in result.rows]
    return out


def evaluate(cands, truth, threshold: float) -> dict:
    predicted = [(d, t, o) for d, t, o, s in cands if s >= threshold]
    records = {(d, t) for d, t, _o, _s in cands} | set(truth)
    missing = sorted(k for k in records if k not in truth)
    if missing:
        raise SystemExit(f"gold.tsv has no line for {missing[0]}: add every record of the test datasets")
    right = sum(1 for d, t, o in predicted if truth[(d, t)] == o)
    wrong = [(d, t, o) for d, t, o in predicted if truth[(d, t)] != o]
    relevant = sum(1 for v in truth.values() if v)
    precision = right / len(predicted) if predicted else 1.0
    recall = right / relevant if relevant else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "links": len(predicted), "right": right, "wrong": len(wrong),
            "gold": relevant, "precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
            "wrong_links": [f"{d} {t} -> {o}" for d, t, o in wrong]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    toolkit = Toolkit(Project(ROOT))
    truth = gold()
    cands = candidates(toolkit)
    rows = [evaluate(cands, truth, t) for t in THRESHOLDS]
    default = evaluate(cands, truth, link.MATCH_THRESHOLD)
    if args.json:
        print(json.dumps({"default": default, "table": rows}, indent=2))
        return 0
    records = len(truth)
    print(f"link quality on tests/data/link ({records} records, {default['gold']} true links)")
    print(f"{'threshold':>9}  {'links':>5}  {'right':>5}  {'wrong':>5}  {'precision':>9}  {'recall':>6}  {'F1':>5}")
    for r in rows:
        mark = "  <- default (link.MATCH_THRESHOLD)" if r["threshold"] == link.MATCH_THRESHOLD else ""
        print(f"{r['threshold']:>9.2f}  {r['links']:>5}  {r['right']:>5}  {r['wrong']:>5}  {r['precision']:>9.3f}  "
              f"{r['recall']:>6.3f}  {r['f1']:>5.3f}{mark}")
    for r in rows:
        if r["threshold"] < 0.75:
            continue
        for w in r["wrong_links"]:
            print(f"  wrong at {r['threshold']:.2f}: {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
