"""The app factory in-process: the extension point other modules use to mount their routes.

uvicorn serves the app from a thread of the test process (under the conftest network guard) on a
free loopback port; its lifespan starts the query workers as `coopgraph serve` does.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from coopgraph.serve import create_app


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"path": request.url.path, "bytes": len(body)})


@pytest.fixture(scope="module")
def client(toolkit):
    app = create_app(toolkit, max_body=1000, workers=1, timeout=10,
                     extra_routes=[Route("/reconcile", echo, methods=["GET", "POST"])])
    from serving import free_port
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        yield http
    server.should_exit = True
    thread.join(15)


def test_extra_routes_are_served_with_cors_and_the_body_cap(client):
    response = client.get("/reconcile", headers={"Origin": "https://openrefine.example"})
    assert response.status_code == 200 and response.json()["path"] == "/reconcile"
    assert response.headers["access-control-allow-origin"] == "*"
    assert client.post("/reconcile", content=b"q" * 999).json()["bytes"] == 999
    assert client.post("/reconcile", content=b"q" * 1001).status_code == 413


def test_built_in_routes_still_answer_beside_them(client, union):
    response = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    assert int(response.json()["results"]["bindings"][0]["n"]["value"]) == len(union)
    assert client.get("/id/place/trento", follow_redirects=False).status_code == 303
