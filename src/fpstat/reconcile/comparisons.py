"""Field comparisons of record pairs: the comparison vectors of the Fellegi-Sunter model.

A pair is a record (or cluster profile) on each side, see :mod:`fpstat.reconcile.prepared`.
Every field is compared as array arithmetic on integer codes; only name similarity calls
rapidfuzz, once per distinct pair of names. Levels run from 0 (disagreement) up to full
agreement; :data:`MISSING` (-1) when a side lacks the field. Field order is :data:`FIELDS`.
"""

from __future__ import annotations

import numpy as np

from fpstat.reconcile.fellegi_sunter import MISSING
from fpstat.reconcile.names import EncodedNames, NameThresholds, pairwise_similarity
from fpstat.reconcile.prepared import NO_DAY, PreparedRecords

#: Field -> level labels, from disagreement (0) to full agreement (last). ``mother`` is one
#: field for the mother's ID and name together: both describe the same person, and counting
#: them as independent evidence would make any sibling look like the same birth.
FIELDS: dict[str, tuple[str, ...]] = {
    "child_id": ("different", "same"),
    "mother": (
        "different ID", "different name", "similar name", "homophone name", "same name",
        "same ID birth date and sequence", "same ID",
    ),
    "father_id": ("different", "same"),
    "child_name": ("different", "partly similar", "similar", "homophone", "same"),
    "birth_date": ("different", "within a month", "day and month swapped", "within tolerance", "same"),
    "sex": ("different", "same"),
    "area": ("different county", "same county", "same township, other village",
             "same township, village not given", "same village"),
    "birth_order": ("different", "same"),
}
FIELD_NAMES: tuple[str, ...] = tuple(FIELDS)
LEVEL_COUNTS: tuple[int, ...] = tuple(len(labels) for labels in FIELDS.values())
COLUMN: dict[str, int] = {name: index for index, name in enumerate(FIELD_NAMES)}
#: Levels of ``mother`` decided by the IDs (the others by the names, when an ID is missing).
MOTHER_SAME_ID, MOTHER_SAME_TAIL, MOTHER_DIFFERENT_ID = 6, 5, 0
MOTHER_SAME_NAME, MOTHER_HOMOPHONE_NAME = 4, 3

