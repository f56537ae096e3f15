"""Column helpers shared by the normalisers: Arrow text, half-width forms, per-distinct parsing.

A normaliser takes a pandas Series of cell texts and gives back a :class:`Normalised`: clean
values and, aligned with them, a reason code where a value is unusable (null otherwise). The
work happens on Arrow arrays; values repeat a lot (a million births have a few thousand
distinct dates), so scalar parsing runs once per distinct value and is mapped back by index.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


class Normalised(NamedTuple):
    values: pd.Series   # clean values (Arrow-backed), null where blank or rejected
    reasons: pd.Series  # reason code where the value is unusable, else null


def to_series(values: pa.Array, arrow_type: pa.DataType, index: pd.Index) -> pd.Series:
    """An Arrow array as an Arrow-backed Series of ``arrow_type`` on ``index``."""
    if values.type != arrow_type:
        values = values.cast(arrow_type)
    return pd.Series(values, dtype=pd.ArrowDtype(arrow_type), index=index)


def arrow_text(column: pd.Series | pa.Array) -> pa.Array:
    """Cells as an Arrow string array, empty -> null. Not stripped: the reader strips every
    cell, and each distinct value is stripped again where it is parsed, which costs far less.
    Large and plain strings both stay as they come (a cast would copy a million offsets)."""
    array = column if isinstance(column, (pa.Array, pa.ChunkedArray)) else pa.array(column)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.string())
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, array.type), array)


def nfkc(text: str) -> str:
    """Full-width digits and letters to half-width (``２０２４`` -> ``2024``), stripped."""
    return unicodedata.normalize("NFKC", text).strip()


def halfwidth(text: pa.Array) -> pa.Array:
    """Vectorised :func:`nfkc` (without the strip): only non-ASCII cells go through Python."""
    wide = pc.invert(pc.fill_null(pc.string_is_ascii(text), True))
    if not pc.any(wide).as_py():
        return text
    wide_values = text.filter(wide).to_pylist()
    converted = {value: unicodedata.normalize("NFKC", value) for value in set(wide_values)}
    return pc.replace_with_mask(text, wide, pa.array([converted[v] for v in wide_values], text.type))


def equals(array: pa.Array, value: str) -> np.ndarray:
    """``array == value`` as a numpy mask (null -> False)."""
    return pc.fill_null(pc.equal(array, value), False).to_numpy(zero_copy_only=False)


def per_distinct(
    column: pd.Series,
    kinds: pd.Series | None,
    parse: Callable[[str, str], tuple[Any, str | None]],
    arrow_type: pa.DataType,
) -> Normalised:
    """Run ``parse(text, kind) -> (value, reason)`` once per distinct (text, kind) and map back.

    ``kind`` is what the file stored (``s``, ``n``, ``d``, ``b``; ``s`` when unknown). Blank
    cells give a null value and no reason.
    """
    encoded = pc.dictionary_encode(arrow_text(column))
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    uniques = encoded.dictionary.to_pylist()
    keys = [(value, "s") for value in uniques]
    if kinds is not None:
        kind_encoded = pc.dictionary_encode(pc.fill_null(arrow_text(kinds), "s"))
        kind_codes = kind_encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        kind_uniques = kind_encoded.dictionary.to_pylist()
        width = len(kind_uniques)
        if width > 1:
            # (text, kind) pairs: numeric combination of both codes, then renumbered.
            pair = np.where(codes < 0, -1, codes * width + kind_codes)
            distinct, inverse = np.unique(pair, return_inverse=True)
            codes = np.where(pair < 0, -1, inverse - (1 if distinct[0] < 0 else 0))
            keys = [(uniques[p // width], kind_uniques[p % width]) for p in distinct[distinct >= 0]]
        elif width == 1:
            keys = [(value, kind_uniques[0]) for value in uniques]
    parsed = [parse(value, kind) if value.strip() else (None, None) for value, kind in keys]
    values = pa.array([value for value, _ in parsed], type=arrow_type)
    reasons = pa.array([reason for _, reason in parsed], type=pa.string())
    positions = pa.array(codes, mask=codes < 0, type=pa.int64())
    return Normalised(
        to_series(values.take(positions), arrow_type, column.index),
        to_series(reasons.take(positions), pa.string(), column.index),
    )


def clean_text(column: pd.Series) -> pd.Series:
    """Free text (names, area names, record numbers) as written, trimmed; blank -> null."""
    return to_series(arrow_text(pc.utf8_trim_whitespace(arrow_text(column))), pa.string(), column.index)
