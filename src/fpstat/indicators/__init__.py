"""Indicators: the registry of ``spec/indicators.md`` over the area hierarchy and periods.

Public API:

* :func:`compute_indicators` (run directory -> :class:`IndicatorResult`, writes indicators.csv)
  and :func:`run_indicators` (what ``fpstat indicators`` does: add count tables, compute,
  write, update the manifest);
* the registry: :data:`REGISTRY` of :class:`Indicator`;
* intervals: :func:`wilson_interval`, :func:`poisson_exact_interval`, :func:`rate_interval`,
  :func:`sex_ratio_interval`, :func:`completeness_interval`, :func:`poisson_difference_interval`;
* funnel limits: :func:`funnel_limits`, :func:`funnel_position`;
* evaluation profiles: :func:`load_profile` -> :class:`Profile` (``.thresholds``,
  ``.check_settings``), :func:`shipped_profiles`, :data:`DEFAULT_PROFILE`;
* area tables: :func:`load_areas` -> :class:`AreaTable`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from fpstat.indicators.areas import AreaTable, load_areas
from fpstat.indicators.compute import INDICATORS_FILE, compute_indicators, open_run
from fpstat.indicators.count_tables import add_count_tables
from fpstat.indicators.funnel import FunnelFit, funnel_limits, funnel_position
from fpstat.indicators.intervals import (
    completeness_interval,
    interval_for,
    poisson_difference_interval,
    poisson_exact_interval,
    rate_interval,
    sex_ratio_interval,
    wilson_interval,
)
from fpstat.indicators.profiles import (
    DEFAULT_PROFILE,
    Profile,
    Threshold,
    load_profile,
    shipped_profiles,
)
from fpstat.indicators.registry import REGISTRY, Indicator, indicator_value
from fpstat.indicators.result import COLUMNS, IndicatorResult

__all__ = [
    "COLUMNS",
    "DEFAULT_PROFILE",
    "INDICATORS_FILE",
    "REGISTRY",
    "AreaTable",
    "FunnelFit",
    "Indicator",
    "IndicatorResult",
    "Profile",
    "Threshold",
    "add_count_tables",
    "completeness_interval",
    "compute_indicators",
    "funnel_limits",
    "funnel_position",
    "indicator_value",
    "interval_for",
    "load_areas",
    "load_profile",
    "poisson_difference_interval",
    "poisson_exact_interval",
    "rate_interval",
    "run_indicators",
    "sex_ratio_interval",
    "shipped_profiles",
    "wilson_interval",
]


def run_indicators(
    run_dir: str | Path,
    *,
    reports: Sequence[str | Path] = (),
    populations: Sequence[str | Path] = (),
    profile: str | Path | None = None,
    areas: str | Path | None = None,
    period_kind: str | None = None,
    as_of: dt.date | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> IndicatorResult:
    """``fpstat indicators``: add count tables, compute, write indicators.csv, save the manifest.

    The profile and area table are read first, so that a wrong option fails before any work.
    """
    run = open_run(run_dir)
    loaded_profile = load_profile(profile)
    area_table = load_areas(areas) if areas is not None else None
    notes = add_count_tables(
        run, reports=reports, populations=populations, as_of=as_of, on_progress=on_progress
    )
    with run.timed("indicators"):
        result = compute_indicators(
            run, profile=loaded_profile, areas=area_table, period_kind=period_kind
        )
    result.notes[:0] = notes
    shipped = loaded_profile.source.startswith("shipped:")
    run.manifest.parameters["profile"] = loaded_profile.name if shipped else loaded_profile.source
    if area_table is not None:
        run.manifest.parameters["areas"] = str(areas)
    if "period" not in run.manifest.parameters:
        run.manifest.parameters["period"] = result.period_kind
    elif result.period_kind != run.manifest.parameters["period"]:
        run.manifest.parameters["indicators_period"] = result.period_kind
    run.save_manifest()
    run.log(
        "indicators.done", rows=len(result.table), skipped=[s["indicator"] for s in result.skipped]
    )
    return result
