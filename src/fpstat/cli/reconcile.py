"""``fpstat reconcile``: link the sources, find births missing from the register, estimate
completeness, and show a summary per county."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

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
from fpstat.config import blame_linkage_key
from fpstat.errors import UsageError
from fpstat.reconcile import LinkageSettings
from fpstat.schema.periods import PERIOD_KINDS

_FILES = "Repeat the option or give a glob (quote it), e.g. one export per township."


def _role_option(role: str, what: str, example: str) -> Any:
    return typer.Option(
        [] if role != "planning" else ..., f"--{role}",
        help=f"{what}. {_FILES} Example: --{role} '{example}'", metavar="FILE",
    )


PlanningOption = _role_option("planning", "The birth register under audit, 计生出生登记", "drop/planning/*.xlsx")
PoliceOption = _role_option("police", "Police hukou birth registrations, 公安户籍", "drop/police/*.csv")
CensusOption = _role_option("census", "Census or sample-survey children, 人口普查", "drop/census/*.xlsx")
HospitalOption = _role_option("hospital", "Hospital deliveries or birth certificates, 住院分娩", "drop/hospital/*.csv")
EducationOption = _role_option("education", "School or kindergarten enrolment, 入学登记", "drop/education/*.xlsx")
PeriodOption = typer.Option(
    "sy", "--period",
    help="Periods to compare and estimate by: year (calendar), sy (statistical year, 1 Oct to 30 Sep), "
    "quarter or month. A birth's period comes from its birth date. Example: --period quarter",
    metavar="KIND",
)
IncludeRecordsOption = typer.Option(
    False, "--include-records",
    help="Also write records.xlsx (owner-only) with the names and IDs behind each unregistered "
    "birth, for correcting the register. unregistered.csv never holds them.",
)
CriterionOption = typer.Option(
    "aic", "--criterion",
    help="How to choose the log-linear model with three or more sources: aic or bic. Example: --criterion bic",
    metavar="aic|bic",
)
NoStratifyOption = typer.Option(
    False, "--no-stratify",
    help="Estimate without strata (by sex, birth order, policy, migrant). Not advised: girls, later "
    "and out-of-policy births are missed by every source, so pooled estimates run low.",
)

#: LinkageSettings field -> the option that sets it.
_LINKAGE_OPTIONS = {"match_threshold": "--match-threshold", "date_tolerance_days": "--date-tolerance"}
# Defaults come from LinkageSettings, so that the help can never disagree with the library.
MatchThresholdOption = typer.Option(
    LinkageSettings.match_threshold, "--match-threshold",
    help="Match probability (strictly between 0 and 1) two records need before the probabilistic "
    "step links them as one birth. Higher links only near-certain pairs, so more births are listed as "
    "missing for a reviewer to check; lower links more and may hide a missing birth. The same as "
    "`match_threshold` in the config's `[linkage]` table. Example: `--match-threshold 0.95`",
    metavar="FLOAT",
)
DateToleranceOption = typer.Option(
    LinkageSettings.date_tolerance_days, "--date-tolerance",
    help="How many days apart two records' birth dates may be and still be paired and scored as a "
    "near agreement (0 to 31; 0 demands the same day). Raise it when a source writes dates loosely. "
    "The same as `date_tolerance_days` in the config's `[linkage]` table. Example: `--date-tolerance 3`",
    metavar="DAYS",
)


def reconcile(
    planning: list[str] = PlanningOption,
    police: list[str] = PoliceOption,
    census: list[str] = CensusOption,
    hospital: list[str] = HospitalOption,
    education: list[str] = EducationOption,
    period: str = PeriodOption,
    out: Path | None = OutOption,
    mapping: Path | None = MappingOption,
    include_records: bool = IncludeRecordsOption,
    criterion: str = CriterionOption,
    no_stratify: bool = NoStratifyOption,
    match_threshold: float = MatchThresholdOption,
    date_tolerance: int = DateToleranceOption,
    as_of: str | None = AsOfOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
) -> None:
    """Reconcile the planning register against other sources, record by record.

    Links the records of every source into births, lists the births missing from the planning
    register (unregistered.csv), compares counts per area and period (counts.csv), estimates
    the true number of births and each source's completeness with dual/multiple-system
    estimation (completeness.csv), and writes the run directory. Any source but planning may
    be a count table (area x period x births) instead of records. Exits 0 when it completed,
    whatever it rejected or found; 2 on unusable options or inputs.

    Examples:

      fpstat reconcile --planning 'drop/planning/*.xlsx' --police drop/police.csv --out runs/r1

      fpstat reconcile --planning 台账.xlsx --police 公安.csv --hospital 住院分娩.csv --period quarter --out runs/q

      fpstat reconcile --planning 台账.xlsx --census 普查汇总表.xlsx --out runs/c --json

      fpstat reconcile --planning 台账.xlsx --police 公安.csv --match-threshold 0.95 --date-tolerance 3 --out runs/strict
    """
    from fpstat.reconcile import ReconcileSettings, reconcile_inputs
    from fpstat.rundir import RunDir
    from fpstat.schema import InputSpec, load_inputs, read_mapping

    sources = {"planning": planning, "police": police, "census": census, "hospital": hospital,
               "education": education}
    if out is None:
        raise UsageError("--out DIR is required: the run directory to write",
                         "必须用 --out DIR 指定输出的运行目录")
    if not any(sources[role] for role in sources if role != "planning"):
        raise UsageError(
            "give at least one source besides --planning (--police, --census, --hospital or --education)",
            "除 --planning 外至少还需一个来源（--police、--census、--hospital 或 --education）",
        )
    if period not in PERIOD_KINDS:
        raise UsageError(f"--period must be one of {', '.join(PERIOD_KINDS)}, not {period!r}",
                         f"--period 须为 {'、'.join(PERIOD_KINDS)} 之一，而不是 {period!r}")
    settings = ReconcileSettings(
        period=period, include_records=include_records, criterion=criterion,
        stratify=not no_stratify, as_of=parse_as_of(as_of),
        linkage=_linkage_settings({"match_threshold": match_threshold, "date_tolerance_days": date_tolerance}),
    )
    settings.validate()
    header_mapping = read_mapping(mapping) if mapping is not None else None
    specs = [InputSpec(path=pattern, role=role, mapping=header_mapping)
             for role, patterns in sources.items() for pattern in patterns]
    run = RunDir(out)
    run.manifest.timings.clear()
    run.manifest.parameters = {"command": "reconcile", "mapping": None if mapping is None else str(mapping),
                               "inputs": {role: list(patterns) for role, patterns in sources.items() if patterns}}
    with render.step_progress(enabled=render.progress_enabled(quiet or json_out)) as on_progress:
        with run.timed("read"):
            loaded = load_inputs(specs, as_of=settings.as_of, on_progress=on_progress)
        summary = reconcile_inputs(loaded, run, settings, on_progress=on_progress)
    if json_out:
        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False, sort_keys=True, default=str))
    elif not quiet:
        render.show(_summary_table(summary.to_dict()))
        _footer(summary.to_dict())


def _linkage_settings(values: dict[str, Any]) -> LinkageSettings:
    """LinkageSettings with the options' values (by field name), checked before any reading."""
    blamed = blame_linkage_key(values)
    if blamed is not None:
        name, error = blamed
        option = _LINKAGE_OPTIONS[name]
        raise UsageError(f"{option} {values[name]} is out of range ({error.message_en})",
                         f"{option} {values[name]} 超出允许范围（{error.message_zh}）")
    return replace(LinkageSettings(), **values)


