"""``fpstat estimate HISTORIES``: completeness from capture-history counts.

Reads a CSV of capture histories (one 0/1 column per list, named by role, and ``count``;
leading lines starting with ``#`` are comments), fits the dual- or multiple-system estimators of
:mod:`fpstat.reconcile.multiple_systems` and prints the model table or, with ``--json``,
``{"models": [...], "chosen": model}``.
"""

from __future__ import annotations

import io
import json
from enum import StrEnum
from pathlib import Path

import pandas as pd
import typer
from rich import box

from fpstat.cli import render
from fpstat.cli.options import AsOfOption, JsonOption, QuietOption, parse_as_of
from fpstat.errors import UnreadableInputError
from fpstat.reconcile.capture_histories import CaptureHistories
from fpstat.reconcile.multiple_systems import MSEResult, estimate_mse

ENCODINGS = ("utf-8-sig", "gb18030")


class CriterionChoice(StrEnum):
    aic = "aic"
    bic = "bic"


class IntervalChoice(StrEnum):
    profile = "profile"
    lognormal = "lognormal"


def read_histories(path: Path) -> CaptureHistories:
    """Read and check a capture-history CSV; errors name the file, row and column."""
    where = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UnreadableInputError(
            f"cannot read the file ({error.strerror or type(error).__name__})",
            f"无法读取文件（{error.strerror or type(error).__name__}）",
            file=where,
        ) from None
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableInputError(
            "the file is neither UTF-8 nor GB18030 text",
            "文件既不是 UTF-8 也不是 GB18030 文本",
            file=where,
        )
    lines = text.splitlines()
    header_index = next(
        (index for index, line in enumerate(lines) if line.strip() and not line.startswith("#")),
        None,
    )
    if header_index is None:
        raise UnreadableInputError(
            "the file has no header row (one 0/1 column per list, plus count)",
            "文件没有表头行（每个名单一列 0/1，另加 count 列）",
            file=where,
        )
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(lines[header_index:])),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, ValueError) as error:
        raise UnreadableInputError(
            f"not a readable CSV table ({str(error).splitlines()[0]})",
            "不是可读取的 CSV 表格",
            file=where,
        ) from None
    frame.columns = [str(column).strip() for column in frame.columns]
    # Row numbers as a text editor shows them: the header is line header_index + 1.
    row_numbers = pd.RangeIndex(len(frame)) + header_index + 2
    blank = frame.apply(lambda row: all(not str(value).strip() for value in row), axis=1)
    frame, row_numbers = frame[~blank.to_numpy()], row_numbers[~blank.to_numpy()]
    return CaptureHistories.from_frame(frame, file=where, row_numbers=list(row_numbers))


def _number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{round(value, digits) + 0.0:.{digits}f}"


def _show(result: MSEResult, criterion: str) -> None:
    legend = ", ".join(f"{index} = {name}" for index, name in enumerate(result.lists, start=1))
    title = f"Lists: {legend}; births seen: {result.n_observed:.0f}"
    rows = []
    for fit in result.models:
        interval = ""
        if fit.ci_low is not None:
            interval = f"{_number(fit.ci_low, 1)} - {_number(fit.ci_high, 1) or '?'}"
        rows.append(
            [
                fit.model + (" *" if fit.model == result.chosen else ""),
                _number(fit.n_hat, 1),
                _number(fit.se, 1),
                interval,
                _number(fit.deviance, 3),
                "" if fit.df is None else str(fit.df),
                _number(fit.aic, 3),
                _number(fit.bic, 3),
            ]
        )
    columns = ["model", "N", "SE", "95 % CI", "deviance", "df", "AIC", "BIC"]
    table = render.table(title, columns, rows, numeric=columns[1:])
    # Eight columns must fit 80 characters: no vertical rules, single spaces between columns.
    table.box = box.SIMPLE_HEAD
    table.collapse_padding = True
    table.pad_edge = False
    for column in table.columns:
        column.overflow = "fold"  # a narrow terminal wraps a number, never cuts it short
    table.columns[0].no_wrap = True
    render.show(table)
    if result.chosen is not None:
        rule = "Chapman estimator" if result.criterion == "chapman" else criterion.upper()
        render.show(f"* chosen ({rule}) / 选定: {result.chosen}")
    for warning in result.warnings:
        render.warning_line(f"{warning.message_en} / {warning.message_zh}")
    for fit in result.models:
        for warning in fit.warnings:
            render.warning_line(f"{fit.model}: {warning.message_en} / {warning.message_zh}")


HistoriesArgument = typer.Argument(
    ...,
    help="CSV of capture histories: one 0/1 column per list (named by role) and count.",
    metavar="HISTORIES",
)
CriterionOption = typer.Option(
    CriterionChoice.aic, "--criterion", help="Choose the model by AIC or BIC."
)
IntervalOption = typer.Option(
    IntervalChoice.profile,
    "--ci",
    help="95 % interval: profile likelihood (Cormack 1992, as Rcapture) or log-normal (Chao 1987).",
)


def estimate(
    histories: Path = HistoriesArgument,
    json_out: bool = JsonOption,
    criterion: CriterionChoice = CriterionOption,
    ci: IntervalChoice = IntervalOption,
    quiet: bool = QuietOption,
    as_of: str | None = AsOfOption,
) -> None:
    """Estimate the births missed by every list from capture-history counts (DSE / MSE).

    Two lists give the Chapman and Lincoln-Petersen estimates; three or more fit hierarchical
    log-linear models with two-way interactions and choose one by AIC (or BIC). Lists are
    numbered in column order in the model names, e.g. [12,3].

    HISTORIES is a CSV file with a header such as planning,police,hospital,count and one row
    per history, e.g. 1,0,1,17 (17 births in the planning register and the hospital records but
    not in the police register). Lines starting with # before the header are comments.

    Examples:

      fpstat estimate histories.csv

      fpstat estimate histories.csv --criterion bic --ci lognormal

      fpstat estimate histories.csv --json
    """
    parse_as_of(as_of)  # accepted like every command; the estimate does not depend on a date
    result = estimate_mse(read_histories(histories), criterion=criterion.value, ci=ci.value)
    if json_out:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    elif not quiet:
        _show(result, criterion.value)
