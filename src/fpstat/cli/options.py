"""Options shared by several commands, declared once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from fpstat.errors import UsageError

JSON_HELP = "Print machine-readable JSON on stdout instead of tables."
QUIET_HELP = "Print nothing but errors."
AS_OF_HELP = (
    "The date that 'in the future' and the report's date are judged by (YYYY-MM-DD; "
    "default today), so that a run can be reproduced later."
)

JsonOption = typer.Option(False, "--json", help=JSON_HELP)
QuietOption = typer.Option(False, "--quiet", "-q", help=QUIET_HELP)
AsOfOption = typer.Option(None, "--as-of", help=AS_OF_HELP, metavar="DATE")
OutOption = typer.Option(None, "--out", "-o", help="Run directory to write.", metavar="DIR")
MappingOption = typer.Option(
    None,
    "--mapping",
    help="A TOML or JSON file mapping export headers to contract fields, e.g. "
    '{"户口登记日期" = "registered_on"}.',
    metavar="FILE",
)


def parse_as_of(value: str | None) -> dt.date:
    """The ``--as-of`` date, today when not given."""
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--as-of must be a date like 2026-01-31, not {value!r}",
            f"--as-of 须为日期，如 2026-01-31，而不是 {value!r}",
        ) from None


def existing_path(path: Path, option: str) -> Path:
    if not path.exists():
        raise UsageError(
            f"{option}: no such file or directory",
            f"{option}：文件或目录不存在",
            file=str(path),
        )
    return path
