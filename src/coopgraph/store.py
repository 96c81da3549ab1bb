"""Where the graph lives: an rdflib Dataset in memory, or an Oxigraph store (in memory or on disk).

Both give the same dataset to everything after them (README "Stores"):

* one named graph per source, and a default graph that is the *set* union of the named graphs
  (a fact stated by two sources is one triple of the union, as in rdflib's ``default_union``);
* ``query(text)``: the query is checked by :func:`coopgraph.safety.check_query` (no update, no
  SERVICE, no FROM outside our graphs) before any engine sees it, and answers as an rdflib
  ``Result``, so :func:`coopgraph.queries.format_result` prints the same bytes for both stores;
* ``dataset()`` / ``union()``: rdflib objects for the code that walks the graph in Python
  (embed blocks, framing one entity); ``describe()`` answers one entity without materialising all.

The Oxigraph store keeps the named graphs *and* their set union in its own default graph:
Oxigraph's ``use_default_graph_as_union`` is a bag (a triple in two graphs matches twice), which
would change ``COUNT`` and non-DISTINCT answers. An on-disk store (``--store-path DIR``) records
a fingerprint of the sources it was built from, so a later run opens it without parsing anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from .errors import InputError

if TYPE_CHECKING:  # imported lazily at run time: `coopgraph query` must start fast
    from rdflib import Dataset, Graph, URIRef
    from rdflib.query import Result

    from .build import SourceFiles
    from .project import Project

#: The stores ``--store`` accepts; the default was chosen by measurement (README "Stores").
STORES = ("oxigraph", "memory")
DEFAULT_STORE = "oxigraph"
#: Written in an on-disk store folder: what it was built from.
MARKER = "coopgraph-store.json"
STORE_FORMAT = 1

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class GraphStore(ABC):
    """A loaded dataset, whatever holds it."""

    kind: str = ""

    def __init__(self, files: "SourceFiles | None" = None):
        self.files = files
        self._nm = None

    @property
    def namespace_manager(self):
        """A namespace manager with our prefixes (for tables and Turtle)."""
        if self._nm is None:
            from rdflib import Graph

            from .build import bind_prefixes
            graph = Graph()
            bind_prefixes(graph)
            self._nm = graph.namespace_manager
        return self._nm

    @abstractmethod
    def graph_names(self) -> list["URIRef"]:
        """The names of the non-empty named graphs, sorted."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of triples of the union (each distinct triple once)."""

    @abstractmethod
    def quad_count(self) -> int:
        """Number of (triple, graph) statements."""

    @abstractmethod
    def query(self, text: str, *, check: bool = True) -> "Result":
        """Run a SPARQL query (checked first) on the dataset; an rdflib Result."""

    @abstractmethod
    def dataset(self) -> "Dataset":
        """The whole dataset as an rdflib Dataset (default graph = union)."""

    def union(self) -> "Graph":
        """Every triple of every graph, as one rdflib Graph with our prefixes."""
        from .build import union_graph
        return union_graph(self.dataset())

    @abstractmethod
    def describe(self, iri: "URIRef", depth: int) -> "Graph":
        """``iri``'s triples and those of our entities it links to, ``depth`` links deep."""

    @abstractmethod
    def ntriples_lines(self) -> list[str]:
        """The union as N-Triples lines (rdflib's escaping), sorted, unique, without newlines."""

    @abstractmethod
    def nquads_lines(self) -> list[str]:
        """Every statement as an N-Quads line (rdflib's escaping), sorted, without newlines."""

    @abstractmethod
    def graph_lines(self, name: "URIRef") -> list[str]:
        """One named graph as N-Triples lines, sorted, unique, without newlines."""

    def allowed_graphs(self) -> list[str]:
        return [str(g) for g in self.graph_names()]

    def close(self) -> None:
        """Release the store (an on-disk store is flushed and closed)."""


# ----------------------------------------------------------------------------- rdflib

