"""Named queries (queries/*.rq): headers, the expected rows of each on the real data, the output
formats, parameters, refusals, and portability (the same rows on Oxigraph, whatever the store order).

The expected rows are in tests/queries/<case>.tsv (SPARQL 1.1 TSV, exactly what
`coopgraph query NAME --format tsv` prints); tests/queries/README.md says how each was checked.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from pathlib import Path

import pytest
from rdflib import Dataset, Literal, URIRef

from coopgraph import queries
from coopgraph.build import graph_names, new_dataset
from coopgraph.errors import InputError
from coopgraph.queries import Param, to_term
from coopgraph.safety import check_query

import conftest
from conftest import ROOT, run_cli

QUERIES_DIR = ROOT / "queries"
EXPECTED_DIR = Path(__file__).parent / "queries"
NAMES = sorted(p.stem for p in QUERIES_DIR.glob("*.rq"))

#: The questions of issue 2 ("Queries"), each answered by one named query, and the extras.
REQUIRED = {
    "items-timeline", "events", "participation", "roles", "organisation-activity",
    "organisation-co-occurrence", "items-per-topic", "documents-languages", "external-identifiers",
    "places-map", "fact-sources", "new-since",
    "entities", "sources", "organisation-structure", "topic-hierarchy",
}

SUBJECT = "event:catalysing-change-week-2022"
#: expected file (tests/queries/<key>.tsv) -> (query name, parameters); every query has a case.
CASES: dict[str, tuple[str, dict[str, str]]] = {name: (name, {}) for name in NAMES}
CASES["fact-sources"] = ("fact-sources", {"subject": SUBJECT})
CASES.update({
    "fact-sources.startDate": ("fact-sources", {"subject": SUBJECT, "predicate": "schema:startDate"}),
    "new-since.2022-05-17": ("new-since", {"since": "2022-05-17"}),
    "new-since.2023-01-01": ("new-since", {"since": "2023-01-01"}),
})
#: The parameters each query runs with when a test needs one case per query.
DEFAULT_PARAMS = {name: CASES[name][1] for name in NAMES}


def _param_args(params: dict[str, str]) -> list[str]:
    return [arg for key, value in params.items() for arg in ("--param", f"{key}={value}")]


def _expected(key: str) -> str:
    return (EXPECTED_DIR / f"{key}.tsv").read_text(encoding="utf-8")


def _tsv_rows(text: str) -> tuple[list[str], list[list[str]]]:
    lines = text.splitlines()
    header = [v.removeprefix("?") for v in lines[0].split("\t")]
    return header, [line.split("\t") for line in lines[1:]]


# ----------------------------------------------------------------------------- the files

def test_the_issue_questions_all_have_a_query():
    assert len(NAMES) >= 12
    assert REQUIRED <= set(NAMES), f"missing: {sorted(REQUIRED - set(NAMES))}"


@pytest.mark.parametrize("name", NAMES)
def test_query_file_has_a_header_and_parses(name):
    q = queries.load_query(QUERIES_DIR / f"{name}.rq")
    assert q.title and len(q.title) <= 50, "a short title"
    assert q.description.startswith("One row per"), "the description says what a row is"
    assert len(q.description) >= 60
    for p in q.params:
        assert p.description, f"parameter {p.name} needs a description"
        assert f"${p.name}" in q.text.split("\nPREFIX", 1)[1], f"${p.name} is never used"
    check_query(q.text)  # unbound, a $param is a SPARQL variable: the file itself is valid SPARQL
    check_query(q.bind(DEFAULT_PARAMS[name]))
    assert "\nORDER BY " in q.text, "rows come in a fixed order"


def test_every_expected_file_has_a_case_and_is_documented():
    files = {p.stem for p in EXPECTED_DIR.glob("*.tsv")}
    assert files == set(CASES), f"orphans: {sorted(files - set(CASES))}, missing: {sorted(set(CASES) - files)}"
    readme = (EXPECTED_DIR / "README.md").read_text(encoding="utf-8")
    for key, (name, params) in CASES.items():
        command = " ".join(["coopgraph query", name, *_param_args(params), "--format tsv"])
        assert f"{key}.tsv" in readme and command in readme, f"tests/queries/README.md: document {key}.tsv ({command})"


# ----------------------------------------------------------------------------- expected rows

@pytest.mark.parametrize("key", sorted(CASES))
def test_expected_rows(key):
    """The query's rows on the real data, in order, with every term's type and language."""
    name, params = CASES[key]
    result = run_cli("query", name, "--format", "tsv", *_param_args(params))
    assert result.exit_code == 0, result.stderr
    expected = _expected(key)
    if result.stdout != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), result.stdout.splitlines(True),
                                            f"tests/queries/{key}.tsv", "coopgraph query"))
        pytest.fail(f"rows of {name} {params} differ from tests/queries/{key}.tsv:\n{diff}")


# ----------------------------------------------------------------------------- formats

def _json_cell(binding: dict | None) -> str:
    """The TSV (Turtle) form of one SPARQL JSON results binding."""
    if binding is None:
        return ""
    if binding["type"] == "uri":
        return f"<{binding['value']}>"
    assert binding["type"] == "literal", binding
    datatype = binding.get("datatype")
    return Literal(binding["value"], lang=binding.get("xml:lang"),
                   datatype=URIRef(datatype) if datatype else None).n3()


@pytest.mark.parametrize("name", NAMES)
def test_every_format_gives_the_same_rows(name):
    """json (SPARQL 1.1 JSON results), csv and table say what the expected TSV says."""
    header, rows = _tsv_rows(_expected(name))
    args = ["query", name, *_param_args(DEFAULT_PARAMS[name]), "--format"]

    result = run_cli(*args, "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["head"]["vars"] == header
    bindings = doc["results"]["bindings"]
    assert [[_json_cell(b.get(v)) for v in header] for b in bindings] == rows

    result = run_cli(*args, "csv")
    assert result.exit_code == 0, result.stderr
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0] == header
    assert table[1:] == [[b[v]["value"] if v in b else "" for v in header] for b in bindings]

    result = run_cli(*args, "table")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == header
    assert set(lines[1]) <= {"-", " "}
    assert len(lines) == len(rows) + 3
    assert lines[-1] == f"({len(rows)} row{'' if len(rows) == 1 else 's'})"


def test_table_writes_our_iris_with_their_prefixes():
    out = run_cli("query", "events").stdout
    assert "event:catalysing-change-week-2022" in out
    assert "https://w3id.org/coopgraph/id/" not in out


def test_readme_lists_every_query_and_shows_real_output():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in NAMES:
        title = queries.load_query(QUERIES_DIR / f"{name}.rq").title
        assert f"| `{name}` | {title} |" in readme, f"README, section Queries: add {name}"
    from test_readme import _matches  # the README abridges long outputs with "..." lines
    for args in (["events"], ["new-since", "--param", "since=2023-06-01"]):
        output = run_cli("query", *args).stdout
        command = f"$ coopgraph query {' '.join(args)}\n"
        assert command in readme, f"README: show coopgraph query {' '.join(args)}"
        shown = readme.split(command, 1)[1].split("\n$ ", 1)[0].split("\n```", 1)[0].split("\n")
        assert _matches(shown, output.rstrip("\n").split("\n")), f"README: rerun coopgraph query {' '.join(args)}"


# ----------------------------------------------------------------------------- the command

def test_list_shows_every_query_with_its_title_and_parameters():
    result = run_cli("query", "--list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(NAMES)
    for name, line in zip(NAMES, lines):
        q = queries.load_query(QUERIES_DIR / f"{name}.rq")
        assert line.split()[0] == name and q.title in line, line
    listed = dict(line.split(maxsplit=1) for line in lines)
    assert "(subject=iri [predicate=iri])" in listed["fact-sources"]
    assert "([since=xsd:date])" in listed["new-since"]


def test_unknown_query_name_lists_the_available_ones():
    result = run_cli("query", "no-such-query")
    assert result.exit_code == 2
    assert "no query named 'no-such-query'" in result.stderr
    for name in NAMES:
        assert name in result.stderr


def test_a_query_file_runs_without_a_header(tmp_path):
    path = tmp_path / "mine.rq"
    path.write_text("PREFIX schema: <http://schema.org/>\n"
                    "SELECT ?event WHERE { ?event a schema:Event } ORDER BY STR(?event)\n", encoding="utf-8")
    result = run_cli("query", str(path), "--format", "csv")
    assert result.exit_code == 0, result.stderr
    _header, rows = _tsv_rows(_expected("entities"))
    events = [r[0].strip("<>") for r in rows if r[1] == "<http://schema.org/Event>"]
    assert result.stdout.splitlines() == ["event", *events]


def test_a_query_file_with_parameters(tmp_path):
    path = tmp_path / "since.rq"
    path.write_text("# title: Items of one day\n"
                    "# param: day (xsd:date, required) The day.\n"
                    "PREFIX schema: <http://schema.org/>\n"
                    "SELECT ?item WHERE { ?item schema:datePublished $day } ORDER BY STR(?item)\n", encoding="utf-8")
    result = run_cli("query", str(path), "--param", "day=2022-05-18", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "item", "https://w3id.org/coopgraph/id/item/2022-05-18-melih-toprak-fatih-polattimur-trade-experts"]
    result = run_cli("query", str(path), "--format", "csv")
    assert result.exit_code == 2 and "--param day=VALUE (xsd:date)" in result.stderr


def test_a_query_file_that_is_not_utf8_is_bad_input(tmp_path):
    path = tmp_path / "latin1.rq"
    path.write_bytes("SELECT * WHERE { ?s ?p \"caf\xe9\" }".encode("latin-1"))
    result = run_cli("query", str(path))
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def test_order_by_a_key_that_is_unbound_sorts_it_first(tmp_path):
    """SPARQL 1.1 section 15.1; rdflib alone raises TypeError on ORDER BY STR(?unbound)."""
    path = tmp_path / "order.rq"
    path.write_text('SELECT ?x ?y WHERE { VALUES (?x ?y) { (1 UNDEF) (2 "b") (3 "a") (4 <http://example.org/i>) } }\n'
                    "ORDER BY STR(?y)\n", encoding="utf-8")
    result = run_cli("query", str(path), "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert [line.split(",")[0] for line in result.stdout.splitlines()[1:]] == ["1", "3", "2", "4"]
    path.write_text(path.read_text(encoding="utf-8").replace("STR(?y)", "DESC(STR(?y)) ?x"), encoding="utf-8")
    result = run_cli("query", str(path), "--format", "csv")
    assert [line.split(",")[0] for line in result.stdout.splitlines()[1:]] == ["4", "2", "3", "1"]


# ----------------------------------------------------------------------------- parameters

@pytest.mark.parametrize("args, words", [
    (["new-since", "--param", "since=2022-13-01"], ["--param since=2022-13-01", "xsd:date", "YYYY-MM-DD"]),
    (["new-since", "--param", "since=yesterday"], ["since", "YYYY-MM-DD"]),
    (["new-since", "--param", "until=2022-01-01"], ["no parameter until", "since (xsd:date)"]),
    (["new-since", "--param", "since"], ["--param 'since'", "NAME=VALUE"]),
    (["events", "--param", "since=2022-01-01"], ["query events has no parameter since", "none"]),
    (["fact-sources"], ["needs --param subject=VALUE (iri)"]),
    (["fact-sources", "--param", "subject=nosuchprefix:x"], ["--param subject=nosuchprefix:x", "an IRI or prefix:name"]),
    (["fact-sources", "--param", "subject=event:x>}"], ["--param subject=event:x>}", "'>' is not allowed"]),
    (["fact-sources", "--param", "subject=http://example.org/a>?p?o}#"], ["subject", "not allowed in an IRI"]),
    (["fact-sources", "--param", f"subject={SUBJECT}", "--param", "predicate=schema:start Date"],
     ["predicate", "not allowed in an IRI"]),
])
def test_bad_parameters_exit_2_naming_them(args, words):
    result = run_cli("query", *args)
    assert result.exit_code == 2, result.stdout
    for word in words:
        assert word in result.stderr, (word, result.stderr)


@pytest.mark.parametrize("ptype, good, term, bad, form", [
    ("xsd:date", "2022-05-01", '"2022-05-01"^^<http://www.w3.org/2001/XMLSchema#date>', "2022-02-30", "YYYY-MM-DD"),
    ("xsd:dateTime", "2022-07-15T10:00:00+02:00",
     '"2022-07-15T10:00:00+02:00"^^<http://www.w3.org/2001/XMLSchema#dateTime>', "15 July", "YYYY-MM-DDThh:mm:ss"),
    ("xsd:gYear", "2022", '"2022"^^<http://www.w3.org/2001/XMLSchema#gYear>', "22", "YYYY"),
    ("xsd:integer", "12", '"12"^^<http://www.w3.org/2001/XMLSchema#integer>', "1.5", "a whole number"),
    ("xsd:decimal", "46.06787", '"46.06787"^^<http://www.w3.org/2001/XMLSchema#decimal>', "north", "a number"),
    ("xsd:string", 'say "hi"', '"say \\"hi\\""', None, None),
    ("iri", "place:trento", "<https://w3id.org/coopgraph/id/place/trento>", 'http://example.org/"', "an IRI"),
])
def test_parameter_values_become_sparql_terms(ptype, good, term, bad, form):
    param = Param("p", ptype, "a parameter")
    assert to_term(param, good).n3() == term
    if bad is not None:
        with pytest.raises(InputError, match=form):
            to_term(param, bad)


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("text, message", [
    ("SELECT * WHERE { SERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE is refused"),
    ("SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE SILENT <{endpoint}> { ?s ?q ?v } } }", "SERVICE is refused"),
    ("LOAD <{endpoint}>", "updates are refused"),
    ("INSERT DATA { <http://example.org/a> <http://example.org/b> <http://example.org/c> }", "updates are refused"),
    ("DROP ALL", "updates are refused"),
    ("SELECT * FROM <http://example.org/x> WHERE { ?s ?p ?o }", "FROM <http://example.org/x> is refused"),
    ("SELECT * FROM NAMED <{endpoint}> WHERE { GRAPH ?g { ?s ?p ?o } }", "FROM NAMED <http://127.0.0.1"),
])
def test_refused_queries_exit_1_and_fetch_nothing(tmp_path, listener, text, message):
    endpoint, hits = listener
    path = tmp_path / "refused.rq"
    path.write_text(text.replace("{endpoint}", endpoint), encoding="utf-8")
    attempts = len(conftest.ATTEMPTS)
    result = run_cli("query", str(path))
    assert result.exit_code == 1, result.stdout
    assert message in result.stderr
    assert hits == [], "the loopback endpoint was contacted"
    assert len(conftest.ATTEMPTS) == attempts, "something tried the network"


def test_from_our_own_graph_is_allowed(tmp_path):
    path = tmp_path / "from.rq"
    path.write_text("SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/coopgraph/source/ror> WHERE { ?s ?p ?o }",
                    encoding="utf-8")
    result = run_cli("query", str(path), "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["n", "2"]  # the ROR link: schema:sameAs and skos:exactMatch


# ----------------------------------------------------------------------------- portability

def _cell(term) -> tuple | None:
    """A term as plain data (kind, text, language, datatype) that two engines can be compared on."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        return ("iri", str(term))
    datatype = str(term.datatype) if term.datatype else (None if term.language else "http://www.w3.org/2001/XMLSchema#string")
    return ("literal", str(term), term.language, datatype)


