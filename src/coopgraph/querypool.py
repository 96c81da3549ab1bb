"""Killable SPARQL workers: each query runs in a worker process that is killed and replaced on timeout.

Neither Oxigraph (oxigraph #1926) nor rdflib's ``Graph.query`` has a timeout, so a runaway query
in the server process would freeze it. Here a small pool of worker processes each open the
server's on-disk Oxigraph store read-only (nothing is parsed; with ``--store memory`` they parse
the dataset's N-Quads, sent at start); a query is checked (:func:`coopgraph.safety.check_query`), evaluated,
capped at ``max_rows`` and serialised inside a worker, and the server only waits for the bytes.
When the answer does not come within the timeout the worker is killed (SIGKILL) and a fresh one is
started in the background while the others keep answering.

Workers are started through the ``forkserver`` method with this module preloaded, so a replacement
costs a fork and opening the store, not a new interpreter.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import resource
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rdflib import Dataset, Graph, URIRef
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.query import Result

from . import negotiation as neg
from . import queries as _queries  # noqa: F401  (its rdflib evaluation hooks apply in workers too)
from .build import bind_prefixes, new_dataset
from .errors import CoopgraphError, InputError, QueryRefused
from .safety import check_query, default_loader

#: Seconds a new worker may take to load the data before start-up fails.
STARTUP_TIMEOUT = 120.0
#: Checked queries each worker keeps, by text (refused and bad queries are never kept).
PARSE_CACHE = 256


@dataclass(frozen=True)
class Job:
    """One SPARQL request as a worker needs it."""

    query: str
    accept: str | None = None
    formats: tuple[str, ...] = ()
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    offers: str = "sparql"  # "sparql": every SPARQL format; "table": named-query formats


@dataclass
class Answer:
    """What a worker answers: a status, a body and how to label it, or a message."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    kind: str = ""  # SELECT, ASK, CONSTRUCT, DESCRIBE
    rows: int = 0
    message: str = ""
    table: dict | None = None  # for HTML: {"vars": [...], "rows": [[term dicts]], "boolean": bool|None}
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Payload:
    """What a worker needs: the on-disk Oxigraph store to open read-only (or, for the rdflib store,
    the data as N-Quads to parse), the ontology folder, the caps."""

    nquads: str
    ontology_dir: str
    context: dict
    max_rows: int
    memory_mb: int = 0
    store_path: str = ""


# ----------------------------------------------------------------------------- inside a worker