def _number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _summary_table(summary: dict[str, Any]) -> Any:
    roles = summary["record_roles"]
    columns = ["county", *roles, "estimate", "95% CI", "register", "missing"]
    rows = []
    for county in summary["counties"]:
        share = county.get("completeness_planning")
        rows.append([
            county["county_code"][:6], *[_number(county.get(f"n_{role}")) for role in roles],
            _number(county.get("est_total")),
            f"{_number(county.get('ci_low'))}-{_number(county.get('ci_high'))}",
            "-" if share is None else f"{share:.1%}", _number(county.get("unregistered")),
        ])
    window = ", ".join(summary["window"]) or "-"
    table = render.table(f"Births by county / 各县区出生 ({window})", columns, rows,
                         numeric=columns[1:])
    for position, column in enumerate(table.columns):
        column.min_width = max(len(str(row[position])) for row in [columns, *rows])  # never cut figures
    return table


def _footer(summary: dict[str, Any]) -> None:
    render.show(
        "estimate: true births (dual/multiple-system estimate) 估计出生数; register: the register's "
        "completeness 登记完整率; missing: births not in the register 漏登"
    )
    render.show(
        f"{summary['births']:,} births linked, {summary['unregistered']:,} missing from the register, "
        f"{summary['rejected_rows']:,} rows rejected; written to {summary['run_dir']} / "
        f"共 {summary['births']:,} 例出生，计生登记漏登 {summary['unregistered']:,} 例，"
        f"剔除 {summary['rejected_rows']:,} 行；结果写入 {summary['run_dir']}"
    )
    unrecorded: dict[str, list[str]] = {}
    for code in summary["warnings"]:
        kind, _, detail = code.partition(":")
        if kind == "covariate-not-recorded":
            covariate, _, role = detail.partition(":")
            unrecorded.setdefault(role, []).append(covariate)
        else:
            render.warning_line(code)
    for role, covariates in sorted(unrecorded.items()):
        render.warning_line(
            f"{role} does not record {', '.join(covariates)}: not used as strata where {role} is a list; "
            f"with two lists the interval holds the bounds these covariates leave (bounds_low, bounds_high) / "
            f"{role} 未记录 {'、'.join(covariates)}：以其为名单时不按此分层；两个名单时置信区间包含由此产生的"
            f"估计上下界（bounds_low、bounds_high）"
        )
