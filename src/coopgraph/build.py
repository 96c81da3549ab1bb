"""Sources to graph: read ontology/ and data/ into one rdflib Dataset, one named graph per source.

Layout of the dataset (README "Provenance"):

* ``<https://w3id.org/coopgraph/graph/ontology>``: ontology/*.ttl (our vocabulary, the topics);
* ``<https://w3id.org/coopgraph/graph/sources>``: the description of every source;
* ``<https://w3id.org/coopgraph/graph/dataset>``: data/dataset.ttl, the hand-edited part of the
  dataset description (title, licence, publisher), so the licence travels with the dumps;
* ``<https://w3id.org/coopgraph/source/KEY>``: the facts that source KEY supports, including the
  links to other datasets that data/mappings/*.sssom.tsv record (see :mod:`coopgraph.mappings`).

The default graph is the union of all of them.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from . import ids, mappings
from .errors import InputError
from .namespaces import COOP, DATASET_GRAPH, ONTOLOGY_GRAPH, PREFIXES, RDF, SOURCES_GRAPH, SRC
from .project import Project
from .safety import parse_into


@dataclass
class SourceFiles:
    """The text of every file read, to point a message at a file and line.

    Texts are read when first needed (a store opened from disk never reads them unless a message
    has to point into them); a large file is searched with ``str.find`` and a line index.
    """

    project: Project
    texts: dict[str, str] = field(default_factory=dict)  # relative path -> text
    graphs: dict[str, set[str]] = field(default_factory=dict)  # relative path -> graph names
    paths: dict[str, Path] = field(default_factory=dict)  # relative path -> file, read on demand
    _lines: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def add(self, rel: str, path: Path, graphs: set[str]) -> None:
        """Record a file read into the graph; a large one's text is read only when a message needs it."""
        self.paths[rel] = path
        self.graphs[rel] = set(graphs)
        try:
            if path.stat().st_size <= _LARGE:
                self.texts[rel] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            pass

    def _all_texts(self) -> list[tuple[str, str]]:
        for rel, path in self.paths.items():
            if rel not in self.texts:
                try:
                    self.texts[rel] = path.read_text(encoding="utf-8")
                except OSError:
                    self.texts[rel] = ""
        return sorted(self.texts.items())

    def locate(self, subject: URIRef | None, value: object | None = None) -> str | None:
        """``file:line`` where ``subject`` is described (and ``value`` written), or None."""
        if subject is None or not isinstance(subject, URIRef):
            return None
        needles = [_written_forms(subject)]
        if value is not None and not isinstance(value, BNode):
            needles.append(_written_forms(value))
        best: str | None = None
        for path, text in self._all_texts():
            if len(text) > _LARGE:
                found = self._locate_large(path, text, needles)
                if found and found[1]:
                    return found[0]
                best = best or (found[0] if found else None)
                continue
            lines = text.splitlines()
            subject_lines = [i for i, line in enumerate(lines) if any(n in line for n in needles[0])]
            if not subject_lines:
                continue
            if len(needles) > 1:
                for start in subject_lines:
                    for i in range(start, min(start + 60, len(lines))):
                        if any(n in lines[i] for n in needles[1]):
                            return f"{path}:{i + 1}"
                        if i > start and re.match(r"^\S", lines[i]) and not lines[i].startswith(("#",)):
                            break  # next subject block
            best = best or f"{path}:{subject_lines[0] + 1}"
        return best

    def _locate_large(self, path: str, text: str, needles: list[tuple[str, ...]]) -> tuple[str, bool] | None:
        """The same search as locate() for one large text: (file:line, value found) or None."""
        starts = self._lines.get(path)
        if starts is None:
            starts, pos = [0], text.find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = text.find("\n", pos + 1)
            self._lines[path] = starts

        def line(i: int) -> str:
            end = starts[i + 1] - 1 if i + 1 < len(starts) else len(text)
            return text[starts[i]:end]

        subject_lines: set[int] = set()
        for needle in needles[0]:
            if "\n" in needle:
                continue
            pos = text.find(needle)
            while pos >= 0:
                subject_lines.add(bisect.bisect_right(starts, pos) - 1)
                pos = text.find(needle, pos + 1)
        if not subject_lines:
            return None
        ordered = sorted(subject_lines)
        if len(needles) > 1:
            for start in ordered:
                for i in range(start, min(start + 60, len(starts))):
                    current = line(i)
                    if any(n in current for n in needles[1]):
                        return f"{path}:{i + 1}", True
                    if i > start and re.match(r"^\S", current) and not current.startswith(("#",)):
                        break
        return f"{path}:{ordered[0] + 1}", False


