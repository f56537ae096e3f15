"""Every command has help with an example, and docs/cli.md is generated from it (never stale).

Regenerate the reference after changing a command: ``FPSTAT_REGEN_DOCS=1 python -m pytest tests/test_docs.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fpstat.cli.main  # noqa: F401  (registers the commands)
from fpstat.cli.app import app
from fpstat.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def help_text(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return "\n".join(line.rstrip() for line in ANSI.sub("", result.output).splitlines())


def registered() -> list[str]:
    names = [cmd.name for cmd in app.registered_commands]
    return [name for name in COMMANDS if name in names]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_has_help_with_an_example(command):
    """`fpstat COMMAND --help` works and shows an example invocation."""
    assert command in registered(), f"{command} is not registered"
    text = help_text(command)
    assert "Example" in text and f"fpstat {command}" in text


def test_cli_reference_is_current():
    """docs/cli.md equals the help of every command (regenerate with FPSTAT_REGEN_DOCS=1)."""
    parts = ["# fpstat command reference\n", "Generated from `--help` by tests/test_docs.py; do not edit.\n"]
    parts.append("## fpstat\n\n```text\n" + help_text().strip() + "\n```\n")
    for command in registered():
        parts.append(f"## fpstat {command}\n\n```text\n" + help_text(command).strip() + "\n```\n")
    expected = "\n".join(parts)
    path = ROOT / "docs" / "cli.md"
    if os.environ.get("FPSTAT_REGEN_DOCS"):
        path.write_text(expected, encoding="utf-8")
    assert path.exists() and path.read_text(encoding="utf-8") == expected
