"""Parquet exports through pyarrow: headers are the column names, kinds follow the Arrow type.

Kinds and text per Arrow type: strings ``"s"`` (stripped); integers and decimals ``"n"`` with
their exact digits (an int64 holds an 18-digit ID exactly, so ``320581199001011234`` arrives
intact and schema judges it by its length); floats ``"n"`` with the same text rule as Excel
numbers (``repr`` without ``.0``; from 1e16 on scientific notation, because a float64 cannot
hold an 18-digit ID); booleans ``"b"``; dates and timestamps ``"d"``. Nested and binary columns
cannot be a flat export and are refused, naming the column.

Row numbers: the column names count as row 1 (``header_row`` is 1), data rows are 2, 3, ...,
the numbers a CSV export of the same table would have.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fpstat.errors import UnreadableInputError
from fpstat.io.cells import arrow_column
from fpstat.io.header import HeaderLayout
from fpstat.io.rawsheet import FileFacts, RawSheet, assemble


def read_parquet(facts: FileFacts) -> list[RawSheet]:
    """A parquet file as one RawSheet."""
    try:
        table = pq.read_table(facts.path)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise UnreadableInputError(
            f"cannot read the parquet file: it is damaged or not parquet ({type(error).__name__})",
            f"无法读取parquet文件：文件已损坏或不是parquet格式（{type(error).__name__}）",
            file=facts.source,
        ) from None
    texts, kinds = [], []
    for name, column in zip(table.column_names, table.columns, strict=True):
        try:
            text, kind = arrow_column(column)
        except (TypeError, pa.ArrowException):
            raise UnreadableInputError(
                f"column {name!r} has type {column.type}, which a flat export cannot hold",
                f"列“{name}”的类型为{column.type}，不是平面表格可以容纳的类型",
                file=facts.source,
                field=name,
            ) from None
        texts.append(text)
        kinds.append(kind)
    layout = HeaderLayout(
        header_row=1, headers=[str(name).strip() for name in table.column_names], title=[]
    )
    rows = np.arange(table.num_rows, dtype=np.int64) + 2
    return [assemble(facts, "", layout, texts, kinds, rows)]
