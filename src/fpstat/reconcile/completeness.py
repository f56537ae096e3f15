"""Completeness per area at every level and per period: how many births there really were.

For each county, prefecture and province, and each period of the reconciliation window:

1. **Lists.** Every record-level source that saw at least ``min_list_share`` of the area's
   births (and at least ``min_recaptures`` of them) is a list; a source that covers almost
   nothing there (hospital files for some counties only, say) would add no information and
   break the models, so it is left out with a warning (``source-excluded:<role>``).
2. **Strata** (on by default). Girls, later births, out-of-policy and migrants' births are
   missed more often by *every* source, so an estimate that pools them is biased low
   (Sekar & Deming 1949). Births are split by the covariates their records carry: ``sex``,
   ``order`` (birth order), ``policy`` (within policy), ``migrant``, from the birth's
   consensus values. A covariate is used only if **every** list records it (at least
   ``min_covariate_share`` of its records): were it known only from some sources, the births
   the others alone saw would fall into an "unknown" level that no other list can see, and
   that stratum would be estimated as if half its births were missing. Births whose
   covariate is still unknown form an ``unknown`` level, which is small and is merged by the
   collapsing rule of :func:`fpstat.reconcile.strata.estimate_stratified` (strata with fewer
   than ``min_recaptures`` births on two lists are pooled, and the pool merged with the
   smallest stratum until estimable).
3. **Model.** Two lists: Chapman (1951) per stratum. Three or more: every hierarchical
   log-linear model with two-way interactions is fitted to all strata at once and the one
   with the smallest total AIC (or BIC) over the strata is used in every stratum; the total
   criterion is that of the stratified model whose parameters all differ by stratum.
4. The total is the sum over strata with Chao's (1987) log-normal interval
   (:mod:`.strata`); the **unstratified** estimate (Chapman, or the model chosen on the
   pooled table) is reported beside it for reference.
5. **Linkage errors.** The interval is widened by what the linkage's doubtful decisions could
   do to the estimate (``linkage_shift``, ``linkage_sd``; :mod:`.linkage_uncertainty`): with
   four sources a county's sampling error is a few births, as small as a few linkage errors.

Townships and villages are too many and too small for a model each. They get **synthetic**
estimates (Gonzalez 1973; :func:`fpstat.reconcile.small_areas.synthetic_estimate`): the
births seen there in each of the county's strata, divided by the share of the county's births
in that stratum that the lists saw. Because that share is computed on births seen by *any*
list (not on the register alone), a township whose register hides births still shows it:
its register count falls while the births seen by the other lists do not. Townships and
villages then add up exactly to their county. ``method`` says which was done, e.g.
``loglinear[PG,CH,E] stratified sex*order*policy*migrant (3 collapsed)`` or
``synthetic(county 320581 strata)``; the letters are
:data:`fpstat.reconcile.area_estimates.ROLE_LETTERS` (P planning, G police 公安, C census,
H hospital, E education).

What strata cannot fix: heterogeneity in a covariate that some list does not record. With the
register and police only, and police exports holding no birth order, policy or migrant status,
only sex can stratify, and the births both lists miss for those reasons make the estimate low
(Wolter 1986); ``warnings`` and the manifest's ``reconcile.warnings`` name the covariates left
out. With two lists, one of which records them, the interval is widened to the identification
region those covariates leave (``bounds_low``, ``bounds_high``; :mod:`.unrecorded`): the
estimate stays Chapman's, and the interval holds every split of the births only the other
list saw over the recording list's cells. Sub-areas get their county's region in proportion.
More lists (hospital records carry birth order) let the log-linear models take the
dependence instead.

References: Sekar, C. C. & Deming, W. E. (1949) On a method of estimating birth and death
rates and the extent of registration. JASA 44, 101-115. Chapman, D. G. (1951) Univ. Calif.
Publ. Stat. 1, 131-160. Chao, A. (1987) Biometrics 43, 783-791. Gonzalez, M. E. (1973) Use and
evaluation of synthetic estimates. Proc. Social Statistics Section, ASA, 33-36. Wolter, K. M.
(1986) Some coverage error models for census data. JASA 81, 338-346.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from fpstat.engine.sql_reconcile import COVARIATES
from fpstat.reconcile.area_estimates import (
    UNKNOWN,
    AreaEstimate,
    AreaProblem,
    CompletenessSettings,
    estimate_areas,
    model_label,
    prepare_area,
    reduce_histories,
    stratum_keys,
)
from fpstat.reconcile.capture_histories import CaptureHistories
from fpstat.reconcile.estimators import chapman, lognormal_ci
from fpstat.reconcile.linkage_uncertainty import CHANGE_COLUMNS, linkage_effect, widened_interval
from fpstat.reconcile.loglinear import fit_model
from fpstat.reconcile.small_areas import synthetic_estimate
from fpstat.reconcile.unrecorded import combined
from fpstat.schema.areas import LEVEL_NAMES, ancestor, ancestors_series, depth

__all__ = ["CompletenessSettings", "completeness_table", "model_label"]
ESTIMATED_DEPTH = depth("county")  # counties and above get their own estimate


def _synthetic(
    cells: pd.DataFrame, roles: tuple[str, ...], parent: AreaEstimate, level: float, stratified: bool
) -> pd.DataFrame:
    """Synthetic totals of the sub-areas in ``cells`` from their county's estimate."""
    keys = ["area_code", "level", "period"]
    if stratified:
        covariates, group_of, groups = parent.covariates, parent.group_of, parent.groups
    else:
        if parent.reference_rate is None:
            return pd.DataFrame(columns=keys + ["n_hat", "se", "ci_low", "ci_high"])
        covariates, group_of = (), {"all": "all"}
        n_seen, n_hat, se = parent.reference_rate
        groups = pd.DataFrame([{"group": "all", "n_observed": n_seen, "n_hat": n_hat, "se": se}])
    if groups is None:
        return pd.DataFrame(columns=keys + ["n_hat", "se", "ci_low", "ci_high"])
    included = sum(1 << roles.index(role) for role in parent.lists)
    seen = (cells["history"].to_numpy(dtype=np.int64) & included) > 0
    frame = cells.loc[seen, keys].copy()
    frame["group"] = stratum_keys(cells.loc[seen], covariates).map(group_of).to_numpy()
    frame["n_observed"] = cells.loc[seen, "births"].to_numpy(dtype=float)
    counts = frame.groupby(keys + ["group"], sort=True, as_index=False)["n_observed"].sum()
    estimated = synthetic_estimate(counts, groups, by="group", level=level)
    estimated["variance"] = estimated["se"] ** 2
    totals = estimated.groupby(keys, sort=True, as_index=False).agg(
        n_observed=("n_observed", "sum"), n_hat=("n_hat", lambda v: v.sum(min_count=len(v))),
        variance=("variance", lambda v: v.sum(min_count=len(v))),
    )
    totals["se"] = np.sqrt(totals["variance"])
    low, high = lognormal_ci(totals["n_observed"], totals["n_hat"], totals["se"], level)
    totals["ci_low"], totals["ci_high"] = low, high
    return totals[keys + ["n_hat", "se", "ci_low", "ci_high"]]


