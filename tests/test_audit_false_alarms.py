"""False alarms and power of the significance-based checks on clean simulated areas.

Each world is 200 townships (10 counties in 2 prefectures of one province) with binomial births
at a realistic sex ratio (106-118, constant over time) and monthly births from a few dozen to
~1,000; several worlds (provinces) make one run so that rates can be measured. A check's
false-alarm rate is "at or below its nominal level" when the number of findings is no more than
the 99.9th percentile of Binomial(tests, nominal level): a test of the rate itself, at a fixed
seed, that fails if the true rate were above nominal by any material amount.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from audit_fixtures import months, records_frame, table_frame, write_run
from scipy import stats

from fpstat.audit import CHECKS, run_audit

AS_OF = dt.date(2026, 6, 30)
TOWNSHIPS_PER_COUNTY, COUNTIES = 20, 10


def only(check_id, **settings):
    """Settings that switch every other check off (to keep the simulations fast)."""
    return {other: ({"enabled": False} if other != check_id else settings) for other in CHECKS}


def allowed(tests, level):
    """The most findings consistent with a false-alarm rate at or below ``level``."""
    return int(stats.binom.ppf(0.999, tests, level))


def world(rng, province):
    """200 townships of one province: code, monthly births and SRB."""
    rows = []
    for county in range(COUNTIES):
        prefecture = 1 + county % 2
        for township in range(TOWNSHIPS_PER_COUNTY):
            rows.append(
                {
                    "area_code": f"{province:02d}{prefecture:02d}{county + 1:02d}{township + 1:03d}000",
                    "monthly_births": float(np.exp(rng.uniform(np.log(30), np.log(1000)))),
                    "srb": rng.uniform(106, 118),
                }
            )
    return pd.DataFrame(rows)


def monthly_table(areas, rng, month_list, srb_by_month=None):
    rows = []
    for area in areas.itertuples():
        births = rng.poisson(area.monthly_births, len(month_list))
        ratios = (
            srb_by_month.get(area.area_code, [area.srb] * len(month_list))
            if srb_by_month
            else [area.srb] * len(month_list)
        )
        for month, n, ratio in zip(month_list, births, ratios, strict=True):
            boys = int(rng.binomial(n, ratio / (100 + ratio)))
            rows.append(
                {
                    "area_code": area.area_code,
                    "period": month,
                    "births": int(n),
                    "births_male": boys,
                    "births_female": int(n) - boys,
                }
            )
    return rows


def test_srb_volatile_false_alarms_and_power(tmp_path):
    """Constant SRB: findings within Binomial(tests, 0.001); alternating 140/85 at ~300 births a month: flagged."""
    rng = np.random.default_rng(2024)
    month_list = months(2023, 24)
    areas = pd.concat(
        [world(rng, province) for province in (31, 32, 33, 34, 35)], ignore_index=True
    )
    swung = {
        code: [140 if i % 2 else 85 for i in range(24)]
        for code in areas["area_code"].iloc[[5, 250, 777]]
    }
    areas.loc[areas["area_code"].isin(swung), "monthly_births"] = 300.0
    write_run(tmp_path, tables=table_frame(monthly_table(areas, rng, month_list, swung)))
    findings = run_audit(tmp_path, settings=only("srb.volatile"), as_of=AS_OF).findings
    townships = {f.area_code for f in findings if f.level == "township"}
    assert set(swung) <= townships
    clean = [
        f
        for f in findings
        if f.area_code not in swung
        and not (
            f.level != "township"
            and any(code.startswith(f.area_code.rstrip("0")) for code in swung)
        )
    ]
    tests = len(areas) + 5 * (COUNTIES + 2 + 1)
    assert len(clean) <= allowed(tests, 0.001)


def test_srb_volatile_few_dozen_births_a_month_not_flagged_for_noise(tmp_path):
    """1,000 townships of 24-48 births a month swing 10+ points month to month, yet stay within the 0.001 rate."""
    rng = np.random.default_rng(7)
    month_list = months(2023, 24)
    areas = pd.concat(
        [world(rng, province) for province in (31, 32, 33, 34, 35)], ignore_index=True
    )
    areas["monthly_births"] = rng.uniform(24, 48, len(areas))
    table = table_frame(monthly_table(areas, rng, month_list))
    ratios = 100 * table["births_male"].astype(float) / table["births_female"].astype(float)
    swing = ratios.groupby(table["area_code"]).agg(lambda r: r.max() - r.min())
    assert (
        swing >= 10
    ).mean() > 0.95  # noise alone moves a small township's monthly SRB by 10+ points
    write_run(tmp_path, tables=table)
    findings = run_audit(tmp_path, settings=only("srb.volatile"), as_of=AS_OF).findings
    townships = [f for f in findings if f.level == "township"]
    assert len(townships) <= allowed(len(areas), 0.001)


def test_srb_volatile_from_register_records_of_small_townships(tmp_path):
    """The register path (monthly counts from birth dates) of 40 small, clean townships raises no alarm."""
    rng = np.random.default_rng(99)
    areas = world(rng, 32).iloc[:40]
    frames = []
    for area in areas.itertuples():
        for month in range(24):
            n = rng.poisson(36)
            first = dt.date(2023 + month // 12, month % 12 + 1, 1)
            frames.append(
                pd.DataFrame(
                    {
                        "area_code": area.area_code,
                        "sex": np.where(rng.random(n) < area.srb / (100 + area.srb), "M", "F"),
                        "birth_date": [
                            first + dt.timedelta(days=int(d)) for d in rng.integers(0, 28, n)
                        ],
                    }
                )
            )
    births = pd.concat(frames, ignore_index=True)
    births["child_pid"] = [f"C{i}" for i in range(len(births))]
    write_run(tmp_path, records=records_frame(births.to_dict("records")))
    assert run_audit(tmp_path, settings=only("srb.volatile"), as_of=AS_OF).findings == ()


def disagreements(areas, rng, periods, rate, bad=None):
    rows = []
    for period in periods:
        for area in areas.itertuples():
            linked = rng.binomial(int(12 * area.monthly_births), 0.8)
            area_rate = (bad or {}).get((area.area_code, period), rate)
            rows.append(
                {
                    "area_code": area.area_code,
                    "level": "township",
                    "period": period,
                    "linked_births": linked,
                    "sex_disagreements": rng.binomial(linked, area_rate),
                }
            )
    frame = pd.DataFrame(rows)
    townships = frame[frame["level"] == "township"]
    for level, digits in (("county", 6), ("prefecture", 4), ("province", 2)):
        parents = townships.assign(area_code=townships["area_code"].str[:digits].str.ljust(12, "0"))
        summed = parents.groupby(["area_code", "period"], as_index=False)[
            ["linked_births", "sex_disagreements"]
        ].sum()
        frame = pd.concat([frame, summed.assign(level=level)], ignore_index=True)
    return frame


def test_sex_misreported_false_alarms_and_power(tmp_path):
    """Every area at 0.5 %: families (level x period) with any finding within Binomial(families, 0.05); a 2 % township: flagged."""
    rng = np.random.default_rng(11)
    areas = world(rng, 32)
    periods = [str(year) for year in range(1981, 2021)]
    target = areas["area_code"].iloc[17]
    bad = {(target, "2020"): 0.02}
    write_run(tmp_path, sex_disagreements=disagreements(areas, rng, periods, 0.005, bad))
    findings = run_audit(tmp_path, settings=only("sex.misreported"), as_of=AS_OF).findings
    assert any(f.area_code == target and f.period == "2020" for f in findings)
    clean = {
        (f.level, f.period) for f in findings if f.period not in ("2020", "")
    }  # "": all periods pooled
    families = 3 * (
        len(periods) - 1
    )  # township, county and prefecture families; a lone province is not tested
    assert len(clean) <= allowed(families, 0.05)


def policy_rates(areas, rng, years, heap_share=0.0):
    """Annual within-policy rates (%) of each township: binomial around a true rate ~ N(95, 3)."""
    true_rate = np.clip(rng.normal(95, 3, len(areas)), 70, 99.9) / 100
    rows = []
    for year in years:
        births = (12 * areas["monthly_births"]).astype(int).to_numpy()
        values = 100 * rng.binomial(births, true_rate) / births
        if heap_share:
            moved = (values >= 91) & (values < 92) & (rng.random(len(values)) < heap_share)
            values[moved] = 92 + (values[moved] - 91) * 0.9
        rows += [
            {
                "indicator": "policy_rate",
                "source": "report",
                "area_code": code,
                "level": "township",
                "period": year,
                "value": round(value, 4),
                "unit": "%",
            }
            for code, value in zip(areas["area_code"], values, strict=True)
        ]
    return pd.DataFrame(rows)


def caliper_tests(frame):
    """How many parent areas have at least 5 values from 2 townships or more within a point of 92."""
    near = frame[(frame["value"] >= 91) & (frame["value"] <= 93)]
    count = 0
    for digits in (6, 4, 2):
        by_parent = near.groupby(near["area_code"].str[:digits])["area_code"].agg(
            ["size", "nunique"]
        )
        count += int(((by_parent["size"] >= 5) & (by_parent["nunique"] >= 2)).sum())
    return count


def test_threshold_heaping_false_alarms_on_a_sloped_distribution(tmp_path):
    """Honest rates around 95 % (more just above 92 than below, by slope alone) stay within Binomial(tests, 0.05)."""
    rng = np.random.default_rng(3)
    frame = pd.concat(
        [
            policy_rates(world(rng, province), rng, ["2022SY", "2023SY", "2024SY"])
            for province in range(21, 41)
        ],
        ignore_index=True,
    )
    above = ((frame["value"] >= 92) & (frame["value"] < 93)).sum()
    below = ((frame["value"] >= 91) & (frame["value"] < 92)).sum()
    assert above > 1.1 * below  # the slope a naive caliper test would mistake for heaping
    write_run(tmp_path, indicators=frame, period="sy")
    findings = run_audit(
        tmp_path,
        settings=only("threshold.heaping"),
        profile=[("policy_rate_3y", "veto", 92)],
        as_of=AS_OF,
    ).findings
    assert len(findings) <= allowed(caliper_tests(frame), 0.05)


def test_threshold_heaping_power_on_manipulated_rates(tmp_path):
    """When 80 % of the rates just below 92 % are nudged above it, every prefecture is flagged."""
    rng = np.random.default_rng(4)
    frame = pd.concat(
        [
            policy_rates(world(rng, province), rng, ["2023SY", "2024SY"], heap_share=0.8)
            for province in (31, 32, 33)
        ],
        ignore_index=True,
    )
    write_run(tmp_path, indicators=frame, period="sy")
    findings = run_audit(
        tmp_path,
        settings=only("threshold.heaping"),
        profile=[("policy_rate_3y", "veto", 92)],
        as_of=AS_OF,
    ).findings
    assert len({f.area_code for f in findings if f.level == "prefecture"}) == 6


def report_tables(areas, rng, month_list, years):
    rows = monthly_table(areas, rng, month_list)
    for area in areas.itertuples():
        population = float(np.exp(rng.uniform(np.log(10_000), np.log(100_000))))
        p_boy = area.srb / (100 + area.srb)
        for year in years:
            women = rng.binomial(int(population), 0.25)
            married = rng.binomial(women, 0.75)
            births = rng.poisson(12 * area.monthly_births)
            first = rng.binomial(births, 0.6)
            second = rng.binomial(births - first, 0.9)
            boys = rng.binomial(births, p_boy)
            rows.append(
                {
                    "area_code": area.area_code,
                    "period": year,
                    "population": int(population),
                    "women_15_49": women,
                    "married_women_15_49": married,
                    "contraceptive_users": rng.binomial(married, 0.88),
                    "births": births,
                    "births_male": boys,
                    "births_female": births - boys,
                    "births_within_policy": rng.binomial(births, 0.95),
                    "births_order_1": first,
                    "births_order_2": second,
                    "births_order_3plus": births - first - second,
                    "deaths": rng.poisson(0.006 * population),
                }
            )
    return rows


def test_digits_preference_false_alarms_and_power(tmp_path):
    """Honest report tables of 5 x 200 townships: findings within Binomial(tests, 0.001); one county's rounding: flagged."""
    rng = np.random.default_rng(5)
    month_list = months(2023, 24)
    areas = pd.concat(
        [world(rng, province) for province in (31, 32, 33, 34, 35)], ignore_index=True
    )
    table = table_frame(report_tables(areas, rng, month_list, ["2023", "2024"]))
    write_run(tmp_path / "honest", tables=table)
    findings = run_audit(
        tmp_path / "honest", settings=only("digits.preference"), as_of=AS_OF
    ).findings
    assert len(findings) <= allowed(5 * (COUNTIES + 2 + 1), 0.001)

    county = areas["area_code"].iloc[0][:6]
    rounded = table.copy()
    in_county = rounded["area_code"].str.startswith(county)
    for column in ("population", "women_15_49", "married_women_15_49", "contraceptive_users"):
        values = rounded.loc[in_county, column].astype("Float64")
        rounded.loc[in_county, column] = (values / 10).round().astype("Int64") * 10
    write_run(tmp_path / "rounded", tables=rounded)
    flagged = run_audit(
        tmp_path / "rounded", settings=only("digits.preference"), as_of=AS_OF
    ).findings
    assert any(
        f.area_code == county.ljust(12, "0") and f.evidence["test"] == "terminal" for f in flagged
    )


