"""Namespaces and the CURIE map: the one place where vocabulary IRIs are written down.

schema.org is used in its ``http://schema.org/`` form. That is the namespace the schema.org
JSON-LD context itself declares (``"@vocab": "http://schema.org/"``), so JSON-LD written with
``"@context": "https://schema.org"`` (what Google and every web page use) expands to the same IRIs
as our graph, and so do Wikidata, extruct and most harvested schema.org data. rdflib's own ``SDO``
constant uses ``https://schema.org/``; we never use it.
"""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SH, SKOS, VOID, XSD

#: Root of every IRI we mint (a w3id.org permanent identifier; see README "IRIs").
BASE = "https://w3id.org/coopgraph/"

SDO = Namespace("http://schema.org/")
#: Our own vocabulary (terms added to schema.org), hash namespace: one document, ``/ontology``.
COOP = Namespace(BASE + "ontology#")
#: Entities: ``BASE + "id/<kind>/<slug>"`` (see :mod:`coopgraph.ids`).
ID = Namespace(BASE + "id/")
#: Named graphs, one per source: ``BASE + "source/<key>"``.
SRC = Namespace(BASE + "source/")
#: Graphs that are not a source: the ontology, the descriptions of the sources.
GRAPH = Namespace(BASE + "graph/")

WD = Namespace("http://www.wikidata.org/entity/")
GN = Namespace("https://sws.geonames.org/")
ROR = Namespace("https://ror.org/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
#: Dataset descriptions (description.py): checksums, media types, file formats.
SPDX = Namespace("http://spdx.org/rdf/terms#")
IANA_MEDIA = Namespace("https://www.iana.org/assignments/media-types/")
W3C_FORMATS = Namespace("http://www.w3.org/ns/formats/")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")

ONTOLOGY_GRAPH = GRAPH["ontology"]
SOURCES_GRAPH = GRAPH["sources"]
#: The hand-edited part of the dataset description (data/dataset.ttl): title, licence, publisher.
DATASET_GRAPH = GRAPH["dataset"]

#: Prefixes bound in every serialisation, in this order. Entity prefixes come from ids.KINDS.
PREFIXES: dict[str, str] = {
    "schema": str(SDO),
    "coop": str(COOP),
    "src": str(SRC),
    "graph": str(GRAPH),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "sh": str(SH),
    "void": str(VOID),
    "dcat": str(DCAT),
    "wd": str(WD),
}

__all__ = [
    "BASE", "SDO", "COOP", "ID", "SRC", "GRAPH", "WD", "GN", "ROR", "SD",
    "ONTOLOGY_GRAPH", "SOURCES_GRAPH", "DATASET_GRAPH", "PREFIXES",
    "RDF", "RDFS", "OWL", "XSD", "SKOS", "DCTERMS", "PROV", "SH", "VOID", "DCAT", "FOAF",
    "SPDX", "IANA_MEDIA", "W3C_FORMATS", "EU_FILE_TYPE",
]
