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
    """The text of every file read, to point a message at a file and line."""

    project: Project
    texts: dict[str, str] = field(default_factory=dict)  # relative path -> text
    graphs: dict[str, set[str]] = field(default_factory=dict)  # relative path -> graph names

    def locate(self, subject: URIRef | None, value: object | None = None) -> str | None:
        """``file:line`` where ``subject`` is described (and ``value`` written), or None."""
        if subject is None or not isinstance(subject, URIRef):
            return None
        needles = [_written_forms(subject)]
        if value is not None and not isinstance(value, BNode):
            needles.append(_written_forms(value))
        best: str | None = None
        for path, text in sorted(self.texts.items()):
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


def data_trig_files(project: Project) -> list[Path]:
    """data/**/*.trig in path order (hand-edited files and data/ingested/), hidden files skipped."""
    found = []
    for path in project.data_dir.rglob("*.trig"):
        rel = path.relative_to(project.data_dir)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        found.append((rel.as_posix(), path))
    return [path for _rel, path in sorted(found)]


def load(project: Project) -> Loaded:
    """Read ontology/*.ttl and data/**/*.trig into a Dataset; InputError names the file and line."""
    ds = new_dataset()
    files = SourceFiles(project)
    ontology_files = sorted(project.ontology_dir.glob("*.ttl"))
    data_files = data_trig_files(project)
    if not data_files:
        raise InputError(f"{project.relative(project.data_dir)}: no *.trig files to build from")
    ontology = ds.graph(ONTOLOGY_GRAPH)
    for path in ontology_files:
        rel = project.relative(path)
        parse_into(ontology, path, fmt="turtle", label=rel)
        files.texts[rel] = path.read_text(encoding="utf-8")
        files.graphs[rel] = {str(ONTOLOGY_GRAPH)}
    metadata = project.data_dir / DATASET_FILE
    if metadata.is_file():
        rel = project.relative(metadata)
        parse_into(ds.graph(DATASET_GRAPH), metadata, fmt="turtle", label=rel)
        if any(isinstance(t, BNode) for triple in ds.graph(DATASET_GRAPH) for t in triple):
            raise InputError(f"{rel}: blank node: give every node an IRI so dumps stay byte-stable")
        files.texts[rel] = metadata.read_text(encoding="utf-8")
        files.graphs[rel] = {str(DATASET_GRAPH)}
    for path in data_files:
        rel = project.relative(path)
        part = Dataset()
        parse_into(part, path, fmt="trig", label=rel)
        names = set()
        for s, p, o, g in part.quads((None, None, None, None)):
            name = g.identifier if isinstance(g, Graph) else g
            if name == DATASET_DEFAULT_GRAPH_ID or name is None:
                raise InputError(f"{files.locate(s) or rel}: triples outside a GRAPH block: put every "
                                 "fact in the graph of its source (e.g. src:ilo-listing { ... })")
            if any(isinstance(t, BNode) for t in (s, o)):
                raise InputError(f"{rel}: blank node in <{name}>: give every node an IRI "
                                 "(ids.mint) so dumps stay byte-stable")
            names.add(str(name))
            ds.graph(URIRef(str(name))).add((s, p, o))
        files.texts[rel] = path.read_text(encoding="utf-8")
        files.graphs[rel] = names
    _check_graph_names(ds, files)
    _add_mappings(ds, files, project)
    return Loaded(ds, files)


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
        files.texts[rel] = path.read_text(encoding="utf-8")
        files.graphs[rel] = {str(m.provider) for m in mset.links()}


def _check_graph_names(ds: Dataset, files: SourceFiles) -> None:
    declared = {s for s in ds.graph(SOURCES_GRAPH).subjects(RDF.type, COOP.Source)}
    for rel, names in sorted(files.graphs.items()):
        for name in sorted(names):
            if name in (str(ONTOLOGY_GRAPH), str(SOURCES_GRAPH), str(DATASET_GRAPH)):
                continue
            if not name.startswith(str(SRC)):
                raise InputError(f"{rel}: graph <{name}> is not a source graph; name graphs "
                                 f"src:KEY ({SRC}KEY) and describe KEY in data/sources.trig")
            if URIRef(name) not in declared:
                key = name[len(str(SRC)):]
                raise InputError(f"{rel}: graph src:{key} is not described in data/sources.trig; "
                                 f"add `src:{key} a coop:Source ; schema:name \"...\"@en .` there")


def graph_names(ds: Dataset) -> list[URIRef]:
    """The names of the non-empty named graphs of ``ds``, sorted."""
    return sorted({URIRef(str(g.identifier)) for g in ds.graphs()
                   if g.identifier != DATASET_DEFAULT_GRAPH_ID and len(g)})
