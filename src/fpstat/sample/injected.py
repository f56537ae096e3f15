"""``truth/injected.json``: the area-level problems planted in a drop, with their true figures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fpstat.sample.geography import PREFECTURE_NAME, Geography, Parts
from fpstat.sample.population import AS_OF, EXPORT_DATE, PERIODS, WINDOW_END, WINDOW_START
from fpstat.sample.recording import HABITS, MISREPORT_RATE
from fpstat.sample.sources import CAPTURE, RECORD_ROLES, Capture


def _srb(boys: int, girls: int) -> float | None:
    return round(100 * boys / girls, 1) if girls else None


def _swing(geo: Geography, parts: Parts, births: pd.DataFrame) -> dict[str, Any]:
    here = births[births["county_code"] == parts.swing_county]
    month = here["birth_date"].dt.strftime("%Y-%m")
    odd = here["birth_date"].dt.month % 2 == 1
    boys = here["sex"].eq("M")
    return {
        "area_code": parts.swing_county, "level": "county", "name": geo.county_name(parts.swing_county),
        "high_months": sorted(month[odd].unique().tolist()),
        "low_months": sorted(month[~odd].unique().tolist()),
        "true_srb_high_months": _srb(int((boys & odd).sum()), int((~boys & odd).sum())),
        "true_srb_low_months": _srb(int((boys & ~odd).sum()), int((~boys & ~odd).sum())),
    }


def _misreport(geo: Geography, parts: Parts, births: pd.DataFrame, planning: pd.DataFrame) -> dict[str, Any]:
    first = planning[planning["entry"] == 0]
    true_sex = pd.Series(births["sex"].to_numpy(dtype=object)[first["birth_row"].to_numpy()], index=first.index)
    township = first["area_code"].astype(str).str.slice(0, 9).str.pad(12, side="right", fillchar="0")
    here = township == parts.misreport_township
    girls = here & true_sex.eq("F")
    elsewhere_girls = ~here & true_sex.eq("F")
    return {
        "area_code": parts.misreport_township, "level": "township",
        "name": geo.township_name(parts.misreport_township),
        "rate": MISREPORT_RATE, "background_rate": HABITS["planning"].sex_flip,
        "girls_in_register": int(girls.sum()),
        "girls_entered_as_boys": int((girls & first["sex"].eq("M")).sum()),
        "girls_entered_as_boys_elsewhere": int((elsewhere_girls & first["sex"].eq("M")).sum()),
        "girls_in_register_elsewhere": int(elsewhere_girls.sum()),
    }


def injected_summary(*, size: str, seed: int, geo: Geography, parts: Parts, births: pd.DataFrame,
                     capture: Capture, planning: pd.DataFrame, report: dict[str, Any]) -> dict[str, Any]:
    township = births["township_code"].to_numpy()
    hidden = []
    for code, target in zip(parts.hiding_townships, parts.hiding_capture, strict=True):
        here = township == code
        hidden.append({
            "area_code": code, "level": "township", "name": geo.township_name(code),
            "births": int(here.sum()), "target_planning_capture": target,
            "true_planning_capture": (
                round(capture.hiding_capture[code], 4) if code in capture.hiding_capture else None
            ),
        })
    gap = dict(report["population_gap"])
    gap["name"] = geo.county_name(parts.gap_county)
    heaping = dict(report["heaping"])
    heaping["name"] = geo.county_name(parts.heaping_county)
    return {
        "seed": seed, "size": size, "births": int(len(births)),
        "as_of": AS_OF.isoformat(), "export_date": EXPORT_DATE.isoformat(),
        "window": {"start": WINDOW_START.isoformat(), "end": WINDOW_END.isoformat()},
        "periods": list(PERIODS),
        "prefecture": {"area_code": geo.prefecture_code, "name": PREFECTURE_NAME},
        "hidden_births": hidden,
        "sex_misreport": _misreport(geo, parts, births, planning),
        "srb_swing": _swing(geo, parts, births),
        "report_mismatch": report["report_mismatch"],
        "population_gap": gap,
        "heaping": heaping,
        "relation_error": report["relation_error"],
        "capture": {
            role: {"target": CAPTURE[role].target,
                   "realised": round(float(np.mean(capture.captured[role])), 4)}
            for role in RECORD_ROLES
        },
        "planning_duplicates": int(planning["entry"].sum()),
    }