class MemoryStore(GraphStore):
    """The rdflib Dataset of :func:`coopgraph.build.load` (pure Python, the original store)."""

    kind = "memory"

    def __init__(self, ds: "Dataset", files: "SourceFiles | None" = None):
        super().__init__(files)
        self.ds = ds
        self._union = None

    def graph_names(self):
        from .build import graph_names
        return graph_names(self.ds)

    def union(self):
        if self._union is None:
            self._union = super().union()
        return self._union

    def __len__(self) -> int:
        return len(self.union())

    def quad_count(self) -> int:
        return sum(len(self.ds.graph(g)) for g in self.graph_names())

    def query(self, text, *, check=True):
        from . import queries
        if not check:
            return self.ds.query(text)
        return queries.run(self.ds, text, allowed_graphs=self.allowed_graphs())

    def dataset(self):
        return self.ds

    def describe(self, iri, depth):
        from .export import describe
        return describe(self.union(), iri, depth)

    def ntriples_lines(self):
        from .export import ntriples
        return ntriples(self.union()).splitlines()

    def nquads_lines(self):
        from .export import nquads
        return nquads(self.ds).splitlines()

    def graph_lines(self, name):
        from .export import ntriples
        return ntriples(self.ds.graph(name)).splitlines()


# ----------------------------------------------------------------------------- Oxigraph

def ox_to_rdflib(term):
    """An rdflib term for a pyoxigraph term (None for None and the default graph)."""
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value) if datatype == XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.DefaultGraph):
        return None
    raise InputError(f"unsupported RDF term from Oxigraph: {term!r} (RDF-star triples are not used by coopgraph)")


