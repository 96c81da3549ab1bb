"""What changed between two builds or releases: per entity in words, and as a patch.

OLD and NEW are build folders (dist/), release folders (releases/1.0.0/) or dump files (N-Quads,
TriG, N-Triples, Turtle). A folder is read from its coopgraph.nq (else .trig, .nt, .ttl). When
both sides have named graphs the comparison is of quads (a fact that moved to another source graph
is a change); otherwise of triples.

The patch lists deleted, then added statements, each sorted, in one of two formats:

* ``rdf-patch`` (RDF Patch, https://afs.github.io/rdf-patch/): ``TX .``, ``D <s> <p> <o> <g> .``
  lines, ``A ...`` lines, ``TC .``; terms in N-Triples syntax. :func:`apply_patch` applies it.
* ``sparql``: a SPARQL 1.1 Update, ``DELETE DATA { ... } ; INSERT DATA { ... }``, for any store.

Our dumps have no blank nodes, so statements compare exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID, Graph
from rdflib.term import Node

from .build import bind_prefixes
from .errors import InputError
from .namespaces import RDF, RDFS, SDO, SKOS
from .safety import parse_into
from .validate import show_term

#: Dump files read from a folder, in order of preference.
FOLDER_FILES = ("coopgraph.nq", "coopgraph.trig", "coopgraph.nt", "coopgraph.ttl")
READABLE = {".nq": "nquads", ".nquads": "nquads", ".trig": "trig", ".nt": "nt", ".ttl": "turtle"}
PATCH_FORMATS = ("rdf-patch", "sparql")

Quad = tuple[Node, Node, Node, URIRef | None]


@dataclass
class Side:
    """One side of a comparison: where it was read from and its statements."""

    label: str
    quads: set[Quad]
    has_graphs: bool


def read_side(path: Path) -> Side:
    """The statements of a build or release folder, or of a dump file; InputError otherwise."""
    file = path
    if path.is_dir():
        found = [path / name for name in FOLDER_FILES if (path / name).is_file()]
        if not found:
            raise InputError(f"{path}: no dump in this folder ({', '.join(FOLDER_FILES)}); "
                             "give a build folder (dist/), a release folder or a dump file")
        file = found[0]
    elif not path.is_file():
        raise InputError(f"{path}: no such file or folder")
    fmt = READABLE.get(file.suffix.lower())
    if fmt is None:
        raise InputError(f"{file}: cannot compare this file type; give N-Quads, TriG, N-Triples or Turtle "
                         f"({', '.join(sorted(READABLE))})")
    ds = Dataset()
    parse_into(ds, file, fmt=fmt, label=str(file))
    quads: set[Quad] = set()
    named = False
    for s, p, o, g in ds.quads((None, None, None, None)):
        name = g.identifier if isinstance(g, Graph) else g
        if name is None or name == DATASET_DEFAULT_GRAPH_ID:
            quads.add((s, p, o, None))
        else:
            named = True
            quads.add((s, p, o, URIRef(str(name))))
    return Side(label=str(path), quads=quads, has_graphs=named)


@dataclass
class EntityChange:
    """What changed about one subject: its properties' removed and added values."""

    iri: Node
    status: str  # added, removed, changed
    removed: dict[Node, list[Node]] = field(default_factory=dict)
    added: dict[Node, list[Node]] = field(default_factory=dict)
    moved: list[tuple[Node, Node, list[str], list[str]]] = field(default_factory=list)  # p, o, old gs, new gs


@dataclass
class Diff:
    """The statements deleted and added from OLD to NEW, and the per-entity view of them."""

    old: Side
    new: Side
    by_quad: bool
    deleted: list[Quad]
    added: list[Quad]
    entities: list[EntityChange]
    sizes: tuple[int, int] = (0, 0)  # statements compared on each side

    @property
    def unchanged(self) -> bool:
        return not self.deleted and not self.added

    def counts(self) -> dict[str, int]:
        return {"added_entities": sum(e.status == "added" for e in self.entities),
                "removed_entities": sum(e.status == "removed" for e in self.entities),
                "changed_entities": sum(e.status == "changed" for e in self.entities),
                "added_statements": len(self.added), "deleted_statements": len(self.deleted)}


def _key(q: Quad) -> tuple:
    return tuple("" if t is None else t.n3() for t in q)


