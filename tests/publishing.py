"""Helpers shared by the ingest, description, release and diff tests (not a test module)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

LISTING = ROOT / "data" / "raw" / "ilo-coop-europe-listing.txt"
LISTING_URL = "https://www.ilo.org/global/topics/cooperatives/regions/europe/lang--en/nextRow--30/index.htm"
INGEST_DATA = ROOT / "tests" / "data" / "ingest"


def copy_project(dest: Path, *, data: bool = True) -> Path:
    """A throw-away copy of the project's sources; ``data=False`` leaves data/ empty."""
    for name in ("ontology", "shapes", "queries"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name)
    if data:
        shutil.copytree(ROOT / "data", dest / "data")
    else:
        (dest / "data").mkdir(parents=True)
    return dest


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too), relative path -> bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def coopgraph(*args: str, env: dict | None = None, check: bool = False) -> subprocess.CompletedProcess:
    """Run ``python -m coopgraph ARGS`` in a subprocess (a real process, its own signals)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "coopgraph", *args], capture_output=True, text=True,
                          env=full_env, check=check, timeout=300)


def start(*args: str, env: dict | None = None) -> subprocess.Popen:
    """Start ``python -m coopgraph ARGS`` without waiting (to kill it midway)."""
    return subprocess.Popen([sys.executable, "-m", "coopgraph", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
