"""Start `coopgraph serve` as a real process on a free loopback port, and stop it (used by conftest)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`python -m coopgraph --root ROOT serve ...` on 127.0.0.1:PORT, with its output in a log file."""

    def __init__(self, root: Path, log: Path, *options: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = log
        self.command = [sys.executable, "-m", "coopgraph", "--root", str(root), "serve", "--host", "127.0.0.1",
                        "--port", str(self.port), "--log-level", "warning", *options]
        self.process: subprocess.Popen | None = None

    def start(self, wait: float = 60.0) -> "ServerProcess":
        self._log = open(self.log_path, "wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"coopgraph serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "status", timeout=2) as response:
                    status = json.load(response)
                if status["pool"]["idle"] == status["pool"]["workers"]:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"coopgraph serve did not answer within {wait} s:\n{self.log()}")

    def status(self) -> dict:
        with urllib.request.urlopen(self.url + "status", timeout=5) as response:
            return json.load(response)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
