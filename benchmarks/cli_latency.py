"""End-to-end latency of `coopgraph query NAME` on the real dataset: a fresh process each time.

Usage::

    python benchmarks/cli_latency.py            # every named query, 7 runs each, both stores
    python benchmarks/cli_latency.py --runs 3 items-timeline

Reports the median and best wall time per query (process start, imports, loading the sources,
checking and running the query, printing), for the default store (Oxigraph, loaded from the
sources in memory), for an on-disk store (--store-path, reopened without parsing) and for the
rdflib store. Results go to benchmarks/results/cli-latency.md.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def example_args(path: Path) -> list[str]:
    """--param NAME=VALUE for each required parameter, from the 'e.g. VALUE' of its description."""
    args = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#\s*param:\s*(\w+)\s*\(\s*[\w:]+\s*,\s*required\s*\)(.*)", line)
        if match:
            example = re.search(r"e\.g\.\s+(\S+)", match.group(2))
            args += ["--param", f"{match.group(1)}={example.group(1).rstrip('.,;)')}"]
    return args


def time_command(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="queries to time (default: all)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "cli-latency.md")
    args = parser.parse_args(argv)
    exe = [sys.executable, "-m", "coopgraph", "--root", str(ROOT)]
    names = args.names or sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
    store_dir = Path(tempfile.mkdtemp(prefix="coopgraph-latency-"))
    setups = {"oxigraph (default)": [], "oxigraph on disk": ["--store-path", str(store_dir / "store")],
              "rdflib (memory)": ["--store", "memory"]}
    subprocess.run(exe + setups["oxigraph on disk"] + ["query", "--list"], check=True, stdout=subprocess.DEVNULL)
    rows = []
    try:
        for name in names:
            extra = example_args(ROOT / "queries" / f"{name}.rq")
            cells = [name]
            for options in setups.values():
                if options and options[0] == "--store-path":
                    # build the on-disk store once, outside the timing
                    subprocess.run(exe + options + ["query", name, *extra], check=True, stdout=subprocess.DEVNULL)
                times = time_command(exe + options + ["query", name, *extra], args.runs)
                cells.append(f"{statistics.median(times):.3f} / {min(times):.3f}")
            rows.append(cells)
            print("  ".join(cells), flush=True)
    finally:
        shutil.rmtree(store_dir, ignore_errors=True)
    header = ["query"] + [f"{k}: median / best s" for k in setups]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    text = (f"`coopgraph query NAME` end to end (fresh process, {args.runs} runs each), real dataset, "
            f"Python {sys.version.split()[0]}\n\n" + "\n".join(lines) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