def compare(old: Side, new: Side) -> Diff:
    """The difference from ``old`` to ``new`` (quads when both have named graphs, else triples)."""
    by_quad = old.has_graphs and new.has_graphs
    a = old.quads if by_quad else {(s, p, o, None) for s, p, o, _g in old.quads}
    b = new.quads if by_quad else {(s, p, o, None) for s, p, o, _g in new.quads}
    deleted = sorted(a - b, key=_key)
    added = sorted(b - a, key=_key)
    old_t = defaultdict(set)
    new_t = defaultdict(set)
    for s, p, o, g in a:
        old_t[s].add((p, o))
    for s, p, o, g in b:
        new_t[s].add((p, o))
    graphs_old: dict[tuple, set] = defaultdict(set)
    graphs_new: dict[tuple, set] = defaultdict(set)
    for s, p, o, g in deleted:
        graphs_old[(s, p, o)].add(str(g))
    for s, p, o, g in added:
        graphs_new[(s, p, o)].add(str(g))
    moved_by_subject: dict[Node, list] = defaultdict(list)
    for (ts, p, o) in sorted(set(graphs_old) | set(graphs_new), key=lambda t: (t[0].n3(), t[1].n3(), t[2].n3())):
        if (p, o) in old_t.get(ts, ()) and (p, o) in new_t.get(ts, ()):
            moved_by_subject[ts].append((p, o, sorted(graphs_old.get((ts, p, o), ())),
                                         sorted(graphs_new.get((ts, p, o), ()))))
    entities = []
    for s in sorted({q[0] for q in deleted} | {q[0] for q in added}, key=lambda t: t.n3()):
        before, after = old_t.get(s, set()), new_t.get(s, set())
        status = "added" if not before else "removed" if not after else "changed"
        change = EntityChange(iri=s, status=status)
        for p, o in sorted(before - after, key=lambda po: (po[0].n3(), po[1].n3())):
            change.removed.setdefault(p, []).append(o)
        for p, o in sorted(after - before, key=lambda po: (po[0].n3(), po[1].n3())):
            change.added.setdefault(p, []).append(o)
        change.moved = moved_by_subject.get(s, [])
        if status != "changed" or change.removed or change.added or change.moved:
            entities.append(change)
    return Diff(old=old, new=new, by_quad=by_quad, deleted=deleted, added=added, entities=entities,
                sizes=(len(a), len(b)))


def diff_paths(old: Path, new: Path) -> Diff:
    """Read two builds, releases or dumps and compare them."""
    return compare(read_side(old), read_side(new))


# ----------------------------------------------------------------------------- words

def _namer() -> Graph:
    graph = Graph()
    bind_prefixes(graph)
    return graph


def _show(term: Node, nm, limit: int = 100) -> str:
    return show_term(term, nm, limit)


def _title(quads: set[Quad], s: Node, nm) -> str:
    types = sorted(_show(o, nm) for q_s, p, o, _g in quads if q_s == s and p == RDF.type)
    names = sorted(str(o) for q_s, p, o, _g in quads
                   if q_s == s and p in (SDO.name, SDO.headline, SKOS.prefLabel, RDFS.label))
    out = f" ({', '.join(types)})" if types else ""
    if names:
        name = names[0] if len(names[0]) <= 80 else names[0][:77] + "..."
        out += f" \"{name}\""
    return out


