"""Link discovery (coopgraph link / accept): normalisation, matching quality, inputs, outputs, accepting."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import shutil
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from coopgraph import link, mappings
from coopgraph.build import load
from coopgraph.namespaces import SDO, SKOS, SRC
from coopgraph.project import Project

from conftest import ROOT, run_cli

DATA = ROOT / "tests" / "data" / "link"
PARTNERS = ["--id-prefix", "partner=https://example.org/partners/"]


@pytest.fixture(scope="module")
def matcher(union):
    return link.matcher_for(union)


@pytest.fixture()
def data_copy(tmp_path) -> Project:
    for name in ("ontology", "data"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return Project(tmp_path)


# ----------------------------------------------------------------------------- normalisation

@pytest.mark.parametrize("a,b", [
    ("Ticaret Bakanlığı", "TICARET BAKANLIGI"),
    ("International Co-operative Alliance", "international cooperative alliance"),
    ("Intl. Cooperative Alliance", "International Cooperative Alliance"),
    ("International Labour Organisation", "International Labor Organization"),
    ("Cooperatives Europe aisbl", "Cooperatives Europe"),
    ("The UN Task Force on the Social and Solidarity Economy", "UN Task Force on Social & Solidarity Economy"),
])
def test_names_that_normalise_alike(a, b):
    assert sorted(link.org_tokens(a)) == sorted(link.org_tokens(b))


def test_person_names_in_any_order_with_particles():
    assert sorted(link.person_tokens("Van Vuuren, Vic")) == sorted(link.person_tokens("vic van vuuren"))
    assert "van" in link.person_tokens("Vic van Vuuren")


@pytest.mark.parametrize("long,short,expected", [
    ("Committee for the Promotion and Advancement of Cooperatives", "COPAC", True),
    ("Business Unity South Africa", "BUSA", True),
    ("International Co-operative Alliance", "ICA", True),
    ("Cooperatives Unit", "ILO", False),
    ("Food and Agriculture Organization", "ILO", False),
])
def test_acronym_definitions(long, short, expected):
    assert link.defines_acronym(long, short) is expected


def test_initials():
    assert link.initials("International Labour Organization") == "ILO"
    assert link.initials("International Co-operative Alliance") == "ICA"


# ----------------------------------------------------------------------------- matching

def _top(matcher, **record):
    rec = link.Record(id="https://example.org/x", **record)
    found = matcher.match(rec)
    return found[0] if found else None


def test_same_name_different_country_is_not_a_match(matcher):
    kenya = _top(matcher, names=["Ministry of Trade"], family="Organization", countries=matcher.normalise_country("Kenya"))
    turkey = _top(matcher, names=["Ministry of Trade"], family="Organization", countries=matcher.normalise_country("TR"))
    alone = _top(matcher, names=["Ministry of Trade"], family="Organization")
    assert turkey.match and turkey.entity.id.endswith("/ministry-of-trade-turkey")
    assert not kenya.match and kenya.score <= 0.75
    assert not alone.match and "names a body only in context" in alone.explanation


def test_acronym_contradicted_by_a_full_name(matcher):
    ilo = _top(matcher, names=["ILO"])
    found = matcher.match(link.Record(id="https://example.org/x", names=["ILO", "Institute for Local Ownership"]))
    other = next(c for c in found if c.entity.id.endswith("/organization/ilo"))
    assert ilo.match and ilo.entity.id.endswith("/organization/ilo")
    assert not any(c.match for c in found) and "is not ours" in other.explanation


def test_partial_names_never_match(matcher):
    housing = _top(matcher, names=["International Cooperative Alliance Housing"], family="Organization",
                   countries={"BE"}, cities={"brussels"}, years={1895})
    assert not housing.match and housing.score <= 0.8


def test_every_candidate_is_explained(matcher):
    cand = _top(matcher, names=["Van Vuuren, Vic"], family="Person", affiliations=["ILO"])
    assert cand.match
    assert "same name" in cand.explanation and "affiliation agrees: organization/ilo" in cand.explanation


def _benchmark():
    spec = importlib.util.spec_from_file_location("link_quality", ROOT / "benchmarks" / "link_quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_precision_is_one_on_the_gold_set_at_the_default_threshold(toolkit):
    """Quality, not timing: at MATCH_THRESHOLD no wrong link (benchmarks/link_quality.py)."""
    bench = _benchmark()
    result = bench.evaluate(bench.candidates(toolkit), bench.gold(), link.MATCH_THRESHOLD)
    assert result["wrong_links"] == []
    assert result["precision"] == 1.0
    assert result["recall"] >= 0.9  # the README quotes the exact figure


def test_the_gold_set_has_traps_that_lower_thresholds_fall_into(toolkit):
    """The check above can fail: the same data at 0.75 gives wrong links."""
    bench = _benchmark()
    assert bench.evaluate(bench.candidates(toolkit), bench.gold(), 0.75)["wrong"] > 0


# ----------------------------------------------------------------------------- the command

def test_link_csv_gives_a_valid_sssom_candidate_set(tmp_path):
    out = tmp_path / "candidates.sssom.tsv"
    result = run_cli("link", str(DATA / "partners.csv"), *PARTNERS, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "candidates at or above 0.9" in result.stderr
    cands = mappings.read(out, role="candidates")
    assert all(m.justification == "semapv:LexicalMatching" for m in cands.rows)
    assert all(m.confidence >= link.MATCH_THRESHOLD and m.values["comment"] for m in cands.rows)
    assert {(str(m.subject), str(m.object)) for m in cands.rows} >= {
        ("https://w3id.org/coopgraph/id/organization/ica", "https://example.org/partners/P01"),
        ("https://w3id.org/coopgraph/id/person/vic-van-vuuren", "https://example.org/partners/P08")}
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate as sssom_validate
    reports = sssom_validate(parse_sssom_table(out), fail_on_error=False)
    assert all(not r.results for r in reports.values()), reports


def test_link_output_is_deterministic(tmp_path):
    first = run_cli("link", str(DATA / "members.ttl"), "--min-score", "0.5").stdout
    second = run_cli("link", str(DATA / "members.ttl"), "--min-score", "0.5").stdout
    assert first == second and first.startswith("# curie_map:")


@pytest.mark.parametrize("fmt", ["ttl", "nt", "jsonld", "csv"])
def test_link_other_formats(fmt):
    result = run_cli("link", str(DATA / "members.ttl"), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert rows and all(r["match"] == "yes" for r in rows)
        return
    g = Graph()
    if fmt == "jsonld":
        from pyld import jsonld
        nq = jsonld.to_rdf(json.loads(result.stdout), {"format": "application/n-quads",
                                                       "documentLoader": lambda *a, **k: None})
        g.parse(data=nq, format="nquads")
    else:
        g.parse(data=result.stdout, format={"ttl": "turtle", "nt": "nt"}[fmt])
    owl = "http://www.w3.org/2002/07/owl#"
    targets = set(g.objects(None, URIRef(owl + "annotatedTarget")))
    assert URIRef("https://example.org/coopnet/person-1") in targets
    assert len(set(g.objects(None, URIRef("https://w3id.org/sssom/confidence")))) >= 1


def test_link_type_filter():
    result = run_cli("link", str(DATA / "members.ttl"), "--type", "Person", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and all("/person/" in r["our_id"] for r in rows)


def test_link_column_mapping(tmp_path):
    src = tmp_path / "renamed.csv"
    src.write_text("ref,org_label,nation\nA1,International Co-operative Alliance,Belgium\n", encoding="utf-8")
    bad = run_cli("link", str(src), *PARTNERS, "--column", "name=nope")
    assert bad.exit_code == 2 and "no such column" in bad.stderr
    missing = run_cli("link", str(src), *PARTNERS)
    assert missing.exit_code == 2 and "no name column" in missing.stderr and "--column name=COLUMN" in missing.stderr
    ok = run_cli("link", str(src), *PARTNERS, "--column", "name=org_label", "--column", "id=ref",
                 "--column", "country=nation", "--format", "csv")
    assert ok.exit_code == 0, ok.stderr
    assert "organization/ica," in ok.stdout and "country agrees" in ok.stdout


def test_link_csv_ids_need_a_prefix():
    result = run_cli("link", str(DATA / "partners.csv"))
    assert result.exit_code == 2
    assert "partners.csv:2: id 'P01' is not an IRI; give --id-prefix" in result.stderr


def test_link_jsonld_with_the_schema_org_context_reads_offline(tmp_path):
    doc = {"@context": "https://schema.org", "@id": "https://example.org/j/1", "@type": "Organization",
           "name": "International Co-operative Alliance", "foundingDate": "1895"}
    path = tmp_path / "other.jsonld"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("link", str(path), "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert "organization/ica" in result.stdout and "year agrees: 1895" in result.stdout


def test_link_refuses_a_remote_context_and_a_dtd(tmp_path):
    remote = tmp_path / "remote.jsonld"
    remote.write_text(json.dumps({"@context": "https://example.org/ctx.jsonld", "name": "x"}), encoding="utf-8")
    from conftest import ATTEMPTS
    tried = len(ATTEMPTS)
    result = run_cli("link", str(remote))
    assert result.exit_code != 0 and "refused to load" in result.stderr
    assert len(ATTEMPTS) == tried  # refused by the local loader, not by the test's network guard
    xml = tmp_path / "bomb.rdf"
    xml.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r/>', encoding="utf-8")
    result = run_cli("link", str(xml))
    assert result.exit_code == 2 and "DOCTYPE" in result.stderr


# ----------------------------------------------------------------------------- accept

def _candidates(tmp_path, root: Path) -> Path:
    out = tmp_path / "cands.sssom.tsv"
    result = run_cli("link", str(DATA / "partners.csv"), *PARTNERS, "-o", str(out), root=root)
    assert result.exit_code == 0, result.stderr
    return out


def test_accept_creates_a_set_and_the_build_adds_the_links(tmp_path, data_copy):
    cands = _candidates(tmp_path, data_copy.root)
    into = data_copy.data_dir / "mappings" / "partners.sssom.tsv"
    result = run_cli("accept", str(cands), "--into", str(into), "--source", "research-notes",
                     "--reviewer", "A. Reviewer", "--date", "2024-05-01", root=data_copy.root)
    assert result.exit_code == 0, result.stderr
    accepted = mappings.read(into)
    assert len(accepted.rows) == len(mappings.read(cands, role="candidates").rows)
    assert all(m.values["reviewer_label"] == "A. Reviewer" and m.values["mapping_date"] == "2024-05-01"
               for m in accepted.rows)
    ds = load(data_copy).dataset
    ica = URIRef("https://w3id.org/coopgraph/id/organization/ica")
    assert (ica, SKOS.exactMatch, URIRef("https://example.org/partners/P01")) in ds.graph(SRC["research-notes"])
    assert (ica, SDO.sameAs, URIRef("https://example.org/partners/P01")) not in ds.graph(SRC["research-notes"])
    # once accepted, link proposes them no more
    again = run_cli("link", str(DATA / "partners.csv"), *PARTNERS, root=data_copy.root)
    assert "already decided" in again.stderr
    assert "partner:P01" not in again.stdout


def test_accept_refuses_a_duplicate_and_writes_nothing(tmp_path, data_copy):
    cands = _candidates(tmp_path, data_copy.root)
    into = data_copy.data_dir / "mappings" / "partners.sssom.tsv"
    args = ["accept", str(cands), "--into", str(into), "--row", "1", "--reviewer", "R", "--date", "2024-05-01"]
    assert run_cli(*args, "--source", "research-notes", root=data_copy.root).exit_code == 0
    before = into.read_bytes()
    second = run_cli(*args, root=data_copy.root)
    assert second.exit_code == 1 and "already decided" in second.stderr
    assert into.read_bytes() == before
    assert not list(into.parent.glob(".*"))  # no temporary file left


def test_accept_refuses_a_second_identity_for_an_entity(tmp_path, data_copy):
    cands = tmp_path / "c.sssom.tsv"
    cands.write_text(mappings.render(
        {"curie_map": {"organization": "https://w3id.org/coopgraph/id/organization/",
                       "wikidata": "http://www.wikidata.org/entity/"},
         "mapping_set_id": "https://example.org/c", "license": "https://creativecommons.org/licenses/by/4.0/"},
        ["subject_id", "predicate_id", "object_id", "mapping_justification", "confidence"],
        [{"subject_id": "organization:ilo", "predicate_id": "skos:exactMatch", "object_id": "wikidata:Q1",
          "mapping_justification": "semapv:LexicalMatching", "confidence": "0.95"}]), encoding="utf-8")
    into = data_copy.data_dir / "mappings" / "wikidata.sssom.tsv"
    before = into.read_bytes()
    result = run_cli("accept", str(cands), "--into", str(into), "--reviewer", "R", root=data_copy.root)
    assert result.exit_code == 2
    assert "already has an identity link to wikidata:Q54129" in result.stderr
    assert into.read_bytes() == before


def test_accept_reject_records_a_negative_mapping(tmp_path, data_copy):
    cands = tmp_path / "low.sssom.tsv"
    assert run_cli("link", str(DATA / "partners.csv"), *PARTNERS, "--min-score", "0.7", "-o", str(cands),
                   root=data_copy.root).exit_code == 0
    rows = mappings.read(cands, role="candidates").rows
    n = next(i for i, m in enumerate(rows, start=1) if m.values["object_id"] == "partner:P16")
    into = data_copy.data_dir / "mappings" / "partners.sssom.tsv"
    result = run_cli("accept", str(cands), "--into", str(into), "--row", str(n), "--reject", "--reviewer", "R",
                     "--source", "research-notes", root=data_copy.root)
    assert result.exit_code == 0, result.stderr
    assert mappings.read(into).rows[0].negated
    ds = load(data_copy).dataset
    assert not list(ds.quads((None, None, URIRef("https://example.org/partners/P16"), None)))
    again = run_cli("link", str(DATA / "partners.csv"), *PARTNERS, "--min-score", "0.7", "--format", "csv",
                    root=data_copy.root)
    assert f"{rows[n - 1].subject},{rows[n - 1].values['subject_label']},https://example.org/partners/P16" not in again.stdout
