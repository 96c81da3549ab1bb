"""The build: sources -> graph -> validate -> dumps and dataset description, written only when the graph conforms."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from . import description, export
from .build import Loaded, load
from .errors import CoopgraphError
from .namespaces import ID, RDF
from .project import Project
from .safety import LocalDocumentLoader, default_loader
from .validate import Report, load_shapes, validate


class ValidationFailed(CoopgraphError):
    """The graph does not conform to the shapes; nothing was written."""

    def __init__(self, report: Report):
        super().__init__(report.text())
        self.report = report


@dataclass
class Toolkit:
    """One project's loaded pieces, read once and shared by the commands."""

    project: Project
    _loaded: Loaded | None = field(default=None, repr=False)
    _loader: LocalDocumentLoader | None = field(default=None, repr=False)
    _context: dict | None = field(default=None, repr=False)

    @property
    def loaded(self) -> Loaded:
        if self._loaded is None:
            self._loaded = load(self.project)
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
        return validate(self.loaded.union(), self.shapes(), files=self.loaded.files)


@dataclass
class BuildResult:
    report: Report
    counts: dict[str, int]
    triples: int
    graphs: int
    written: list[Path]


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
    ds = kit.loaded.dataset
    out = out_dir or project.dist_dir
    texts: dict[str, str] = export.render_all(ds, context=kit.context, loader=kit.loader)
    texts.update(description.render(ds, texts))
    written = export.write_all({out / name: text for name, text in texts.items()})
    union = kit.loaded.union()
    return BuildResult(report=report, counts=class_counts(union), triples=len(union),
                       graphs=len(export.graph_names(ds)), written=written)
