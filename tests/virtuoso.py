"""A private Virtuoso Open Source instance for the tests: its own virtuoso.ini and database folder
in a temporary directory, free loopback ports, a random dba password; never the system service.

Debian's ``virtuoso-opensource`` package provides ``virtuoso-t`` and ``isql-vt``
(.ci/apt-packages.txt); when they are missing the tests fail and say what to install.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("Virtuoso is not installed: run `make test` (it installs the Debian packages of "
                ".ci/apt-packages.txt) or `apt-get install virtuoso-opensource`")

INI = """\
[Database]
DatabaseFile       = {dir}/virtuoso.db
ErrorLogFile       = {dir}/virtuoso.log
LockFile           = {dir}/virtuoso.lck
TransactionFile    = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {dir}/virtuoso-temp.db
TransactionFile    = {dir}/virtuoso-temp.trx

[Parameters]
ServerPort               = 127.0.0.1:{sql_port}
DisableUnixSocket        = 1
MaxClientConnections     = 10
CheckpointInterval       = 60
CaseMode                 = 2
DirsAllowed              = ., {dir}
NumberOfBuffers          = 20000
MaxDirtyBuffers          = 15000
ThreadsPerQuery          = 2

[HTTPServer]
ServerPort                  = 127.0.0.1:{http_port}
ServerRoot                  = {dir}
MaxClientConnections        = 10
ServerThreads               = 10
Charset                     = UTF-8
EnabledGzipContent          = 0

[SPARQL]
ResultSetMaxRows           = 1000000
MaxQueryExecutionTime      = 120
MaxQueryCostEstimationTime = 400
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Virtuoso:
    """A running instance: its addresses and its dba credentials."""

    folder: Path
    http_port: int
    sql_port: int
    password: str
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql(self) -> str:
        return self.base + "/sparql"

    @property
    def sparql_auth(self) -> str:
        return self.base + "/sparql-auth"

    @property
    def gsp_auth(self) -> str:
        return self.base + "/sparql-graph-crud-auth"

    def isql(self, statement: str, password: str | None = None) -> str:
        out = subprocess.run(["isql-vt", f"127.0.0.1:{self.sql_port}", "dba", password or self.password,
                              f"exec={statement}"], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"isql-vt failed: {out.stdout[-500:]} {out.stderr[-500:]}")
        return out.stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start(folder: Path, timeout: float = 120) -> Virtuoso:
    """Start Virtuoso in ``folder`` and wait until its SPARQL endpoint answers."""
    binary = shutil.which("virtuoso-t")
    if binary is None or shutil.which("isql-vt") is None:
        raise FileNotFoundError(INSTALL_HINT)
    folder.mkdir(parents=True, exist_ok=True)
    http_port, sql_port = free_port(), free_port()
    (folder / "virtuoso.ini").write_text(INI.format(dir=folder, http_port=http_port, sql_port=sql_port),
                                         encoding="utf-8")
    log = open(folder / "stdout.log", "wb")
    process = subprocess.Popen([binary, "-f", "-c", str(folder / "virtuoso.ini")], cwd=folder,
                               stdout=log, stderr=subprocess.STDOUT)
    instance = Virtuoso(folder, http_port, sql_port, "dba", process)
    deadline = time.monotonic() + timeout
    url = instance.sparql + "?query=ASK%7B%7D"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"Virtuoso exited with {process.returncode}: "
                               + (folder / "virtuoso.log").read_text(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            instance.stop()
            raise TimeoutError(f"Virtuoso did not answer on {instance.sparql} within {timeout} s")
        time.sleep(0.3)
    password = "t" + secrets.token_hex(12)
    instance.isql(f"set password dba {password};", password="dba")  # ISQL: set password OLD NEW
    instance.password = password
    return instance
