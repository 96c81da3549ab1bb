"""The whole pipeline at scale, side by side: plain rdflib + pySHACL (the baseline) and coopgraph.

Usage (by hand; the million-triple run takes about 30 minutes on 2 cores, most of it the baseline)::

    python benchmarks/pipeline.py --triples 1000000            # generate, then measure both
    python benchmarks/pipeline.py --triples 2000 --out /tmp/b   # the CI smoke size

Each stage runs in a fresh Python process (so its peak memory is its own: ``os.wait4`` gives the
child's maximum resident set size) and loads the data first; the time reported is the stage's own
work, the load being a stage of its own. Stages:

* load: baseline parses the dataset's N-Quads into an rdflib Dataset; ours loads the sources
  (ontology/, data/**/*.trig, the mapping sets) into the Oxigraph store, with the build's checks;
* validate: baseline is pySHACL's default run on the union graph; ours is ``Toolkit.validate()``
  (SHACL as SPARQL on the store) — the number of results of both is printed and must match;
* query NAME: each named query (default parameters, or the example of a required one): checked
  (``safety.check_query``, rdflib's parser), evaluated and formatted as TSV (``coopgraph query
  --format tsv`` without the process start); baseline: rdflib evaluates and the same formatter
  writes; ``pyoxigraph`` (apples to apples): pyoxigraph alone on the same statements and the same
  default graph parses, evaluates and writes the answer as TSV with its own (Rust) writer; each
  is the median of REPEATS runs in a row (the baseline's only when its first run is short);
* export turtle / nt / jsonld: baseline is rdflib's serializers (JSON-LD compacted with our
  context); ours is ``export.store_dump`` (the same bytes as our rdflib/pyld path);
* build (ours only): ``coopgraph build`` end to end, load to written dist/.

The table gives seconds, the ratio baseline/ours, and peak memory; results are written to
benchmarks/results/pipeline-<triples>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
EXPORTS = ("turtle", "nt", "jsonld")
#: Seconds the baseline may spend on one operation; past it the stage reports "over the limit" and
#: the ratio becomes a lower bound (pySHACL runs each SHACL-SPARQL constraint once per focus node:
#: at a million triples that is hours).
LIMITS = {"validate": 600, "query": 60, "export": 400}
#: The dataset as N-Quads (written by `coopgraph export` before measuring): what the baseline parses,
#: so both pipelines hold the same statements (ontology, data, sources and the mapping sets' links).
BASELINE_INPUT = "baseline-input.nq"


#: Each named query is timed as the median of this many runs in a row (pyoxigraph direct and ours
#: always; the baseline when its first run is under REPEAT_UNDER seconds). A single run also times
#: what the query before it left behind: right after a query of 100,000 rows Oxigraph takes 35 to
#: 70 ms more for the next one, however small (seen on pyoxigraph alone too), which made the first
#: runs of the two smallest queries 10 to 17 times the steady figure.
REPEATS = 3
REPEAT_UNDER = 5.0


class OverLimit(Exception):
    pass


def _limited(seconds: float, func):
    """func() or None when it runs past ``seconds`` (SIGALRM: rdflib and pySHACL are pure Python)."""
    import signal

    def stop(_signum, _frame):
        raise OverLimit()
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return func()
    except OverLimit:
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _repeated(func, *, repeat_under: float | None = None) -> dict:
    """Time ``func()`` (which returns the rows, or None past a limit): median of REPEATS runs.

    With ``repeat_under``, runs after the first happen only when the first took less than that many
    seconds (so a slow baseline query is run once). Returns seconds (the median), every run, and
    the rows of the first run (None when it passed its limit).
    """
    import statistics
    runs, rows = [], None
    for i in range(REPEATS):
        t = time.perf_counter()
        answer = func()
        runs.append(time.perf_counter() - t)
        if i == 0:
            rows = answer
            if answer is None:
                return {"seconds": None, "runs": runs, "rows": None}
            if repeat_under is not None and runs[0] >= repeat_under:
                break
    return {"seconds": statistics.median(runs), "runs": runs, "rows": rows}


# ----------------------------------------------------------------------------- stages (child side)

def _example_values(query) -> dict:
    values = {}
    for param in query.params:
        if param.required:
            match = re.search(r"e\.g\.\s+(\S+)", param.description)
            if not match:
                raise SystemExit(f"query {query.name}: required parameter {param.name} has no example")
            values[param.name] = match.group(1).rstrip(".,;)")
    return values


def _named_queries(project):
    from coopgraph import queries
    return [(q.name, q.bind(_example_values(q))) for q in queries.list_queries(project.queries_dir)]


def _shapes(project, shapes_dir: Path):
    from coopgraph.validate import load_shapes
    return load_shapes(shapes_dir)


def stage_baseline(name: str, project, shapes_dir: Path) -> dict:
    """One stage of the plain rdflib + pySHACL pipeline; returns {seconds, ...}."""
    from rdflib import Dataset, Graph
    started = time.perf_counter()
    ds = Dataset(default_union=True)
    ds.parse(project.root / BASELINE_INPUT, format="nquads")
    loaded = time.perf_counter() - started
    if name == "load":
        return {"seconds": loaded, "quads": len(ds)}
    if name == "validate":
        import pyshacl
        union = Graph()
        for s, p, o, _g in ds.quads((None, None, None, None)):
            union.add((s, p, o))
        shapes = _shapes(project, shapes_dir)
        t = time.perf_counter()
        answer = _limited(LIMITS["validate"], lambda: pyshacl.validate(union, shacl_graph=shapes))
        if answer is None:
            return {"seconds": LIMITS["validate"], "over_limit": True, "results": None}
        from rdflib.namespace import SH
        report = answer[1]
        return {"seconds": time.perf_counter() - t, "results": len(set(report.objects(None, SH.result)))}
    if name == "queries":
        from coopgraph import queries
        out = {}
        for qname, text in _named_queries(project):
            def run(text=text):
                text_out = _limited(LIMITS["query"], lambda: queries.format_result(ds.query(text), "tsv"))
                return None if text_out is None else text_out.count("\n") - 1
            timed = _repeated(run, repeat_under=REPEAT_UNDER)
            if timed["rows"] is None:
                timed.update(seconds=LIMITS["query"], over_limit=True)
            out[qname] = timed
        return {"queries": out}
    if name.startswith("export-"):
        fmt = name.split("-", 1)[1]
        union = Graph()
        for s, p, o, _g in ds.quads((None, None, None, None)):
            union.add((s, p, o))
        t = time.perf_counter()
        if fmt == "jsonld":
            context = json.loads(project.context_file.read_text(encoding="utf-8"))["@context"]
            text = _limited(LIMITS["export"], lambda: union.serialize(format="json-ld", context=context))
        else:
            text = _limited(LIMITS["export"], lambda: union.serialize(format=fmt))
        if text is None:
            return {"seconds": LIMITS["export"], "over_limit": True, "bytes": 0}
        return {"seconds": time.perf_counter() - t, "bytes": len(text.encode("utf-8"))}
    raise SystemExit(f"unknown baseline stage {name}")


def stage_ours(name: str, project, shapes_dir: Path) -> dict:
    """One stage of coopgraph's pipeline (default store: Oxigraph)."""
    from coopgraph.pipeline import Toolkit
    if name == "build":
        t = time.perf_counter()
        out = Path(tempfile.mkdtemp(prefix="coopgraph-bench-dist-"))
        try:
            result = subprocess.run([sys.executable, "-m", "coopgraph", "--root", str(project.root), "build",
                                     "--out", str(out)], capture_output=True, text=True)
            seconds = time.perf_counter() - t
            if result.returncode not in (0, 1):
                raise SystemExit(f"coopgraph build failed: {result.stderr[-2000:]}")
            return {"seconds": seconds, "exit": result.returncode}
        finally:
            shutil.rmtree(out, ignore_errors=True)
    if name == "pyoxigraph":
        # The same statements (the baseline's N-Quads) and the same default graph (the set union of
        # the named graphs, as coopgraph's store keeps it), so the rows are the same; timed: what
        # our stage does, done by pyoxigraph alone: parse + evaluate + write the answer as TSV.
        import pyoxigraph as ox
        store = ox.Store()
        store.bulk_load(path=str(project.root / BASELINE_INPUT), format=ox.RdfFormat.N_QUADS)
        store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        out = {}
        for qname, text in _named_queries(project):
            out[qname] = _repeated(lambda text=text: store.query(text).serialize(
                format=ox.QueryResultsFormat.TSV).count(b"\n") - 1)
        return {"queries": out}
    started = time.perf_counter()
    kit = Toolkit(project)
    store = kit.store
    loaded = time.perf_counter() - started
    if name == "load":
        return {"seconds": loaded, "quads": store.quad_count()}
    if name == "validate":
        from coopgraph.shaclsparql import validate_store
        shapes = _shapes(project, shapes_dir)
        t = time.perf_counter()
        report = validate_store(store, shapes, files=store.files)
        from rdflib.namespace import SH
        return {"seconds": time.perf_counter() - t,
                "results": len(set(report.graph.objects(None, SH.result))), "engine": report.engine}
    if name == "queries":
        from coopgraph import queries
        out = {}
        for qname, text in _named_queries(project):
            # check, evaluate, format
            out[qname] = _repeated(lambda text=text: queries.format_result(store.query_native(text), "tsv").count("\n") - 1)
        return {"queries": out}
    if name.startswith("export-"):
        from coopgraph import export
        fmt = name.split("-", 1)[1]
        t = time.perf_counter()
        size = sum(len(chunk.encode("utf-8")) for chunk in export.store_dump(store, fmt, context=kit.context,
                                                                              loader=kit.loader))
        return {"seconds": time.perf_counter() - t, "bytes": size}
    raise SystemExit(f"unknown stage {name}")


