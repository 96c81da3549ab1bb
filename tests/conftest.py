"""Shared fixtures, and the network guard: the whole suite runs with the network blocked.

An audit hook (PEP 578) refuses every socket connection and urllib request that does not go to the
loopback interface, so a test that made coopgraph fetch something fails with NetworkBlocked.
Loopback stays open for the tests that start our own servers.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_SPECS = ROOT.parent / "shared" / "specs"


class NetworkBlocked(RuntimeError):
    """Raised by the audit hook for any non-loopback network access."""


#: Every refused attempt, so a test can also check that nothing was even tried.
ATTEMPTS: list[str] = []


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect":
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) == socket.AF_UNIX:
            return
        host = address[0] if isinstance(address, tuple) else str(address)
        if not _is_loopback(host):
            ATTEMPTS.append(f"connect {address!r}")
            raise NetworkBlocked(f"network access refused in tests: connect to {address!r}")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode()
        if host is not None and not _is_loopback(str(host)):
            ATTEMPTS.append(f"resolve {host!r}")
            raise NetworkBlocked(f"network access refused in tests: name lookup of {host!r}")
    elif event == "urllib.Request":
        url = args[0]
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ftp") and not _is_loopback(parts.hostname):
            ATTEMPTS.append(f"urllib {url}")
            raise NetworkBlocked(f"network access refused in tests: {url}")


if not getattr(sys, "_coopgraph_guard", False):
    sys.addaudithook(_audit)
    sys._coopgraph_guard = True  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def project():
    from coopgraph.project import Project
    return Project(ROOT)


@pytest.fixture(scope="session")
def toolkit(project):
    """The real dataset, loaded once for the session (treat it as read-only)."""
    from coopgraph.pipeline import Toolkit
    kit = Toolkit(project)
    kit.loaded  # noqa: B018 - load now
    return kit


@pytest.fixture(scope="session")
def dataset(toolkit):
    return toolkit.loaded.dataset


@pytest.fixture(scope="session")
def union(toolkit):
    return toolkit.loaded.union()


@pytest.fixture()
def project_copy(tmp_path):
    """A throw-away copy of the project's sources (ontology, data, shapes, queries) to break."""
    from coopgraph.project import Project
    for name in ("ontology", "data", "shapes", "queries"):
        if (ROOT / name).is_dir():  # git keeps no empty folder: queries/ may not exist yet
            shutil.copytree(ROOT / name, tmp_path / name)
    return Project(tmp_path)


@pytest.fixture()
def cli_runner():
    from click.testing import CliRunner
    return CliRunner()


@pytest.fixture()
def listener():
    """A loopback TCP server standing in for a remote endpoint; records every connection it receives."""
    import threading
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.settimeout(0.2)
    hits: list[str] = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            hits.append("connection")
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/sparql", hits
    stop.set()
    thread.join(1)
    sock.close()


def run_cli(*args: str, root: Path | None = None, env: dict | None = None):
    """Invoke the CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    from click.testing import CliRunner
    from coopgraph.cli import cli
    runner = CliRunner()
    full = (["--root", str(root)] if root else ["--root", str(ROOT)]) + list(args)
    return runner.invoke(cli, full, env=env, catch_exceptions=False)


def pytest_report_header(config):
    return [f"coopgraph root: {ROOT}", "network: blocked except loopback (audit hook)",
            f"shared specs: {'present' if SHARED_SPECS.is_dir() else 'absent'} at {SHARED_SPECS}",
            f"COOPGRAPH_ROOT={os.environ.get('COOPGRAPH_ROOT', '')}"]


# ----------------------------------------------------------------------------- coopgraph serve

#: Caps of the test server: small enough that the tests reach them quickly.
SERVE_TIMEOUT = 3.0
SERVE_MAX_ROWS = 2000
SERVE_MAX_BODY = 100_000


@pytest.fixture(scope="session")
def served_project(tmp_path_factory):
    """The project (real ontology/, data/, queries/) plus the test's named query (tests/data/queries)."""
    from coopgraph.project import Project
    root = tmp_path_factory.mktemp("served")
    for name in ("ontology", "data"):
        (root / name).symlink_to(ROOT / name, target_is_directory=True)
    queries = root / "queries"
    queries.mkdir()
    for source in (ROOT / "queries", ROOT / "tests" / "data" / "queries"):
        for path in sorted(source.glob("*.rq")) if source.is_dir() else []:
            shutil.copy(path, queries / path.name)
    return Project(root)


@pytest.fixture(scope="session")
def server(served_project, tmp_path_factory):
    """A real `coopgraph serve` process on a free loopback port, for the whole session."""
    from serving import ServerProcess
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    proc = ServerProcess(served_project.root, log, "--timeout", str(SERVE_TIMEOUT),
                         "--max-rows", str(SERVE_MAX_ROWS), "--max-body", str(SERVE_MAX_BODY), "--workers", "2")
    proc.start()
    yield proc
    proc.stop()


def benchmark_module(name: str):
    """A script of benchmarks/ imported as a module (benchmarks/ is not a package)."""
    import importlib.util
    module_name = f"coopgraph_benchmarks_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
