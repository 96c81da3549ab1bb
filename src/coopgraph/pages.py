"""What the pages of the server say: an entity's facts in words with their sources, the links to and
from it, a source's facts, the vocabulary; and the RDF document behind each page.

Everything here reads the loaded dataset and returns plain values (dataclasses, graphs, bytes); the
server (:mod:`coopgraph.serve`) turns them into responses. Links are built from a ``base`` (the
public address of the server), so the same data renders for any host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.term import Node

from . import export, ids
from .build import bind_prefixes
from .embed import embed_document, script_block
from .errors import InputError
from .namespaces import (BASE, COOP, DCTERMS, ID, ONTOLOGY_GRAPH, OWL, PREFIXES, RDF, RDFS, SDO, SKOS,
                         SOURCES_GRAPH)
from .safety import LocalDocumentLoader

#: How many links deep the RDF documents of an entity reach (1: its facts and its neighbours' facts).
DOC_DEPTH = 1
#: The IRI of the vocabulary document (COOP terms are hash IRIs in it).
ONTOLOGY_IRI = URIRef(BASE + "ontology")
_LABELS = (SDO.name, SDO.headline, SKOS.prefLabel, RDFS.label, SDO.title, DCTERMS.title, SDO.roleName)


@dataclass
class Value:
    """One value of a fact, ready to show: its text, its link (or None) and the sources saying it."""

    text: str
    href: str | None = None
    title: str | None = None
    lang: str | None = None
    sources: list[tuple[str, str, str]] = field(default_factory=list)  # (key, name, href)


@dataclass
class Fact:
    """A property of the entity in words and its values."""

    label: str
    iri: str
    href: str
    values: list[Value]


@dataclass
class EntityPage:
    """Everything an entity page shows."""

    iri: str
    label: str
    kinds: list[tuple[str, str]]  # (type label, href)
    sentence: str
    facts: list[Fact]
    incoming: list[tuple[Value, str]]  # (the linking entity, the property in words)
    sources: list[tuple[str, str, str]]  # (key, name, href)
    embed: str  # the <script type="application/ld+json"> block


def humanize(local: str) -> str:
    """'datePublished' -> 'date published'; acronyms stay ('ISO code')."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", local).replace("_", " ")
    return " ".join(w if (len(w) > 1 and w.isupper()) else w.lower() for w in spaced.split())


def local_name(iri: str) -> str:
    """The last part of an IRI (after #, or after the last /)."""
    text = str(iri)
    return text.rsplit("#", 1)[-1] if "#" in text else text.rstrip("/").rsplit("/", 1)[-1]


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