def _source_columns(cells: pd.DataFrame, roles: tuple[str, ...]) -> pd.DataFrame:
    """``n_<role>`` and ``n_observed`` per area, level and period."""
    keys = ["area_code", "level", "period"]
    history = cells["history"].to_numpy(dtype=np.int64)
    births = cells["births"].to_numpy(dtype=np.int64)
    columns = {f"n_{role}": np.where((history >> p) & 1 == 1, births, 0) for p, role in enumerate(roles)}
    frame = cells[keys].assign(**columns, n_observed=births)
    return frame.groupby(keys, sort=True, as_index=False).sum()


def completeness_table(
    cells: pd.DataFrame,
    roles: tuple[str, ...],
    coverage: Mapping[str, Mapping[str, float]],
    window: Sequence[str],
    settings: CompletenessSettings,
    doubtful: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``completeness.csv`` (plus an internal ``se`` column) from the capture cells.

    ``cells``: :func:`fpstat.engine.sql_reconcile.capture_cells` (births per area at every
    level, period, covariates and capture history); ``coverage``: per role, the share of its
    records carrying each covariate; ``window``: the periods to estimate; ``doubtful``: the
    linkage's doubtful decisions as cell changes
    (:func:`fpstat.reconcile.linkage_uncertainty.doubtful_decisions`), which widen the
    intervals of counties and above (``linkage_shift``, ``linkage_sd``).
    """
    cells = cells.loc[cells["period"].isin(list(window))].copy()
    for column in COVARIATES:
        cells[column] = cells[column].astype(object).where(cells[column].notna(), UNKNOWN)
    cells["area_code"] = cells["area_code"].astype(str)
    cells["period"] = cells["period"].astype(str)
    cells["level"] = cells["level"].astype(str)
    cells["depth"] = cells["depth"].astype(int)
    table = _source_columns(cells, roles)
    rows, parents = [], {}
    upper = cells.loc[cells["depth"] <= ESTIMATED_DEPTH]
    keys, problems = [], []
    for (area, period), area_cells in upper.groupby(["area_code", "period"], sort=True):
        keys.append((area, period, int(area_cells["depth"].iloc[0])))
        problems.append(prepare_area(area_cells, roles, coverage, settings))
    changes = _changes_by_area(doubtful, [(area, period, d) for area, period, d in keys])
    estimates = estimate_areas(problems, settings)
    _sum_county_regions(keys, estimates)
    for (area, period, area_depth), problem, estimate in zip(keys, problems, estimates, strict=True):
        if area_depth == ESTIMATED_DEPTH:
            parents[(area, period)] = estimate
        here = changes.get((area, period), _NO_CHANGES)
        effect = linkage_effect(here, _slopes(problem, estimate, roles, here))
        region = estimate.region
        low, high = estimate.ci_low, estimate.ci_high
        if region is not None:
            region_low, region_high = region.interval(settings.level)
            low, high = min(low, region_low), max(high, region_high)
        low, high = widened_interval(estimate.n_hat, low, high, effect, settings.level)
        rows.append({
            "area_code": area, "period": period, "est_total": estimate.n_hat,
            "se": float(np.sqrt(estimate.se ** 2 + effect.variance)) if np.isfinite(estimate.se) else estimate.se,
            "ci_low": low, "ci_high": high,
            "linkage_shift": effect.shift, "linkage_sd": float(np.sqrt(effect.variance)),
            "bounds_low": np.nan if region is None else region.low,
            "bounds_high": np.nan if region is None else region.high,
            "est_total_unstratified": estimate.reference[0],
            "ci_low_unstratified": estimate.reference[2], "ci_high_unstratified": estimate.reference[3],
            "method": estimate.method, "warnings": ";".join(estimate.warnings),
        })
    rows += _sub_area_rows(cells.loc[cells["depth"] > ESTIMATED_DEPTH], parents, roles, settings.level)
    frame = pd.DataFrame(rows, columns=[
        "area_code", "period", "est_total", "se", "ci_low", "ci_high", "est_total_unstratified",
        "ci_low_unstratified", "ci_high_unstratified", "method", "warnings", "linkage_shift",
        "linkage_sd", "bounds_low", "bounds_high",
    ])
    table = table.merge(frame, on=["area_code", "period"], how="left", validate="one_to_one")
    return _finish(table, roles)


def _sum_county_regions(keys: Sequence[tuple[str, str, int]], estimates: Sequence[AreaEstimate]) -> None:
    """Give areas above the county the sum of their counties' identification regions, where
    every county of theirs has one (:func:`fpstat.reconcile.unrecorded.combined`)."""
    counties: dict[str, list[tuple[str, AreaEstimate]]] = {}
    for (area, period, area_depth), estimate in zip(keys, estimates, strict=True):
        if area_depth == ESTIMATED_DEPTH:
            counties.setdefault(period, []).append((area, estimate))
    for (area, period, area_depth), estimate in zip(keys, estimates, strict=True):
        if area_depth >= ESTIMATED_DEPTH or estimate.region is None:
            continue
        level = LEVEL_NAMES[area_depth]
        members = [county for code, county in counties.get(period, []) if ancestor(code, level) == area]
        regions = [county.region for county in members if county.region is not None]
        if members and len(regions) == len(members):
            estimate.region = combined(regions)


_NO_CHANGES = pd.DataFrame(columns=list(CHANGE_COLUMNS))


def _changes_by_area(doubtful: pd.DataFrame | None,
                     areas: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str], pd.DataFrame]:
    """The cell changes falling in each estimated area and period (an area holds the births
    whose code starts with its own digits)."""
    if doubtful is None or doubtful.empty:
        return {}
    frame = doubtful.astype({"area_code": str, "period": str})
    wanted = {(area, period) for area, period, _ in areas}
    result: dict[tuple[str, str], pd.DataFrame] = {}
    for area_depth in sorted({d for _, _, d in areas}):
        owner = ancestors_series(frame["area_code"], LEVEL_NAMES[area_depth])
        for (area, period), rows in frame.groupby([owner, frame["period"]], sort=True):
            if (area, period) in wanted:
                result[(area, period)] = rows
    return result


def _covariate_text(values: pd.Series) -> pd.Series:
    """Covariates as the capture cells spell them (``true``, ``2``, ``F``; missing: unknown)."""
    def one(value: object) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return UNKNOWN
        if isinstance(value, bool | np.bool_):
            return "true" if value else "false"
        return str(value)
    return values.astype(object).map(one)


def _slopes(problem: AreaProblem, estimate: AreaEstimate, roles: tuple[str, ...],
            changes: pd.DataFrame) -> np.ndarray:
    """Per change row, ``dN/dn``: how the area's estimate moves when one birth joins the row's
    cell, refitting the group's model once per distinct (group, history)."""
    if changes.empty:
        return np.zeros(0)
    if len(problem.lists) < 2 or not np.isfinite(estimate.n_hat):
        return np.zeros(len(changes))
    positions = [roles.index(name) for name in problem.lists]
    history = reduce_histories(changes["history"].to_numpy(dtype=np.int64), positions)
    if estimate.stratified and estimate.covariates:
        texts = pd.DataFrame({c: _covariate_text(changes[c]).to_numpy() for c in estimate.covariates})
        group = stratum_keys(texts, estimate.covariates).map(estimate.group_of).to_numpy(dtype=object)
    else:
        group = np.full(len(changes), "all", dtype=object)
    members: dict[str, list[str]] = {}
    for member, owner in estimate.group_of.items():
        members.setdefault(owner, []).append(member)

    def counts_of(name: object) -> np.ndarray | None:
        if not isinstance(name, str):
            return None
        if estimate.stratified and problem.parts is not None:
            parts = [problem.parts[m].counts for m in members.get(name, []) if m in problem.parts]
            return np.sum(parts, axis=0) if parts else None
        return None if problem.pooled is None else problem.pooled.counts

    def refit(counts: np.ndarray) -> float:
        histories = CaptureHistories(problem.lists, counts)
        if estimate.model is None:
            sizes = histories.list_sizes
            return float(chapman(float(sizes[0]), float(sizes[1]), histories.overlap(0, 1)).n_hat)
        fit = fit_model(histories, estimate.model, ci="lognormal")
        return float(fit.n_hat) if fit.n_hat is not None else np.nan

    slopes = np.zeros(len(changes))
    keys = pd.DataFrame({"group": pd.Series(group, dtype=object).fillna(""), "history": history})
    for (name, cell), rows in keys.groupby(["group", "history"], sort=True).indices.items():
        if cell == 0:
            continue  # a birth no list of this estimate saw does not enter it
        counts = counts_of(name) if name else None
        if counts is None:
            slopes[rows] = 1.0  # a stratum the area did not have: one more birth seen, nothing inferred
            continue
        base = counts.astype(float)
        more = base.copy()
        more[int(cell) - 1] += 1.0
        change = refit(more) - refit(base)
        slopes[rows] = change if np.isfinite(change) else 1.0
    return slopes


def _sub_area_rows(
    cells: pd.DataFrame, parents: Mapping[tuple[str, str], AreaEstimate], roles: tuple[str, ...], level: float
) -> list[dict[str, object]]:
    """Synthetic estimates of townships and villages, county by county and period by period."""
    rows: list[dict[str, object]] = []
    county_of = ancestors_series(cells["area_code"], "county")
    for (county, period), sub_cells in cells.groupby([county_of, cells["period"]], sort=True):
        parent = parents.get((county, period))
        if parent is None or parent.groups is None:
            rows += [{"area_code": area, "period": period, "method": "none", "warnings": "county-not-estimable"}
                     for area in sorted(set(sub_cells["area_code"]))]
            continue
        main = _synthetic(sub_cells, roles, parent, level, stratified=parent.stratified)
        reference = _synthetic(sub_cells, roles, parent, level, stratified=False).rename(columns={
            "n_hat": "est_total_unstratified", "ci_low": "ci_low_unstratified", "ci_high": "ci_high_unstratified",
        }).drop(columns="se")
        merged = main.rename(columns={"n_hat": "est_total"}).merge(
            reference, on=["area_code", "level", "period"], how="outer")
        merged["method"] = f"synthetic(county {county[:6]}{' strata' if parent.stratified else ''})"
        if parent.region is not None and parent.n_hat > 0:
            _scale_region(merged, parent, level)
        merged["warnings"] = ";".join(w for w in parent.warnings if w.startswith("source-excluded"))
        rows += merged.drop(columns="level").to_dict("records")
    return rows


def _scale_region(rows: pd.DataFrame, parent: AreaEstimate, level: float) -> None:
    """Synthetic sub-areas share their county's capture rates, so they share its region too,
    in proportion to their estimates."""
    region = parent.region
    assert region is not None
    low, high = region.interval(level)
    total = rows["est_total"].astype(float)
    rows["bounds_low"] = total * (region.low / parent.n_hat)
    rows["bounds_high"] = total * (region.high / parent.n_hat)
    rows["ci_low"] = np.fmin(rows["ci_low"].astype(float), total * (low / parent.n_hat))
    rows["ci_high"] = np.fmax(rows["ci_high"].astype(float), total * (high / parent.n_hat))


def _finish(table: pd.DataFrame, roles: tuple[str, ...]) -> pd.DataFrame:
    """Completeness per source with its interval, rounding, column order, sorting."""
    for column in ("est_total", "se", "ci_low", "ci_high", "est_total_unstratified",
                   "ci_low_unstratified", "ci_high_unstratified", "bounds_low", "bounds_high"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    for column in ("est_total", "ci_low", "ci_high", "est_total_unstratified", "ci_low_unstratified",
                   "ci_high_unstratified", "bounds_low", "bounds_high"):
        table[column] = table[column].round(1)
    total, low, high = (table[c].to_numpy() for c in ("est_total", "ci_low", "ci_high"))
    completeness_columns = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for role in roles:
            seen = table[f"n_{role}"].to_numpy(dtype=float)
            name = f"completeness_{role}"
            table[name] = np.where(total > 0, seen / total, np.nan).round(4)
            table[f"{name}_ci_low"] = np.where(high > 0, seen / high, np.nan).round(4)
            table[f"{name}_ci_high"] = np.where(low > 0, seen / low, np.nan).round(4)
            completeness_columns += [name, f"{name}_ci_low", f"{name}_ci_high"]
    table["se"] = table["se"].round(3)
    for column in ("linkage_shift", "linkage_sd"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float).round(2)
    table["method"] = table["method"].fillna("none")
    table["warnings"] = table["warnings"].fillna("")
    below = table["est_total"] < table["n_observed"] - 0.05
    table.loc[below, "warnings"] = table.loc[below, "warnings"].map(
        lambda text: ";".join(filter(None, [text, "estimate-below-observed"]))
    )
    columns = (["area_code", "level", "period"] + [f"n_{role}" for role in roles]
               + ["n_observed", "est_total", "ci_low", "ci_high"] + completeness_columns
               + ["method", "warnings", "est_total_unstratified", "ci_low_unstratified",
                  "ci_high_unstratified", "linkage_shift", "linkage_sd", "bounds_low", "bounds_high",
                  "se"])
    return table[columns].sort_values(["area_code", "period"], kind="stable", ignore_index=True)
