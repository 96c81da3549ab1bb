"""The README's console examples are real: each one is run, in order, and its output compared.

Every ```` ```console ```` block of README.md is a sequence of ``$ command`` lines, each followed by
what it prints. The blocks run one after another in one throw-away copy of the project (the
current folder, as a reader's would be), so a later example sees what an earlier one wrote
(the data team's path: link, accept, query). What a step understands:

* ``$ coopgraph ...``: the real command in a fresh process; stdout then stderr must be the text shown;
* ``$ cat FILE``: the text shown is the file the next commands read (the test writes it);
* ``$ head -N FILE``: the first N lines of a file an earlier command wrote;
* ``$ echo $?``: the exit code of the command before;
* ``$ python benchmarks/SCRIPT``: a benchmark script of the checkout, run from the checkout.

Where the README abridges, a line ``...`` stands for any number of lines, and a line ending in
``, ...`` for any line that starts with the text before it.

A change of output that the README does not follow fails here, naming the README line. The only
block not run is the reconciliation example (``$ curl`` against a running server, its answer
abridged with ``...``): tests/test_reconcile.py checks that service over real HTTP.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

README = ROOT / "README.md"
_BLOCK = re.compile(r"^```console\n(.*?)^```", re.S | re.M)

STRASBOURG_END = 'schema:endDate "2022-05-06"^^xsd:date ;'


def _strasbourg_ends_before_it_starts(root: Path):
    events = root / "data" / "events.trig"
    before = events.read_text(encoding="utf-8")
    assert STRASBOURG_END in before, "the example's edit no longer applies to data/events.trig"
    events.write_text(before.replace(STRASBOURG_END, STRASBOURG_END.replace("05-06", "05-04")), encoding="utf-8")
    return lambda: events.write_text(before, encoding="utf-8")


#: Hand edits a README example says it made first (the comment after its command), as functions of
#: the project folder; each returns a function that undoes the edit.
EDITS = {"after changing the end date of the Strasbourg conference to 2022-05-04 in data/events.trig":
         _strasbourg_ends_before_it_starts}


def _describe_partner_source(root: Path) -> None:
    """The README's step 3: the partner directory described inside the graph:sources block."""
    readme = README.read_text(encoding="utf-8")
    snippet = re.search(r"```turtle\n(src:partners-directory\n.*?)```", readme, re.S)
    assert snippet, "README: the turtle block describing src:partners-directory is missing"
    sources = root / "data" / "sources.trig"
    text = sources.read_text(encoding="utf-8").rstrip()
    assert text.endswith("}"), "data/sources.trig no longer ends with the graph:sources block"
    sources.write_text(text[:-1] + "\n" + snippet.group(1) + "}\n", encoding="utf-8")


def _steps(block: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"console block starting with output: {line!r}"
            steps[-1][1].append(line)
    return steps


def _blocks() -> list[tuple[int, list[tuple[str, list[str]]]]]:
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, _steps(m.group(1))) for m in _BLOCK.finditer(text)]


def test_the_readme_has_console_examples_of_every_kind():
    commands = [command for _line, steps in _blocks() for command, _out in steps]
    for name in ("build", "validate", "export", "embed", "query", "link", "accept", "ingest", "release", "diff"):
        assert any(c.startswith(f"coopgraph {name}") for c in commands), f"no console example of coopgraph {name}"


def _matches(expected: list[str], got: list[str]) -> bool:
    """``got`` is ``expected``, reading ``...`` lines and ``, ...`` endings as the README's abridgements."""
    if not expected:
        return not got
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(_matches(rest, got[i:]) for i in range(len(got) + 1))
    if not got:
        return False
    if head.endswith(", ..."):
        same = got[0].startswith(head[:-len("...")])
    else:
        same = got[0] == head
    return same and _matches(rest, got[1:])


def test_abridged_output_still_has_to_match():
    assert _matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert _matches(["a", "...", "d"], ["a", "d"])
    assert _matches(["x: 1, ..."], ["x: 1, 2, 3"])
    assert not _matches(["a", "...", "d"], ["a", "b", "c"])
    assert not _matches(["x: 1, ..."], ["x: 2, 3"])
    assert not _matches(["a", "b"], ["a", "b", "c"])


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPGRAPH_")}
    args = shlex.split(command, comments=True)
    if args[0] == "coopgraph":
        args = [sys.executable, "-m", "coopgraph", *args[1:]]
    elif args[0] == "python":
        args = [sys.executable, *args[1:]]
        cwd = ROOT
    else:
        raise AssertionError(f"README console example runs {args[0]!r}, which this test does not know")
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_every_console_example_prints_what_the_readme_shows(tmp_path):
    root = tmp_path / "coopgraph"
    root.mkdir()
    for name in ("ontology", "data", "shapes", "queries"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copytree(ROOT / "releases", root / "releases")
    shutil.copytree(ROOT / "tests" / "data" / "ingest", root / "tests" / "data" / "ingest")
    shutil.copy(ROOT / "tests" / "data" / "link" / "partners.csv", root / "partners.csv")
    ran = 0
    for line, steps in _blocks():
        if steps[0][0].startswith("curl "):
            continue  # needs a running server; tests/test_reconcile.py checks the service
        last_exit = None
        for command, expected_lines in steps:
            expected = "\n".join(expected_lines)
            where = f"README.md:{line}: `$ {command}`"
            args = shlex.split(command, comments=True)
            if args[0] == "cat":
                (root / args[1]).write_text(expected + "\n", encoding="utf-8")
                continue
            if args[0] == "head":
                lines = (root / args[2]).read_text(encoding="utf-8").splitlines()[:int(args[1].lstrip("-"))]
                assert _matches(expected_lines, lines), where
                continue
            if args[:2] == ["echo", "$?"]:
                assert str(last_exit) == expected.strip(), where
                continue
            comment = command.split(" #", 1)[1].strip() if " #" in command else None
            if comment is not None and comment not in EDITS:
                raise AssertionError(f"{where}: the test does not know the edit {comment!r}; add it to EDITS")
            undo = EDITS[comment](root) if comment is not None else None
            if "--source" in args and "partners-directory" in args:
                _describe_partner_source(root)
            try:
                result = _run(command, root)
            finally:
                if undo is not None:
                    undo()
            last_exit = result.returncode
            got = (result.stdout + result.stderr).rstrip("\n")
            assert _matches(expected.rstrip("\n").split("\n"), got.split("\n")), \
                f"{where} prints something else now:\n{got}"
            ran += 1
    assert ran >= 16, f"only {ran} README commands were run"
