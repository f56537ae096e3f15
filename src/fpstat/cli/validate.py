"""``fpstat validate``: read exports, check them against the data contract, show the problems."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fpstat.cli import render
from fpstat.cli.options import (
    AsOfOption,
    JsonOption,
    MappingOption,
    OutOption,
    QuietOption,
    parse_as_of,
)
from fpstat.rundir import RunDir
from fpstat.schema import InputSpec, LoadResult, load_inputs, read_mapping

_FILES_HELP = "Export files (xlsx, xls, csv, parquet ...) or globs, e.g. 'drop/police/*.csv'."
_ROLE_HELP = (
    "Which source the files come from: planning, police, census, hospital, education, report, "
    "population. Default: inferred from each sheet's headers, file name and title."
)
_SHEET_HELP = "Read only this sheet (repeat for several). Default: every sheet."
FilesArgument = typer.Argument(..., help=_FILES_HELP, metavar="FILE")
RoleOption = typer.Option(None, "--role", "-r", help=_ROLE_HELP, metavar="ROLE")
SheetOption = typer.Option(None, "--sheet", "-s", help=_SHEET_HELP, metavar="NAME")


def validate(
    files: list[str] = FilesArgument,
    role: str | None = RoleOption,
    mapping: Path | None = MappingOption,
    sheet: list[str] | None = SheetOption,
    out: Path | None = OutOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
    as_of: str | None = AsOfOption,
) -> None:
    """Check exports against the data contract and list every rejected row by reason.

    Exit code 0 when every row was accepted, 1 when rows were rejected, 2 when a file cannot be
    read or the options are wrong. With --out, writes manifest.json and rejects.csv there.

    Examples:

      fpstat validate drop/planning/计生出生登记台账.xlsx

      fpstat validate 'drop/police/*.csv' --role police --out runs/check

      fpstat validate 报表.xlsx --sheet 年度报表 --role report --json
    """
    as_of_date = parse_as_of(as_of)
    header_mapping = read_mapping(mapping) if mapping is not None else None
    specs = [InputSpec(path=pattern, role=role, sheets=sheet or None, mapping=header_mapping) for pattern in files]
    if render.progress_enabled(quiet or json_out):
        with render.error_console.status("reading / 读取中") as status:
            result = load_inputs(specs, as_of=as_of_date, on_progress=lambda text: status.update(text))
    else:
        result = load_inputs(specs, as_of=as_of_date)
    summary = result.summary()
    if out is not None:
        _write_run(out, result, files=files, role=role, mapping=mapping, sheets=sheet, as_of=as_of_date.isoformat())
    if json_out:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))
    elif not quiet:
        _show(summary)
    raise typer.Exit(1 if summary["totals"]["rows_rejected"] else 0)


def _write_run(out: Path, result: LoadResult, **parameters: object) -> None:
    run = RunDir(out)
    run.manifest.inputs = result.inputs
    run.manifest.parameters = {
        "command": "validate",
        **{key: (str(value) if isinstance(value, Path) else value) for key, value in parameters.items()},
    }
    run.write_csv("rejects.csv", result.rejects)
    run.save_manifest()


def _show(summary: dict) -> None:
    reasons = summary["reasons"]
    if reasons:
        problems = render.table(
            "Rejected rows by reason / 剔除原因",
            ["reason", "rows", "fields", "说明 / description", "first rows (file:sheet:row)"],
            (
                [item["reason_code"], item["rows"], ", ".join(item["fields"]),
                 f"{item['reason_zh']}\n{item['reason_en']}",
                 "\n".join(_location(example) for example in item["examples"][:3])]
                for item in reasons
            ),
            numeric=["rows"],
        )
        # Reason codes are what users search and filter on: never cut them short.
        problems.columns[0].no_wrap = True
        problems.columns[0].min_width = max(len(item["reason_code"]) for item in reasons)
        for column in problems.columns[3:]:
            column.overflow = "fold"  # Chinese text has no spaces to wrap at
        render.show(problems)
    render.show(render.table(
        "Inputs / 输入文件",
        ["file", "sheet", "role", "read", "accepted", "rejected"],
        (
            [entry["path"], entry["sheet"], entry["role"], entry["rows_read"],
             entry["rows_accepted"], entry["rows_rejected"]]
            for entry in summary["inputs"]
        ),
        numeric=["read", "accepted", "rejected"],
    ))
    totals = summary["totals"]
    render.show(
        f"{totals['rows_read']} rows read, {totals['rows_accepted']} accepted, "
        f"{totals['rows_rejected']} rejected ({totals['problems']} problems) / "
        f"读取 {totals['rows_read']} 行，接受 {totals['rows_accepted']} 行，"
        f"剔除 {totals['rows_rejected']} 行（{totals['problems']} 个问题）"
    )


def _location(example: dict) -> str:
    return f"{Path(example['file']).name}:{example['sheet']}:{example['row']}"
