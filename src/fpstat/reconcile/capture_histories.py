"""Capture-history counts: how many births were seen by exactly which lists.

A capture history is one 0/1 flag per list (register): ``1,0,1`` is a birth found in the first
and third list and missing from the second. With ``k`` lists there are ``2^k - 1`` observable
histories; the all-zero history (seen by no list) is what the estimators of completeness
estimate. Histories are held as a vector of counts indexed by a bit mask: the count of history
``h`` (bit ``j`` set when list ``j`` saw the birth) sits at position ``h - 1``.

The tabular form, used by ``fpstat estimate`` and by the reconcile step, has one 0/1 column
per list, named by role (``planning``, ``police``, ...), and a ``count`` column. Repeated
histories are added up; histories not given count zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from fpstat.errors import UsageError

#: Model names write lists as the digits 1..9 (Rcapture's notation), hence the limit.
MAX_LISTS = 9
COUNT_COLUMN = "count"


def history_bits(n_lists: int) -> np.ndarray:
    """``(2^k - 1, k)`` 0/1 matrix: row ``h - 1`` is history ``h``, column ``j`` is list ``j``."""
    masks = np.arange(1, 2**n_lists)
    return ((masks[:, None] >> np.arange(n_lists)[None, :]) & 1).astype(np.int8)


@dataclass(frozen=True)
class CaptureHistories:
    """Counts of the observable capture histories of ``k`` named lists."""

    lists: tuple[str, ...]
    counts: np.ndarray  # float, length 2^k - 1, in bit-mask order

    def __post_init__(self) -> None:
        if not 2 <= len(self.lists) <= MAX_LISTS:
            raise UsageError(
                f"capture histories need 2 to {MAX_LISTS} lists, got {len(self.lists)}",
                f"捕获历史需要 2 至 {MAX_LISTS} 个名单，实际为 {len(self.lists)} 个",
            )
        if len(set(self.lists)) != len(self.lists):
            raise UsageError("list names must be distinct", "名单名称不得重复")
        if self.counts.shape != (2 ** len(self.lists) - 1,):
            raise ValueError("counts must have one entry per observable history")

    @property
    def n_lists(self) -> int:
        return len(self.lists)

    @property
    def n_observed(self) -> float:
        """Births seen by at least one list."""
        return float(self.counts.sum())

    @property
    def list_sizes(self) -> np.ndarray:
        """Births on each list."""
        return self.counts @ history_bits(self.n_lists)

    def overlap(self, first: int, second: int) -> float:
        """Births on both list ``first`` and list ``second`` (0-based positions)."""
        bits = history_bits(self.n_lists)
        return float(self.counts[(bits[:, first] == 1) & (bits[:, second] == 1)].sum())

    @property
    def recaptured(self) -> float:
        """Births on two lists or more: the information every estimator rests on."""
        return float(self.counts[history_bits(self.n_lists).sum(axis=1) >= 2].sum())

    def pairs_without_overlap(self) -> list[tuple[int, int]]:
        return [pair for pair in combinations(range(self.n_lists), 2) if self.overlap(*pair) == 0]

    def reordered(self, lists: Sequence[str]) -> CaptureHistories:
        """The same counts with the lists in another order."""
        positions = [self.lists.index(name) for name in lists]
        bits = history_bits(self.n_lists)[:, positions]
        masks = bits @ (1 << np.arange(self.n_lists))
        counts = np.zeros_like(self.counts)
        counts[masks - 1] = self.counts
        return CaptureHistories(tuple(lists), counts)

    def to_frame(self) -> pd.DataFrame:
        """One row per observable history: a 0/1 column per list and ``count``."""
        frame = pd.DataFrame(history_bits(self.n_lists), columns=list(self.lists))
        frame[COUNT_COLUMN] = self.counts
        return frame

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        lists: Sequence[str] | None = None,
        file: str | None = None,
        row_numbers: Sequence[int] | None = None,
    ) -> CaptureHistories:
        """Validate and add up a table of histories (0/1 list columns and ``count``).

        ``lists`` defaults to every column but ``count``, in table order. Problems raise
        :class:`fpstat.errors.UsageError` naming the file, column and row: ``row_numbers`` gives
        the row each table row came from (as a text editor shows it); by default the row of a
        spreadsheet whose first row is the header (table position + 2).
        """
        lists, masks, counts = history_masks(frame, lists=lists, file=file, row_numbers=row_numbers)
        totals = np.bincount(masks, weights=counts, minlength=2 ** len(lists))
        return cls(lists, totals[1:].astype(float))


def history_masks(
    frame: pd.DataFrame,
    *,
    lists: Sequence[str] | None = None,
    file: str | None = None,
    row_numbers: Sequence[int] | None = None,
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Check a history table and return ``(lists, bit mask per row, count per row)``.

    The checks of :meth:`CaptureHistories.from_frame`; other columns (an area code, say) are
    allowed when ``lists`` names the list columns.
    """
    rows = list(row_numbers) if row_numbers is not None else list(range(2, len(frame) + 2))
    count_column = _find_count_column(frame, file)
    if lists is None:
        lists = [str(column) for column in frame.columns if column != count_column]
    lists = tuple(str(name) for name in lists)
    missing = [name for name in lists if name not in frame.columns]
    if missing:
        raise UsageError(
            f"no column {missing[0]!r} in the capture histories",
            f"捕获历史中没有列“{missing[0]}”",
            file=file,
            field=missing[0],
        )
    if len(lists) < 2:
        raise UsageError(
            "capture histories need at least two list columns besides 'count'",
            "捕获历史除 count 列外至少需要两个名单列",
            file=file,
        )
    if len(lists) > MAX_LISTS:
        raise UsageError(
            f"at most {MAX_LISTS} lists can be estimated together, got {len(lists)}",
            f"最多可同时估计 {MAX_LISTS} 个名单，实际为 {len(lists)} 个",
            file=file,
        )
    masks = np.zeros(len(frame), dtype=np.int64)
    for position, name in enumerate(lists):
        masks |= _flag_column(frame[name], name, file, rows) << position
    counts = _count_column(frame[count_column], count_column, file, rows)
    unobservable = np.flatnonzero((masks == 0) & (counts > 0))
    if unobservable.size:
        raise UsageError(
            "a history with every list 0 cannot be observed; drop the row or set its count to 0",
            "所有名单均为 0 的历史无法观测；请删除该行或将其 count 设为 0",
            file=file,
            row=rows[int(unobservable[0])],
            field=count_column,
        )
    return lists, masks, counts


