"""coopgraph release: every file, checksums sha256sum accepts, byte-identical rebuilds, never an
overwrite, a changelog, and a killed or failing release leaves the previous one byte-identical."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import signal
import subprocess
import time

import pytest
from rdflib import Graph

from coopgraph import ids
from coopgraph.description import DCAT_PREVIOUS_VERSION, DCAT_VERSION
from coopgraph.project import Project
from coopgraph.release import existing_releases, release

from conftest import run_cli
from publishing import INGEST_DATA, LISTING_URL, copy_project, coopgraph, snapshot, start

FILES = {"coopgraph.ttl", "coopgraph.nt", "coopgraph.trig", "coopgraph.nq", "coopgraph.jsonld", "void.ttl",
         "dcat.ttl", "dataset.jsonld", "validation-report.ttl", "validation-report.txt", "CHANGES.md", "SHA256SUMS"}


@pytest.fixture()
def proj(tmp_path):
    return Project(copy_project(tmp_path / "p"))


@pytest.fixture()
def released(proj):
    """The project with release 1.0.0 made."""
    result = run_cli("release", "1.0.0", "--date", "2026-11-29", root=proj.root)
    assert result.exit_code == 0, result.output
    return proj


def _sha256sum() -> str:
    path = shutil.which("sha256sum")
    assert path, "sha256sum (GNU coreutils) is needed by this test: apt-get install coreutils"
    return path


def test_a_release_holds_every_file_and_sha256sum_accepts_it(released):
    folder = released.root / "releases" / "1.0.0"
    assert {p.name for p in folder.iterdir()} == FILES
    check = subprocess.run([_sha256sum(), "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(FILES) - 1
    sums = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert [line.split("  ", 1)[1] for line in sums] == sorted(FILES - {"SHA256SUMS"})
    dcat = Graph().parse(folder / "dcat.ttl", format="turtle")
    assert str(dcat.value(ids.dataset_iri("1.0.0"), DCAT_VERSION)) == "1.0.0"
    assert dcat.value(ids.dataset_iri("1.0.0"), DCAT_PREVIOUS_VERSION) is None
    doc = json.loads((folder / "dataset.jsonld").read_text(encoding="utf-8"))
    assert doc["version"] == "1.0.0" and doc["datePublished"] == "2026-11-29"
    assert all(d["contentUrl"].startswith("https://w3id.org/coopgraph/releases/1.0.0/") for d in doc["distribution"])
    report = Graph().parse(folder / "validation-report.ttl", format="turtle")
    assert len(report) > 0
    assert (folder / "validation-report.txt").read_text(encoding="utf-8").startswith("conforms")
    changelog = (released.root / "releases" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## 1.0.0 (2026-11-29)" in changelog and "- first release" in changelog
    assert (folder / "CHANGES.md").read_text(encoding="utf-8") in changelog


def test_a_release_is_byte_identical_when_rebuilt_from_the_same_sources(released, tmp_path):
    again = tmp_path / "again"
    out = coopgraph("--root", str(released.root), "release", "1.0.0", "--date", "2026-11-29", "--out", str(again),
                    env={"PYTHONHASHSEED": "12345"})
    assert out.returncode == 0, out.stderr
    assert snapshot(again / "1.0.0") == snapshot(released.root / "releases" / "1.0.0")


def test_an_existing_release_is_never_overwritten(released):
    before = snapshot(released.root / "releases")
    (released.data_dir / "events.trig").write_text(
        (released.data_dir / "events.trig").read_text(encoding="utf-8").replace(
            "Catalysing Change Week 2022\"@en", "Catalysing Change Week 2022 (changed)\"@en"), encoding="utf-8")
    result = run_cli("release", "1.0.0", "--date", "2026-12-01", root=released.root)
    assert result.exit_code == 1
    assert "releases/1.0.0 exists: a release is never overwritten" in result.output
    assert snapshot(released.root / "releases") == before


def test_bad_versions_and_dates_are_refused(proj):
    assert run_cli("release", "v1", "--date", "2026-11-29", root=proj.root).exit_code == 2
    assert run_cli("release", "1.0.0", "--date", "29/11/2026", root=proj.root).exit_code == 2
    assert not (proj.root / "releases").exists()


def test_the_next_release_links_the_previous_one_and_says_what_changed(released):
    ingest = run_cli("ingest", str(INGEST_DATA / "listing-longer.txt"), "--url", LISTING_URL,
                     "--retrieved", "2026-12-01", root=released.root)
    assert ingest.exit_code == 0, ingest.output
    first = snapshot(released.root / "releases" / "1.0.0")
    result = run_cli("release", "1.1.0", "--date", "2026-12-02", root=released.root)
    assert result.exit_code == 0, result.output
    assert snapshot(released.root / "releases" / "1.0.0") == first
    folder = released.root / "releases" / "1.1.0"
    dcat = Graph().parse(folder / "dcat.ttl", format="turtle")
    assert dcat.value(ids.dataset_iri("1.1.0"), DCAT_PREVIOUS_VERSION) == ids.dataset_iri("1.0.0")
    entry = (folder / "CHANGES.md").read_text(encoding="utf-8")
    assert "- since 1.0.0: +3 entities, -0 entities, 0 changed" in entry
    assert "added item:2022-10-03-ilo-cooperatives-europe-discuss-cooperative" in entry
    changelog = (released.root / "releases" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index("## 1.1.0 (2026-12-02)") < changelog.index("## 1.0.0 (2026-11-29)")
    assert existing_releases(released.root / "releases") == ["1.0.0", "1.1.0"]
    diff = run_cli("diff", str(released.root / "releases" / "1.0.0"), str(folder), root=released.root)
    assert "added item:2022-09-15-presentation-invented-test-toolkit-cooperative" in diff.output


def test_a_failing_release_leaves_everything_byte_identical(released):
    before = snapshot(released.root / "releases")
    out = coopgraph("--root", str(released.root), "release", "1.1.0", "--date", "2026-12-02",
                    env={"COOPGRAPH_FAULT": "release:staged"})
    assert out.returncode == 1 and "fault injected at release:staged" in out.stderr
    assert snapshot(released.root / "releases") == before  # hidden staging folders would show here


def _kill_while_staged(project, sig):
    process = start("--root", str(project.root), "release", "1.1.0", "--date", "2026-12-02",
                    env={"COOPGRAPH_FAULT": "release:staged:sleep"})
    releases = project.root / "releases"
    deadline = time.monotonic() + 120
    staging = []
    while time.monotonic() < deadline and process.poll() is None:
        staging = [p for p in releases.glob(".release-1.1.0-*.tmp") if (p / "SHA256SUMS").is_file()]
        if staging:
            break
        time.sleep(0.05)
    assert staging, "the release should have staged its folder before the fault point"
    process.send_signal(sig)
    process.wait(timeout=60)
    return process


def test_a_release_killed_with_sigterm_leaves_the_previous_release_and_no_temporary_files(released):
    before = snapshot(released.root / "releases")
    process = _kill_while_staged(released, signal.SIGTERM)
    assert process.returncode == 128 + signal.SIGTERM
    assert snapshot(released.root / "releases") == before


def test_a_release_killed_with_sigkill_leaves_the_previous_release_and_the_next_run_cleans_up(released):
    before = snapshot(released.root / "releases")
    process = _kill_while_staged(released, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    after = snapshot(released.root / "releases")
    assert {k: v for k, v in after.items() if not k.startswith(".release-")} == before
    assert not (released.root / "releases" / "1.1.0").exists()
    result = release(released, "1.1.0", date=dt.date(2026, 12, 2))
    assert result.folder.is_dir()
    assert not list((released.root / "releases").glob(".*")), "the stale staging folder was removed"


def test_a_release_of_a_graph_that_does_not_conform_writes_nothing(proj):
    (proj.shapes_dir / "zz-test-impossible.ttl").write_text("""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
