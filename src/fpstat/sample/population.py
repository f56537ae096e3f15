"""The true births of a drop: who was born, where, when, to whom.

Everything the sources capture is drawn from this table, and ``truth/births.parquet`` is this
table. It is built from *maternities* (a mother giving birth on one day, to one child or twins),
so that mother ID alone is not a key: twins share a mother and a date, and some mothers have a
second child within the drop's two statistical years.

Rates are chosen to look like a Chinese prefecture in 2023-2025: births spread over the year
with a mild autumn peak and more births in 2024 (a Dragon year), about 46 % first, 40 %
second and 14 % third or later births; a sex ratio at birth of 106-116 by county, higher for
later births; 8-15 % of mothers migrants; most births within policy, later ones less often.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpstat.sample import identity
from fpstat.sample.geography import SWING, TRAITS, Geography

WINDOW_START = dt.date(2023, 10, 1)   # first day of 2024SY
WINDOW_END = dt.date(2025, 9, 30)     # last day of 2025SY
EXPORT_DATE = dt.date(2026, 1, 15)    # the day the offices exported their registers
AS_OF = dt.date(2026, 1, 31)          # the date a run on the drop is judged by
PERIODS = ("2024SY", "2025SY")

TWIN_RATE = 0.012          # twin maternities per maternity
SIBLING_RATE = 0.03        # mothers with a first maternity early enough who have another one
SRB_BY_ORDER = (0.0, -4.0, 3.0, 12.0)   # added to the county's sex ratio, by birth order
#: Strength of the injected monthly sex-ratio swing, as the chi-square non-centrality it
#: gives over the swing county's register births (55 gives a test p < 0.001 most of the time).
SWING_NONCENTRALITY = 55.0
SWING_MIN, SWING_MAX = 0.062, 0.12  # the swing in P(boy): at least 140 vs 85, at most ~190 vs 68

#: County codes of other provinces that migrant mothers come from.
_ORIGINS = np.array([340121, 341221, 341222, 341321, 411625, 411524, 511725, 360826,
                     430521, 450521, 522422, 370826], dtype=np.int64)


def _day_weights() -> tuple[np.ndarray, np.ndarray]:
    days = pd.date_range(WINDOW_START, WINDOW_END, freq="D")
    season = 1.0 + 0.06 * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - 290) / 365.25)
    dragon_year = np.where(days.year == 2024, 1.05, 1.0)
    weights = season * dragon_year
    return days.to_numpy(dtype="datetime64[D]"), weights / weights.sum()


def swing_amplitude(births: int, county_share: float) -> float:
    """The swing in P(boy) that makes the swing county's monthly ratios detectably volatile."""
    register_births = max(births * county_share * 0.88, 1.0)
    wanted = math.sqrt(SWING_NONCENTRALITY * 0.25 / register_births)
    return float(min(max(wanted, SWING_MIN), SWING_MAX))


