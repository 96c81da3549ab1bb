"""Graph to files: byte-stable dumps (Turtle, N-Triples, TriG, N-Quads) and JSON-LD through pyld.

Determinism: N-Triples and N-Quads lines are sorted; TriG writes the graphs in IRI order; no blank
nodes exist in the data (the build refuses them), so rdflib's Turtle is stable; JSON is written
with sorted keys. JSON-LD is compacted with ontology/context.jsonld, inlined, so a reader needs
nothing from the network.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from rdflib import Dataset, Graph, URIRef

from . import faults, ids
from .build import bind_prefixes, graph_names, union_graph
from .errors import InputError
from .namespaces import ID, PREFIXES, RDF
from .safety import LocalDocumentLoader, jsonld_options

FORMATS = {
    "turtle": ("coopgraph.ttl", "text/turtle"),
    "nt": ("coopgraph.nt", "application/n-triples"),
    "trig": ("coopgraph.trig", "application/trig"),
    "nquads": ("coopgraph.nq", "application/n-quads"),
    "jsonld": ("coopgraph.jsonld", "application/ld+json"),
}
DEFAULT_DEPTH = 3


# ----------------------------------------------------------------------------- RDF dumps

def ntriples(graph: Graph) -> str:
    """N-Triples, one triple a line, lines sorted."""
    lines = graph.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines()
    return "".join(line + "\n" for line in sorted(set(filter(None, lines))))


def nquads(ds: Dataset) -> str:
    """N-Quads of every named graph, lines sorted."""
    out = []
    for name in graph_names(ds):
        for line in ntriples(ds.graph(name)).splitlines():
            out.append(f"{line[:-1].rstrip()} <{name}> .")
    return "".join(line + "\n" for line in sorted(out))


def turtle(graph: Graph) -> str:
    """Turtle with our prefixes."""
    bind_prefixes(graph)
    return graph.serialize(format="turtle")


def trig(ds: Dataset) -> str:
    """TriG: all our prefixes once, then each named graph in IRI order."""
    parts: list[str] = []
    for name in graph_names(ds):
        graph = Graph()
        bind_prefixes(graph)
        for triple in ds.graph(name):
            graph.add(triple)
        body = [line for line in graph.serialize(format="turtle").splitlines() if not line.startswith("@prefix")]
        label = graph.namespace_manager.normalizeUri(name)
        inner = "\n".join(("    " + line) if line.strip() else "" for line in body).strip("\n")
        parts.append(f"{label} {{\n{inner}\n}}\n")
    prefixes = sorted({**PREFIXES, **ids.prefixes()}.items())
    header = "".join(f"@prefix {prefix}: <{ns}> .\n" for prefix, ns in prefixes)
    return header + "\n" + "\n".join(parts)


# ----------------------------------------------------------------------------- JSON-LD

def load_context(path: Path) -> dict:
    """The JSON-LD context object (the value of its "@context") from a context file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))["@context"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: not a JSON-LD context file: {exc}") from exc


def _expanded(graph: Graph) -> list:
    from pyld import jsonld  # imported where used: most commands never need it (safety guards it)
    return jsonld.from_rdf(ntriples(graph), {"format": "application/n-quads", "useNativeTypes": False})


def jsonld_document(graph: Graph, context: dict, loader: LocalDocumentLoader) -> dict:
    """The whole graph, compacted with ``context`` (inlined)."""
    from pyld import jsonld
    return jsonld.compact(_expanded(graph), {"@context": context}, jsonld_options(loader))


def describe(graph: Graph, iri: URIRef, depth: int = DEFAULT_DEPTH,
             follow: Callable[[URIRef], bool] | None = None) -> Graph:
    """``iri``'s triples, and those of the entities it links to, ``depth`` links deep.

    ``follow``, when given, says which predicates to follow (and keep) from the entity.
    """
    out = Graph()
    bind_prefixes(out)
    frontier, seen = [iri], {iri}
    for _level in range(depth + 1):
        following = []
        for node in frontier:
            for p, o in graph.predicate_objects(node):
                if follow is not None and p != RDF.type and not follow(p):
                    continue
                out.add((node, p, o))
                if p != RDF.type and isinstance(o, URIRef) and o not in seen and str(o).startswith(str(ID)):
                    seen.add(o)
                    following.append(o)
        frontier = following
    return out


def entity_types(graph: Graph, iri: URIRef) -> list[URIRef]:
    return sorted(graph.objects(iri, RDF.type))


def frame_entity(graph: Graph, iri: URIRef, context: dict, loader: LocalDocumentLoader,
                 depth: int = DEFAULT_DEPTH) -> dict:
    """One entity as one self-contained JSON-LD document: linked entities nested, ``depth`` deep."""
    if (iri, None, None) not in graph:
        raise InputError(f"no entity <{iri}> in the graph; list entities with `coopgraph query entities`")
    frame = {"@context": context, "@id": str(iri)}
    from pyld import jsonld
    return jsonld.frame(_expanded(describe(graph, iri, depth)), frame,
                        jsonld_options(loader, embed="@always", omitGraph=True, pruneBlankNodeIdentifiers=True))


def frame_type(graph: Graph, type_iri: URIRef, context: dict, loader: LocalDocumentLoader,
               depth: int = DEFAULT_DEPTH) -> dict:
    """Every entity of a type, each a self-contained nested document, in an ``@graph``."""
    members = sorted(graph.subjects(RDF.type, type_iri))
    if not members:
        raise InputError(f"no entity of type <{type_iri}>")
    sub = Graph()
    for iri in members:
        sub += describe(graph, iri, depth)
    frame = {"@context": context, "@type": str(type_iri)}
    from pyld import jsonld
    result = jsonld.frame(_expanded(sub), frame,
                          jsonld_options(loader, embed="@always", omitGraph=False))
    result["@graph"] = sorted(result.get("@graph", []), key=lambda node: node.get("@id", ""))
    return result


def dumps_json(document: Any) -> str:
    """JSON with sorted keys and two-space indentation, ending in a newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------- writing

def serialize(ds: Dataset, fmt: str, *, context: dict | None = None,
              loader: LocalDocumentLoader | None = None) -> str:
    """The dataset in one of FORMATS (turtle, nt and jsonld hold the union of the graphs)."""
    if fmt == "trig":
        return trig(ds)
    if fmt == "nquads":
        return nquads(ds)
    union = union_graph(ds)
    if fmt == "turtle":
        return turtle(union)
    if fmt == "nt":
        return ntriples(union)
    if fmt == "jsonld":
        if context is None or loader is None:
            raise InputError("JSON-LD export needs the context and the local document loader")
        return dumps_json(jsonld_document(union, context, loader))
    raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``path`` through a temporary file beside it and a rename: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_all(files: dict[Path, str | bytes]) -> list[Path]:
    """Write several files so that none is replaced unless every one could be written."""
    return write_all_chunks((path, [text]) for path, text in files.items())


def render_all(ds: Dataset, *, context: dict, loader: LocalDocumentLoader,
               formats: Iterable[str] = tuple(FORMATS)) -> dict[str, str]:
    """Every dump of ``ds`` as text, by file name (coopgraph.ttl, ...), in FORMATS order."""
    return {FORMATS[f][0]: serialize(ds, f, context=context, loader=loader) for f in formats}


def render_store(store, *, context: dict, loader: LocalDocumentLoader,
                 formats: Iterable[str] = tuple(FORMATS)) -> dict[str, str]:
    """render_all() of a store: the same texts, in the same order, written by the fast writers."""
    formats = list(formats)
    texts = {path.name: "".join(chunks)
             for path, chunks in store_dumps(store, formats, context=context, loader=loader, out_dir=Path("."))}
    return {FORMATS[f][0]: texts[FORMATS[f][0]] for f in formats}


def dump_all(ds, out_dir: Path, *, context: dict, loader: LocalDocumentLoader,
             formats: Iterable[str] = tuple(FORMATS)) -> list[Path]:
    """Every dump of ``ds`` (a Dataset or a store) into ``out_dir``, written all or nothing."""
    if isinstance(ds, Dataset):
        texts = render_all(ds, context=context, loader=loader, formats=formats)
        return write_all({out_dir / name: text for name, text in texts.items()})
    return write_all_chunks(store_dumps(ds, formats, context=context, loader=loader, out_dir=out_dir))


# ----------------------------------------------------------------------------- stores

def store_dump(store, fmt: str, *, context: dict | None = None, loader: LocalDocumentLoader | None = None,
               lines: list[str] | None = None) -> Iterator[str]:
    """The dump of a store (coopgraph.store) in one of FORMATS, in pieces: the same bytes as serialize().

    On the Oxigraph store the fast writers (coopgraph.writers) write them; what they do not
    handle falls back to the rdflib/pyld path on the materialised dataset.
    """
    from . import writers
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if getattr(store, "kind", "") == "memory":
        yield serialize(store.dataset(), fmt, context=context, loader=loader)
        return
    if fmt == "nquads":
        yield from _lines_text(store.nquads_lines())
        return
    if fmt == "trig":
        try:
            yield writers.trig(((str(name), store.graph_lines(name)) for name in store.graph_names()),
                               _prefixed_graph, {**PREFIXES, **ids.prefixes()})
        except writers.Unsupported:
            yield trig(store.dataset())
        return
    lines = lines if lines is not None else store.ntriples_lines()
    if fmt == "nt":
        yield from _lines_text(lines)
    elif fmt == "turtle":
        writer = writers.TurtleWriter(_prefixed_graph())
        try:
            pieces = writer.chunks(lines)
            first = next(pieces)  # the first pass (and anything unsupported) happens here
        except writers.Unsupported:
            yield turtle(store.union())
            return
        yield first
        yield from pieces
    else:
        if context is None or loader is None:
            raise InputError("JSON-LD export needs the context and the local document loader")
        try:
            writer = writers.JsonLdWriter(context, loader)
            writer.check(lines)
        except writers.Unsupported:
            yield dumps_json(jsonld_document(store.union(), context, loader))
            return
        yield from writer.chunks(lines)


def _lines_text(lines: list[str], size: int = 50_000) -> Iterator[str]:
    """Lines with their newlines, in pieces of ``size`` lines."""
    for start in range(0, len(lines), size):
        yield "".join(line + "\n" for line in lines[start:start + size])


def _prefixed_graph() -> Graph:
    graph = Graph()
    bind_prefixes(graph)
    return graph


def store_dumps(store, formats: Iterable[str], *, context: dict, loader: LocalDocumentLoader,
                out_dir: Path) -> Iterator[tuple[Path, Iterator[str]]]:
    """(file, chunks) for each format; the union's N-Triples lines are computed once."""
    formats = list(formats)
    union_formats = [f for f in formats if f in ("nt", "turtle", "jsonld")]
    if getattr(store, "kind", "") != "memory" and union_formats:
        lines = store.ntriples_lines()  # shared by the three, then released before the others
        for fmt in union_formats:
            yield out_dir / FORMATS[fmt][0], store_dump(store, fmt, context=context, loader=loader, lines=lines)
        del lines
        formats = [f for f in formats if f not in union_formats]
    for fmt in formats:
        yield out_dir / FORMATS[fmt][0], store_dump(store, fmt, context=context, loader=loader)


def write_all_chunks(files: Iterable[tuple[Path, Iterable[str | bytes]]], *, then=None) -> list[Path]:
    """write_all() for texts given in pieces: each goes to a temporary file, then all are renamed.

    ``then(staged)``, given {target: temporary file} once every piece is written, may return more
    files ({target: text}) made from them; they are staged too, and renamed with the others.
    """
    staged: list[tuple[str, Path]] = []

    def stage(path: Path, chunks: Iterable[str | bytes]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        staged.append((tmp, path))
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _umask_mode())
        if len(staged) == 1:
            faults.point("write_all:staged")

    try:
        for path, chunks in files:
            stage(path, chunks)
        if then is not None:
            for path, text in then({path: Path(tmp) for tmp, path in staged}).items():
                stage(path, [text])
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return [path for _, path in staged]