class Engine:
    """The dataset as one worker holds it, and the evaluation of one job."""

    def __init__(self, payload: Payload):
        from pathlib import Path
        self.store = None
        self.dataset = None
        if payload.store_path:
            # The server's on-disk Oxigraph store, opened read-only: nothing is parsed.
            import pyoxigraph as ox

            from .store import OxigraphStore
            path = Path(payload.store_path)
            self.store = OxigraphStore(ox.Store.read_only(str(path)), path=path, read_only=True)
            self.allowed = self.store.allowed_graphs()
        else:
            self.dataset = new_dataset()
            self.dataset.parse(data=payload.nquads, format="nquads")
            self.allowed = [str(g) for g in _graph_names(self.dataset)]
        self.context = payload.context
        self.loader = default_loader(Path(payload.ontology_dir))
        self.max_rows = payload.max_rows
        self._parsed: dict[str, Any] = {}

    def _checked(self, text: str):
        """check_query, remembered per query text (parsing costs more than most evaluations here)."""
        query = self._parsed.get(text)
        if query is None:
            query = check_query(text, self.allowed)
            if len(self._parsed) >= PARSE_CACHE:
                self._parsed.pop(next(iter(self._parsed)))
            self._parsed[text] = query
        return query

    def run(self, job: Job) -> Answer:
        try:
            return self._run(job)
        except QueryRefused as exc:
            return Answer(403, message=exc.message)
        except InputError as exc:
            return Answer(400, message=exc.message)
        except CoopgraphError as exc:
            return Answer(400, message=exc.message)
        except MemoryError:
            return Answer(503, message="the query needed more memory than a query worker may use; "
                                       "narrow it (fewer patterns, a LIMIT)",
                          headers={"X-Coopgraph-Recycle": "1"})
        except RecursionError:
            return Answer(400, message="the query is nested too deeply to evaluate")
        except Exception as exc:  # rdflib evaluation errors have many types
            return Answer(500, message=f"SPARQL evaluation failed: {type(exc).__name__}: {exc}")

    def _run(self, job: Job) -> Answer:
        if self.store is not None:
            query = self._checked(job.query)
            _protocol_graphs_allowed(job, self.allowed)
        elif job.default_graphs or job.named_graphs:
            query = check_query(job.query, self.allowed)
            _protocol_dataset(query, job, self.allowed)
        else:
            query = self._checked(job.query)
        kind = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
                "DescribeQuery": "DESCRIBE"}.get(query.algebra.name, query.algebra.name)
        if job.offers == "table":
            offers = neg.TABLE_FORMATS
        else:
            offers = neg.GRAPH_FORMATS if kind in ("CONSTRUCT", "DESCRIBE") else neg.RESULT_FORMATS
        default = neg.TURTLE if offers is neg.GRAPH_FORMATS else neg.RESULTS_JSON
        chosen = neg.choose(job.accept, list(job.formats), offers, default)
        if chosen is None:
            names = ", ".join(f"{o.media_type} (format={o.names[0]})" for o in offers)
            asked = f"format={', '.join(job.formats)}" if any(job.formats) else f"Accept: {job.accept}"
            return Answer(406, kind=kind, message=f"{kind} results cannot be given as {asked}; "
                                                  f"available: {names}")
        if self.store is not None:
            from .store import RowCapExceeded
            try:
                # the store's checked path (the query was checked above and is passed as such)
                native = self.store.query_native(
                    job.query, checked=query,
                    default_graph=list(job.default_graphs) if job.default_graphs else None,
                    named_graphs=list(job.named_graphs) if job.named_graphs else None)
                result = native.to_result(self.max_rows)
            except RowCapExceeded:
                return self._over_cap(kind, "triples" if kind in ("CONSTRUCT", "DESCRIBE") else "rows")
        else:
            result = self.dataset.query(query)
        if kind in ("CONSTRUCT", "DESCRIBE"):
            return self._graph(result.graph, kind, chosen)
        if kind == "ASK":
            return self._ask(bool(result.askAnswer), chosen)
        return self._select(result, chosen, job.query)

    def _over_cap(self, kind: str, what: str) -> Answer:
        return Answer(422, kind=kind, message=(
            f"the result has more than {self.max_rows} {what}, the row cap of this server; "
            f"nothing was cut silently: add LIMIT {self.max_rows} (and OFFSET to page through it) "
            "or narrow the query"), headers={"X-Coopgraph-Row-Cap": str(self.max_rows)})

    def _select(self, result: Result, chosen: neg.Representation, job_text: str = "") -> Answer:
        rows = []
        for row in result:
            rows.append(row)
            if len(rows) > self.max_rows:
                return self._over_cap("SELECT", "rows")
        names = [str(v) for v in result.vars]
        order = _star_order(job_text, names) if job_text else list(range(len(names)))
        names = [names[i] for i in order]
        rows = [tuple(row[i] for i in order) for row in rows]
        variables = [result.vars[i] for i in order]
        headers = {"X-Coopgraph-Rows": str(len(rows))}
        if chosen is neg.HTML:
            table = {"vars": names, "rows": [[_term(row[i]) for i in range(len(names))] for row in rows],
                     "boolean": None}
            return Answer(200, kind="SELECT", rows=len(rows), table=table, headers=headers,
                          content_type=chosen.content_type)
        if chosen is neg.RESULTS_TSV:
            body = _tsv(names, rows)
        else:
            capped = Result("SELECT")
            capped.vars = variables
            capped.bindings = [{v: row[i] for i, v in enumerate(variables) if row[i] is not None}
                               for row in rows]
            fmt = {"json": "json", "xml": "xml", "csv": "csv"}[chosen.key]
            body = capped.serialize(format=fmt)
            if chosen.key == "json":
                body = body + b"\n"
        return Answer(200, body=body, content_type=chosen.content_type, kind="SELECT", rows=len(rows),
                      headers=headers)

    def _ask(self, answer: bool, chosen: neg.Representation) -> Answer:
        text = "true" if answer else "false"
        if chosen is neg.HTML:
            return Answer(200, kind="ASK", rows=1, table={"vars": [], "rows": [], "boolean": answer},
                          content_type=chosen.content_type)
        if chosen.key == "json":
            body = f'{{"head": {{}}, "boolean": {text}}}\n'.encode()
        elif chosen.key == "xml":
            body = ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'
                    f"  <head/>\n  <boolean>{text}</boolean>\n</sparql>\n").encode()
        elif chosen.key == "csv":  # the SPARQL CSV/TSV note defines no ASK form; this is Jena's
            body = f"_askResult\r\n{text}\r\n".encode()
        else:
            body = f"?_askResult\n{text}\n".encode()
        return Answer(200, body=body, content_type=chosen.content_type, kind="ASK", rows=1)

    def _graph(self, graph: Graph, kind: str, chosen: neg.Representation) -> Answer:
        if len(graph) > self.max_rows:
            return self._over_cap(kind, "triples")
        headers = {"X-Coopgraph-Rows": str(len(graph))}
        if chosen is neg.HTML:
            rows = [[_term(s), _term(p), _term(o)] for s, p, o in sorted(graph)]
            return Answer(200, kind=kind, rows=len(graph), headers=headers, content_type=chosen.content_type,
                          table={"vars": ["subject", "predicate", "object"], "rows": rows, "boolean": None})
        body = serialize_graph(graph, chosen, self.context, self.loader)
        return Answer(200, body=body, content_type=chosen.content_type, kind=kind, rows=len(graph),
                      headers=headers)


