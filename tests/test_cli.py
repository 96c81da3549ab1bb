"""The command line: documented, thin, with the exit codes the README promises."""

from __future__ import annotations

import re
import subprocess
import sys

from coopgraph.cli import cli

from conftest import ROOT, run_cli


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert re.search(rf"coopgraph {name}\b", readme), f"README does not document `coopgraph {name}`"


def test_every_command_has_help():
    for name, command in cli.commands.items():
        result = run_cli(name, "--help")
        assert result.exit_code == 0, name
        assert command.help and len(command.help.split()) > 4, f"{name} needs a docstring"


def test_python_dash_m_works_the_same():
    out = subprocess.run([sys.executable, "-m", "coopgraph", "--root", str(ROOT), "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.startswith("coopgraph, version")


def test_usage_errors_exit_2():
    assert run_cli("no-such-command").exit_code == 2
    assert run_cli("export", "--format", "yaml").exit_code == 2


def test_no_project_is_a_clear_error(tmp_path):
    result = run_cli("query", "--list", root=tmp_path)
    assert result.exit_code == 2
    assert "no ontology/ and data/ folders" in result.stderr


def test_validate_reports_unreadable_files_with_exit_2(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix schema: <http://schema.org/> .\n\n<a> schema:name \"x\" ;\n  schema:name .\n", encoding="utf-8")
    result = run_cli("validate", str(bad))
    assert result.exit_code == 2
    assert re.search(r"bad\.ttl:4: syntax error", result.stderr), result.stderr
    result = run_cli("validate", str(tmp_path / "missing.ttl"))
    assert result.exit_code == 2 and "no such file" in result.stderr