def _rdflib_rows(dataset: Dataset, text: str) -> list[list]:
    result = queries.run(dataset, text, allowed_graphs=graph_names(dataset))
    return [[_cell(row[v]) for v in result.vars] for row in result]


@pytest.fixture(scope="module")
def oxigraph_store(dataset):
    """The real dataset in an Oxigraph store, graph for graph."""
    try:
        import pyoxigraph as ox
    except ImportError:  # pragma: no cover - the message is the point
        pytest.fail("pyoxigraph is missing: install the test extras (pip install -e '.[test]')")

    def term(t):
        if isinstance(t, URIRef):
            return ox.NamedNode(str(t))
        if t.language:
            return ox.Literal(str(t), language=t.language)
        return ox.Literal(str(t), datatype=ox.NamedNode(str(t.datatype))) if t.datatype else ox.Literal(str(t))

    store = ox.Store()
    for s, p, o, g in dataset.quads((None, None, None, None)):
        store.add(ox.Quad(term(s), term(p), term(o), ox.NamedNode(str(getattr(g, "identifier", g)))))
    return store, ox


@pytest.mark.parametrize("key", sorted(CASES))
def test_oxigraph_gives_the_same_rows(key, dataset, oxigraph_store):
    """Portable SPARQL: Oxigraph, with the union of the named graphs as its default graph, agrees.

    Oxigraph 0.5 counts a triple once per named graph in that union (oxigraph#1919), as Virtuoso
    does: a query that forgot DISTINCT or COUNT(DISTINCT) shows duplicated rows here.
    """
    store, ox = oxigraph_store
    name, params = CASES[key]
    text = queries.find_query(QUERIES_DIR, name).bind(params)
    result = store.query(text, use_default_graph_as_union=True)
    names = [v.value for v in result.variables]

    def cell(t):
        if t is None:
            return None
        if isinstance(t, ox.NamedNode):
            return ("iri", t.value)
        return ("literal", t.value, t.language, None if t.language else t.datatype.value)

    assert [[cell(solution[v]) for v in names] for solution in result] == _rdflib_rows(dataset, text)