#: Texts longer than this (characters) are searched with str.find and a line index.
_LARGE = 2_000_000


def _written_forms(term: object) -> tuple[str, ...]:
    """How a term may be written in our Turtle/TriG files: full IRI, prefixed name, lexical form."""
    if isinstance(term, URIRef):
        text = str(term)
        forms = [f"<{text}>"]
        for prefix, ns in {**ids.prefixes(), **PREFIXES}.items():
            if text.startswith(ns) and text != ns:
                forms.append(f"{prefix}:{text[len(ns):]}")
        return tuple(forms)
    if isinstance(term, Literal):
        return (f'"{term}"', str(term)) if str(term) else ('""',)
    return (str(term),)


@dataclass
class Loaded:
    """The dataset and where each part of it was read from."""

    dataset: Dataset
    files: SourceFiles

    def union(self) -> Graph:
        """Every triple of every graph, as one plain Graph."""
        return union_graph(self.dataset)


def new_dataset() -> Dataset:
    """An empty Dataset whose default graph is the union of its named graphs, with our prefixes."""
    ds = Dataset(default_union=True)
    bind_prefixes(ds)
    return ds


def bind_prefixes(graph: Graph) -> None:
    """Bind our prefixes (vocabularies, then entity kinds) on ``graph``, replacing rdflib's."""
    for prefix, ns in {**PREFIXES, **ids.prefixes()}.items():
        graph.bind(prefix, ns, override=True, replace=True)


def union_graph(ds: Dataset) -> Graph:
    """Every triple of ``ds`` as one plain Graph with our prefixes."""
    graph = Graph()
    bind_prefixes(graph)
    for s, p, o, _g in ds.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


#: The hand-edited dataset metadata in data/ (Turtle, read into the graph graph:dataset).
DATASET_FILE = "dataset.ttl"


def data_trig_files(project: Project, *, skip_generated: bool = False) -> list[Path]:
    """data/**/*.trig in path order (hand-edited files and data/ingested/), hidden files skipped;
    ``skip_generated`` leaves out the files `coopgraph ingest-pages` writes (data/ingested/page-*.trig)."""
    found = []
    for path in project.data_dir.rglob("*.trig"):
        rel = path.relative_to(project.data_dir)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if skip_generated and rel.parent.as_posix() == "ingested" and rel.name.startswith("page-"):
            continue
        found.append((rel.as_posix(), path))
    return [path for _rel, path in sorted(found)]


