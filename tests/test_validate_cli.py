"""Bad data through the command line: `coopgraph build` and `coopgraph validate` on a broken copy.

Each breakage is one edit of data/events.trig in a copy of the project. The build must refuse it
(exit 1) with a message naming the entity, the property and the file:line to fix, and leave the
previous output folder byte for byte as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, Literal

from coopgraph.namespaces import SH, RDF
from conftest import run_cli

#: name -> (line to find in data/events.trig, what it becomes, focus, property, words of the message)
BREAKAGES = {
    "wrong-date": ('schema:endDate "2022-10-21"^^xsd:date', 'schema:endDate "2022-10-32"^^xsd:date',
                   "event:bologna-2022-luxembourg-declaration-ministerial-meeting", "schema:endDate",
                   "must be a valid xsd:date (YYYY-MM-DD)"),
    "ends-before-start": ('schema:endDate "2022-06-11"^^xsd:date ;', 'schema:endDate "2022-05-01"^^xsd:date ;',
                          "event:international-labour-conference-110", "schema:endDate",
                          "before it starts"),
    "dangling-location": ("schema:location place:paris ;", "schema:location place:pariss ;",
                          "event:pact-for-impact-2022-international-recognition-sse", "schema:location",
                          "which is described nowhere"),
}


def _break(project, name: str) -> int:
    """Apply one breakage to data/events.trig; return the 1-based line the message must name."""
    old, new = BREAKAGES[name][:2]
    path = project.data_dir / "events.trig"
    lines = path.read_text(encoding="utf-8").split("\n")
    (index,) = [i for i, line in enumerate(lines) if old in line]
    lines[index] = lines[index].replace(old, new)
    path.write_text("\n".join(lines), encoding="utf-8")
    if new:
        return index + 1
    # a removed property: the message points at where the entity is described
    focus = BREAKAGES[name][2]
    return next(i for i, line in enumerate(lines) if line.strip().startswith(focus)) + 1


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _assert_names_the_problem(text: str, name: str, line: int) -> None:
    _old, _new, focus, prop, words = BREAKAGES[name]
    lines = text.splitlines()
    heads = [i for i, l in enumerate(lines) if l == f"Violation: {focus}  (data/events.trig:{line})"]
    assert heads, f"no 'Violation: {focus}  (data/events.trig:{line})' line in:\n{text}"
    assert any(lines[i + 1].startswith(f"  {prop}: ") and words in lines[i + 1] for i in heads), text


def _coopgraph(*args: str) -> subprocess.CompletedProcess:
    """The real command, in its own process (as a user runs it: logging, exit code, streams)."""
    return subprocess.run([sys.executable, "-m", "coopgraph", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONHASHSEED": "0"})


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_build_refuses_bad_data_and_keeps_the_previous_output(project_copy, tmp_path, name):
    out = tmp_path / "out"
    first = _coopgraph("--root", str(project_copy.root), "build", "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = _snapshot(out)
    assert len(before) >= 5

    line = _break(project_copy, name)
    result = _coopgraph("--root", str(project_copy.root), "build", "--out", str(out))
    assert result.returncode == 1, result.stdout + result.stderr
    _assert_names_the_problem(result.stderr, name, line)
    assert result.stderr.rstrip().endswith("error: the graph does not conform; nothing was written")
    assert "Traceback" not in result.stderr
    assert _snapshot(out) == before, "the previous build output changed"


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_validate_fails_on_bad_data(project_copy, name):
    line = _break(project_copy, name)
    result = run_cli("validate", root=project_copy.root)
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("does not conform: ")
    _assert_names_the_problem(result.stdout, name, line)


def test_validate_passes_the_real_data():
    result = run_cli("validate")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("conforms, with ")
    assert "Violation:" not in result.stdout


def test_validate_a_broken_turtle_file_names_file_and_line(tmp_path):
    path = tmp_path / "broken.ttl"
    path.write_text("@prefix schema: <http://schema.org/> .\n\n<https://w3id.org/coopgraph/id/place/x>\n"
                    "    schema:name \"X\"@en ;;; schema:\n", encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2, result.output
    assert f"{path}:4: syntax error" in result.stderr or f"{path}:5: syntax error" in result.stderr, result.stderr


def test_validate_files_uses_the_project_shapes(tmp_path):
    """`coopgraph validate PATH` checks the files given, alone: an invalid case fails, a valid one passes."""
    cases = Path(__file__).parent / "shapes"
    good = run_cli("validate", str(cases / "valid" / "Event-in-person.ttl"))
    assert good.exit_code == 0, good.output
    bad = run_cli("validate", str(cases / "invalid" / "Event-ends-before-start.ttl"))
    assert bad.exit_code == 1, bad.output
    assert "event:days" in bad.stdout and "schema:endDate" in bad.stdout


@pytest.mark.parametrize("broken", [False, True])
def test_validate_format_turtle_is_a_shacl_report(project_copy, broken):
    if broken:
        _break(project_copy, "ends-before-start")
    result = run_cli("validate", "--format", "turtle", root=project_copy.root)
    assert result.exit_code == (1 if broken else 0), result.output
    report = Graph().parse(data=result.stdout, format="turtle")
    (node,) = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms) == Literal(not broken)
    severities = [report.value(r, SH.resultSeverity) for r in report.objects(node, SH.result)]
    assert severities and (SH.Violation in severities) is broken
    assert all(report.value(r, SH.focusNode) is not None and report.value(r, SH.resultMessage) is not None
               for r in report.objects(node, SH.result))


def test_validate_format_turtle_is_the_same_bytes_under_any_hash_seed():
    """The report graph is all blank nodes: it is written with canonical labels."""
    case = Path(__file__).parent / "shapes" / "invalid" / "EmployeeRole-held-by-nobody.ttl"
    outputs = set()
    for seed in ("0", "1", "2"):
        done = subprocess.run([sys.executable, "-m", "coopgraph", "validate", "--format", "turtle", str(case)],
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        assert done.returncode == 1, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert "sh:inversePath schema:worksFor" in outputs.pop()


def test_validate_text_is_the_same_under_any_hash_seed():
    """Results that differ only by their value (three bad links) come in one order on every run."""
    case = Path(__file__).parent / "shapes" / "invalid" / "Person-bad-wikidata-links.ttl"
    outputs = {subprocess.run([sys.executable, "-m", "coopgraph", "validate", str(case)], capture_output=True,
                              text=True, timeout=300, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("0", "1", "2", "3")}
    assert len(outputs) == 1
    assert outputs.pop().count("schema:sameAs: ") == 3