def rdflib_to_ox(term):
    """A pyoxigraph term for an rdflib term."""
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def _unescape_ox(line: str) -> str:
    """An N-Triples line from Oxigraph with rdflib's escaping: only \\\\ \\n \\" \\r stay escaped."""
    import re
    table = {"t": "\t", "b": "\b", "f": "\f"}

    def sub(match: "re.Match[str]") -> str:
        esc = match.group(1)
        if esc in ("\\", "n", '"', "r"):
            return "\\" + esc
        if esc in table:
            return table[esc]
        return chr(int(esc[1:], 16))
    return re.sub(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", sub, line)


class RowCapExceeded(Exception):
    """A result has more rows (or triples) than the caller's cap."""


class NativeAnswer:
    """Oxigraph's answer to a query, as Oxigraph gives it, with the variables in rdflib's order.

    ``kind`` is SELECT, ASK, CONSTRUCT or DESCRIBE; ``names`` and ``solutions`` (pyoxigraph's
    QuerySolutions, read once) for SELECT, ``boolean`` for ASK, ``triples`` for graphs.
    :func:`coopgraph.queries.format_result` formats a SELECT directly from the pyoxigraph terms;
    :meth:`to_result` gives the rdflib Result everything else reads.
    """

    def __init__(self, kind: str, *, names=(), solutions=None, boolean: bool | None = None, triples=None,
                 positions=None):
        self.kind = kind
        self.type = kind
        self.names = list(names)
        self.solutions = solutions
        self.boolean = boolean
        self.triples = triples
        # where each of ``names`` is in Oxigraph's solutions (they differ only for SELECT *)
        self.positions = list(range(len(self.names))) if positions is None else list(positions)

    def rows(self, max_rows: int | None = None) -> Iterator[tuple]:
        """Each solution as a tuple of pyoxigraph terms (None when unbound), in ``names`` order."""
        positions = self.positions
        same = positions == list(range(len(positions)))
        for count, solution in enumerate(self.solutions, 1):
            if max_rows is not None and count > max_rows:
                raise RowCapExceeded(max_rows)
            values = tuple(solution)  # the fastest way out of pyoxigraph (indexing by name is 3x slower)
            yield values if same else tuple(values[i] for i in positions)

    def to_result(self, max_rows: int | None = None) -> "Result":
        """The answer as an rdflib Result (each distinct term converted once)."""
        from rdflib import Graph, Variable
        from rdflib.query import Result
        if self.kind == "ASK":
            result = Result("ASK")
            result.askAnswer = self.boolean
            return result
        if self.kind in ("CONSTRUCT", "DESCRIBE"):
            from .build import bind_prefixes
            graph = Graph()
            bind_prefixes(graph)
            seen = set()
            for triple in self.triples:
                if triple in seen:
                    continue
                seen.add(triple)
                if max_rows is not None and len(seen) > max_rows:
                    raise RowCapExceeded(max_rows)
                graph.add((ox_to_rdflib(triple.subject), ox_to_rdflib(triple.predicate),
                           ox_to_rdflib(triple.object)))
            result = Result("CONSTRUCT")
            result.graph = graph
            return result
        result = Result("SELECT")
        result.vars = [Variable(n) for n in self.names]
        bindings = []
        converted: dict = {}  # the same term comes back in many rows: convert it once
        for values in self.rows(max_rows):
            row = {}
            for name, value in zip(result.vars, values):
                if value is not None:
                    term = converted.get(value)
                    if term is None:
                        term = converted[value] = ox_to_rdflib(value)
                    row[name] = term
            bindings.append(row)
        result.bindings = bindings
        return result


class OxigraphStore(GraphStore):
    """A pyoxigraph Store: named graphs as loaded, and their set union as the default graph."""

    kind = "oxigraph"

    def __init__(self, store, files: "SourceFiles | None" = None, *, path: Path | None = None,
                 read_only: bool = False):
        super().__init__(files)
        self.ox = store
        self.path = path
        self.read_only = read_only
        self._names = None
        self._len = None
        self._dataset = None
        self.reused = False  # an on-disk store opened as it was (its sources unchanged)
        self.parsed_files = 0  # source files parsed into an on-disk store when it was (re)built

    # -- loading

    @classmethod
    def in_memory(cls) -> "OxigraphStore":
        import pyoxigraph as ox
        return cls(ox.Store())

    def finish_load(self) -> None:
        """Fill the default graph with the set union of the named graphs (after every load)."""
        self.ox.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        self._names = self._len = self._dataset = None

    # -- reading

    def _select(self, text: str, **kwargs):
        return self.ox.query(text, **kwargs)

    def graph_names(self):
        if self._names is None:
            from rdflib import URIRef
            names = [URIRef(n.value) for n in self.ox.named_graphs()
                     if next(iter(self.ox.quads_for_pattern(None, None, None, n)), None) is not None]
            self._names = sorted(names)
        return list(self._names)

    def __len__(self) -> int:
        if self._len is None:
            import pyoxigraph as ox
            solutions = self.ox.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
            self._len = int(next(iter(solutions))["n"].value)
            del ox
        return self._len

    def quad_count(self) -> int:
        solutions = self.ox.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(next(iter(solutions))["n"].value)

    def query_native(self, text: str, *, check: bool = True, checked=None,
                     default_graph: "Iterable[str] | None" = None,
                     named_graphs: "Iterable[str] | None" = None) -> "NativeAnswer":
        """Run a SPARQL query (checked first) and keep Oxigraph's answer: no rdflib terms.

        ``checked`` is the query as :func:`coopgraph.safety.check_query` returned it (a caller that
        keeps checked queries passes it). ``default_graph`` / ``named_graphs`` are the SPARQL
        protocol's ``default-graph-uri`` / ``named-graph-uri``: they replace the query's dataset (an
        empty ``default_graph`` list is an empty default graph) and must be graphs of this store.
        """
        import pyoxigraph as ox

        from .safety import check_query, needs_full_check
        quick = False  # checked by safety.needs_full_check only: rdflib's parse comes on an error
        if check and checked is None:
            if needs_full_check(text):
                checked = check_query(text, self.allowed_graphs())
            else:
                quick = True
        kwargs = {}
        if default_graph is not None or named_graphs is not None:
            from .errors import QueryRefused
            allowed = set(self.allowed_graphs())
            for label, iris in (("default-graph-uri", default_graph), ("named-graph-uri", named_graphs)):
                for iri in iris or ():
                    if iri not in allowed:
                        raise QueryRefused(f"{label} <{iri}> is refused: it is not one of coopgraph's graphs")
            if default_graph is not None:
                kwargs["default_graph"] = [ox.NamedNode(iri) for iri in default_graph]
            if named_graphs is not None:
                kwargs["named_graphs"] = [ox.NamedNode(iri) for iri in named_graphs]
            if named_graphs is not None and default_graph is None:
                kwargs["default_graph"] = []  # only FROM NAMED: the default graph is empty (SPARQL 13.2)
        try:
            answer = self.ox.query(text, **kwargs)
        except SyntaxError as exc:
            if quick:  # the full check's error (its message, or a refusal) when it has one
                check_query(text, self.allowed_graphs())
            raise InputError(f"SPARQL syntax error: {exc}") from exc
        except OSError as exc:
            raise InputError(f"SPARQL evaluation failed: {exc}") from exc
        if isinstance(answer, ox.QueryBoolean):
            return NativeAnswer("ASK", boolean=bool(answer))
        if isinstance(answer, ox.QueryTriples):
            kind = "CONSTRUCT"
            if checked is not None and getattr(checked.algebra, "name", "") == "DescribeQuery":
                kind = "DESCRIBE"
            return NativeAnswer(kind, triples=answer)
        ox_names = [v.value for v in answer.variables]
        names = ox_names
        if checked is not None and checked.algebra.get("PV"):
            # rdflib lists SELECT * variables in its own order; keep that order.
            order = [str(v) for v in checked.algebra["PV"]]
            if sorted(order) == sorted(names):
                names = order
        return NativeAnswer("SELECT", names=names, solutions=answer,
                            positions=[ox_names.index(n) for n in names])

    def query(self, text, *, check=True, checked=None, default_graph=None, named_graphs=None,
              max_rows: int | None = None):
        """:meth:`query_native` as an rdflib Result (RowCapExceeded past ``max_rows``)."""
        return self.query_native(text, check=check, checked=checked, default_graph=default_graph,
                                 named_graphs=named_graphs).to_result(max_rows)

    def dataset(self):
        if self._dataset is None:
            from rdflib import URIRef

            from .build import new_dataset
            ds = new_dataset()
            for name in self.graph_names():
                graph = ds.graph(name)
                import pyoxigraph as ox
                for quad in self.ox.quads_for_pattern(None, None, None, ox.NamedNode(str(name))):
                    graph.add((ox_to_rdflib(quad.subject), ox_to_rdflib(quad.predicate),
                               ox_to_rdflib(quad.object)))
            self._dataset = ds
            del URIRef
        return self._dataset

    def describe(self, iri, depth):
        from .export import describe
        return describe(store_graph(self), iri, depth)  # lookups answered by Oxigraph, no copy

    def _graph_lines(self, graph) -> Iterator[str]:
        import pyoxigraph as ox
        data = self.ox.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
        for line in data.decode("utf-8").split("\n"):
            if line:
                yield _unescape_ox(line) if "\\" in line else line

    def ntriples_lines(self):
        import pyoxigraph as ox
        return sorted(self._graph_lines(ox.DefaultGraph()))

    def graph_lines(self, name):
        import pyoxigraph as ox
        return sorted(self._graph_lines(ox.NamedNode(str(name))))

    def nquads_lines(self):
        import pyoxigraph as ox
        out = []
        for name in self.graph_names():
            suffix = f" <{name}> ."
            out.extend(line[:-2] + suffix for line in self._graph_lines(ox.NamedNode(str(name))))
        out.sort()
        return out

    def close(self) -> None:
        if self.ox is not None and self.path is not None and not self.read_only:
            self.ox.flush()
        self.ox = None  # RocksDB closes when the last reference goes


# ----------------------------------------------------------------------------- loading

def fingerprint(paths: Iterable[Path]) -> str:
    """A digest of the sources: name, size and modification time of every file (like make)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        stat = path.stat()
        digest.update(f"{path.as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def source_paths(project: "Project") -> tuple[list[Path], list[Path]]:
    """(ontology/*.ttl, data/**/*.trig) of a project, in build.load's order."""
    from .build import data_trig_files
    return sorted(project.ontology_dir.glob("*.ttl")), data_trig_files(project)


def all_source_paths(project: "Project") -> list[Path]:
    """Every file the dataset is built from (for the on-disk store's fingerprint)."""
    from . import mappings
    from .build import DATASET_FILE
    ontology, data = source_paths(project)
    extra = [project.data_dir / DATASET_FILE] if (project.data_dir / DATASET_FILE).is_file() else []
    return ontology + extra + data + list(mappings.mapping_files(project.data_dir))


class _GraphAdder:
    """What build's mapping code needs of a Dataset (``ds.graph(name).add(triple)``), on Oxigraph."""

    def __init__(self, store):
        self.store = store

    def graph(self, name):
        import pyoxigraph as ox
        target = ox.NamedNode(str(name))
        store = self.store

        class _Graph:
            def add(self, triple):
                s, p, o = (rdflib_to_ox(t) for t in triple)
                store.add(ox.Quad(s, p, o, target))
        return _Graph()


def _syntax_error(label: str, exc: SyntaxError) -> InputError:
    line = getattr(exc, "lineno", None)
    message = str(exc)
    return InputError(f"{label}:{line}: syntax error: {message}" if line else f"{label}: syntax error: {message}")


def load_into(target: OxigraphStore, project: "Project", files: "SourceFiles") -> None:
    """Parse ontology/*.ttl and data/*.trig into ``target`` with the checks of build.load."""
    import pyoxigraph as ox
    from .build import DATASET_FILE, _check_graph_names_in, check_loaded_statement
    from .namespaces import DATASET_GRAPH, ONTOLOGY_GRAPH
    ontology_files, data_files = source_paths(project)
    if not data_files:
        raise InputError(f"{project.relative(project.data_dir)}: no *.trig files to build from")
    store = target.ox
    for path in ontology_files:
        rel = project.relative(path)
        try:
            store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri(),
                            to_graph=ox.NamedNode(str(ONTOLOGY_GRAPH)))
        except SyntaxError as exc:
            raise _syntax_error(rel, exc) from exc
        files.add(rel, path, {str(ONTOLOGY_GRAPH)})
    metadata = project.data_dir / DATASET_FILE
    if metadata.is_file():
        rel = project.relative(metadata)
        try:
            store.bulk_load(path=str(metadata), format=ox.RdfFormat.TURTLE, base_iri=metadata.resolve().as_uri(),
                            to_graph=ox.NamedNode(str(DATASET_GRAPH)))
        except SyntaxError as exc:
            raise _syntax_error(rel, exc) from exc
        if store.query(f"ASK {{ GRAPH <{DATASET_GRAPH}> {{ ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }} }}"):
            raise InputError(f"{rel}: blank node: give every node an IRI so dumps stay byte-stable")
        files.add(rel, metadata, {str(DATASET_GRAPH)})
    for path in data_files:
        rel = project.relative(path)
        before = {n.value for n in store.named_graphs()}
        try:
            store.bulk_load(path=str(path), format=ox.RdfFormat.TRIG, base_iri=path.resolve().as_uri())
        except SyntaxError as exc:
            raise _syntax_error(rel, exc) from exc
        files.add(rel, path, set())
        # Triples outside a GRAPH block land in the store's default graph (empty until finish_load).
        stray = next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None)
        if stray is not None:
            check_loaded_statement(files, rel, ox_to_rdflib(stray.subject), None, None, None)
        # A graph is checked in the first file (in name order) that has it, as build.load does.
        files.graphs[rel] = {n.value for n in store.named_graphs()} - before
    # One scan of the data graphs for blank nodes (a scan after each file made loading quadratic in
    # the number of files); only when there is one are the files read again to name the first.
    blank = next(iter(store.query(
        "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) } "
        f"FILTER(?g != <{ONTOLOGY_GRAPH}> && ?g != <{DATASET_GRAPH}>) }} LIMIT 1")), None)
    if blank is not None:
        rel, name = _first_blank_node(project, data_files)
        check_loaded_statement(files, rel, None, None, None, name, blank_node=True)
    _check_graph_names_in(_declared_sources(target), files)
    _add_mappings(target, files, project)
    target.finish_load()


