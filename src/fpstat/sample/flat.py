"""Large drops: one clean-ish file per source, as Parquet and as CSV, written vectorised.

``<role>.parquet`` has the contract's canonical column names and typed values (``M``/``F``,
birth order as an integer, booleans; dates as ISO text, so that a corrupt date can be held);
``<role>.csv`` (UTF-8, no BOM) holds the same rows in the same order under Chinese contract
headers, with text values (男/女, 符合政策/政策外, 是/否). No title rows, no totals rows; the
same kinds of corrupt values as the messy exports, written as text (an ID that went through a
spreadsheet number is ``3.20581E+17``). Row numbers in the truth count the header as row 1.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from fpstat import rundir
from fpstat.sample import identity
from fpstat.sample.corruption import spreadsheet_text_of_id
from fpstat.sample.formats import DATE_PATTERNS
from fpstat.sample.layouts import RECORD_ID_PREFIX

#: Canonical columns of each source's flat file, in order.
FLAT_FIELDS: dict[str, tuple[str, ...]] = {
    "planning": ("record_id", "mother_name", "mother_id", "child_name", "child_id", "sex", "birth_date",
                 "birth_order", "within_policy", "migrant", "area_code", "area_name", "registered_on"),
    "police": ("record_id", "child_id", "child_name", "sex", "birth_date", "mother_id", "mother_name",
               "area_code", "area_name", "registered_on"),
    "census": ("record_id", "area_code", "area_name", "child_name", "sex", "birth_date", "child_id",
               "mother_name", "mother_id"),
    "hospital": ("record_id", "mother_name", "mother_id", "child_name", "child_id", "sex", "birth_date",
                 "birth_order", "migrant", "area_code", "area_name"),
    "education": ("record_id", "child_name", "child_id", "sex", "birth_date", "mother_name", "mother_id",
                  "area_code", "area_name"),
}
CHINESE_HEADERS = {
    "record_id": "编号", "child_id": "公民身份号码", "child_name": "姓名", "sex": "性别",
    "birth_date": "出生日期", "mother_id": "母亲身份证号", "mother_name": "母亲姓名",
    "area_code": "区划代码", "area_name": "地区", "birth_order": "孩次", "within_policy": "政策属性",
    "registered_on": "登记日期", "migrant": "流动人口",
}
SORT_KEYS = {
    "planning": ["county_code", "township_code", "registered_on"],
    "police": ["county_code", "registered_on"],
    "census": ["area_code", "birth_date"],
    "hospital": ["birth_date"],
    "education": ["area_code", "birth_date"],
}


def _sort_order(role: str, records: pd.DataFrame) -> np.ndarray:
    """Rows in the order the source lists them (numeric keys: fast on millions of rows)."""
    area = records["area_code"].astype(np.int64).to_numpy()
    keys = {
        "county_code": area // 10**6, "township_code": area // 1000, "area_code": area,
        "registered_on": records["registered_on"].to_numpy(dtype="datetime64[D]").astype(np.int64),
        "birth_date": records["birth_date"].to_numpy(dtype="datetime64[D]").astype(np.int64),
    }
    columns = [keys[name] for name in SORT_KEYS[role]]
    columns += [records["birth_row"].to_numpy(), records["entry"].to_numpy()]
    return np.lexsort(columns[::-1])


def _column(role: str, table: pa.Table, field: str) -> pa.Array:
    """One column as the Parquet file holds it, before corruption."""
    if field in ("birth_date", "registered_on"):
        return table[field].combine_chunks().cast(pa.date32()).cast(pa.string())
    if field == "area_code":
        codes = table["area_code"].combine_chunks()
        return pc.utf8_slice_codeunits(codes, 0, 9) if role == "hospital" else codes
    if field == "area_name":
        return table["township_name" if role == "hospital" else "village_name"].combine_chunks()
    return table[field].combine_chunks().cast(_TYPES.get(field, pa.string()))


def _spoil(column: pa.Array, table: pa.Table, field: str) -> pa.Array:
    """Put the corrupt values of ``field`` in place, as text (numbers for a birth order)."""
    mask = pc.fill_null(pc.equal(table["bad_field"], field), False).combine_chunks()
    if not pc.any(mask).as_py():
        return column
    spoiled = table.filter(mask)
    replacements = []
    for kind, value in zip(spoiled["bad_kind"].to_pylist(), spoiled["bad_value"].to_pylist(), strict=True):
        if kind == "blank":
            replacements.append(None)
        elif kind == "id-number":
            replacements.append(spreadsheet_text_of_id(value))
        elif kind in ("date", "bad-date"):
            year, month, day = (int(part) for part in value.split("-"))
            replacements.append(DATE_PATTERNS["date-iso"](year, month, day))
        elif field == "birth_order":
            replacements.append(int(value))
        else:
            replacements.append(value)
    return pc.replace_with_mask(column, mask, pa.array(replacements, type=column.type))


def _csv_text(field: str, array: pa.Array) -> pa.Array:
    """The CSV text of a Parquet column: 男/女, 符合政策/政策外, 是/否, numbers as text."""
    if field == "sex":
        return pc.if_else(pc.equal(array, "M"), "男", pc.if_else(pc.equal(array, "F"), "女", array))
    if field == "within_policy":
        return pc.if_else(array, "符合政策", "政策外")
    if field == "migrant":
        return pc.if_else(array, "是", "否")
    return pc.cast(array, pa.string())


_TYPES = {"birth_order": pa.int64(), "within_policy": pa.bool_(), "migrant": pa.bool_()}


def write_flat(out_dir: Path, role: str, records: pd.DataFrame) -> pd.DataFrame:
    """Write ``<role>.parquet`` and ``<role>.csv``; return the records' positions."""
    order = _sort_order(role, records)
    wanted = [f for f in FLAT_FIELDS[role] if f not in ("record_id", "area_name")]
    wanted += ["village_name", "township_name", "bad_field", "bad_kind", "bad_value"]
    table = pa.Table.from_pandas(records[wanted], preserve_index=False).take(pa.array(order))
    width = max(6, len(str(len(order))))
    record_ids = identity.numbered(RECORD_ID_PREFIX[role], np.arange(1, len(order) + 1), width)
    parquet_columns, csv_columns = {}, {}
    for field in FLAT_FIELDS[role]:
        array = record_ids if field == "record_id" else _spoil(_column(role, table, field), table, field)
        parquet_columns[field] = array
        csv_columns[CHINESE_HEADERS[field]] = _csv_text(field, array)
    rundir.write_parquet(out_dir / f"{role}.parquet", pa.table(parquet_columns))
    buffer = io.BytesIO()
    pacsv.write_csv(pa.table(csv_columns), buffer, pacsv.WriteOptions(quoting_style="none"))
    rundir.atomic_write_bytes(out_dir / f"{role}.csv", buffer.getvalue())
    return pd.DataFrame({
        "record": records.index.to_numpy()[order], "file": f"{role}.parquet", "sheet": "",
        "row": np.arange(2, len(order) + 2), "record_id": pd.Series(record_ids, dtype=pd.ArrowDtype(pa.string())),
    })