class Site:
    """The loaded dataset as pages: labels, links, entity/source/vocabulary views and documents."""

    def __init__(self, dataset: Dataset, union: Graph, context: dict, loader: LocalDocumentLoader, *,
                 graphs: list[URIRef] | None = None, store=None):
        """``dataset`` and ``union`` are read by pattern lookups only, so they may be views of a
        store (coopgraph.store.StoreDataset, store_graph); ``graphs`` are then the store's named
        graphs, and ``store`` answers the entity documents (``store.describe``)."""
        self.dataset = dataset
        self.union = union
        self.context = context
        self.loader = loader
        self.store = store
        self.graphs = list(graphs) if graphs is not None else export.graph_names(dataset)
        self._source_names = {s: self.label(s) for s in self.graphs}

    # ------------------------------------------------------------------ words and links

    def label(self, term: Node) -> str:
        """The best English label of ``term``, or its local name."""
        if isinstance(term, Literal):
            return str(term)
        for prop in _LABELS:
            values = list(self.union.objects(term, prop))
            if values:
                return str(sorted(values, key=lambda v: (getattr(v, "language", None) not in ("en", None),
                                                         getattr(v, "language", None) is not None, str(v)))[0])
        if str(term).startswith(str(ID)):
            return local_name(term).replace("-", " ")
        return local_name(term)

    def property_label(self, prop: URIRef) -> str:
        """A property in words: its rdfs:label when we declare it, else its humanised local name."""
        if prop == RDF.type:
            return "type"
        declared = self.union.value(prop, RDFS.label)
        return str(declared) if declared is not None else humanize(local_name(prop))

    def _curie(self, iri: URIRef) -> str:
        """``schema:Event`` for an IRI in a vocabulary we bind, else the IRI."""
        for prefix, ns in PREFIXES.items():
            if str(iri).startswith(ns) and len(str(iri)) > len(ns) and prefix not in ("src", "graph"):
                return f"{prefix}:{str(iri)[len(ns):]}"
        return str(iri)

    @staticmethod
    def href(iri: str, base: str) -> str | None:
        """Where a browser follows ``iri`` on this server (our IRIs), or the IRI itself (others)."""
        text = str(iri)
        if text.startswith(BASE):
            rest = text[len(BASE):]
            if rest.startswith("ontology#"):
                return f"{base}ontology#{rest[len('ontology#'):]}"
            return base + rest
        if text.startswith(("http://", "https://")):
            return text
        return None

    def value(self, term: Node, base: str) -> Value:
        if isinstance(term, Literal):
            return Value(str(term), lang=term.language)
        if isinstance(term, URIRef):
            ours = str(term).startswith(BASE)
            if ours or (term, None, None) in self.union:
                text = self.label(term)
            else:
                text = self._curie(term)
            return Value(text, href=self.href(term, base), title=str(term))
        return Value(str(term))

    def _sources_of(self, s: Node, p: Node, o: Node, base: str) -> list[tuple[str, str, str]]:
        out = []
        for ctx in self.dataset.graphs((s, p, o)):
            name = URIRef(str(ctx.identifier))
            if name in self._source_names:
                out.append((local_name(name), self._source_names[name], self.href(name, base) or str(name)))
        return sorted(set(out))

    # ------------------------------------------------------------------ entities

    def exists(self, iri: URIRef) -> bool:
        return (iri, None, None) in self.union

    def entity(self, iri: URIRef, base: str) -> EntityPage:
        """The page of one of our entities; InputError when the graph says nothing about it."""
        if not self.exists(iri):
            raise InputError(f"no entity <{iri}> in the graph")
        types = sorted(self.union.objects(iri, RDF.type), key=str)
        kinds = [(humanize(local_name(t)), self.href(t, base) or str(t)) for t in types]
        label = self.label(iri)
        facts: dict[URIRef, Fact] = {}
        all_sources: set[tuple[str, str, str]] = set()
        for p, o in sorted(self.union.predicate_objects(iri), key=lambda po: (str(po[0]), str(po[1]))):
            if p == RDF.type:
                continue
            fact = facts.setdefault(p, Fact(self.property_label(p), str(p), self.href(p, base) or str(p), []))
            val = self.value(o, base)
            val.sources = self._sources_of(iri, p, o, base)
            all_sources.update(val.sources)
            fact.values.append(val)
        for t in types:
            all_sources.update(self._sources_of(iri, RDF.type, t, base))
        incoming = []
        for s, p in sorted(self.union.subject_predicates(iri), key=lambda sp: (str(sp[0]), str(sp[1]))):
            if isinstance(s, URIRef):
                incoming.append((self.value(s, base), self.property_label(p)))
        type_words = " and ".join(f"{_article(k)} {k}" for k, _ in kinds) or "an entity"
        sentence = (f"{label} is {type_words} in coopgraph, described by {len(facts)} "
                    f"propert{'y' if len(facts) == 1 else 'ies'} from {len(all_sources)} "
                    f"source{'s' if len(all_sources) != 1 else ''}.")
        try:
            embed = script_block(embed_document(self.union, iri, self.loader, any_type=True))
        except InputError:
            embed = ""
        order = {SDO.name: 0, SDO.headline: 0, SDO.description: 1}
        ordered = sorted(facts.values(), key=lambda f: (order.get(URIRef(f.iri), 2), f.label))
        return EntityPage(str(iri), label, kinds, sentence, ordered, incoming, sorted(all_sources), embed)

    def entity_graph(self, iri: URIRef) -> Graph:
        """The RDF document of an entity: its facts and those of the entities it links to."""
        if not self.exists(iri):
            raise InputError(f"no entity <{iri}> in the graph")
        if self.store is not None:
            return self.store.describe(iri, DOC_DEPTH)
        return export.describe(self.union, iri, DOC_DEPTH)

    def entity_jsonld(self, iri: URIRef) -> dict:
        """The entity framed as one JSON-LD document (as ``coopgraph export --id``)."""
        return export.frame_entity(self.union, iri, self.context, self.loader, DOC_DEPTH)

    # ------------------------------------------------------------------ sources and other graphs

    def graph_iri(self, path: str) -> URIRef | None:
        """The named graph a path names (``source/KEY`` or ``graph/NAME``), or None."""
        iri = URIRef(BASE + path)
        return iri if iri in self.graphs else None

    def graph_document(self, name: URIRef) -> Graph:
        """A named graph's facts, with the description of the source when it is one."""
        out = Graph()
        bind_prefixes(out)
        for triple in self.dataset.graph(name):
            out.add(triple)
        for triple in self.dataset.graph(SOURCES_GRAPH).triples((name, None, None)):
            out.add(triple)
        return out

    def graph_page(self, name: URIRef, base: str) -> dict:
        """What a source (or other named graph) page shows: its description and its facts by subject."""
        about = []
        for p, o in sorted(self.dataset.graph(SOURCES_GRAPH).predicate_objects(name),
                           key=lambda po: (str(po[0]), str(po[1]))):
            about.append((self.property_label(p), self.value(o, base)))
        by_subject: dict[Node, list[tuple[str, Value]]] = {}
        graph = self.dataset.graph(name)
        for s, p, o in sorted(graph, key=lambda t: (str(t[0]), str(t[1]), str(t[2]))):
            by_subject.setdefault(s, []).append((self.property_label(p), self.value(o, base)))
        subjects = [(self.value(s, base), rows) for s, rows in by_subject.items()]
        return {"iri": str(name), "label": self.label(name) if name in self._source_names else local_name(name),
                "about": about, "subjects": subjects, "triples": len(graph),
                "is_source": (name, RDF.type, COOP.Source) in self.union}

    # ------------------------------------------------------------------ the vocabulary

    def ontology_graph(self) -> Graph:
        """The vocabulary document: the ontology header and every coop: term."""
        out = Graph()
        bind_prefixes(out)
        graph = self.dataset.graph(ONTOLOGY_GRAPH)
        for s, p, o in graph:
            if s == ONTOLOGY_IRI or str(s).startswith(str(COOP)):
                out.add((s, p, o))
        return out

    def ontology_page(self, base: str) -> dict:
        """The vocabulary as a page: header, then classes and properties with their definitions."""
        graph = self.ontology_graph()
        terms = []
        for s in sorted({s for s in graph.subjects() if str(s).startswith(str(COOP))}, key=str):
            kinds = sorted(humanize(local_name(t)) for t in graph.objects(s, RDF.type))
            details = []
            for p, o in sorted(graph.predicate_objects(s), key=lambda po: (str(po[0]), str(po[1]))):
                if p in (RDF.type, RDFS.label, RDFS.comment):
                    continue
                details.append((self.property_label(p), self.value(o, base)))
            terms.append({"anchor": local_name(s), "iri": str(s), "label": self.label(s),
                          "kinds": kinds, "comment": str(graph.value(s, RDFS.comment) or ""),
                          "details": details, "is_class": (s, RDF.type, OWL.Class) in graph})
        return {"iri": str(ONTOLOGY_IRI), "title": self.label(ONTOLOGY_IRI),
                "description": str(graph.value(ONTOLOGY_IRI, DCTERMS.description) or ""),
                "comment": str(graph.value(ONTOLOGY_IRI, RDFS.comment) or ""),
                "classes": [t for t in terms if t["is_class"]],
                "properties": [t for t in terms if not t["is_class"]]}


def entity_iri(kind: str, slug: str) -> URIRef | None:
    """Our IRI for ``/id/<kind>/<slug>``, or None when the path is not one we mint."""
    iri = f"{ID}{kind}/{slug}"
    return URIRef(iri) if ids.is_entity_iri(iri) else None


__all__ = ["Site", "EntityPage", "Fact", "Value", "entity_iri", "humanize", "DOC_DEPTH",
           "ONTOLOGY_IRI"]