def _first_blank_node(project: "Project", data_files) -> tuple[str, object]:
    """The first data file (in load order) with a blank node, and the graph it is in."""
    import pyoxigraph as ox
    for path in data_files:
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TRIG, base_iri=path.resolve().as_uri()):
            if isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode):
                return project.relative(path), ox_to_rdflib(quad.graph_name)
    raise AssertionError("a blank node in the store but in no data file")  # pragma: no cover


def _add_mappings(target: OxigraphStore, files: "SourceFiles", project: "Project") -> None:
    """data/mappings/*.sssom.tsv into the store, with build._add_mappings' checks."""
    from rdflib import URIRef

    from . import mappings
    from .namespaces import RDF
    paths = mappings.mapping_files(project.data_dir)
    if not paths:
        return
    entities = {URIRef(row["s"].value) for row in target.ox.query(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s <{RDF.type}> ?t }} FILTER(isIRI(?s)) }}")}
    sources = {URIRef(s) for s in _declared_sources(target)}
    adder = _GraphAdder(target.ox)
    for path in paths:
        rel = project.relative(path)
        mset = mappings.read(path, label=rel)
        mappings.add_to_dataset(adder, mset, entities, sources)
        files.add(rel, path, {str(m.provider) for m in mset.links()})


def _declared_sources(target: OxigraphStore) -> set[str]:
    from .namespaces import COOP, RDF, SOURCES_GRAPH
    answer = target.ox.query(f"SELECT ?s WHERE {{ GRAPH <{SOURCES_GRAPH}> {{ ?s <{RDF.type}> <{COOP.Source}> }} }}")
    return {row["s"].value for row in answer}


