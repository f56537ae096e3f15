"""Finding the header row of an export, its title rows, and two-row (grouped) headers.

Office exports put a title (``XX县2025年度出生登记台账``), sometimes a unit line, then the
header, sometimes as two rows: a group row with merged cells (``出生人数`` spanning two columns)
over sub-headers (``男`` / ``女``), with single-level columns merged vertically (``地区``).

* The header row is, among the first :data:`HEAD_ROWS` non-blank rows, the one that maximises the
  caller's scorer (schema counts cells matching contract aliases); without a scorer, or when
  no row scores above zero, the first row whose non-empty cells are all text and number at least
  half of the widest row's non-empty cells, and at least two unless the table has one column
  (a lone cell is a title: ``XX县出生登记`` above a two-column table).
* A two-row header is recognised between the header row and the row directly below it or
  directly above it. Evidence is a merged range lying in the upper row only and spanning
  several columns (not the whole table: that is a title), with text under it in the lower row;
  or, where the file has no merge information (CSV) or did not merge, the pattern a merge leaves
  behind: an upper row with several labels, one of them followed by blank cells that the lower
  row fills, every column labelled by one of the two rows, some upper label with nothing below
  it, and no lower cell that looks like a value (a number or a date), so that a first data row
  under a header with a blank column is not mistaken for sub-headers.
* Combined labels are ``group|sub``; a column labelled in one row only keeps that label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

HEAD_ROWS = 30

HeaderScorer = Callable[[list[str]], float]

# A sub-header is a label; a cell made of digits and date punctuation is a value (data row).
_VALUE_LIKE = re.compile(r"^[\d\s.,:/\-+%年月日时分秒]*\d[\d\s.,:/\-+%年月日时分秒]*$")


@dataclass(frozen=True)
class HeadRow:
    """One non-blank row near the top of a sheet."""

    number: int  # 1-based row number as Excel / an editor shows it
    texts: list[str]  # one per table column; "" when empty
    kinds: list[str | None]  # "s", "n", "d", "b" or None, as in RawSheet.kinds

    @property
    def filled(self) -> list[int]:
        return [column for column, text in enumerate(self.texts) if text]

    def all_text(self) -> bool:
        return all(self.kinds[column] == "s" for column in self.filled)


@dataclass(frozen=True)
class Merge:
    """A merged range: 1-based row numbers, 0-based table column indices, inclusive."""

    first_row: int
    last_row: int
    first_column: int
    last_column: int


@dataclass(frozen=True)
class HeaderLayout:
    """Where the header is and what it says."""

    header_row: int  # row number of the last header row
    headers: list[str]
    title: list[str]


def locate_header(
    head: Sequence[HeadRow],
    width: int,
    *,
    scorer: HeaderScorer | None = None,
    merges: Sequence[Merge] = (),
) -> HeaderLayout | None:
    """The header layout of a sheet from its first non-blank rows; None when there is none."""
    head = list(head)[:HEAD_ROWS]
    position = _header_position(head, scorer)
    if position is None:
        return None
    header = head[position]
    above = head[position - 1] if position > 0 else None
    below = head[position + 1] if position + 1 < len(head) else None
    if above is not None and _is_group_pair(above, header, width, merges):
        first, last = above, header
    elif below is not None and _is_group_pair(header, below, width, merges):
        first, last = header, below
    else:
        titles = [_row_title(row) for row in head[:position]]
        return HeaderLayout(header.number, list(header.texts), titles)
    headers = _combined_labels(first, last, merges)
    titles = [_row_title(row) for row in head if row.number < first.number]
    return HeaderLayout(last.number, headers, titles)


def _header_position(head: list[HeadRow], scorer: HeaderScorer | None) -> int | None:
    if not head:
        return None
    if scorer is not None:
        scores = [scorer(list(row.texts)) for row in head]
        best = max(scores)
        if best > 0:
            return scores.index(best)
    widest = max(len(row.filled) for row in head)
    # A lone cell is a title unless the table has a single column.
    least = max(min(widest, 2), (widest + 1) // 2)
    for position, row in enumerate(head):
        if row.all_text() and len(row.filled) >= least:
            return position
    return None


def _row_title(row: HeadRow) -> str:
    return " ".join(text for text in row.texts if text)


def _group_merges(upper: HeadRow, width: int, merges: Sequence[Merge]) -> list[Merge]:
    """Merged ranges lying in the upper row only, over several but not all columns.

    A lone merged label over half the table or more is a title, not a group.
    """
    found = []
    for merge in merges:
        span = merge.last_column - merge.first_column + 1
        if merge.first_row != merge.last_row or merge.first_row != upper.number or span < 2:
            continue
        if span >= width or (len(upper.filled) < 2 and 2 * span > width):
            continue
        found.append(merge)
    return found


def _is_group_pair(upper: HeadRow, lower: HeadRow, width: int, merges: Sequence[Merge]) -> bool:
    """Whether ``upper`` holds group labels over the sub-headers in ``lower``."""
    if lower.number != upper.number + 1 or not upper.all_text() or not lower.all_text():
        return False
    if any(_VALUE_LIKE.match(lower.texts[column]) for column in lower.filled):
        return False
    for merge in _group_merges(upper, width, merges):
        under = [c for c in range(merge.first_column, merge.last_column + 1) if lower.texts[c]]
        if len(under) >= 2:
            return True
    return _looks_like_unmerged_group(upper, lower)


def _looks_like_unmerged_group(upper: HeadRow, lower: HeadRow) -> bool:
    """The pattern a horizontal merge leaves when the merge itself is not known."""
    if len(upper.filled) < 2:
        return False  # one label above a header is a title, not a group row
    spans = any(
        upper.texts[column]
        and not upper.texts[column + 1]
        and lower.texts[column]
        and lower.texts[column + 1]
        for column in range(len(upper.texts) - 1)
    )
    first_label = upper.filled[0]
    every_column_labelled = all(
        upper.texts[column] or lower.texts[column]
        for column in range(first_label, len(upper.texts))
    )
    single_level_column = any(not lower.texts[column] for column in upper.filled)
    return spans and every_column_labelled and single_level_column


def _combined_labels(upper: HeadRow, lower: HeadRow, merges: Sequence[Merge]) -> list[str]:
    """``group|sub`` per column; groups reach over merged ranges or blank upper cells."""
    groups = list(upper.texts)
    for merge in merges:
        if merge.first_row <= upper.number <= merge.last_row:
            label = upper.texts[merge.first_column]
            for column in range(merge.first_column, merge.last_column + 1):
                groups[column] = label
    for column in range(1, len(groups)):
        # An unmerged group label reaches right over blank upper cells that have sub-headers.
        if not upper.texts[column] and not groups[column] and lower.texts[column]:
            if lower.texts[column - 1]:
                groups[column] = groups[column - 1]
    labels = []
    for group, sub in zip(groups, lower.texts, strict=True):
        if group and sub and group != sub:
            labels.append(f"{group}|{sub}")
        else:
            labels.append(group or sub)
    return labels