# ----------------------------------------------------------------------------- driver (parent side)

def run_stage(impl: str, name: str, project_root: Path, shapes_dir: Path) -> dict:
    """Run one stage in a fresh process; its answer plus wall time and peak memory (MB)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", impl, name, str(project_root), str(shapes_dir)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"stage {impl}/{name} failed:\n{err.read().decode(errors='replace')[-3000:]}")
        answer = json.loads(out.read().decode())
    answer["wall"] = wall
    answer["peak_mb"] = usage.ru_maxrss / 1024
    return answer


def measure(project_root: Path, shapes_dir: Path, *, progress=print) -> dict:
    """Every stage of both pipelines."""
    results: dict = {"baseline": {}, "ours": {}}
    plan = [("baseline", "load"), ("ours", "load"), ("baseline", "validate"), ("ours", "validate"),
            ("baseline", "queries"), ("ours", "queries"), ("ours", "pyoxigraph")]
    plan += [(impl, f"export-{fmt}") for fmt in EXPORTS for impl in ("baseline", "ours")]
    plan.append(("ours", "build"))
    for impl, name in plan:
        progress(f"  {impl:8} {name} ...")
        results[impl][name] = run_stage(impl, name, project_root, shapes_dir)
    return results


def table(results: dict) -> tuple[str, dict]:
    """The table (markdown) and the totals."""
    base, ours = results["baseline"], results["ours"]
    rows = []

    def add(label, b, o, bm=None, om=None, extra="", over=False):
        ratio = (">" if over else "") + (f"{b / o:.1f}x" if o and b else "-")
        shown = (">" if over else "") + (f"{b:.2f}" if b is not None else "-")
        rows.append((label, shown, f"{o:.2f}" if o is not None else "-", ratio,
                     f"{bm:.0f}" if bm else "", f"{om:.0f}" if om else "", extra))

    add("load", base["load"]["seconds"], ours["load"]["seconds"], base["load"]["peak_mb"], ours["load"]["peak_mb"])
    any_over = bool(base["validate"].get("over_limit"))
    add("validate", base["validate"]["seconds"], ours["validate"]["seconds"], base["validate"]["peak_mb"],
        ours["validate"]["peak_mb"], f"results {base['validate']['results']} / {ours['validate']['results']}",
        over=bool(base["validate"].get("over_limit")))
    query_base = query_ours = 0.0
    worst_ratio, worst_vs_ox = None, None
    for qname, b in base["queries"]["queries"].items():
        o = ours["queries"]["queries"][qname]
        direct = ours["pyoxigraph"]["queries"][qname]
        query_base += b["seconds"]
        query_ours += o["seconds"]
        vs_ox = o["seconds"] / direct["seconds"] if direct["seconds"] else 0
        ratio = b["seconds"] / o["seconds"] if o["seconds"] else 0
        worst_ratio = ratio if worst_ratio is None else min(worst_ratio, ratio)
        worst_vs_ox = vs_ox if worst_vs_ox is None else max(worst_vs_ox, vs_ox)
        any_over = any_over or bool(b.get("over_limit"))
        first = o.get("runs", [o["seconds"]])[0]
        add(f"query {qname}", b["seconds"], o["seconds"], extra=f"rows {b['rows']}/{o['rows']}; "
            f"pyoxigraph direct {direct['seconds']:.3f} s ({vs_ox:.2f}x); our first run {first:.3f} s",
            over=bool(b.get("over_limit")))
    add("queries (all)", query_base, query_ours, base["queries"]["peak_mb"], ours["queries"]["peak_mb"],
        over=any(q.get("over_limit") for q in base["queries"]["queries"].values()))
    export_base = export_ours = 0.0
    for fmt in EXPORTS:
        b, o = base[f"export-{fmt}"], ours[f"export-{fmt}"]
        export_base += b["seconds"]
        export_ours += o["seconds"]
        any_over = any_over or bool(b.get("over_limit"))
        add(f"export {fmt}", b["seconds"], o["seconds"], b["peak_mb"], o["peak_mb"],
            f"bytes {b['bytes']:,} / {o['bytes']:,}", over=bool(b.get("over_limit")))
    total_base = base["load"]["seconds"] + base["validate"]["seconds"] + query_base + export_base
    total_ours = ours["load"]["seconds"] + ours["validate"]["seconds"] + query_ours + export_ours
    peak_base = max(v["peak_mb"] for v in base.values())
    peak_ours = max(v["peak_mb"] for k, v in ours.items() if k != "pyoxigraph")
    add("whole pipeline", total_base, total_ours, peak_base, peak_ours, "load + validate + all queries + 3 exports",
        over=any_over)
    add("coopgraph build (end to end)", None, ours["build"]["wall"], None, ours["build"]["peak_mb"],
        "fresh process: load, validate, write 5 dumps")
    header = ("stage", "baseline s", "coopgraph s", "ratio", "baseline MB", "coopgraph MB", "notes")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    totals = {"total_baseline": total_base, "total_ours": total_ours, "speedup": total_base / total_ours,
              "validate_speedup": base["validate"]["seconds"] / ours["validate"]["seconds"],
              "slowest_query_speedup": worst_ratio, "worst_query_vs_pyoxigraph": worst_vs_ox,
              "peak_baseline_mb": peak_base, "peak_ours_mb": peak_ours,
              "same_validation_results": base["validate"]["results"] == ours["validate"]["results"],
              "baseline_over_limit": any_over, "limits": LIMITS}
    return "\n".join(lines) + "\n", totals


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        impl, name, root, shapes = argv[1:5]
        sys.path.insert(0, str(ROOT / "src"))
        from coopgraph.project import Project
        project = Project(Path(root))
        func = stage_baseline if impl == "baseline" else stage_ours
        print(json.dumps(func(name, project, Path(shapes))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000, help="synthetic triples added to the real data")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--violations", type=int, default=0,
                        help="known faults to inject (then `coopgraph build` stops at validation, as it should)")
    parser.add_argument("--out", type=Path, default=None, help="where the results go (default benchmarks/results/)")
    parser.add_argument("--work", type=Path, default=None, help="project folder to generate into (default: a temp dir)")
    parser.add_argument("--shapes", type=Path, default=None,
                        help="shapes folder (default: the project's shapes/, or tests/data/scale-shapes.ttl when empty)")
    parser.add_argument("--without-page-records", action="store_true",
                        help="leave out the data generated from page records (data/pages/): the hand-edited "
                             "data only, for a quick run (the test suite's smoke test)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import generate
    work = args.work or Path(tempfile.mkdtemp(prefix="coopgraph-bench-"))
    print(f"generating {args.triples} synthetic triples into {work} ...", flush=True)
    writer, injected = generate.generate(args.triples, args.seed, args.violations)
    generate.write_project(work, writer.trig(), page_records=not args.without_page_records)
    shapes_dir = args.shapes
    if shapes_dir is None:
        shapes_dir = work / "shapes"
        if not any(shapes_dir.glob("*.ttl")):
            shapes_dir.mkdir(exist_ok=True)
            shutil.copy(ROOT / "tests/data/scale-shapes.ttl", shapes_dir)
    subprocess.run([sys.executable, "-m", "coopgraph", "--root", str(work), "export", "--format", "nquads",
                    "-o", str(work / BASELINE_INPUT)], check=True, capture_output=True)
    print(f"measuring (shapes: {shapes_dir}) ...", flush=True)
    started = time.perf_counter()
    results = measure(work, shapes_dir, progress=lambda m: print(m, flush=True))
    text, totals = table(results)
    info = {"triples_requested": args.triples, "synthetic_statements": writer.count, "injected_faults": len(injected),
            "quads": results["ours"]["load"]["quads"], "seed": args.seed, "machine": f"{platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}", "seconds_total": time.perf_counter() - started,
            "shapes": str(shapes_dir.relative_to(work)) if shapes_dir.is_relative_to(work) else str(shapes_dir)}
    out_dir = args.out or RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"pipeline-{args.triples}"
    (out_dir / f"{stem}.json").write_text(json.dumps({"info": info, "totals": totals, "results": results},
                                                     indent=2, sort_keys=True) + "\n", encoding="utf-8")
    bound = "at least " if totals["baseline_over_limit"] else ""
    summary = (f"{info['quads']:,} statements ({writer.count:,} synthetic + the real data), {info['machine']}; "
               f"benchmark ran {info['seconds_total']:.0f} s\n\n{text}\n"
               f"(\">\": the baseline passed its limit {LIMITS} and was stopped; the ratio is a lower bound)\n"
               f"whole pipeline: {bound}{totals['speedup']:.1f}x faster; validation {totals['validate_speedup']:.1f}x "
               f"(same results: {totals['same_validation_results']}); slowest query speed-up "
               f"{totals['slowest_query_speedup']:.1f}x; worst query vs pyoxigraph direct "
               f"{totals['worst_query_vs_pyoxigraph']:.1f}x; peak memory {totals['peak_ours_mb']:.0f} MB vs "
               f"{totals['peak_baseline_mb']:.0f} MB ({totals['peak_ours_mb'] / totals['peak_baseline_mb']:.2f})\n")
    (out_dir / f"{stem}.md").write_text(summary, encoding="utf-8")
    print(summary)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
