"""What a source writes down about the births it holds: its own, imperfect version of each.

Sources differ in what they fill in (hospitals rarely know the child's name or ID, censuses
leave many IDs blank, schools seldom have the mother's ID) and in the mistakes their clerks
make: a wrong sex, a birth date off by a day or two or with day and month swapped, a name in
traditional characters (陈 -> 陳) or with a homophone typo (张丽 -> 张莉), an old 15-digit
mother ID. The planning register also enters about 1 % of births twice, a third of those in
another township's sheet. One township of the register enters 8 % of its girls as boys.

Every such change is listed in the row's ``perturbations`` (``sex-flip``, ``date-shift``,
``date-swap``, ``name-traditional``, ``name-homophone``, ``id-15``, ``other-township``); none of
them makes a row unreadable: those are :mod:`fpstat.sample.corruption`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from fpstat.sample import identity
from fpstat.sample.geography import Geography, Parts
from fpstat.sample.population import EXPORT_DATE
from fpstat.sample.sources import Capture

STRING = pd.ArrowDtype(pa.string())


@dataclass(frozen=True)
class RecordHabits:
    """How a source writes a birth down: which fields it fills and how often it errs."""

    child_id: float      # share of rows with the child's ID (when the child has one)
    child_name: float
    mother_id: float
    mother_name: float
    sex_flip: float      # background rate of a wrong sex
    date_shift: float    # birth date off by 1-2 days
    date_swap: float     # day and month swapped (where both are <= 12)
    traditional: float   # a name in traditional characters
    homophone: float     # a name with a homophone typo
    first_generation: float  # a 15-digit mother ID (mothers born in the 1900s)


HABITS: dict[str, RecordHabits] = {
    "planning": RecordHabits(0.60, 0.85, 0.97, 1.00, 0.003, 0.010, 0.002, 0.015, 0.020, 0.0),
    "police": RecordHabits(1.00, 1.00, 0.95, 0.98, 0.001, 0.005, 0.001, 0.010, 0.010, 0.015),
    "census": RecordHabits(0.70, 0.98, 0.55, 0.90, 0.001, 0.012, 0.003, 0.020, 0.025, 0.015),
    "hospital": RecordHabits(0.03, 0.10, 0.97, 0.99, 0.001, 0.008, 0.002, 0.010, 0.015, 0.0),
    "education": RecordHabits(0.95, 1.00, 0.10, 0.70, 0.001, 0.008, 0.002, 0.020, 0.020, 0.0),
}
DUPLICATE_RATE = 0.01            # planning entries made twice
CROSS_TOWNSHIP_DUPLICATES = 0.3  # of those, the second entry filed by another township
MISREPORT_RATE = 0.08            # girls entered as boys in the misreporting township
SWAPPABLE_SHARE = 0.35           # about 35 % of dates have day <= 12 and day != month


def _blank(values: pd.Series, keep_share: float, rng: np.random.Generator) -> pd.Series:
    """Blank out a share ``1 - keep_share`` of the values."""
    if keep_share >= 1.0:
        return values
    return values.where(rng.random(len(values)) < keep_share)


def _note(notes: np.ndarray, mask: np.ndarray, label: str) -> None:
    notes[mask] = np.where(notes[mask] == "", label, notes[mask] + ";" + label)


def _shift_dates(dates: np.ndarray, notes: np.ndarray, habits: RecordHabits, rng: np.random.Generator) -> np.ndarray:
    count = len(dates)
    shift = rng.choice(np.array([-2, -1, 1, 2]), count).astype("timedelta64[D]")
    shifted = rng.random(count) < habits.date_shift
    result = np.where(shifted, dates + shift, dates)
    _note(notes, shifted, "date-shift")
    stamps = pd.DatetimeIndex(result)
    day, month, year = stamps.day.to_numpy(), stamps.month.to_numpy(), stamps.year.to_numpy()
    can_swap = (day <= 12) & (day != month) & ~shifted
    candidates = np.flatnonzero(can_swap & (rng.random(count) < habits.date_swap / SWAPPABLE_SHARE))
    if len(candidates):
        swapped_dates = pd.to_datetime(
            pd.DataFrame({"year": year[candidates], "month": day[candidates], "day": month[candidates]})
        ).to_numpy(dtype="datetime64[D]")
        fine = swapped_dates <= np.datetime64(EXPORT_DATE)
        result[candidates[fine]] = swapped_dates[fine]
        swapped = np.zeros(count, dtype=bool)
        swapped[candidates[fine]] = True
        _note(notes, swapped, "date-swap")
    return result


def _vary_names(records: pd.DataFrame, notes: np.ndarray, habits: RecordHabits, rng: np.random.Generator) -> None:
    """Traditional characters or a homophone typo in one of the names of a few rows."""
    for label, share in (("name-traditional", habits.traditional), ("name-homophone", habits.homophone)):
        chosen = np.flatnonzero(rng.random(len(records)) < share)
        use_child = rng.random(len(chosen)) < 0.5
        for column, rows in (("child_name", chosen[use_child]), ("mother_name", chosen[~use_child])):
            names = records[column].iloc[rows].tolist()
            changed_rows, changed_names = [], []
            for row, name in zip(rows.tolist(), names, strict=True):
                if name is None or name is pd.NA:
                    continue
                new = identity.traditional(name) if label == "name-traditional" else identity.homophone_typo(name, rng)
                if new != name:
                    changed_rows.append(row)
                    changed_names.append(new)
            if changed_rows:
                values = records[column].copy()
                values.iloc[changed_rows] = changed_names
                records[column] = values
                mask = np.zeros(len(records), dtype=bool)
                mask[changed_rows] = True
                _note(notes, mask, label)


def _first_generation_ids(records: pd.DataFrame, notes: np.ndarray, share: float, rng: np.random.Generator) -> None:
    if share <= 0:
        return
    ids = records["mother_id"]
    born_1900s = ids.str.slice(6, 8).eq("19").fillna(False).to_numpy(dtype=bool)
    chosen = born_1900s & (rng.random(len(records)) < share)
    if chosen.any():
        old = ids[chosen]
        values = ids.copy()
        values[chosen] = old.str.slice(0, 6) + old.str.slice(8, 17)
        records["mother_id"] = values
        _note(notes, chosen, "id-15")


def _other_township_villages(codes: np.ndarray, geo: Geography, rng: np.random.Generator) -> np.ndarray:
    """For each village code, a random village of another township of the same county."""
    villages = geo.villages["village_code"].astype(np.int64).to_numpy()
    result = codes.copy()
    for index, code in enumerate(codes.tolist()):
        same_county = villages[(villages // 10**6 == code // 10**6) & (villages // 1000 != code // 1000)]
        if len(same_county):
            result[index] = same_county[int(rng.integers(0, len(same_county)))]
    return result


def _duplicates(records: pd.DataFrame, notes: np.ndarray, geo: Geography, rng: np.random.Generator) -> pd.DataFrame:
    """Second entries of ~1 % of planning births: same birth, new number, sometimes another township."""
    chosen = np.flatnonzero(rng.random(len(records)) < DUPLICATE_RATE)
    copies = records.iloc[chosen].copy()
    delay = rng.integers(5, 90, len(copies)).astype("timedelta64[D]")
    registered = copies["registered_on"].to_numpy(dtype="datetime64[D]") + delay
    copies["registered_on"] = np.minimum(registered, np.datetime64(EXPORT_DATE))
    cross = rng.random(len(copies)) < CROSS_TOWNSHIP_DUPLICATES
    codes = copies["area_code"].astype(np.int64).to_numpy().copy()
    codes[cross] = _other_township_villages(codes[cross], geo, rng)
    copies["area_code"] = pd.Series(pa.array(codes).cast(pa.string()), dtype=STRING, index=copies.index)
    copy_notes = notes[chosen].copy()
    _note(copy_notes, cross, "other-township")
    copies["perturbations"] = pd.Series(copy_notes, index=copies.index, dtype=object)
    copies["entry"] = 1
    return copies


def source_records(
    role: str, births: pd.DataFrame, capture: Capture, geo: Geography, parts: Parts,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The rows a source holds: canonical values as the source recorded them, one per entry.

    Columns: ``birth_row`` (row of the births table), ``birth_uid``, the contract fields
    (``child_id`` ... ``registered_on``), ``entry`` (0, or 1 for a duplicate entry),
    ``sex_misreported``, ``perturbations``.
    """
    habits = HABITS[role]
    rows = np.flatnonzero(capture.captured[role])
    held = births.iloc[rows].reset_index(drop=True)
    registered = held["hukou_registered_on" if role == "police" else "registered_on"]
    records = pd.DataFrame({
        "birth_row": rows,
        "birth_uid": held["birth_uid"],
        "child_id": _blank(held["child_id"], habits.child_id, rng),
        "child_name": _blank(held["child_name"], habits.child_name, rng),
        "sex": held["sex"],
        "birth_date": held["birth_date"].to_numpy(dtype="datetime64[D]"),
        "mother_id": _blank(held["mother_id"], habits.mother_id, rng),
        "mother_name": _blank(held["mother_name"], habits.mother_name, rng),
        "area_code": held["area_code"],
        "birth_order": held["birth_order"].to_numpy(),
        "within_policy": held["within_policy"].to_numpy(dtype=bool),
        "migrant": held["migrant"].to_numpy(dtype=bool),
        "registered_on": registered.to_numpy(dtype="datetime64[D]"),
    })
    notes = np.full(len(records), "", dtype=object)
    flipped = rng.random(len(records)) < habits.sex_flip
    if role == "planning":
        # Exactly MISREPORT_RATE of the township's girls, so the planted signal has its strength.
        girls = np.flatnonzero((held["township_code"] == parts.misreport_township).to_numpy(dtype=bool)
                               & (records["sex"] == "F").to_numpy(dtype=bool))
        flipped[girls] = False
        if len(girls):
            count = max(1, int(round(MISREPORT_RATE * len(girls))))
            flipped[rng.choice(girls, size=count, replace=False)] = True
    sex = records["sex"].to_numpy(dtype="U1")
    flipped_sex = np.where(flipped, np.where(sex == "M", "F", "M"), sex)
    records["sex"] = pd.Series(pa.array(flipped_sex), dtype=STRING, index=records.index)
    _note(notes, flipped, "sex-flip")
    records["birth_date"] = _shift_dates(records["birth_date"].to_numpy(dtype="datetime64[D]"), notes, habits, rng)
    _vary_names(records, notes, habits, rng)
    _first_generation_ids(records, notes, habits.first_generation, rng)
    records["sex_misreported"] = flipped
    records["entry"] = 0
    if role == "planning":
        copies = _duplicates(records, notes, geo, rng)
        records["perturbations"] = pd.Series(notes, dtype=object)
        records = pd.concat([records, copies], ignore_index=True)
    else:
        records["perturbations"] = pd.Series(notes, dtype=object)
    return records