def serialize_graph(graph: Graph, chosen: neg.Representation, context: dict, loader) -> bytes:
    """A graph as Turtle, sorted N-Triples, JSON-LD (pyld, compacted with our context) or RDF/XML."""
    from . import export
    bind_prefixes(graph)
    if chosen is neg.TURTLE:
        return export.turtle(graph).encode("utf-8")
    if chosen is neg.NTRIPLES:
        return export.ntriples(graph).encode("utf-8")
    if chosen is neg.JSONLD:
        return export.dumps_json(export.jsonld_document(graph, context, loader)).encode("utf-8")
    if chosen is neg.RDFXML:
        return graph.serialize(format="pretty-xml", encoding="utf-8")
    raise ValueError(f"no RDF serialisation for {chosen.media_type}")


def _graph_names(ds: Dataset) -> list[URIRef]:
    from .build import graph_names
    return graph_names(ds)


def _protocol_graphs_allowed(job: Job, allowed: list[str]) -> None:
    """Refuse a default-graph-uri / named-graph-uri that is not one of our graphs."""
    for label, iris in (("default-graph-uri", job.default_graphs), ("named-graph-uri", job.named_graphs)):
        for iri in iris:
            if iri not in allowed:
                raise QueryRefused(f"{label} <{iri}> is refused: it is not one of coopgraph's graphs")


def _protocol_dataset(query: Any, job: Job, allowed: list[str]) -> None:
    """Apply the protocol's default-graph-uri / named-graph-uri (they replace FROM / FROM NAMED)."""
    if not job.default_graphs and not job.named_graphs:
        return
    clauses = []
    for iri in job.default_graphs:
        if iri not in allowed:
            raise QueryRefused(f"default-graph-uri <{iri}> is refused: it is not one of coopgraph's graphs")
        clauses.append(CompValue("DatasetClause", default=URIRef(iri)))
    for iri in job.named_graphs:
        if iri not in allowed:
            raise QueryRefused(f"named-graph-uri <{iri}> is refused: it is not one of coopgraph's graphs")
        clauses.append(CompValue("DatasetClause", named=URIRef(iri)))
    query.algebra["datasetClause"] = clauses


_STAR = re.compile(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*", re.IGNORECASE)


def _star_order(text: str, names: list[str]) -> list[int]:
    """For ``SELECT *``, the variables in the order they first appear in the query (rdflib's order
    depends on hashing); otherwise the projection's own order."""
    if not _STAR.search(text):
        return list(range(len(names)))

    def first(name: str) -> int:
        match = re.search(r"[?$]" + re.escape(name) + r"\b", text)
        return match.start() if match else len(text)

    return sorted(range(len(names)), key=lambda i: (first(names[i]), names[i]))


def _term(term: Any) -> dict | None:
    """A term as a SPARQL-JSON-like dict (for the HTML table)."""
    from rdflib import BNode, Literal
    if term is None:
        return None
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    if isinstance(term, Literal):
        out = {"type": "literal", "value": str(term)}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype:
            out["datatype"] = str(term.datatype)
        return out
    return {"type": "literal", "value": str(term)}


def _tsv(names: list[str], rows: list) -> bytes:
    """SPARQL 1.1 TSV: ``?var`` header, terms in N-Triples/Turtle syntax, tabs and newlines escaped."""
    lines = ["\t".join(f"?{n}" for n in names)]
    for row in rows:
        cells = []
        for term in row:
            cells.append("" if term is None else term.n3().replace("\t", "\\t").replace("\n", "\\n")
                         .replace("\r", "\\r"))
        lines.append("\t".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _watch_parent(parent_pid: int) -> None:
    """Exit when the server process is gone (a worker never outlives it)."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass


def worker_main(conn, payload: Payload, parent_pid: int) -> None:
    """A worker's life: load, say ready, then answer jobs until the pipe closes."""
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if payload.memory_mb:
        limit = payload.memory_mb * 1024 * 1024
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ValueError, OSError):
            pass
    try:
        engine = Engine(payload)
    except Exception as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        answer = engine.run(job)
        try:
            conn.send(answer)
        except (BrokenPipeError, OSError):
            return
        if answer.headers.get("X-Coopgraph-Recycle"):
            return


# ----------------------------------------------------------------------------- the pool (server side)

class Worker:
    """One worker process and our end of its pipe."""

    def __init__(self, process, conn):
        self.process = process
        self.conn = conn
        self.pid = process.pid

    def kill(self) -> None:
        try:
            self.process.kill()
        except Exception:
            pass
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except Exception:
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.kill()
        else:
            self.conn.close()


class QueryTimeout(Exception):
    """The query did not finish within the timeout; its worker was killed."""


class PoolBusy(Exception):
    """No worker became free within the timeout."""


class WorkerDied(Exception):
    """The worker ended without answering."""


def _context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["coopgraph.querypool"])
    return ctx