def _maternities(geo: Geography, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """Maternities with village, date, order and the mother's traits."""
    villages = geo.villages
    village = rng.choice(len(villages), size=count, p=villages["share"].to_numpy())
    part = villages["part"].to_numpy()[village]
    days, weights = _day_weights()
    date = days[rng.choice(len(days), size=count, p=weights)]
    order = np.zeros(count, dtype=np.int64)
    migrant = np.zeros(count, dtype=bool)
    uniform = rng.random(count)
    for county_part, traits in TRAITS.items():
        here = part == county_part
        cumulative = np.cumsum(traits.order_mix)
        order[here] = 1 + (uniform[here][:, None] > cumulative[None, :]).sum(axis=1).clip(0, 2)
        migrant[here] = rng.random(int(here.sum())) < traits.migrant_share
    return pd.DataFrame({
        "village": village, "part": part, "date": date, "order": order, "migrant": migrant,
        "mother": np.arange(count), "multiplicity": np.where(rng.random(count) < TWIN_RATE, 2, 1),
    })


def _add_siblings(maternities: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A later maternity, 10-23 months on, for a few mothers whose first one came early."""
    last_day = np.datetime64(WINDOW_END)
    gap = rng.integers(300, 700, len(maternities)).astype("timedelta64[D]")
    second_date = maternities["date"].to_numpy(dtype="datetime64[D]") + gap
    chosen = (rng.random(len(maternities)) < SIBLING_RATE) & (second_date <= last_day)
    siblings = maternities.loc[chosen].copy()
    siblings["date"] = second_date[chosen]
    siblings["order"] = np.minimum(siblings["order"] + 1, 3)
    siblings["multiplicity"] = 1
    return pd.concat([maternities, siblings], ignore_index=True)


def _trim_to(maternities: pd.DataFrame, births: int, rng: np.random.Generator) -> pd.DataFrame:
    """Drop random single-birth maternities of mothers with one maternity until ``births`` remain."""
    excess = int(maternities["multiplicity"].sum()) - births
    mother = maternities["mother"].to_numpy()
    counts = np.bincount(mother)
    lone = counts[mother] == 1
    candidates = np.flatnonzero(lone & (maternities["multiplicity"].to_numpy() == 1))
    dropped = rng.choice(candidates, size=excess, replace=False)
    return maternities.drop(index=dropped).reset_index(drop=True)


def _mother_ids(
    geo: Geography, county6: np.ndarray, migrant: np.ndarray, dob: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, pa.Array]:
    """Mother ID prefixes (where she was first registered) and IDs."""
    count = len(county6)
    all_counties = geo.counties["county_code"].str.slice(0, 6).astype(np.int64).to_numpy()
    draw = rng.random(count)
    other_county = all_counties[rng.integers(0, len(all_counties), count)]
    origin = _ORIGINS[rng.integers(0, len(_ORIGINS), count)]
    prefix = np.where(draw < 0.85, county6, np.where(draw < 0.95, other_county, origin))
    prefix = np.where(migrant, np.where(draw < 0.9, origin, county6), prefix)
    sequence, _ = identity.unique_sequences(prefix, dob, np.zeros(count, dtype=bool), rng)
    return prefix, identity.resident_ids(prefix, dob, sequence)


def _mother_birth_dates(maternities: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Born 1980-2004, aged 19+ at the maternity; older for later births."""
    mean_age = np.array([0.0, 28.0, 31.5, 34.0])[maternities["order"].to_numpy()]
    age_days = np.round((mean_age + rng.normal(0, 4, len(maternities))) * 365.25).astype(np.int64)
    date = maternities["date"].to_numpy(dtype="datetime64[D]")
    dob = date - age_days.astype("timedelta64[D]")
    latest = np.minimum(np.datetime64("2004-12-31"), date - np.timedelta64(int(19 * 365.25), "D"))
    return np.clip(dob, np.datetime64("1980-01-01"), latest)


def _sexes(
    part: np.ndarray, birth_order: np.ndarray, dates: np.ndarray, geo: Geography, total: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """True where a boy; in the swing county odd months get more boys, even months fewer.

    Elsewhere each birth is a boy with its county's and order's probability. In the swing
    county each month gets exactly its planned number of boys (drawn with weights by birth
    order, Efraimidis & Spirakis 2006), so the planted swing has the strength it was given.
    """
    srb = np.array([TRAITS[p].srb for p in range(len(TRAITS))])[part]
    srb = srb + np.array(SRB_BY_ORDER)[birth_order]
    p_boy = srb / (100.0 + srb)
    male = rng.random(len(part)) < p_boy
    swing_share = float(geo.counties.loc[geo.counties["part"] == SWING, "share"].iloc[0])
    amplitude = swing_amplitude(total, swing_share)
    month_index = dates.astype("datetime64[M]").astype(np.int64)
    in_swing = np.flatnonzero(part == SWING)
    keys = np.log(rng.random(len(in_swing))) / p_boy[in_swing]
    for month in np.unique(month_index[in_swing]).tolist():
        here = in_swing[month_index[in_swing] == month]
        shift = amplitude if (month % 12 + 1) % 2 == 1 else -amplitude
        boys = int(round(len(here) * float(np.clip(p_boy[here].mean() + shift, 0.0, 1.0))))
        chosen = np.argsort(-keys[month_index[in_swing] == month], kind="stable")[:boys]
        male[here] = False
        male[here[chosen]] = True
    return male


def _delays(rng: np.random.Generator, late_share: np.ndarray, longest: int) -> np.ndarray:
    """Days from birth to registration: within 30 days for most, one to four months for the
    late ones, and up to ``longest`` days for a fifth of those."""
    count = len(late_share)
    prompt = rng.integers(1, 31, count)
    late = rng.integers(31, 121, count)
    very_late = rng.integers(121, longest, count)
    draw = rng.random(count)
    return np.where(draw < 1 - late_share, prompt, np.where(draw < 1 - late_share / 5, late, very_late))


def _code_text(codes: np.ndarray) -> pa.Array:
    return pa.array(codes, type=pa.int64()).cast(pa.string())


def _generate_maternities(geo: Geography, births: int, rng: np.random.Generator) -> pd.DataFrame:
    """Maternities holding exactly ``births`` births, in date and village order."""
    base = int(births / (1 + TWIN_RATE) / (1 + SIBLING_RATE * 0.5)) + 50
    maternities = _add_siblings(_maternities(geo, base, rng), rng)
    while int(maternities["multiplicity"].sum()) < births:  # rare: top up with singletons
        extra = _maternities(geo, births - int(maternities["multiplicity"].sum()) + 10, rng)
        extra["mother"] += int(maternities["mother"].max()) + 1
        extra["multiplicity"] = 1
        maternities = pd.concat([maternities, extra], ignore_index=True)
    maternities = _trim_to(maternities, births, rng)
    chronological = np.lexsort((
        rng.permutation(len(maternities)),
        maternities["village"].to_numpy(),
        maternities["date"].to_numpy(dtype="datetime64[D]").astype(np.int64),
    ))
    return maternities.iloc[chronological].reset_index(drop=True)


def true_births(geo: Geography, births: int, rng: np.random.Generator) -> pd.DataFrame:
    """One row per true birth, numbered in date order (see ``docs/sample.md`` for the columns)."""
    maternities = _generate_maternities(geo, births, rng)
    village_codes = geo.villages["village_code"].astype(np.int64).to_numpy()

    # The mother's own traits (home village, migrant status) come from her first maternity.
    mother_key = maternities["mother"].to_numpy()
    by_mother = np.lexsort((np.arange(len(mother_key)), mother_key))
    first_rows = by_mother[np.r_[True, mother_key[by_mother][1:] != mother_key[by_mother][:-1]]]
    mother_of = np.unique(mother_key, return_inverse=True)[1]
    first = maternities.iloc[first_rows].reset_index(drop=True)
    home_village = village_codes[first["village"].to_numpy()]
    mother_migrant = first["migrant"].to_numpy()
    mother_dob = _mother_birth_dates(first, rng)
    id_prefix, mother_ids = _mother_ids(geo, home_village // 10**6, mother_migrant, mother_dob, rng)
    mother_names = identity.mother_names(rng, len(first))
    father_surname = identity.surnames(rng, len(first))

    repeat = maternities["multiplicity"].to_numpy()
    m_index = np.repeat(np.arange(len(maternities)), repeat)    # maternity of each birth
    mother = mother_of[m_index]                                 # mother of each birth
    count = len(m_index)
    part = maternities["part"].to_numpy()[m_index]
    birth_order = maternities["order"].to_numpy()[m_index]
    dates = maternities["date"].to_numpy(dtype="datetime64[D]")[m_index]
    migrant = mother_migrant[mother]
    area = home_village[mother]

    traits = np.array([TRAITS[p].within_policy for p in range(len(TRAITS))])
    maternity_policy = rng.random(len(maternities)) < traits[
        maternities["part"].to_numpy(), maternities["order"].to_numpy() - 1
    ]
    within_policy = maternity_policy[m_index]                   # twins share it
    male = _sexes(part, birth_order, dates, geo, births, rng)
    surname = np.where(rng.random(count) < 0.9, father_surname[mother], identity.surnames(rng, count))
    child_names = identity.child_names(rng, surname, male)

    # Children get an ID when their hukou is registered, at home or (migrants) at the origin.
    out_of_policy = ~within_policy
    p_id = np.where(migrant, 0.88, 0.97) * np.where(out_of_policy & (birth_order == 3), 0.9, 1.0)
    prefix = np.where(migrant & (rng.random(count) < 0.8), id_prefix[mother], area // 10**6)
    sequence, fits = identity.unique_sequences(prefix, dates, male, rng)
    has_id = (rng.random(count) < p_id) & fits
    child_ids = identity.resident_ids(prefix, dates, sequence)

    late = 0.08 + 0.08 * out_of_policy + 0.04 * migrant
    registered_on = dates + _delays(rng, late, 365).astype("timedelta64[D]")
    hukou_late = 0.15 + 0.05 * (~male) + 0.10 * out_of_policy
    hukou_on = dates + _delays(rng, hukou_late, 400).astype("timedelta64[D]")
    hukou_on = np.where(has_id, hukou_on, np.datetime64("NaT"))

    width = max(7, len(str(count)))
    mother_take = pa.array(mother)
    columns = {
        "birth_uid": identity.numbered("B", np.arange(1, count + 1), width),
        "maternity_uid": identity.numbered("M", m_index + 1, width),
        "area_code": _code_text(area),
        "township_code": _code_text(area // 1000 * 1000),
        "county_code": _code_text(area // 10**6 * 10**6),
        "part": part,
        "birth_date": dates,
        "sex": pa.array(np.where(male, "M", "F")),
        "birth_order": birth_order,
        "within_policy": within_policy,
        "migrant": migrant,
        "multiple_birth": repeat[m_index] > 1,
        "mother_id": mother_ids.take(mother_take),
        "mother_name": mother_names.take(mother_take),
        "mother_birth_date": mother_dob[mother],
        "child_id": pc.if_else(pa.array(has_id), child_ids, pa.scalar(None, pa.string())),
        "child_name": child_names,
        "registered_on": registered_on,
        "hukou_registered_on": hukou_on,
    }
    return pd.DataFrame({
        name: pd.Series(values, dtype=pd.ArrowDtype(pa.string())) if isinstance(values, pa.Array)
        else values
        for name, values in columns.items()
    })