def open_store(project: "Project", kind: str = DEFAULT_STORE, path: Path | None = None) -> GraphStore:
    """The project's dataset in a store of ``kind``; with ``path``, an on-disk Oxigraph store.

    An on-disk store built from the same sources (same names, sizes and times) is opened without
    parsing; otherwise it is rebuilt beside the old one and swapped in when complete.
    """
    from .build import SourceFiles, load
    if kind not in STORES:
        raise InputError(f"unknown store {kind!r}; use one of {', '.join(STORES)}")
    if path is not None and kind != "oxigraph":
        raise InputError("--store-path needs --store oxigraph (the on-disk store is an Oxigraph store)")
    if kind == "memory":
        loaded = load(project)
        return MemoryStore(loaded.dataset, loaded.files)
    if path is None:
        target = OxigraphStore.in_memory()
        target.files = SourceFiles(project)
        load_into(target, project, target.files)
        return target
    return _open_disk_store(project, Path(path), all_source_paths(project))


def _open_disk_store(project: "Project", path: Path, sources: list[Path]) -> OxigraphStore:
    import pyoxigraph as ox

    from .build import SourceFiles
    stamp = fingerprint(sources)
    marker = path / MARKER
    if marker.is_file():
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        if info.get("sources") == stamp and info.get("format") == STORE_FORMAT:
            files = SourceFiles(project)
            for source in sources:
                files.add(project.relative(source), source, set(info.get("graphs", {}).get(project.relative(source), [])))
            try:
                store = ox.Store.read_only(str(path))
            except OSError as exc:
                raise InputError(f"{path}: cannot open the Oxigraph store: {exc}") from exc
            opened = OxigraphStore(store, files, path=path, read_only=True)
            opened.reused = True
            return opened
    elif path.exists() and any(path.iterdir()):
        raise InputError(f"{path}: exists and is not a coopgraph store (no {MARKER}); "
                         "give an empty or new folder to --store-path")
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        target = OxigraphStore(ox.Store(str(staging)), SourceFiles(project), path=staging)
        load_into(target, project, target.files)
        target.ox.optimize()
        info = {"format": STORE_FORMAT, "sources": stamp, "triples": len(target),
                "graphs": {rel: sorted(names) for rel, names in target.files.graphs.items()}}
        files = target.files
        target.close()
        del target
        (staging / MARKER).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
        os.replace(staging, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    store = ox.Store.read_only(str(path))
    built = OxigraphStore(store, files, path=path, read_only=True)
    built.parsed_files = len(sources)
    return built


# ----------------------------------------------------------------------------- rdflib views of a store

def _view_class():
    """rdflib's Store API over one graph of a pyoxigraph Store (read-only), made on first use."""
    from rdflib import Literal
    from rdflib.plugins.stores.memory import SimpleMemory

    class OxigraphView(SimpleMemory):
        """Pattern lookups (``graph.objects``, ``value``, ``in``...) answered by Oxigraph, one
        pattern at a time: what pages, embed blocks and framing need of one entity, without
        copying the graph into rdflib. Prefix bindings are kept here, as in rdflib's memory store."""

        def __init__(self, ox_store, graph):
            super().__init__()
            self.ox = ox_store
            self.target = graph

        def triples(self, triple_pattern, context=None):
            s, p, o = triple_pattern
            if isinstance(s, Literal) or (p is not None and not hasattr(p, "n3")) or isinstance(p, Literal):
                return
            try:
                terms = [None if t is None else rdflib_to_ox(t) for t in (s, p, o)]
            except (TypeError, ValueError):
                return
            for quad in self.ox.quads_for_pattern(*terms, self.target):
                triple = (s if s is not None else ox_to_rdflib(quad.subject),
                          p if p is not None else ox_to_rdflib(quad.predicate),
                          o if o is not None else ox_to_rdflib(quad.object))
                yield triple, iter(())

        def __len__(self, context=None) -> int:
            import pyoxigraph as ox
            if isinstance(self.target, ox.DefaultGraph):
                text = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
            else:
                text = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{self.target.value}> {{ ?s ?p ?o }} }}"
            return int(next(iter(self.ox.query(text)))["n"].value)

        def add(self, triple, context=None, quoted=False):
            raise TypeError("this graph is a read-only view of the Oxigraph store")

        def remove(self, triple, context=None):
            raise TypeError("this graph is a read-only view of the Oxigraph store")

    return OxigraphView


