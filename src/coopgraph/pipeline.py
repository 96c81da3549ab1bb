"""The build: sources -> graph -> validate -> dumps and dataset description, written only when the graph conforms."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from . import description, export
from .build import Loaded
from .errors import CoopgraphError
from .namespaces import ID, RDF
from .project import Project
from .safety import LocalDocumentLoader, default_loader
from .store import DEFAULT_STORE, GraphStore, MemoryStore, open_store
from .validate import VALIDATORS, Report, load_shapes, validate


class ValidationFailed(CoopgraphError):
    """The graph does not conform to the shapes; nothing was written."""

    def __init__(self, report: Report):
        super().__init__(report.text())
        self.report = report


@dataclass
class Toolkit:
    """One project's loaded pieces, read once and shared by the commands.

    ``store_kind`` ("oxigraph", the default, or "memory") and ``store_path`` (an on-disk Oxigraph
    store, opened without parsing when it is up to date) say where the graph lives; ``store`` is
    that store, ``loaded`` the same data as an rdflib Dataset for code that walks it in Python.
    ``validator`` is "auto" (SPARQL on Oxigraph, pySHACL on the memory store), "sparql" or "pyshacl".
    """

    project: Project
    store_kind: str = DEFAULT_STORE
    store_path: Path | None = None
    validator: str = "auto"
    _loaded: Loaded | None = field(default=None, repr=False)
    _store: GraphStore | None = field(default=None, repr=False)
    _loader: LocalDocumentLoader | None = field(default=None, repr=False)
    _context: dict | None = field(default=None, repr=False)

    @property
    def store(self) -> GraphStore:
        """The dataset in its store (loaded on first use)."""
        if self._store is None:
            self._store = open_store(self.project, self.store_kind, self.store_path)
        return self._store

    @property
    def loaded(self) -> Loaded:
        """The dataset as an rdflib Dataset and the files it came from."""
        if self._loaded is None:
            store = self.store
            dataset = store.ds if isinstance(store, MemoryStore) else store.dataset()
            self._loaded = Loaded(dataset, store.files)
        return self._loaded

    @property
    def loader(self) -> LocalDocumentLoader:
        if self._loader is None:
            self._loader = default_loader(self.project.ontology_dir)
        return self._loader

    @property
    def context(self) -> dict:
        if self._context is None:
            self._context = export.load_context(self.project.context_file)
        return self._context

    def shapes(self) -> Graph:
        return load_shapes(self.project.shapes_dir, label_root=self.project.root)

    def validate(self) -> Report:
        """The dataset (union of its graphs) against shapes/."""
        engine = self.validator
        if engine not in VALIDATORS:
            from .errors import InputError
            raise InputError(f"unknown validator {engine!r}; use one of {', '.join(VALIDATORS)}")
        if engine == "auto":
            engine = "pyshacl" if isinstance(self.store, MemoryStore) else "sparql"
        if engine == "sparql":
            from .shaclsparql import validate_store
            return validate_store(self.store, self.shapes(), files=self.store.files)
        return validate(self.loaded.union(), self.shapes(), files=self.loaded.files)


@dataclass
class BuildResult:
    report: Report
    counts: dict[str, int]
    triples: int
    graphs: int
    written: list[Path]


def store_class_counts(store: GraphStore) -> dict[str, int]:
    """class_counts() of a store's union, counted by the store."""
    if isinstance(store, MemoryStore):
        return class_counts(store.union())
    result = store.query(f"SELECT ?class (COUNT(?s) AS ?n) WHERE {{ ?s a ?class "
                         f"FILTER(STRSTARTS(STR(?s), \"{ID}\")) }} GROUP BY ?class", check=False)
    nm = store.namespace_manager
    counts: Counter[str] = Counter()
    for row in result:
        counts[nm.normalizeUri(row["class"])] += int(row["n"])
    return dict(sorted(counts.items()))


def class_counts(graph: Graph) -> dict[str, int]:
    """Number of our entities per class (prefixed name), sorted by class."""
    counts: Counter[str] = Counter()
    nm = graph.namespace_manager
    for s, o in graph.subject_objects(RDF.type):
        if str(s).startswith(str(ID)):
            counts[nm.normalizeUri(o)] += 1
    return dict(sorted(counts.items()))


def build(project: Project, out_dir: Path | None = None, *, toolkit: Toolkit | None = None) -> BuildResult:
    """Load, validate and write every dump and the dataset description to ``out_dir`` (default dist/).

    Raises ValidationFailed, before anything is written, when the graph has violations.
    """
    kit = toolkit or Toolkit(project)
    report = kit.validate()
    if not report.conforms:
        raise ValidationFailed(report)
    store = kit.store
    out = out_dir or project.dist_dir
    if isinstance(store, MemoryStore):
        ds = store.ds
        texts: dict[str, str] = export.render_all(ds, context=kit.context, loader=kit.loader)
        texts.update(description.render(ds, texts))
        written = export.write_all({out / name: text for name, text in texts.items()})
    else:
        # Dumps stream from the store into temporary files; the description is made from their
        # bytes (sizes, checksums) and statistics computed by SPARQL on the store (no rdflib copy
        # of the graph); then every file is renamed into place at once.
        def describe(staged: dict) -> dict:
            dumps = {path.name: tmp.read_bytes() for path, tmp in staged.items()}
            return {out / name: text for name, text in description.render(store, dumps).items()}
        written = export.write_all_chunks(
            export.store_dumps(store, export.FORMATS, context=kit.context, loader=kit.loader, out_dir=out),
            then=describe)
    return BuildResult(report=report, counts=store_class_counts(store), triples=len(store),
                       graphs=len(store.graph_names()), written=written)