def _find_count_column(frame: pd.DataFrame, file: str | None) -> str:
    matches = [column for column in frame.columns if str(column).strip().lower() == COUNT_COLUMN]
    if not matches:
        raise UsageError(
            "the capture histories have no 'count' column (one 0/1 column per list, plus count)",
            "捕获历史缺少 count 列（每个名单一列 0/1，另加 count 列）",
            file=file,
            field=COUNT_COLUMN,
        )
    if len(matches) > 1:
        raise UsageError(
            "the capture histories have more than one 'count' column",
            "捕获历史中有多个 count 列",
            file=file,
            field=COUNT_COLUMN,
        )
    return str(matches[0])


def _shown(value: object) -> str:
    """A cell value fit for an error message: blanks shown empty, long text cut."""
    text = "" if pd.isna(value) else str(value)  # type: ignore[call-overload]
    return text if len(text) <= 20 else text[:17] + "..."


def _as_numbers(column: pd.Series) -> np.ndarray:
    """Float values of a column; text is trimmed first; anything unreadable becomes NaN."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        numbers = pd.to_numeric(column, errors="coerce")
    else:
        numbers = pd.to_numeric(column.astype("string").str.strip(), errors="coerce")
    return numbers.to_numpy(dtype=float, na_value=np.nan)


def _flag_column(column: pd.Series, name: str, file: str | None, rows: list[int]) -> np.ndarray:
    numbers = _as_numbers(column)
    valid = (numbers == 0) | (numbers == 1)
    if not valid.all():
        position = int(np.flatnonzero(~valid)[0])
        value = _shown(column.iloc[position])
        raise UsageError(
            f"list columns hold 0 or 1, found {value!r}",
            f"名单列只能为 0 或 1，发现 {value!r}",
            file=file,
            row=rows[position],
            field=name,
        )
    return numbers.astype(np.int64)


def _count_column(column: pd.Series, name: str, file: str | None, rows: list[int]) -> np.ndarray:
    values = _as_numbers(column)
    valid = np.isfinite(values) & (values >= 0)
    if not valid.all():
        position = int(np.flatnonzero(~valid)[0])
        value = _shown(column.iloc[position])
        raise UsageError(
            f"count must be a number of births (0 or more), found {value!r}",
            f"count 须为出生人数（0 或以上），发现 {value!r}",
            file=file,
            row=rows[position],
            field=name,
        )
    return values