_VIEW = None


def store_graph(store: "OxigraphStore", name=None) -> "Graph":
    """An rdflib Graph whose lookups go to ``store``: the union (default) or the named graph ``name``."""
    import pyoxigraph as ox
    from rdflib import Graph, URIRef

    from .build import bind_prefixes
    global _VIEW
    if _VIEW is None:
        _VIEW = _view_class()
    target = ox.DefaultGraph() if name is None else ox.NamedNode(str(name))
    graph = Graph(store=_VIEW(store.ox, target), identifier=URIRef(str(name)) if name is not None else None)
    bind_prefixes(graph)
    return graph


class StoreDataset:
    """What pages read of a Dataset (``graph(name)``, ``graphs(triple)``), answered by the store."""

    def __init__(self, store: "OxigraphStore"):
        self.store = store
        self._graphs: dict = {}

    def graph(self, name) -> "Graph":
        key = str(name)
        if key not in self._graphs:
            self._graphs[key] = store_graph(self.store, name)
        return self._graphs[key]

    def graphs(self, triple=None) -> Iterator["Graph"]:
        """The named graphs holding ``triple`` (every named graph without one)."""
        import pyoxigraph as ox
        if triple is None:
            for name in self.store.graph_names():
                yield self.graph(name)
            return
        terms = [None if t is None else rdflib_to_ox(t) for t in triple]
        names = {q.graph_name.value for q in self.store.ox.quads_for_pattern(*terms)
                 if not isinstance(q.graph_name, ox.DefaultGraph)}
        for name in sorted(names):
            yield self.graph(name)