<urn:test:NoEventNames> a sh:NodeShape ; sh:targetClass schema:Event ;
    sh:property [ sh:path schema:name ; sh:maxCount 0 ] .
""", encoding="utf-8")
    result = run_cli("release", "1.0.0", "--date", "2026-11-29", root=proj.root)
    assert result.exit_code == 1
    assert "does not conform; nothing was written" in result.output
    assert not (proj.root / "releases").exists()


# ----------------------------------------------------------------------------- the published releases

def test_every_published_release_in_the_repository_is_whole_and_verifies():
    """releases/ holds what was published: each release has every file, its checksums verify with
    sha256sum, its N-Quads parse to the count its VoID states, and the changelog lists it."""
    from conftest import ROOT
    from rdflib import Dataset
    from rdflib.namespace import VOID
    folder = ROOT / "releases"
    published = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert published, "releases/ should hold at least the first published release (1.0.0)"
    changelog = (folder / "CHANGELOG.md").read_text(encoding="utf-8")
    for rel in published:
        assert {p.name for p in rel.iterdir()} == FILES, rel.name
        check = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=rel, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert f"## {rel.name} (" in changelog
        ds = Dataset()
        ds.parse(rel / "coopgraph.nq", format="nquads")
        quads = len(list(ds.quads((None, None, None, None))))
        void = Graph().parse(rel / "void.ttl", format="turtle")
        union = Graph()
        for s, p, o, _g in ds.quads((None, None, None, None)):
            union.add((s, p, o))
        stated = {int(n) for n in void.objects(None, VOID.triples)}
        assert len(union) in stated, (rel.name, len(union), sorted(stated)[-3:])
        assert quads >= len(union)
