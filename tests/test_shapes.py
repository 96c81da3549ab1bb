"""The shapes (shapes/*.ttl), tested from data files: tests/shapes/{valid,invalid}/<Class>-<case>.ttl.

A valid case must give no result at all (no violation, no warning). An invalid case declares, in
``# expect:`` comment lines (format in tests/shapes/README.md), the exact set of results it gives:
(focus node, result path, sh:sourceConstraintComponent, severity), one line per result (a result
given twice, e.g. for two bad values of one property, is written twice). The test runs
coopgraph.validate on the file alone and compares that multiset with the SHACL report graph's.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import NamespaceManager

from coopgraph import ids
from coopgraph.build import bind_prefixes
from coopgraph.errors import InputError
from coopgraph.namespaces import ID, RDF, SH
from coopgraph.validate import load_shapes, validate

ROOT = Path(__file__).resolve().parents[1]
CASES_DIR = ROOT / "tests" / "shapes"
SHAPES_DIR = ROOT / "shapes"

#: One expected or actual result: focus IRI, path ("-" for none, "^IRI" inverse, "IRI/IRI" sequence),
#: sh:sourceConstraintComponent IRI, severity IRI, all as full IRIs.
Expectation = tuple[str, str, str, str]

_EXPECT = re.compile(r"^#\s*expect:\s*(.*?)\s*$")


# ----------------------------------------------------------------------------- the format

def _expand(token: str, nm: NamespaceManager, where: str) -> str:
    """A CURIE or <IRI> of an expect line, as a full IRI (the file's own prefixes, then ours)."""
    if token.startswith("<") and token.endswith(">"):
        return token[1:-1]
    try:
        return str(nm.expand_curie(token))
    except ValueError:
        raise ValueError(f"{where}: cannot expand {token!r}: declare its prefix in the file") from None


def _expand_path(token: str, nm: NamespaceManager, where: str) -> str:
    if token == "-":
        return "-"
    if token.startswith("^"):
        return "^" + _expand(token[1:], nm, where)
    return "/".join(_expand(part, nm, where) for part in token.split("/"))


def parse_expectations(path: Path) -> Counter[Expectation]:
    """The ``# expect: FOCUS PATH COMPONENT SEVERITY`` lines of a case file, as full IRIs.

    FOCUS is a CURIE (with the file's prefixes) or <IRI>; PATH is a CURIE, ``^CURIE`` for an inverse
    path, ``CURIE/CURIE`` for a sequence, or ``-`` for none; COMPONENT and SEVERITY are sh: CURIEs.
    """
    graph = Graph()
    bind_prefixes(graph)
    graph.parse(path, format="turtle")
    nm = graph.namespace_manager
    expected: Counter[Expectation] = Counter()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.match(line)
        if not match:
            continue
        where = f"{path.name}:{number}"
        fields = match.group(1).split()
        if len(fields) != 4:
            raise ValueError(f"{where}: write `# expect: FOCUS PATH COMPONENT SEVERITY`, got {line!r}")
        focus, result_path, component, severity = fields
        expected[(_expand(focus, nm, where), _expand_path(result_path, nm, where),
                  _expand(component, nm, where), _expand(severity, nm, where))] += 1
    return expected


def _render_path(graph: Graph, node) -> str:
    if node is None:
        return "-"
    if isinstance(node, URIRef):
        return str(node)
    inverse = graph.value(node, SH.inversePath)
    if inverse is not None:
        return "^" + str(inverse)
    if graph.value(node, RDF.first) is not None:
        return "/".join(_render_path(graph, step) for step in Collection(graph, node))
    raise AssertionError(f"a result path this test cannot write down: {list(graph.predicate_objects(node))}")


def report_results(report_graph: Graph) -> Counter[Expectation]:
    """The (focus, path, component, severity) of every result of a SHACL validation report graph."""
    results: Counter[Expectation] = Counter()
    for result in report_graph.objects(None, SH.result):  # not the nested sh:detail results
        focus = report_graph.value(result, SH.focusNode)
        results[(str(focus), _render_path(report_graph, report_graph.value(result, SH.resultPath)),
                 str(report_graph.value(result, SH.sourceConstraintComponent)),
                 str(report_graph.value(result, SH.resultSeverity)))] += 1
    return results


def _show(results: Counter[Expectation], nm: NamespaceManager) -> str:
    def curie(iri: str) -> str:
        if iri == "-":
            return iri
        if iri.startswith("^"):
            return "^" + curie(iri[1:])
        if "/" in iri and not iri.startswith(("http:", "https:")):
            return "/".join(curie(p) for p in iri.split("/"))
        try:
            return nm.normalizeUri(URIRef(iri))
        except Exception:
            return f"<{iri}>"
    return "\n".join("# expect: " + " ".join(curie(x) for x in r) for r in sorted(results.elements())) or "(none)"


# ----------------------------------------------------------------------------- the cases

@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes(SHAPES_DIR)


CASES = sorted(CASES_DIR.glob("*/*.ttl"))
CASE_NAME = re.compile(r"^(?P<cls>[A-Z][A-Za-z]+)-[a-z0-9]+(-[a-z0-9]+)*\.ttl$")


def test_there_are_cases():
    folders = {p.parent.name for p in CASES}
    assert folders == {"valid", "invalid"}, folders
    for path in CASES:
        assert CASE_NAME.match(path.name), f"{path.name}: name case files <Class>-<case-in-kebab-case>.ttl"


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_case(path: Path, shapes: Graph):
    data = Graph()
    bind_prefixes(data)
    data.parse(path, format="turtle")
    expected = parse_expectations(path)
    actual = report_results(validate(data, shapes).graph)
    nm = data.namespace_manager
    if path.parent.name == "valid":
        assert not expected, f"{path.name}: a valid case declares no results; move it to invalid/"
        assert not actual, f"{path.name} should give no result, gives:\n{_show(actual, nm)}"
    else:
        assert expected, f"{path.name}: an invalid case declares its results in `# expect:` lines"
        assert actual == expected, (
            f"{path.name}\nexpected:\n{_show(expected, nm)}\nactual:\n{_show(actual, nm)}\n"
            f"missing: {_show(expected - actual, nm)}\nunexpected: {_show(actual - expected, nm)}")
