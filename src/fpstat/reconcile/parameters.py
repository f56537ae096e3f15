"""Where the Fellegi-Sunter parameters of one linking step come from.

* **u** (level frequencies among non-matches) is measured on the whole comparison space, i.e.
  on random (birth, cluster) pairs, which are almost all non-matches (Jaro 1989 draws u from
  random pairs in the same way). Blocking only decides which pairs get scored; the pairs it
  leaves out are non-matches too, so u over all pairs is the right u. Frequencies within the
  blocks would be wrong for it: there, every pair agrees on some block key, and the union of
  several blocking rules makes the fields look dependent (a pair from the mother-ID block
  agrees on the mother but not the date, one from the date block the other way round).
  Agreement on an identifier is far too rare to be seen in a sample, so the "same" levels of
  IDs, names (and homophones) and birth dates take their exact random-pair frequency from
  the value counts instead (``sum_v n_left(v) n_right(v) / (N_left N_right)``, the
  frequency-based u of Winkler 1988); the sample gives the other levels.
* **m** (level frequencies among matches) starts from the source's exact links, which are
  matches (masked on the fields each pass selected on), and is refined by EM together with
  lambda, the expected share of matches among all pairs (semi-supervised EM, Larsen & Rubin
  2001); see :func:`fpstat.reconcile.fellegi_sunter.estimate_em`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fpstat.reconcile.comparisons import (
    COLUMN,
    DEFAULT_M,
    DEFAULT_U,
    FIELD_NAMES,
    LEVEL_COUNTS,
    MOTHER_HOMOPHONE_NAME,
    MOTHER_SAME_ID,
    MOTHER_SAME_NAME,
    MOTHER_SAME_TAIL,
)
from fpstat.reconcile.fellegi_sunter import MISSING, FellegiSunterModel, level_frequencies
from fpstat.reconcile.prepared import NO_DAY, PreparedRecords

#: compare(left rows, right rows) -> comparison vectors
Compare = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _shared_value_rate(left_codes: np.ndarray, right_codes: np.ndarray, self_pairs: int = 0) -> float:
    """P(a random (left, right) pair shares a value), from the value counts of both sides.

    ``self_pairs``: pairs of a row with itself (when both sides hold it) that share their own
    value; they are no pairs and are taken out.
    """
    if len(left_codes) == 0 or len(right_codes) == 0:
        return 0.0
    size = int(max(left_codes.max(initial=-1), right_codes.max(initial=-1))) + 1
    if size <= 0:
        return 0.0
    left_counts = np.bincount(left_codes[left_codes >= 0], minlength=size).astype(np.float64)
    right_counts = np.bincount(right_codes[right_codes >= 0], minlength=size).astype(np.float64)
    shared = float(np.dot(left_counts, right_counts)) - self_pairs
    return max(shared, 0.0) / (float(len(left_codes)) * float(len(right_codes)))


def _set_rare_levels(u: np.ndarray, present_rate: float, rare: dict[int, float]) -> np.ndarray:
    """Put exact rates on the rare levels of one field and rescale its other levels."""
    if present_rate <= 0:
        return u
    fixed = {level: min(rate / present_rate, 1.0) for level, rate in rare.items()}
    others = [level for level in range(len(u)) if level not in fixed]
    remaining = max(1.0 - sum(fixed.values()), 0.0)
    total_others = float(u[others].sum())
    result = u.copy()
    for level in others:
        result[level] = u[level] / total_others * remaining if total_others > 0 else 0.0
    for level, value in fixed.items():
        result[level] = value
    return result


def _rows_in_both(left_rows: np.ndarray, right_rows: np.ndarray) -> np.ndarray:
    """The rows in both lists, sorted, each once: ``np.intersect1d``, which in numpy 2.4 takes
    seconds on a million rows (its ``np.unique`` hashes), done by marking rows in two masks."""
    size = int(max(left_rows.max(initial=-1), right_rows.max(initial=-1))) + 1
    in_right = np.zeros(size, dtype=bool)
    in_right[right_rows] = True
    in_left = np.zeros(size, dtype=bool)
    in_left[left_rows] = True
    return np.flatnonzero(in_left & in_right)


def random_pair_u(
    compare: Compare,
    left: PreparedRecords, left_rows: np.ndarray,
    right: PreparedRecords, right_rows: np.ndarray,
    *, size: int, rng: np.random.Generator, prior_strength: float,
) -> list[np.ndarray]:
    """u per field: level frequencies of ``size`` random (left, right) pairs, with the "same"
    levels of identifiers, child names and dates from value counts."""
    default_u = [np.array(DEFAULT_U[name]) for name in FIELD_NAMES]
    if size == 0 or len(left_rows) == 0 or len(right_rows) == 0:
        return [values / values.sum() for values in default_u]
    sample = compare(left_rows[rng.integers(0, len(left_rows), size)],
                     right_rows[rng.integers(0, len(right_rows), size)])
    u = level_frequencies(sample, LEVEL_COUNTS, pseudo=default_u, pseudo_strength=prior_strength)

    def present_rate(field: str) -> float:
        return float(np.mean(sample[:, COLUMN[field]] != MISSING))

    both_sides = _rows_in_both(left_rows, right_rows) if left is right else left_rows[:0]

    def rate(codes_of: Callable[[PreparedRecords], np.ndarray]) -> float:
        self_pairs = int((codes_of(left)[both_sides] >= 0).sum())
        return _shared_value_rate(codes_of(left)[left_rows], codes_of(right)[right_rows], self_pairs)

    for field in ("child_id", "father_id"):
        same = rate(lambda records, field=field: getattr(records, field))
        u[COLUMN[field]] = _set_rare_levels(u[COLUMN[field]], present_rate(field), {1: same})
    same_name = rate(lambda records: records.child_name.simplified)
    homophone = max(rate(lambda records: records.child_name.pinyin) - same_name, 0.0)
    u[COLUMN["child_name"]] = _set_rare_levels(
        u[COLUMN["child_name"]], present_rate("child_name"), {4: same_name, 3: homophone})
    days_left, days_right = left.birth_day[left_rows], right.birth_day[right_rows]
    known_days = np.concatenate([days_left[days_left != NO_DAY], days_right[days_right != NO_DAY]])
    if len(known_days):
        first = int(known_days.min())

        def day_codes(days: np.ndarray) -> np.ndarray:
            return np.where(days == NO_DAY, -1, days.astype(np.int64) - first)

        self_days = int((left.birth_day[both_sides] != NO_DAY).sum())
        same_day = _shared_value_rate(day_codes(days_left), day_codes(days_right), self_days)
        u[COLUMN["birth_date"]] = _set_rare_levels(
            u[COLUMN["birth_date"]], present_rate("birth_date"), {4: same_day})
    same_id = rate(lambda records: records.mother_id)
    same_tail = max(rate(lambda records: records.mother_id_tail) - same_id, 0.0)
    # The mother is compared by name where the two do not both have her ID.
    scale = float(len(left_rows)) * float(len(right_rows))
    ids_left, ids_right = left.mother_id[left_rows] >= 0, right.mother_id[right_rows] >= 0
    share_with_ids = float(ids_left.sum()) * float(ids_right.sum()) / scale

    def by_name(codes_of: Callable[[PreparedRecords], np.ndarray]) -> float:
        codes_left, codes_right = codes_of(left)[left_rows], codes_of(right)[right_rows]
        self_pairs = int((codes_of(left)[both_sides] >= 0).sum())
        own = both_sides[left.mother_id[both_sides] >= 0]  # self pairs that both have an ID
        with_ids = _shared_value_rate(codes_left[ids_left], codes_right[ids_right],
                                      int((codes_of(left)[own] >= 0).sum()))
        return max(_shared_value_rate(codes_left, codes_right, self_pairs)
                   - with_ids * share_with_ids, 0.0)

    same_mother_name = by_name(lambda records: records.mother_name.simplified)
    homophone_mother = max(by_name(lambda records: records.mother_name.pinyin) - same_mother_name, 0.0)
    u[COLUMN["mother"]] = _set_rare_levels(
        u[COLUMN["mother"]], present_rate("mother"),
        {MOTHER_SAME_ID: same_id, MOTHER_SAME_TAIL: same_tail, MOTHER_SAME_NAME: same_mother_name,
         MOTHER_HOMOPHONE_NAME: homophone_mother})
    return u


def known_match_m(known: np.ndarray, prior_strength: float) -> list[np.ndarray]:
    """m per field from known matches (rows MISSING where a pass selected on the field)."""
    default_m = [np.array(DEFAULT_M[name]) for name in FIELD_NAMES]
    return level_frequencies(known, LEVEL_COUNTS, pseudo=default_m, pseudo_strength=prior_strength)


def starting_model(
    m: list[np.ndarray], u: list[np.ndarray], open_births: int, total_pairs: float
) -> FellegiSunterModel:
    """The EM start; lambda assumes half the open births have a match among the clusters."""
    prior = 0.5 * open_births / max(total_pairs, 1.0)
    return FellegiSunterModel(FIELD_NAMES, m, u, float(np.clip(prior, 1e-12, 0.5)))
