"""All terminal rendering: consoles, error lines, tables. Commands call these, never print raw."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

console = Console(highlight=False, soft_wrap=False)
error_console = Console(stderr=True, highlight=False, soft_wrap=True)


def error_line(message: str) -> None:
    """One red line on stderr (no traceback)."""
    error_console.print(f"[bold red]error:[/bold red] {escape(message)}", markup=True, highlight=False)


def warning_line(message: str) -> None:
    error_console.print(f"[yellow]warning:[/yellow] {escape(message)}", markup=True, highlight=False)


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Sequence[str] = (),
) -> Table:
    """A rich table; columns named in ``numeric`` are right-aligned."""
    result = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        result.add_column(column, justify="right" if column in numeric else "left")
    for row in rows:
        result.add_row(*("" if value is None else str(value) for value in row))
    return result


def show(renderable: Any) -> None:
    """Print to stdout. Into a file or pipe a table is printed at its full width (rich would
    otherwise cut it at 80 columns); at a terminal it fits the window."""
    if isinstance(renderable, Table) and not console.is_terminal:
        wide = console.options.update(width=10_000, max_width=10_000)
        needed = Measurement.get(console, wide, renderable).maximum
        width = console.width
        console.width = max(needed, width)
        try:
            console.print(renderable, crop=False)
        finally:
            console.width = width
        return
    console.print(renderable)


def progress_enabled(quiet: bool) -> bool:
    """Progress bars only for a person at a terminal."""
    return not quiet and sys.stderr.isatty()


class _StepProgress:
    """A spinner that names the current pipeline step (only on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _StepProgress:
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                console=error_console, transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("starting", total=None)
        return self

    def __call__(self, step: str, *args: Any, **kwargs: Any) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=str(step))

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)


def step_progress(enabled: bool) -> _StepProgress:
    """Context manager yielding an ``on_progress(step, ...)`` callback for the library."""
    return _StepProgress(enabled)
