"""Loopback load test of `coopgraph serve`, side by side with rdflib-endpoint over the same graph.

Both servers run as their own processes on 127.0.0.1 (nothing else is contacted). For each workload
a fixed number of requests is sent by C concurrent clients (asyncio + httpx), within a time cap:

* named queries: ours at /queries/NAME.json; the baseline runs the same bound SPARQL at /sparql;
* the same SPARQL at our /sparql (the protocol path, without the named-query layer);
* entity documents: ours at /doc/KIND/SLUG as HTML and as Turtle; the baseline has no entity
  pages, so its closest answer, DESCRIBE <iri> as Turtle, stands in.

Printed: throughput (requests/s), p50 and p99 latency (ms), errors, and the ratios ours/baseline;
written to benchmarks/results/serve_load.json and .txt. Run (after `pip install -e '.[bench]'`):

    python benchmarks/serve_load.py                 # 400 requests per workload, 8 clients, 3 runs
    python benchmarks/serve_load.py -n 1000 -c 16   # heavier
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "src"))

#: Used when the project has no named query that runs without parameters.
FALLBACK_QUERIES = {
    "items-newest-first": """PREFIX schema: <http://schema.org/>
SELECT ?item ?date ?headline WHERE { ?item schema:datePublished ?date ; schema:headline ?headline }
ORDER BY DESC(?date)""",
    "entities-per-class": """SELECT ?class (COUNT(?e) AS ?n) WHERE { ?e a ?class } GROUP BY ?class ORDER BY ?class""",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, limit: float = 120.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"no answer from {url} within {limit} s")


def start(command: list[str], ready_url: str) -> tuple[subprocess.Popen, float]:
    t0 = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                               start_new_session=True)
    wait_ready(ready_url, process)
    return process, time.perf_counter() - t0


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


async def load(requests: list[tuple[str, dict]], clients: int, time_cap: float) -> dict:
    """Send every (url, headers) once with ``clients`` concurrent workers; latencies in ms."""
    import httpx
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + time_cap

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty() and time.perf_counter() < deadline:
            url, headers = queue.get_nowait()
            t0 = time.perf_counter()
            try:
                response = await http.get(url, headers=headers)
                await response.aread()
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {url[:80]}")
                    continue
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__} {url[:80]}")
                continue
            latencies.append((time.perf_counter() - t0) * 1000)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    done = len(latencies)
    return {"requests": len(requests), "completed": done, "errors": len(errors), "error_samples": errors[:3],
            "seconds": round(elapsed, 3), "throughput": round(done / elapsed, 1) if elapsed else 0.0,
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p99_ms": round(latencies[min(done - 1, int(done * 0.99))], 1) if latencies else None}


def workloads(n: int, ours: str, base: str) -> list[tuple[str, list, list]]:
    """(name, our requests, baseline requests), each list n long (cycling over queries/entities)."""
    from urllib.parse import quote

    from coopgraph import ids
    from coopgraph.pipeline import Toolkit
    from coopgraph.project import Project
    from coopgraph.queries import list_queries
    kit = Toolkit(Project(ROOT))
    union = kit.loaded.union()
    named = []
    if kit.project.queries_dir.is_dir():
        named = [(q.name, q.bind({})) for q in list_queries(kit.project.queries_dir)
                 if not any(p.required for p in q.params)]
    uses_named = bool(named)
    if not named:
        named = list(FALLBACK_QUERIES.items())
    entities = sorted({s for s in union.subjects() if ids.is_entity_iri(s)})
    json_accept = {"Accept": "application/sparql-results+json"}

    def cycle(items, make):
        return [make(items[i % len(items)]) for i in range(n)]

    out = []
    if uses_named:
        out.append(("named queries (JSON)",
                    cycle(named, lambda q: (f"{ours}queries/{q[0]}.json", {})),
                    cycle(named, lambda q: (f"{base}sparql?query={quote(q[1])}", json_accept))))
    out.append(("the same SPARQL at /sparql (JSON)",
                cycle(named, lambda q: (f"{ours}sparql?query={quote(q[1])}", json_accept)),
                cycle(named, lambda q: (f"{base}sparql?query={quote(q[1])}", json_accept))))
    out.append(("entity documents (Turtle vs DESCRIBE)",
                cycle(entities, lambda e: (f"{ours}doc/{'/'.join(ids.split(e))}.ttl", {})),
                cycle(entities, lambda e: (f"{base}sparql?query={quote(f'DESCRIBE <{e}>')}",
                                           {"Accept": "text/turtle"}))))
    out.append(("entity pages (HTML vs DESCRIBE)",
                cycle(entities, lambda e: (f"{ours}doc/{'/'.join(ids.split(e))}.html", {})),
                cycle(entities, lambda e: (f"{base}sparql?query={quote(f'DESCRIBE <{e}>')}",
                                           {"Accept": "text/turtle"}))))
    return out


def distinct(requests: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    seen: dict[str, dict] = {}
    for url, headers in requests:
        seen.setdefault(url, headers)
    return list(seen.items())


def median_run(runs: list[dict]) -> dict:
    """The run with the median throughput, with every run's throughput alongside."""
    ordered = sorted(runs, key=lambda r: r["throughput"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["throughput_runs"] = [r["throughput"] for r in runs]
    chosen["errors"] = sum(r["errors"] for r in runs)
    return chosen


def ratio(a, b) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=400, help="requests per workload and server")
    parser.add_argument("-c", "--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--time-cap", type=float, default=60.0, help="seconds per workload at most")
    parser.add_argument("--workers", type=int, default=2, help="query workers of coopgraph serve")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per workload and server (median kept)")
    args = parser.parse_args()

    our_port, base_port = free_port(), free_port()
    ours = f"http://127.0.0.1:{our_port}/"
    base = f"http://127.0.0.1:{base_port}/"
    our_cmd = [sys.executable, "-m", "coopgraph", "--root", str(ROOT), "serve", "--port", str(our_port),
               "--workers", str(args.workers), "--log-level", "warning"]
    base_cmd = [sys.executable, str(ROOT / "benchmarks" / "baseline_rdflib_endpoint.py"), str(base_port)]
    our_proc, our_start = start(our_cmd, ours + "status")
    base_proc, base_start = start(base_cmd, base + "sparql?query=ASK%7B%7D")
    rows = []
    try:
        plan = workloads(args.requests, ours, base)
        for name, our_requests, base_requests in plan:
            # Warm-up: one pass over the distinct requests (fills our page cache, rdflib's parse caches).
            warm = distinct(our_requests)
            asyncio.run(load(warm, args.clients, args.time_cap))
            asyncio.run(load(distinct(base_requests), args.clients, args.time_cap))
            # Alternate the servers, repeat, and keep each one's median run (loopback timings are noisy).
            our_runs, base_runs = [], []
            for _ in range(args.repeat):
                our_runs.append(asyncio.run(load(our_requests, args.clients, args.time_cap)))
                base_runs.append(asyncio.run(load(base_requests, args.clients, args.time_cap)))
            our, baseline = median_run(our_runs), median_run(base_runs)
            rows.append({"workload": name, "distinct": len(warm), "coopgraph": our, "rdflib_endpoint": baseline})
    finally:
        stop(our_proc)
        stop(base_proc)

    from importlib.metadata import version
    meta = {"requests": args.requests, "clients": args.clients, "repeat": args.repeat, "time_cap": args.time_cap, "workers": args.workers,
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "rdflib": version("rdflib"), "rdflib_endpoint": version("rdflib-endpoint"),
            "startup_seconds": {"coopgraph": round(our_start, 2), "rdflib_endpoint": round(base_start, 2)}}
    lines = [f"coopgraph serve vs rdflib-endpoint {meta['rdflib_endpoint']} on loopback: {args.requests} requests "
             f"per workload, {args.clients} concurrent clients, median of {args.repeat} runs, {os.cpu_count()} CPUs, "
             f"coopgraph with {args.workers} query workers",
             f"start-up until the first answer: coopgraph {our_start:.2f} s, rdflib-endpoint {base_start:.2f} s",
             "",
             f"{'workload':<40} {'server':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"]
    for row in rows:
        for label, key in (("coopgraph", "coopgraph"), ("rdflib-endpoint", "rdflib_endpoint")):
            r = row[key]
            lines.append(f"{row['workload'] if key == 'coopgraph' else '':<40} {label:<16} {r['throughput']:>8} "
                         f"{r['p50_ms']!s:>8} {r['p99_ms']!s:>8} {r['errors']:>7}")
        a, b = row["coopgraph"], row["rdflib_endpoint"]
        lines.append(f"{'':<40} {'ratio ours/base':<16} {ratio(a['throughput'], b['throughput']):>8} "
                     f"{ratio(a['p50_ms'], b['p50_ms']):>8} {ratio(a['p99_ms'], b['p99_ms']):>8}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "serve_load.json").write_text(json.dumps({"meta": meta, "workloads": rows}, indent=2) + "\n")
    (RESULTS / "serve_load.txt").write_text(text)


if __name__ == "__main__":
    main()
