"""The typer application and the error boundary every command shares.

Each command lives in its own module (``cli/validate.py`` ...) as a plain function;
:func:`register` wraps it so that a :class:`fpstat.errors.FpstatError` becomes one red line
(English / Chinese) and exit code 2, and any other exception too, with the traceback shown only
under ``--debug``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any

import typer

from fpstat import __version__
from fpstat.cli import render
from fpstat.errors import FpstatError

HELP = """fpstat: statistics and audit toolkit for population and family-planning statistics offices.

Loads the exports that offices produce, reconciles the planning register against police,
census, hospital and school records, estimates completeness, computes indicators and audits them.

Examples:

* `fpstat sample drop/ --size small`
* `fpstat validate 'drop/planning/*.xlsx' --out runs/check`
* `fpstat reconcile --planning 'drop/planning/*.xlsx' --police 'drop/police/*.csv' --out runs/r1`
* `fpstat run drop/fpstat.toml`
"""

app = typer.Typer(
    name="fpstat",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state: dict[str, bool] = {"debug": bool(os.environ.get("FPSTAT_DEBUG"))}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fpstat {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors (for bug reports)."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """fpstat command line."""
    if debug:
        _state["debug"] = True


def register(name: str, command: Callable[..., Any]) -> None:
    """Add ``command`` to the app under ``name``, behind the error boundary."""

    @functools.wraps(command)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except FpstatError as error:
            if _state["debug"]:
                raise
            if kwargs.get("json_out"):
                typer.echo(json.dumps(error.to_dict(), ensure_ascii=False, sort_keys=True))
            else:
                render.error_line(error.one_line())
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            render.error_line("Interrupted / 已中断")
            raise typer.Exit(130) from None
        except Exception as error:  # noqa: BLE001 - the boundary: never a traceback for users
            if _state["debug"]:
                raise
            render.error_line(
                f"Internal error ({type(error).__name__}); run again with --debug and report it / "
                f"内部错误（{type(error).__name__}）；请加 --debug 重新运行并报告"
            )
            raise typer.Exit(2) from None

    app.command(name)(guarded)
