"""The benchmark's baseline: rdflib-endpoint (FastAPI) serving coopgraph's dataset, as its README shows.

    python benchmarks/baseline_rdflib_endpoint.py PORT

The same Dataset coopgraph serves (coopgraph.build.load: one named graph per source, default graph
the union), loaded the same way; rdflib-endpoint's own defaults otherwise (updates off, CORS on).
Loopback only.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main(port: int) -> None:
    import uvicorn
    from rdflib_endpoint import SparqlEndpoint

    from coopgraph.build import load
    from coopgraph.project import Project

    dataset = load(Project(ROOT)).dataset
    app = SparqlEndpoint(graph=dataset, path="/sparql", title="coopgraph (rdflib-endpoint baseline)",
                         public_url=f"http://127.0.0.1:{port}/sparql")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(int(sys.argv[1]))