def report(diff: Diff, *, limit: int | None = None) -> str:
    """The changes in words: totals, then each entity added, removed or changed."""
    nm = _namer().namespace_manager
    unit = "quads" if diff.by_quad else "triples"
    c = diff.counts()
    lines = [f"{diff.old.label} -> {diff.new.label}",
             f"  {diff.sizes[0]} -> {diff.sizes[1]} {unit}: +{c['added_statements']} "
             f"-{c['deleted_statements']}; entities: +{c['added_entities']} added, -{c['removed_entities']} "
             f"removed, {c['changed_entities']} changed"]
    if diff.unchanged:
        lines.append("  no change")
    shown = diff.entities if limit is None else diff.entities[:limit]
    for e in shown:
        if e.status == "added":
            lines.append(f"added {_show(e.iri, nm)}{_title(diff.new.quads, e.iri, nm)}")
        elif e.status == "removed":
            lines.append(f"removed {_show(e.iri, nm)}{_title(diff.old.quads, e.iri, nm)}")
        else:
            lines.append(f"changed {_show(e.iri, nm)}{_title(diff.new.quads, e.iri, nm)}")
            for p in sorted(set(e.removed) | set(e.added), key=lambda t: t.n3()):
                old_v, new_v = e.removed.get(p, []), e.added.get(p, [])
                if len(old_v) == 1 and len(new_v) == 1:
                    lines.append(f"    {_show(p, nm)}: {_show(old_v[0], nm)} -> {_show(new_v[0], nm)}")
                    continue
                lines.extend(f"    - {_show(p, nm)} {_show(v, nm)}" for v in old_v)
                lines.extend(f"    + {_show(p, nm)} {_show(v, nm)}" for v in new_v)
            for p, o, was, now in e.moved:
                where = lambda gs: ", ".join(_show(URIRef(g), nm) for g in gs)  # noqa: E731
                moves = ([f"no longer in {where(was)}"] if was else []) + ([f"now also in {where(now)}"] if now else [])
                lines.append(f"    {_show(p, nm)} {_show(o, nm, 40)}: {'; '.join(moves)} (source graphs)")
    if limit is not None and len(diff.entities) > limit:
        lines.append(f"... and {len(diff.entities) - limit} more entities (coopgraph diff OLD NEW lists them all)")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- patches

def _n3(q: Quad, with_graph: bool) -> str:
    s, p, o, g = q
    terms = [s.n3(), p.n3(), o.n3()] + ([g.n3()] if with_graph and g is not None else [])
    return " ".join(terms)


def patch(diff: Diff, fmt: str = "rdf-patch") -> str:
    """The patch that turns OLD into NEW, in ``rdf-patch`` or ``sparql`` (Update) format."""
    if fmt == "rdf-patch":
        lines = [f"H note \"coopgraph diff {_escape(Path(diff.old.label).name)} -> {_escape(Path(diff.new.label).name)}\" .",
                 "TX ."]
        lines += [f"D {_n3(q, diff.by_quad)} ." for q in diff.deleted]
        lines += [f"A {_n3(q, diff.by_quad)} ." for q in diff.added]
        lines.append("TC .")
        return "\n".join(lines) + "\n"
    if fmt == "sparql":
        return f"# coopgraph diff: {len(diff.deleted)} deleted, {len(diff.added)} added\n" + \
            _update("DELETE DATA", diff.deleted) + " ;\n" + _update("INSERT DATA", diff.added) + "\n"
    raise InputError(f"unknown patch format {fmt!r}; use one of {', '.join(PATCH_FORMATS)}")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _update(op: str, quads: list[Quad]) -> str:
    groups: dict[URIRef | None, list[str]] = defaultdict(list)
    for q in quads:
        groups[q[3]].append(f"{_n3(q, False)} .")
    parts = []
    for g in sorted(groups, key=lambda t: "" if t is None else str(t)):
        if g is None:
            parts.extend(f"  {row}" for row in groups[g])
        else:
            parts.append(f"  GRAPH {g.n3()} {{\n" + "\n".join(f"    {row}" for row in groups[g]) + "\n  }")
    return f"{op} {{\n" + "".join(part + "\n" for part in parts) + "}"


def apply_patch(ds: Dataset, text: str, *, source: str = "<patch>") -> None:
    """Apply an RDF Patch written by :func:`patch` to ``ds`` in place; InputError names the line."""
    deletes: list[str] = []
    adds: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#") or line[:2] in ("H ", "TX", "TC", "TA"):
            continue
        if line[:2] == "D ":
            deletes.append(line[2:])
        elif line[:2] == "A ":
            adds.append(line[2:])
        else:
            raise InputError(f"{source}:{number}: not an RDF Patch row (H, TX, A, D, TC): {line[:60]!r}")
    for rows, add in ((deletes, False), (adds, True)):
        if not rows:
            continue
        part = Dataset()
        try:
            part.parse(data="\n".join(rows) + "\n", format="nquads")
        except Exception as exc:
            raise InputError(f"{source}: cannot read the patch rows: {exc}") from exc
        for s, p, o, g in part.quads((None, None, None, None)):
            name = g.identifier if isinstance(g, Graph) else g
            target = ds.default_graph if name in (None, DATASET_DEFAULT_GRAPH_ID) else ds.graph(URIRef(str(name)))
            if add:
                target.add((s, p, o))
            else:
                target.remove((s, p, o))