class QueryPool:
    """``size`` worker processes; :meth:`run` answers a Job or raises QueryTimeout / PoolBusy."""

    def __init__(self, payload: Payload, size: int = 2):
        self.payload = payload
        self.size = max(1, size)
        self._ctx = _context()
        self._idle: asyncio.Queue[Worker] | None = None
        self._all: set[Worker] = set()
        self._tasks: set[asyncio.Task] = set()
        self.restarts = 0
        self.timeouts = 0
        self.started_in: float | None = None
        self.last_restart: float | None = None
        self.closed = False

    def _spawn_blocking(self) -> Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=worker_main, args=(child_conn, self.payload, os.getpid()),
                                    daemon=True, name="coopgraph-query-worker")
        process.start()
        child_conn.close()
        worker = Worker(process, parent_conn)
        if not parent_conn.poll(STARTUP_TIMEOUT):
            worker.kill()
            raise RuntimeError(f"a query worker did not start within {STARTUP_TIMEOUT:.0f} s")
        try:
            message = parent_conn.recv()
        except EOFError:
            worker.kill()
            raise RuntimeError("a query worker exited while loading the data") from None
        if message[0] != "ready":
            worker.kill()
            raise RuntimeError(f"a query worker could not load the data: {message[1]}")
        return worker

    async def start(self) -> None:
        """Start every worker and wait until each has loaded the data."""
        t0 = time.perf_counter()
        self._idle = asyncio.Queue()
        workers = await asyncio.gather(*(asyncio.to_thread(self._spawn_blocking) for _ in range(self.size)))
        for worker in workers:
            self._all.add(worker)
            self._idle.put_nowait(worker)
        self.started_in = time.perf_counter() - t0

    async def _replace(self, dead: Worker) -> None:
        self._all.discard(dead)
        await asyncio.to_thread(dead.kill)
        if self.closed:
            return
        t0 = time.perf_counter()
        worker = await asyncio.to_thread(self._spawn_blocking)
        self.last_restart = time.perf_counter() - t0
        self.restarts += 1
        if self.closed:
            worker.kill()
            return
        self._all.add(worker)
        assert self._idle is not None
        self._idle.put_nowait(worker)

    def _schedule_replace(self, dead: Worker) -> None:
        task = asyncio.get_running_loop().create_task(self._replace(dead))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self, job: Job, timeout: float) -> Answer:
        """Run ``job`` on a free worker; kill that worker if it takes longer than ``timeout`` s."""
        assert self._idle is not None, "QueryPool.start() first"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                worker = await asyncio.wait_for(self._idle.get(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise PoolBusy() from None
            if worker.process.is_alive():
                break
            self._schedule_replace(worker)  # died while idle: replace it, take the next one
        # Shielded: a client that hangs up does not leave the worker half-used.
        return await asyncio.shield(self._run_on(worker, job, timeout))

    async def _run_on(self, worker: Worker, job: Job, timeout: float) -> Answer:
        def exchange() -> Answer | None:
            worker.conn.send(job)
            if not worker.conn.poll(timeout):
                return None
            return worker.conn.recv()

        try:
            answer = await asyncio.to_thread(exchange)
        except (EOFError, OSError, BrokenPipeError):
            self._schedule_replace(worker)
            raise WorkerDied() from None
        if answer is None:
            self.timeouts += 1
            self._schedule_replace(worker)
            raise QueryTimeout()
        if answer.headers.pop("X-Coopgraph-Recycle", None):
            self._schedule_replace(worker)
        else:
            assert self._idle is not None
            self._idle.put_nowait(worker)
        return answer

    def status(self) -> dict:
        """Workers alive and idle, restarts and timeouts so far."""
        return {"workers": self.size, "alive": sum(1 for w in self._all if w.process.is_alive()),
                "pids": sorted(w.pid for w in self._all),
                "idle": self._idle.qsize() if self._idle else 0, "restarts": self.restarts,
                "timeouts": self.timeouts,
                "startup_seconds": round(self.started_in, 3) if self.started_in is not None else None,
                "last_restart_seconds": round(self.last_restart, 3) if self.last_restart is not None else None}

    async def close(self) -> None:
        """Stop every worker."""
        self.closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in list(self._all)), return_exceptions=True)
        self._all.clear()
