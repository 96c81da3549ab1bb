"""The dataset described in the three vocabularies users' tools read: VoID, DCAT 3, schema.org.

What a person states (title, description, licence, publisher, landing page, public endpoint) is
read from the graph ``graph:dataset`` (data/dataset.ttl). Everything else is computed here from
the graph and the dump files: statistics, class and property partitions, linksets, keywords and
themes (the topics), spatial coverage (the countries), temporal coverage (the first and last
publication dates of the items), language, distributions with byte sizes and SHA-256 checksums.
Nothing reads the clock: a release's date is an argument.

Every node has an IRI (hash IRIs under the dataset IRI, see ids.dataset_part), so the Turtle is
byte-stable.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from rdflib import Dataset, Graph, Literal, URIRef

from . import ids
from .build import bind_prefixes, union_graph
from .export import FORMATS, dumps_json
from .namespaces import (BASE, COOP, DATASET_GRAPH, DCAT, DCTERMS, EU_FILE_TYPE, FOAF, GN, IANA_MEDIA,
                         ID, OWL, PREFIXES, RDF, RDFS, ROR, SDO, SKOS, SPDX, SRC, VOID, W3C_FORMATS, WD, XSD)

#: The permanent addresses of the dumps: the latest build, and each release.
DUMPS_BASE = f"{BASE}dumps/"
RELEASES_BASE = f"{BASE}releases/"

#: Description files the build writes beside the dumps.
VOID_FILE = "void.ttl"
DCAT_FILE = "dcat.ttl"
SCHEMA_FILE = "dataset.jsonld"
DESCRIPTION_FILES = (VOID_FILE, DCAT_FILE, SCHEMA_FILE)

#: Dump format -> (W3C format IRI, EU file type) for void:feature and dcterms:format.
FORMAT_TERMS = {
    "turtle": (W3C_FORMATS["Turtle"], EU_FILE_TYPE["RDF_TURTLE"], "Turtle"),
    "nt": (W3C_FORMATS["N-Triples"], EU_FILE_TYPE["RDF_N_TRIPLES"], "N-Triples"),
    "trig": (W3C_FORMATS["TriG"], EU_FILE_TYPE["RDF_TRIG"], "TriG"),
    "nquads": (W3C_FORMATS["N-Quads"], EU_FILE_TYPE["RDF_N_QUADS"], "N-Quads"),
    "jsonld": (W3C_FORMATS["JSON-LD"], EU_FILE_TYPE["JSON_LD"], "JSON-LD"),
}

#: Predicates that link our entities to another dataset's (counted into void:Linksets).
LINK_PREDICATES = (SDO.sameAs, OWL.sameAs, SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch,
                   SKOS.narrowMatch, SKOS.relatedMatch)

#: Datasets we link to, by the namespace of their IRIs: (key, name, dataset IRI).
KNOWN_TARGETS = (
    (str(WD), "wikidata", "Wikidata", URIRef("https://www.wikidata.org/")),
    (str(GN), "geonames", "GeoNames", URIRef("https://www.geonames.org/")),
    (str(ROR), "ror", "ROR, the Research Organization Registry", URIRef("https://ror.org/")),
)

#: DCAT 3 terms that rdflib's DCAT (2) namespace object does not list.
DCAT_VERSION = URIRef(f"{DCAT}version")
DCAT_HAS_VERSION = URIRef(f"{DCAT}hasVersion")
DCAT_PREVIOUS_VERSION = URIRef(f"{DCAT}previousVersion")
SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")
LANGUAGE_BASE = "http://id.loc.gov/vocabulary/iso639-1/"


# ----------------------------------------------------------------------------- inputs

@dataclass(frozen=True)
class Metadata:
    """What a person states about the dataset (data/dataset.ttl), read from the graph."""

    title: Literal | None = None
    description: Literal | None = None
    license: URIRef | None = None
    publisher: URIRef | None = None
    creator: URIRef | None = None
    landing_page: URIRef | None = None
    sparql_endpoint: URIRef | None = None
    catalog_title: Literal | None = None
    catalog_description: Literal | None = None
    agents: dict[URIRef, dict[str, str]] = field(default_factory=dict)  # IRI -> name, url


def metadata(ds: Dataset | Graph) -> Metadata:
    """The hand-stated part of the description, from the graph graph:dataset (empty if absent)."""
    graph = ds.graph(DATASET_GRAPH) if isinstance(ds, Dataset) else ds
    d, c = ids.dataset_iri(), ids.catalog_iri()
    agents = {}
    for agent in sorted({graph.value(d, DCTERMS.publisher), graph.value(d, DCTERMS.creator)} - {None}):
        name = graph.value(agent, SDO.name) or graph.value(agent, FOAF.name)
        url = graph.value(agent, SDO.url) or agent
        agents[agent] = {"name": str(name) if name else str(agent), "url": str(url)}
    return Metadata(
        title=graph.value(d, DCTERMS.title), description=graph.value(d, DCTERMS.description),
        license=graph.value(d, DCTERMS.license), publisher=graph.value(d, DCTERMS.publisher),
        creator=graph.value(d, DCTERMS.creator), landing_page=graph.value(d, DCAT.landingPage),
        sparql_endpoint=graph.value(d, VOID.sparqlEndpoint),
        catalog_title=graph.value(c, DCTERMS.title), catalog_description=graph.value(c, DCTERMS.description),
        agents=agents)


@dataclass(frozen=True)
class Dump:
    """One dump file as published: name, format, address, size and checksum."""

    name: str
    fmt: str
    media_type: str
    url: str
    byte_size: int
    sha256: str


def dumps_from_texts(texts: Mapping[str, str | bytes], base_url: str) -> list[Dump]:
    """Dump records for the dump files (name -> content) published under ``base_url``."""
    by_name = {name: fmt for fmt, (name, _mt) in FORMATS.items()}
    out = []
    for name in sorted(texts, key=lambda n: list(by_name).index(n) if n in by_name else len(by_name)):
        if name not in by_name:
            raise ValueError(f"{name} is not a dump file ({', '.join(by_name)})")
        data = texts[name].encode("utf-8") if isinstance(texts[name], str) else texts[name]
        fmt = by_name[name]
        out.append(Dump(name=name, fmt=fmt, media_type=FORMATS[fmt][1], url=base_url + name,
                        byte_size=len(data), sha256=hashlib.sha256(data).hexdigest()))
    return out


def dump_base(version: str | None = None) -> str:
    """Where the dumps of the latest build (or of release ``version``) are published."""
    return DUMPS_BASE if version is None else f"{RELEASES_BASE}{ids.check_version(version)}/"


# ----------------------------------------------------------------------------- statistics

@dataclass
class Statistics:
    """Counts computed from the union of the graphs (VoID's statistics)."""

    triples: int
    entities: int
    distinct_subjects: int
    distinct_objects: int
    classes: dict[URIRef, int]  # class -> distinct instances
    properties: dict[URIRef, tuple[int, int, int]]  # property -> (triples, distinct s, distinct o)
    vocabularies: list[str]
    linksets: list[tuple[str, str, URIRef, URIRef, int]]  # (key, name, target dataset, predicate, n)
    languages: list[str]
    temporal: tuple[str, str] | None
    countries: list[URIRef]
    topics: list[URIRef]


def _namespace_of(iri: str) -> str | None:
    for ns in sorted(PREFIXES.values(), key=len, reverse=True):
        if iri.startswith(ns):
            return ns
    return None


def _target_of(iri: str) -> tuple[str, str, URIRef] | None:
    if iri.startswith(BASE):
        return None
    for ns, key, name, dataset in KNOWN_TARGETS:
        if iri.startswith(ns):
            return key, name, dataset
    parts = urlsplit(iri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.removeprefix("www.")
    return ids.slugify(host), host, URIRef(f"{parts.scheme}://{parts.hostname}/")


def statistics(graph: Graph) -> Statistics:
    """VoID statistics and the computed descriptive facts of ``graph`` (the union of the dataset)."""
    subjects, objects, entities = set(), set(), set()
    classes: dict[URIRef, set] = defaultdict(set)
    props: dict[URIRef, list] = defaultdict(lambda: [0, set(), set()])
    vocab: set[str] = set()
    links: Counter = Counter()
    link_names: dict[str, tuple[str, URIRef]] = {}
    languages: set[str] = set()
    n = 0
    for s, p, o in graph:
        n += 1
        subjects.add(s)
        objects.add(o)
        if str(s).startswith(str(ID)):
            entities.add(s)
        entry = props[p]
        entry[0] += 1
        entry[1].add(s)
        entry[2].add(o)
        for term in (p, o) if p == RDF.type else (p,):
            ns = _namespace_of(str(term))
            if ns:
                vocab.add(ns)
        if p == RDF.type and isinstance(o, URIRef):
            classes[o].add(s)
        if p in LINK_PREDICATES and isinstance(o, URIRef) and str(s).startswith(str(ID)):
            target = _target_of(str(o))
            if target:
                key, name, dataset = target
                links[(key, dataset, p)] += 1
                link_names[key] = (name, dataset)
        if p == SDO.inLanguage and isinstance(o, Literal):
            languages.add(str(o))
    dates = sorted(str(o) for s, o in graph.subject_objects(SDO.datePublished)
                   if str(s).startswith(f"{ID}item/") and isinstance(o, Literal))
    topics = sorted({o for o in graph.objects(None, SDO.about)
                     if isinstance(o, URIRef) and (o, RDF.type, SKOS.Concept) in graph})
    countries = sorted(s for s in graph.subjects(RDF.type, SDO.Country) if str(s).startswith(str(ID)))
    return Statistics(
        triples=n, entities=len(entities), distinct_subjects=len(subjects), distinct_objects=len(objects),
        classes={c: len(members) for c, members in sorted(classes.items())},
        properties={p: (v[0], len(v[1]), len(v[2])) for p, v in sorted(props.items())},
        vocabularies=sorted(vocab),
        linksets=[(key, link_names[key][0], dataset, p, count)
                  for (key, dataset, p), count in sorted(links.items())],
        languages=sorted(languages), temporal=(dates[0], dates[-1]) if dates else None,
        countries=countries, topics=topics)


def store_statistics(store) -> Statistics:
    """:func:`statistics` of an Oxigraph store's union, computed by SPARQL on the store.

    The same numbers and terms as :func:`statistics` on the union as an rdflib Graph (a test checks
    it on the real data and on synthetic data), without copying the graph into rdflib: at a million
    triples that copy was most of ``coopgraph build``'s time and memory.
    """
    from .store import ox_to_rdflib

    def rows(text: str):
        return store.ox.query(text)

    def term(value):
        return ox_to_rdflib(value)

    def number(value) -> int:
        return int(value.value)

    first = next(iter(rows("SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?ns) (COUNT(DISTINCT ?o) AS ?no) "
                           "WHERE { ?s ?p ?o }")))
    entities = next(iter(rows(
        "SELECT (COUNT(*) AS ?n) WHERE { { SELECT DISTINCT ?s WHERE { ?s ?p ?o } } "
        f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{ID}")) }}')))
    properties = {}
    for row in rows("SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?ns) (COUNT(DISTINCT ?o) AS ?no) "
                    "WHERE { ?s ?p ?o } GROUP BY ?p"):
        properties[term(row["p"])] = (number(row["n"]), number(row["ns"]), number(row["no"]))
    classes = {term(row["c"]): number(row["n"]) for row in rows(
        f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s <{RDF.type}> ?c FILTER(isIRI(?c)) }} GROUP BY ?c")}
    vocab = {ns for ns in (_namespace_of(str(p)) for p in properties) if ns}
    if RDF.type in properties:
        vocab.update(ns for ns in (_namespace_of(str(term(row["o"]))) for row in rows(
            f"SELECT DISTINCT ?o WHERE {{ ?s <{RDF.type}> ?o }}")) if ns)
    links: Counter = Counter()
    link_names: dict[str, tuple[str, URIRef]] = {}
    for predicate in LINK_PREDICATES:
        if predicate not in properties:
            continue
        for row in rows(f"SELECT ?o (COUNT(*) AS ?n) WHERE {{ ?s <{predicate}> ?o "
                        f'FILTER(isIRI(?o) && isIRI(?s) && STRSTARTS(STR(?s), "{ID}")) }} GROUP BY ?o'):
            target = _target_of(row["o"].value)
            if target:
                key, name, dataset = target
                links[(key, dataset, predicate)] += number(row["n"])
                link_names[key] = (name, dataset)
    languages = sorted({row["o"].value for row in rows(
        f"SELECT DISTINCT ?o WHERE {{ ?s <{SDO.inLanguage}> ?o FILTER(isLiteral(?o)) }}")})
    dates = sorted(row["o"].value for row in rows(
        f"SELECT DISTINCT ?o WHERE {{ ?s <{SDO.datePublished}> ?o "
        f'FILTER(isLiteral(?o) && isIRI(?s) && STRSTARTS(STR(?s), "{ID}item/")) }}'))
    topics = sorted({term(row["o"]) for row in rows(
        f"SELECT DISTINCT ?o WHERE {{ ?x <{SDO.about}> ?o . ?o <{RDF.type}> <{SKOS.Concept}> FILTER(isIRI(?o)) }}")})
    countries = sorted(term(row["s"]) for row in rows(
        f"SELECT ?s WHERE {{ ?s <{RDF.type}> <{SDO.Country}> "
        f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{ID}")) }}'))
    return Statistics(
        triples=number(first["n"]), entities=number(entities["n"]), distinct_subjects=number(first["ns"]),
        distinct_objects=number(first["no"]), classes=dict(sorted(classes.items())),
        properties=dict(sorted(properties.items())), vocabularies=sorted(vocab),
        linksets=[(key, link_names[key][0], dataset, p, count)
                  for (key, dataset, p), count in sorted(links.items())],
        languages=languages, temporal=(dates[0], dates[-1]) if dates else None,
        countries=countries, topics=topics)


#: What the description reads of the graph besides its statistics: labels, sameAs, source URLs.
_VIEW_GRAPH = URIRef(f"{BASE}graph/description-view")


def store_view(store, stats: Statistics) -> Dataset:
    """The small part of an Oxigraph store the description reads besides ``stats``, as a Dataset.

    The graph graph:dataset (the hand-stated metadata), the labels (skos:prefLabel, schema:name)
    and schema:sameAs of the topics and countries, and the sources with their URLs: what
    :func:`metadata`, ``_label``, ``_place`` and the schema.org ``isBasedOn`` read.
    """
    import pyoxigraph as ox

    from .build import new_dataset
    from .store import ox_to_rdflib
    ds = new_dataset()
    meta = ds.graph(DATASET_GRAPH)
    for quad in store.ox.quads_for_pattern(None, None, None, ox.NamedNode(str(DATASET_GRAPH))):
        meta.add((ox_to_rdflib(quad.subject), ox_to_rdflib(quad.predicate), ox_to_rdflib(quad.object)))
    view = ds.graph(_VIEW_GRAPH)
    default = ox.DefaultGraph()
    wanted = [(t, (SKOS.prefLabel, SDO.name)) for t in stats.topics]
    wanted += [(c, (SKOS.prefLabel, SDO.name, SDO.sameAs)) for c in stats.countries]
    for node, predicates in wanted:
        for predicate in predicates:
            for quad in store.ox.quads_for_pattern(ox.NamedNode(str(node)), ox.NamedNode(str(predicate)), None,
                                                   default):
                view.add((node, predicate, ox_to_rdflib(quad.object)))
    for row in store.ox.query(f"SELECT ?s ?u WHERE {{ ?s <{RDF.type}> <{COOP.Source}> ; <{SDO.url}> ?u "
                              f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{SRC}")) }}'):
        source = ox_to_rdflib(row["s"])
        view.add((source, RDF.type, COOP.Source))
        view.add((source, SDO.url, ox_to_rdflib(row["u"])))
    return ds


def _inputs(ds, stats: Statistics | None) -> tuple[Dataset, Statistics]:
    """(Dataset, statistics) for an rdflib Dataset or a store (coopgraph.store)."""
    kind = getattr(ds, "kind", None)
    if kind == "memory":
        ds = ds.dataset()
    elif kind == "oxigraph":
        stats = stats or store_statistics(ds)
        return store_view(ds, stats), stats
    return ds, stats or statistics(union_graph(ds))


def _curie(graph: Graph, iri: URIRef) -> str:
    try:
        return graph.namespace_manager.normalizeUri(iri).replace(":", "-")
    except Exception:
        return str(iri)


def _label(graph: Graph, iri: URIRef, lang: str = "en") -> str | None:
    values = list(graph.objects(iri, SKOS.prefLabel)) + list(graph.objects(iri, SDO.name))
    values = [v for v in values if isinstance(v, Literal)]
    for v in sorted(values):
        if v.language in (lang, None):
            return str(v)
    return str(sorted(values)[0]) if values else None


# ----------------------------------------------------------------------------- VoID

def _new_graph() -> Graph:
    graph = Graph()
    bind_prefixes(graph)
    graph.bind("foaf", FOAF, override=True, replace=True)
    graph.bind("spdx", SPDX, override=True, replace=True)
    return graph


def _dumps_for(dump_urls: Mapping[str, str] | None, dumps: list[Dump] | None) -> list[tuple[str, str]]:
    """(format, url) pairs: from ``dumps`` records, or ``dump_urls`` keyed by format or file name."""
    if dumps is not None:
        return [(d.fmt, d.url) for d in dumps]
    if not dump_urls:
        return []
    by_name = {name: fmt for fmt, (name, _mt) in FORMATS.items()}
    out = []
    for key, url in dump_urls.items():
        fmt = key if key in FORMATS else by_name.get(key)
        if fmt is None:
            raise ValueError(f"dump_urls key {key!r}: use a format ({', '.join(FORMATS)}) or a dump file name")
        out.append((fmt, url))
    order = list(FORMATS)
    return sorted(out, key=lambda pair: (order.index(pair[0]), pair[1]))


def void_graph(ds: Dataset, *, sparql_endpoint: str | None = None, dump_urls: Mapping[str, str] | None = None,
               version: str | None = None, dumps: list[Dump] | None = None,
               stats: Statistics | None = None) -> Graph:
    """The VoID description of ``ds``: statistics, partitions, linksets, dumps, endpoint.

    ``sparql_endpoint`` adds void:sparqlEndpoint (the server passes its own address); ``dump_urls``
    maps a format (``turtle``, ``nt``, ``trig``, ``nquads``, ``jsonld``) or a dump file name
    (``coopgraph.ttl``...) to the address where that dump is served. ``version`` describes one
    release (``BASE/dataset/<version>``); ``dumps`` (records with sizes) replace ``dump_urls``.
    """
    ds, stats = _inputs(ds, stats)
    union = union_graph(ds)
    meta = metadata(ds)
    d = ids.dataset_iri(version)
    g = _new_graph()
    g.add((d, RDF.type, VOID.Dataset))
    _common(g, d, meta, version)
    g.add((d, VOID.uriSpace, Literal(str(ID))))
    g.add((d, VOID.triples, Literal(stats.triples)))
    g.add((d, VOID.entities, Literal(stats.entities)))
    g.add((d, VOID.distinctSubjects, Literal(stats.distinct_subjects)))
    g.add((d, VOID.distinctObjects, Literal(stats.distinct_objects)))
    g.add((d, VOID.classes, Literal(len(stats.classes))))
    g.add((d, VOID.properties, Literal(len(stats.properties))))
    for ns in stats.vocabularies:
        g.add((d, VOID.vocabulary, URIRef(ns)))
    for fmt, url in _dumps_for(dump_urls, dumps):
        g.add((d, VOID.dataDump, URIRef(url)))
        g.add((d, VOID.feature, FORMAT_TERMS[fmt][0]))
    endpoint = sparql_endpoint if sparql_endpoint is not None else None
    if endpoint:
        g.add((d, VOID.sparqlEndpoint, URIRef(endpoint)))
    for cls, count in stats.classes.items():
        part = ids.dataset_part(d, "class", _curie(union, cls))
        g.add((d, VOID.classPartition, part))
        g.add((part, VOID["class"], cls))
        g.add((part, VOID.entities, Literal(count)))
    for prop, (triples, n_s, n_o) in stats.properties.items():
        part = ids.dataset_part(d, "property", _curie(union, prop))
        g.add((d, VOID.propertyPartition, part))
        g.add((part, VOID.property, prop))
        g.add((part, VOID.triples, Literal(triples)))
        g.add((part, VOID.distinctSubjects, Literal(n_s)))
        g.add((part, VOID.distinctObjects, Literal(n_o)))
    for key, name, target, predicate, count in stats.linksets:
        linkset = ids.dataset_part(d, "linkset", f"{key} {_curie(union, predicate)}")
        g.add((d, VOID.subset, linkset))
        g.add((linkset, RDF.type, VOID.Linkset))
        g.add((linkset, DCTERMS.title, Literal(f"Links to {name} ({union.namespace_manager.normalizeUri(predicate)})", lang="en")))
        g.add((linkset, VOID.subjectsTarget, d))
        g.add((linkset, VOID.objectsTarget, target))
        g.add((linkset, VOID.target, d))
        g.add((linkset, VOID.target, target))
        g.add((linkset, VOID.linkPredicate, predicate))
        g.add((linkset, VOID.triples, Literal(count)))
        g.add((target, RDF.type, VOID.Dataset))
        g.add((target, DCTERMS.title, Literal(name, lang="en")))
        g.add((target, FOAF.homepage, target))
    return g


def _common(g: Graph, d: URIRef, meta: Metadata, version: str | None, issued: str | None = None) -> None:
    """Title, description, licence, publisher, creator, landing page, version: shared by VoID and DCAT."""
    if meta.title is not None:
        g.add((d, DCTERMS.title, meta.title))
    if meta.description is not None:
        g.add((d, DCTERMS.description, meta.description))
    if meta.license is not None:
        g.add((d, DCTERMS.license, meta.license))
    for prop, agent in ((DCTERMS.publisher, meta.publisher), (DCTERMS.creator, meta.creator)):
        if agent is not None:
            g.add((d, prop, agent))
            g.add((agent, RDF.type, FOAF.Organization))
            g.add((agent, FOAF.name, Literal(meta.agents[agent]["name"])))
            g.add((agent, FOAF.homepage, URIRef(meta.agents[agent]["url"])))
    if meta.landing_page is not None:
        g.add((d, FOAF.homepage, meta.landing_page))
    if version is not None:
        g.add((d, DCTERMS.isVersionOf, ids.dataset_iri()))
        g.add((d, DCAT_VERSION, Literal(version)))
        g.add((d, OWL.versionInfo, Literal(version)))
    if issued is not None:
        g.add((d, DCTERMS.issued, Literal(issued, datatype=XSD.date)))


# ----------------------------------------------------------------------------- DCAT 3

def dcat_graph(ds: Dataset, dumps: list[Dump], *, version: str | None = None, issued: str | None = None,
               previous_version: str | None = None, sparql_endpoint: str | None = None,
               stats: Statistics | None = None) -> Graph:
    """The DCAT 3 description: catalog, dataset, one distribution per dump, the endpoint as a service.

    A release (``version``) is described as a version of the dataset (dcat:version,
    dcterms:isVersionOf, dcat:previousVersion when ``previous_version`` is given, dcterms:issued).
    """
    ds, stats = _inputs(ds, stats)
    union = union_graph(ds)
    meta = metadata(ds)
    d = ids.dataset_iri(version)
    catalog = ids.catalog_iri()
    g = _new_graph()
    g.add((catalog, RDF.type, DCAT.Catalog))
    for prop, value in ((DCTERMS.title, meta.catalog_title), (DCTERMS.description, meta.catalog_description),
                        (DCTERMS.license, meta.license), (DCTERMS.publisher, meta.publisher),
                        (FOAF.homepage, meta.landing_page)):
        if value is not None:
            g.add((catalog, prop, value))
    g.add((catalog, DCAT.dataset, d))
    if stats.topics:
        g.add((catalog, DCAT.themeTaxonomy, ID["scheme/topics"]))
    g.add((d, RDF.type, DCAT.Dataset))
    _common(g, d, meta, version, issued)
    if meta.landing_page is not None:
        g.add((d, DCAT.landingPage, meta.landing_page))
    if version is not None:
        g.add((ids.dataset_iri(), RDF.type, DCAT.Dataset))
        g.add((ids.dataset_iri(), DCAT_HAS_VERSION, d))
        if previous_version is not None:
            g.add((d, DCAT_PREVIOUS_VERSION, ids.dataset_iri(previous_version)))
    for topic in stats.topics:
        g.add((d, DCAT.theme, topic))
        label = _label(union, topic)
        if label:
            g.add((d, DCAT.keyword, Literal(label, lang="en")))
    for country in stats.countries:
        g.add((d, DCTERMS.spatial, country))
        label = _label(union, country)
        if label:
            g.add((country, RDFS.label, Literal(label, lang="en")))
    if stats.temporal:
        period = ids.dataset_part(d, "period", "temporal coverage")
        g.add((d, DCTERMS.temporal, period))
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        g.add((period, DCAT.startDate, Literal(stats.temporal[0], datatype=XSD.date)))
        g.add((period, DCAT.endDate, Literal(stats.temporal[1], datatype=XSD.date)))
    for lang in stats.languages:
        g.add((d, DCTERMS.language, URIRef(LANGUAGE_BASE + lang)))
    for dump in dumps:
        dist = ids.dataset_part(d, "dump", dump.fmt)
        checksum = ids.dataset_part(d, "sha256", dump.fmt)
        w3c_format, eu_type, format_name = FORMAT_TERMS[dump.fmt]
        g.add((d, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.title, Literal(f"{dump.name} ({format_name})", lang="en")))
        g.add((dist, DCAT.downloadURL, URIRef(dump.url)))
        g.add((dist, DCAT.accessURL, URIRef(dump.url)))
        g.add((dist, DCAT.mediaType, IANA_MEDIA[dump.media_type]))
        g.add((dist, DCTERMS.format, eu_type))
        g.add((dist, DCTERMS.conformsTo, w3c_format))
        g.add((dist, DCAT.byteSize, Literal(dump.byte_size, datatype=XSD.nonNegativeInteger)))
        g.add((dist, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(dump.sha256, datatype=XSD.hexBinary)))
        if meta.license is not None:
            g.add((dist, DCTERMS.license, meta.license))
    endpoint = sparql_endpoint or (str(meta.sparql_endpoint) if meta.sparql_endpoint else None)
    if endpoint:
        service = ids.dataset_part(catalog, "service", "sparql")
        g.add((catalog, DCAT.service, service))
        g.add((service, RDF.type, DCAT.DataService))
        g.add((service, DCTERMS.title, Literal(f"SPARQL endpoint of {meta.title or 'coopgraph'}", lang="en")))
        g.add((service, DCAT.endpointURL, URIRef(endpoint)))
        g.add((service, DCAT.endpointDescription, URIRef(endpoint)))
        g.add((service, DCTERMS.conformsTo, SPARQL_PROTOCOL))
        g.add((service, DCAT.servesDataset, d))
        if meta.license is not None:
            g.add((service, DCTERMS.license, meta.license))
        if meta.publisher is not None:
            g.add((service, DCTERMS.publisher, meta.publisher))
    return g


# ----------------------------------------------------------------------------- schema.org

def schema_dataset(ds: Dataset, dumps: list[Dump], *, version: str | None = None, issued: str | None = None,
                   stats: Statistics | None = None) -> dict[str, Any]:
    """The schema.org Dataset JSON-LD document Google Dataset Search reads (context schema.org)."""
    ds, stats = _inputs(ds, stats)
    union = union_graph(ds)
    meta = metadata(ds)
    d = ids.dataset_iri(version)
    doc: dict[str, Any] = {"@context": "https://schema.org", "@type": "Dataset", "@id": str(d)}
    if meta.title is not None:
        doc["name"] = str(meta.title)
    if meta.description is not None:
        doc["description"] = str(meta.description)
    if meta.landing_page is not None:
        doc["url"] = str(meta.landing_page)
    if meta.license is not None:
        doc["license"] = str(meta.license)
        doc["isAccessibleForFree"] = True
    for key, agent in (("creator", meta.creator), ("publisher", meta.publisher)):
        if agent is not None:
            doc[key] = {"@type": "Organization", "@id": str(agent), "name": meta.agents[agent]["name"],
                        "url": meta.agents[agent]["url"]}
    keywords = [label for label in (_label(union, t) for t in stats.topics) if label]
    if keywords:
        doc["keywords"] = sorted(set(keywords))
    if stats.countries:
        doc["spatialCoverage"] = [_place(union, c) for c in stats.countries]
    if stats.temporal:
        doc["temporalCoverage"] = f"{stats.temporal[0]}/{stats.temporal[1]}"
    if stats.languages:
        doc["inLanguage"] = stats.languages[0] if len(stats.languages) == 1 else stats.languages
    if version is not None:
        doc["version"] = version
        doc["isPartOf"] = {"@type": "Dataset", "@id": str(ids.dataset_iri())}
    if issued is not None:
        doc["datePublished"] = issued
    sources = sorted({str(u) for s in union.subjects(RDF.type, COOP.Source) for u in union.objects(s, SDO.url)
                      if str(s).startswith(str(SRC))})
    if sources:
        doc["isBasedOn"] = sources
    doc["includedInDataCatalog"] = {"@type": "DataCatalog", "@id": str(ids.catalog_iri()),
                                    **({"name": str(meta.catalog_title)} if meta.catalog_title else {})}
    doc["distribution"] = [{"@type": "DataDownload", "name": dump.name, "contentUrl": dump.url,
                            "encodingFormat": dump.media_type, "contentSize": f"{dump.byte_size} B"}
                           for dump in dumps]
    return doc


def _place(graph: Graph, iri: URIRef) -> dict[str, Any]:
    node: dict[str, Any] = {"@type": "Country", "@id": str(iri)}
    label = _label(graph, iri)
    if label:
        node["name"] = label
    same = sorted(str(o) for o in graph.objects(iri, SDO.sameAs))
    if same:
        node["sameAs"] = same
    return node


# ----------------------------------------------------------------------------- files

def render(ds: Dataset, dump_texts: Mapping[str, str | bytes], *, version: str | None = None,
           issued: str | None = None, previous_version: str | None = None) -> dict[str, str]:
    """The three description files (void.ttl, dcat.ttl, dataset.jsonld) for the given dumps."""
    dumps = dumps_from_texts(dump_texts, dump_base(version))
    ds, stats = _inputs(ds, None)
    meta = metadata(ds)
    endpoint = str(meta.sparql_endpoint) if meta.sparql_endpoint else None
    header = ("# Generated by `coopgraph {cmd}` (src/coopgraph/description.py) from the graph and its\n"
              "# dumps; do not edit. The hand-stated part is data/dataset.ttl.\n")
    cmd = "build" if version is None else f"release {version}"
    void = void_graph(ds, sparql_endpoint=endpoint, version=version, dumps=dumps, stats=stats)
    dcat = dcat_graph(ds, dumps, version=version, issued=issued, previous_version=previous_version,
                      sparql_endpoint=endpoint, stats=stats)
    return {
        VOID_FILE: header.format(cmd=cmd) + void.serialize(format="turtle"),
        DCAT_FILE: header.format(cmd=cmd) + dcat.serialize(format="turtle"),
        SCHEMA_FILE: dumps_json(schema_dataset(ds, dumps, version=version, issued=issued, stats=stats)),
    }