def chapman(registered, other, both):
    """Chapman (1951) estimate with Seber's (1970) variance and a 95 % normal interval."""
    registered, other, both = (np.asarray(x, dtype=float) for x in (registered, other, both))
    total = (registered + 1) * (other + 1) / (both + 1) - 1
    variance = (
        (registered + 1)
        * (other + 1)
        * (registered - both)
        * (other - both)
        / ((both + 1) ** 2 * (both + 2))
    )
    half = 1.959964 * np.sqrt(variance)
    return total, np.maximum(total - half, registered + other - both), total + half


def completeness_rows(areas, rng, coverage, periods):
    rows = []
    for period in periods:
        births = rng.poisson(12 * areas["monthly_births"].to_numpy())
        in_register = np.ceil(coverage * births).astype(
            int
        )  # truly this complete, not just on average
        in_police_only = rng.binomial(births - in_register, 0.9)
        in_both = rng.binomial(in_register, 0.9)
        frame = pd.DataFrame(
            {
                "area_code": areas["area_code"],
                "registered": in_register,
                "other": in_both + in_police_only,
                "both": in_both,
            }
        )
        for level, digits in (("township", 9), ("county", 6), ("prefecture", 4), ("province", 2)):
            summed = (
                frame.assign(area_code=frame["area_code"].str[:digits].str.ljust(12, "0"))
                .groupby("area_code")
                .sum()
            )
            total, low, high = chapman(summed["registered"], summed["other"], summed["both"])
            rows.append(
                pd.DataFrame(
                    {
                        "area_code": summed.index,
                        "level": level,
                        "period": period,
                        "n_planning": summed["registered"].to_numpy(),
                        "n_police": summed["other"].to_numpy(),
                        "est_total": total,
                        "ci_low": low,
                        "ci_high": high,
                        "method": "chapman",
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_completeness_low_false_alarms_and_power(tmp_path):
    """A register truly 90 % complete: errors within Binomial(areas, 0.025) (the interval's one-sided miss rate);
    95 %: no error at all; 70 %: errors everywhere."""
    rng = np.random.default_rng(8)
    areas = world(rng, 32)
    periods = ["2021", "2022", "2023", "2024"]
    for coverage in (0.90, 0.95, 0.70):
        rows = completeness_rows(areas, rng, coverage, periods)
        write_run(tmp_path / str(coverage), completeness=rows)
        findings = run_audit(
            tmp_path / str(coverage), settings=only("completeness.low"), as_of=AS_OF
        ).findings
        errors = [f for f in findings if f.severity == "error"]
        if coverage == 0.90:
            assert len(errors) <= allowed(len(rows), 0.025)
        elif coverage == 0.95:
            assert errors == [] and len(findings) <= allowed(len(rows), 0.025)
        else:
            assert len(errors) > 0.9 * len(rows)
