"""``fpstat sample``: write a synthetic data drop (all sources, messy exports, a truth folder)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fpstat.cli import render
from fpstat.cli.options import JsonOption, QuietOption
from fpstat.sample import DEFAULT_SEED, generate_sample

OutDirArgument = typer.Argument(..., help="Folder to write the drop into (created if missing).", metavar="OUT_DIR")
SizeOption = typer.Option(
    "small", "--size", help="small (~3,000 births, workbooks), medium (~40,000) or large "
    "(~1,350,000 births, one Parquet + CSV file per source).", metavar="SIZE",
)
BirthsOption = typer.Option(
    None, "--births", help="Number of true births, instead of the size's default (benchmark series).",
    metavar="N",
)
SeedOption = typer.Option(DEFAULT_SEED, "--seed", help="Random seed: the same seed gives byte-identical files.")


def sample(
    out_dir: Path = OutDirArgument,
    size: str = SizeOption,
    births: int | None = BirthsOption,
    seed: int = SeedOption,
    quiet: bool = QuietOption,
    json_out: bool = JsonOption,
) -> None:
    """Write a realistic synthetic data drop for one prefecture, with a truth/ folder.

    Five record-level sources (planning register, police hukou, census, hospital, enrolment)
    exported the way offices do it (title rows, GBK CSV, mixed date and sex codes, IDs stored
    as numbers, totals rows), the office's report tables, the statistics bureau's population,
    a fpstat.toml to run the pipeline on it, and truth/ with the true births, every row's fate
    and the problems planted (hidden births, sex misreporting, heaped rates ...).

    Example: `fpstat sample drop/ --size medium --seed 7`
    """
    summary = generate_sample(out_dir, size=size, births=births, seed=seed)
    if json_out:
        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False, sort_keys=True))
        return
    if quiet:
        return
    render.show(
        f"Wrote a [bold]{summary.size}[/bold] synthetic drop to [bold]{summary.out_dir}[/bold]: "
        f"{summary.births:,} true births, seed {summary.seed}, {len(summary.files)} files "
        f"(合成数据，已写入 {len(summary.files)} 个文件)."
    )
    roles = list(summary.rows)
    render.show(render.table(
        "Rows per source / 各来源行数",
        ["source", "births held", "rows written", "rows to reject"],
        [(role, f"{summary.captured.get(role, 0):,}", f"{summary.rows[role]:,}",
          f"{summary.rejected.get(role, 0):,}") for role in roles]
        + [(role, "", "", f"{summary.rejected.get(role, 0):,}") for role in ("report", "population")],
        numeric=["births held", "rows written", "rows to reject"],
    ))
    render.show(
        f"Planning register: {summary.duplicates:,} duplicate entries. What was planted where: "
        f"{Path(summary.out_dir) / 'truth' / 'injected.json'}; run it: "
        f"fpstat run {Path(summary.out_dir) / 'fpstat.toml'}"
    )