#: Pseudo-count centres for m (matches): "records of one birth mostly agree, with the typing
#: errors registers are known for". Known matches and EM outweigh them at once.
DEFAULT_M: dict[str, tuple[float, ...]] = {
    "child_id": (0.02, 0.98),
    "mother": (0.005, 0.01, 0.01, 0.04, 0.35, 0.005, 0.58),
    "father_id": (0.05, 0.95),
    "child_name": (0.05, 0.03, 0.04, 0.08, 0.80),
    "birth_date": (0.005, 0.01, 0.02, 0.05, 0.915),
    "sex": (0.02, 0.98),
    "area": (0.03, 0.07, 0.20, 0.10, 0.60),
    "birth_order": (0.10, 0.90),
}
#: Pseudo-count centres for u (non-matches); random pairs outweigh them at once.
DEFAULT_U: dict[str, tuple[float, ...]] = {
    "child_id": (0.99999, 0.00001),
    "mother": (0.4, 0.59, 0.005, 0.002, 0.002, 0.00001, 0.00001),
    "father_id": (0.99999, 0.00001),
    "child_name": (0.90, 0.07, 0.02, 0.005, 0.005),
    "birth_date": (0.95, 0.04, 0.004, 0.004, 0.002),
    "sex": (0.5, 0.5),
    "area": (0.80, 0.15, 0.035, 0.005, 0.01),
    "birth_order": (0.5, 0.5),
}
def _identity_levels(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    levels = (left == right).astype(np.int8)
    levels[(left < 0) | (right < 0)] = MISSING
    return levels


def _name_levels(a: EncodedNames, b: EncodedNames, thresholds: NameThresholds, workers: int) -> np.ndarray:
    levels = np.zeros(len(a.simplified), dtype=np.int8)
    present = (a.simplified >= 0) & (b.simplified >= 0)
    unsure = present & (a.simplified != b.simplified) & (a.pinyin != b.pinyin)
    if unsure.any():
        characters = pairwise_similarity(
            a.simplified_values, a.simplified[unsure], b.simplified[unsure], workers)
        sounds = pairwise_similarity(a.pinyin_values, a.pinyin[unsure], b.pinyin[unsure], workers)
        similar = (characters >= thresholds.similar_chars) | (sounds >= thresholds.similar_pinyin)
        levels[unsure] = np.where(similar, 2, np.where(characters >= thresholds.partial_chars, 1, 0))
    levels[present & (a.pinyin == b.pinyin)] = 3
    levels[present & (a.simplified == b.simplified)] = 4
    levels[~present] = MISSING
    return levels


def _mother_levels(a: PreparedRecords, b: PreparedRecords, names: NameThresholds, workers: int) -> np.ndarray:
    """The mother by ID where both sides have one, else by name (name levels 0..4)."""
    both_ids = (a.mother_id >= 0) & (b.mother_id >= 0)
    levels = np.full(len(a), MOTHER_DIFFERENT_ID, dtype=np.int8)
    levels[both_ids & (a.mother_id_tail == b.mother_id_tail)] = MOTHER_SAME_TAIL
    levels[both_ids & (a.mother_id == b.mother_id)] = MOTHER_SAME_ID
    by_name = np.flatnonzero(~both_ids)
    if len(by_name):
        name_levels = _name_levels(a.mother_name.take(by_name), b.mother_name.take(by_name),
                                   names, workers)
        # name "different" and "partly similar" (a shared surname says little) -> "different name"
        levels[by_name] = np.where(name_levels == MISSING, MISSING, np.maximum(name_levels, 1))
    return levels


def _date_levels(a: PreparedRecords, b: PreparedRecords, tolerance: int) -> np.ndarray:
    gap = np.abs(a.birth_day.astype(np.int64) - b.birth_day.astype(np.int64))
    swapped = (a.swapped_day == b.birth_day) | (b.swapped_day == a.birth_day)
    levels = np.zeros(len(a), dtype=np.int8)
    levels[gap <= 31] = 1
    levels[swapped & (gap > 0)] = 2
    levels[(gap <= tolerance) & (gap > 0)] = 3
    levels[gap == 0] = 4
    levels[(a.birth_day == NO_DAY) | (b.birth_day == NO_DAY)] = MISSING
    return levels


def _area_levels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Area agreement; a code that stops at the township (village digits 000, as hospitals
    write it) agrees with any village of that township, on a level of its own."""
    levels = np.zeros(len(a), dtype=np.int8)
    levels[a // 1_000_000 == b // 1_000_000] = 1
    same_township = a // 1000 == b // 1000
    levels[same_township] = 2
    levels[same_township & ((a % 1000 == 0) | (b % 1000 == 0))] = 3
    levels[a == b] = 4
    levels[(a <= 0) | (b <= 0)] = MISSING
    return levels


def compare_pairs(
    left: PreparedRecords,
    left_index: np.ndarray,
    right: PreparedRecords,
    right_index: np.ndarray,
    *,
    date_tolerance_days: int,
    names: NameThresholds,
    workers: int = 1,
) -> np.ndarray:
    """Comparison vectors (pairs x :data:`FIELD_NAMES`, int8) of ``left[left_index[i]]`` and
    ``right[right_index[i]]`` (records or cluster profiles)."""
    a, b = left.take(left_index), right.take(right_index)
    levels = np.empty((len(a), len(FIELD_NAMES)), dtype=np.int8)
    levels[:, COLUMN["child_id"]] = _identity_levels(a.child_id, b.child_id)
    levels[:, COLUMN["mother"]] = _mother_levels(a, b, names, workers)
    levels[:, COLUMN["father_id"]] = _identity_levels(a.father_id, b.father_id)
    levels[:, COLUMN["child_name"]] = _name_levels(a.child_name, b.child_name, names, workers)
    levels[:, COLUMN["birth_date"]] = _date_levels(a, b, date_tolerance_days)
    sex = (a.sex == b.sex).astype(np.int8)
    sex[(a.sex == 0) | (b.sex == 0)] = MISSING
    levels[:, COLUMN["sex"]] = sex
    levels[:, COLUMN["area"]] = _area_levels(a.area, b.area)
    levels[:, COLUMN["birth_order"]] = _identity_levels(a.birth_order.astype(np.int16),
                                                        b.birth_order.astype(np.int16))
    return levels
