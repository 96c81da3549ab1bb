"""The dataset described in VoID: statistics, class partitions, where to query it and download it.

A minimal version written for ``coopgraph serve`` (``/.well-known/void``); the publishing work
(VoID + DCAT, releases) replaces it with the full description, keeping this signature.
"""

from __future__ import annotations

from collections import Counter
from typing import Mapping

from rdflib import Dataset, Graph, Literal, URIRef

from .build import bind_prefixes, union_graph
from .namespaces import BASE, DCTERMS, ID, RDF, SDO, VOID, XSD

DATASET_IRI = URIRef(BASE + "dataset")
TITLE = "coopgraph: the ILO's work on cooperatives in Europe and Central Asia"
DESCRIPTION = ("A curated, validated linked-data knowledge graph of the ILO's work on cooperatives in Europe "
               "and Central Asia: ten 2022 items of an ILO listing, enriched with checked facts, each in the "
               "named graph of its source.")


def void_graph(ds: Dataset, *, sparql_endpoint: str | None = None,
               dump_urls: Mapping[str, str] | None = None) -> Graph:
    """A VoID description of ``ds`` (triples, entities, class partitions, endpoint, dumps)."""
    union = union_graph(ds)
    out = Graph()
    bind_prefixes(out)
    d = DATASET_IRI
    out.add((d, RDF.type, VOID.Dataset))
    out.add((d, DCTERMS.title, Literal(TITLE, lang="en")))
    out.add((d, DCTERMS.description, Literal(DESCRIPTION, lang="en")))
    out.add((d, VOID.triples, Literal(len(union), datatype=XSD.integer)))
    entities = {s for s in union.subjects() if str(s).startswith(str(ID))}
    out.add((d, VOID.entities, Literal(len(entities), datatype=XSD.integer)))
    out.add((d, VOID.uriSpace, Literal(str(ID))))
    out.add((d, VOID.vocabulary, URIRef(str(SDO))))
    out.add((d, VOID.vocabulary, URIRef(BASE + "ontology")))
    if sparql_endpoint:
        out.add((d, VOID.sparqlEndpoint, URIRef(sparql_endpoint)))
    for _fmt, url in sorted((dump_urls or {}).items()):
        out.add((d, VOID.dataDump, URIRef(url)))
    counts = Counter(o for s, o in union.subject_objects(RDF.type) if s in entities)
    for cls, n in sorted(counts.items()):
        part = URIRef(f"{DATASET_IRI}/class/{cls.n3(union.namespace_manager).replace(':', '-')}")
        out.add((d, VOID.classPartition, part))
        out.add((part, VOID["class"], cls))
        out.add((part, VOID.entities, Literal(n, datatype=XSD.integer)))
    return out