def load(project: Project, *, skip_generated: bool = False) -> Loaded:
    """Read ontology/*.ttl and data/**/*.trig into a Dataset; InputError names the file and line.

    ``skip_generated`` leaves out the files generated from page records (data/ingested/page-*.trig),
    and the links of data/mappings/, so that generating them again depends on the hand-edited data
    and the records alone."""
    ds = new_dataset()
    files = SourceFiles(project)
    ontology_files = sorted(project.ontology_dir.glob("*.ttl"))
    data_files = data_trig_files(project, skip_generated=skip_generated)
    if not data_files:
        raise InputError(f"{project.relative(project.data_dir)}: no *.trig files to build from")
    ontology = ds.graph(ONTOLOGY_GRAPH)
    for path in ontology_files:
        rel = project.relative(path)
        parse_into(ontology, path, fmt="turtle", label=rel)
        files.add(rel, path, {str(ONTOLOGY_GRAPH)})
    metadata = project.data_dir / DATASET_FILE
    if metadata.is_file():
        rel = project.relative(metadata)
        parse_into(ds.graph(DATASET_GRAPH), metadata, fmt="turtle", label=rel)
        if any(isinstance(t, BNode) for triple in ds.graph(DATASET_GRAPH) for t in triple):
            raise InputError(f"{rel}: blank node: give every node an IRI so dumps stay byte-stable")
        files.add(rel, metadata, {str(DATASET_GRAPH)})
    for path in data_files:
        rel = project.relative(path)
        part = Dataset()
        parse_into(part, path, fmt="trig", label=rel)
        names = set()
        for s, p, o, g in part.quads((None, None, None, None)):
            name = g.identifier if isinstance(g, Graph) else g
            files.paths.setdefault(rel, path)
            check_loaded_statement(files, rel, s, p, o, name)
            names.add(str(name))
            ds.graph(URIRef(str(name))).add((s, p, o))
        files.add(rel, path, names)
    _check_graph_names(ds, files)
    if not skip_generated:
        # a mapping set may cite a page record's source: links are for the built graph, and
        # generating the records needs the hand-edited facts only
        _add_mappings(ds, files, project)
    return Loaded(ds, files)


def check_loaded_statement(files: SourceFiles, rel: str, s, p, o, name, *, blank_node: bool = False) -> None:
    """Refuse a statement outside a GRAPH block or with a blank node (InputError naming the file)."""
    if not blank_node and (name == DATASET_DEFAULT_GRAPH_ID or name is None):
        raise InputError(f"{files.locate(s) or rel}: triples outside a GRAPH block: put every "
                         "fact in the graph of its source (e.g. src:ilo-listing { ... })")
    if blank_node or any(isinstance(t, BNode) for t in (s, o)):
        raise InputError(f"{rel}: blank node in <{name}>: give every node an IRI "
                         "(ids.mint) so dumps stay byte-stable")


def _add_mappings(ds: Dataset, files: SourceFiles, project: Project) -> None:
    """data/mappings/*.sssom.tsv -> link triples, each in the graph of its mapping set's source."""
    paths = mappings.mapping_files(project.data_dir)
    if not paths:
        return
    entities = {s for s, _p, _o, _g in ds.quads((None, RDF.type, None, None))}
    sources = set(ds.graph(SOURCES_GRAPH).subjects(RDF.type, COOP.Source))
    for path in paths:
        rel = project.relative(path)
        mset = mappings.read(path, label=rel)
        mappings.add_to_dataset(ds, mset, entities, sources)
        files.add(rel, path, {str(m.provider) for m in mset.links()})


def _check_graph_names(ds: Dataset, files: SourceFiles) -> None:
    declared = {str(s) for s in ds.graph(SOURCES_GRAPH).subjects(RDF.type, COOP.Source)}
    _check_graph_names_in(declared, files)


def _check_graph_names_in(declared: set[str], files: SourceFiles) -> None:
    """Every data graph is a source graph described in data/sources.trig (InputError otherwise)."""
    for rel, names in sorted(files.graphs.items()):
        for name in sorted(names):
            if name in (str(ONTOLOGY_GRAPH), str(SOURCES_GRAPH), str(DATASET_GRAPH)):
                continue
            if not name.startswith(str(SRC)):
                raise InputError(f"{rel}: graph <{name}> is not a source graph; name graphs "
                                 f"src:KEY ({SRC}KEY) and describe KEY in data/sources.trig")
            if name not in declared:
                key = name[len(str(SRC)):]
                raise InputError(f"{rel}: graph src:{key} is not described in data/sources.trig; "
                                 f"add `src:{key} a coop:Source ; schema:name \"...\"@en .` there")


def graph_names(ds: Dataset) -> list[URIRef]:
    """The names of the non-empty named graphs of ``ds``, sorted."""
    return sorted({URIRef(str(g.identifier)) for g in ds.graphs()
                   if g.identifier != DATASET_DEFAULT_GRAPH_ID and len(g)})