@pytest.fixture(scope="module")
def reversed_dataset(dataset):
    """The same quads, inserted in the opposite order: rdflib then meets solutions in another order."""
    copy = new_dataset()
    quads = [(s, p, o, URIRef(str(getattr(g, "identifier", g)))) for s, p, o, g in dataset.quads((None, None, None, None))]
    for s, p, o, g in sorted(quads, reverse=True):
        copy.graph(g).add((s, p, o))
    return copy


@pytest.mark.parametrize("key", sorted(CASES))
def test_row_order_does_not_depend_on_the_store(key, dataset, reversed_dataset):
    """Every ORDER BY is total (ties broken by IRI), so the rows come in one order only."""
    name, params = CASES[key]
    text = queries.find_query(QUERIES_DIR, name).bind(params)
    assert _rdflib_rows(reversed_dataset, text) == _rdflib_rows(dataset, text)


# ----------------------------------------------------------------------------- one query's logic

def test_organisation_structure_tells_parents_from_ancestors():
    """A made-up three-level chain: the grandparent is an ancestor, not a parent."""
    ds = Dataset(default_union=True)
    ds.parse(data="""
        @prefix schema: <http://schema.org/> .
        @prefix o: <https://w3id.org/coopgraph/id/organization/> .
        <https://w3id.org/coopgraph/source/test> {
          o:unit schema:parentOrganization o:department ; schema:name "Unit"@en .
          o:department schema:parentOrganization o:agency ; schema:name "Department"@en .
          o:agency schema:name "Agency"@en .
        }""", format="trig")
    text = queries.find_query(QUERIES_DIR, "organisation-structure").bind({})
    o = "https://w3id.org/coopgraph/id/organization/"
    rows = [[c[1] if c else None for c in row] for row in _rdflib_rows(ds, text)]
    assert rows == [
        [o + "department", "Department", "parent", o + "agency", "Agency"],
        [o + "unit", "Unit", "ancestor", o + "agency", "Agency"],
        [o + "unit", "Unit", "parent", o + "department", "Department"],
    ]
