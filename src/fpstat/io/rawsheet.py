"""``RawSheet``: one sheet (or text/parquet file) as read, before schema maps it.

The fixed interface between ``fpstat.io`` and ``fpstat.schema``: every cell as text plus what
the file stored, positional columns, and the row number each data row has in Excel or a text
editor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpstat.io.header import HeaderLayout


@dataclass
class RawSheet:
    """One table as read from an export.

    ``cells`` and ``kinds`` have the same shape and columns ``c0``, ``c1``, ... (positional, so
    duplicate or blank headers are safe), dtype ``string[pyarrow]``, one row per non-blank data
    row. ``cells`` holds each cell's text (rules in :mod:`fpstat.io.cells`), ``kinds`` what the
    file stored: ``s`` text, ``n`` number, ``d`` date/date-time, ``b`` boolean, <NA> empty; CSV
    cells are always ``s``. ``rows`` is each data row's 1-based number as Excel or an editor
    shows it (title, header and blank rows counted). A column with neither a header nor any data
    (an empty column A beside the table) is left out.
    """

    source: str  # the path as the user gave it or as a glob matched it (messages, rejects)
    path: Path  # resolved
    sheet: str  # "" for csv and parquet
    format: str  # xlsx | xls | xlsb | ods | csv | parquet
    encoding: str | None  # csv only: utf-8 | utf-8-sig | gb18030
    sha256: str  # of the whole file
    header_row: int  # number of the (last) header row; 1 for parquet
    headers: list[str]  # one per column, stripped; two-row headers as "group|sub"; blank -> ""
    cells: pd.DataFrame
    kinds: pd.DataFrame
    rows: np.ndarray  # int64
    title: list[str] = field(default_factory=list)  # text of the rows above the header

    @property
    def n_rows(self) -> int:
        """Number of data rows (non-blank rows below the header)."""
        return len(self.rows)


@dataclass(frozen=True)
class FileFacts:
    """What is known about the file before its tables are read."""

    source: str
    path: Path
    format: str
    sha256: str
    encoding: str | None = None


def _frame(columns: Sequence[pa.Array | pa.ChunkedArray], height: int) -> pd.DataFrame:
    return pd.DataFrame(
        {f"c{index}": pd.arrays.ArrowStringArray(column) for index, column in enumerate(columns)},
        index=pd.RangeIndex(height),
    )


def assemble(
    facts: FileFacts,
    sheet: str,
    layout: HeaderLayout,
    texts: list[pa.Array | pa.ChunkedArray],
    kinds: list[pa.Array | pa.ChunkedArray],
    rows: np.ndarray,
) -> RawSheet:
    """Build a RawSheet: drop fully blank rows and unlabelled empty columns."""
    width = max(len(texts), len(layout.headers))
    headers = list(layout.headers) + [""] * (width - len(layout.headers))
    height = len(rows)
    texts = list(texts) + [pa.nulls(height, pa.string())] * (width - len(texts))
    kinds = list(kinds) + [pa.nulls(height, pa.string())] * (width - len(kinds))

    if height and texts:
        present = np.zeros(height, dtype=bool)
        for column in texts:
            present |= column.is_valid().to_numpy(zero_copy_only=False)
        if not present.all():
            keep = pa.array(present)
            texts = [column.filter(keep) for column in texts]
            kinds = [column.filter(keep) for column in kinds]
            rows = rows[present]

    used = [
        index for index in range(width) if headers[index] or pc.any(texts[index].is_valid()).as_py()
    ]
    return RawSheet(
        source=facts.source,
        path=facts.path,
        sheet=sheet,
        format=facts.format,
        encoding=facts.encoding,
        sha256=facts.sha256,
        header_row=layout.header_row,
        headers=[headers[index] for index in used],
        cells=_frame([texts[index] for index in used], len(rows)),
        kinds=_frame([kinds[index] for index in used], len(rows)),
        rows=np.asarray(rows, dtype=np.int64),
        title=list(layout.title),
    )
