"""Reading a ``--mapping`` file: export headers the contract cannot place -> contract fields.

TOML (``"户口登记日期" = "registered_on"``, at the top level or under ``[mapping]``, as in the
config file's ``mapping = {...}``) or JSON (one object). A field of ``""`` drops a column, which
settles a header that would otherwise clash with another. Targets are checked when the mapping
is applied (:func:`fpstat.schema.headers.assign_columns`).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from fpstat.errors import UsageError


def read_mapping(path: str | Path) -> dict[str, str]:
    """The header -> field mapping in a TOML or JSON file; :class:`UsageError` if unusable."""
    mapping_path = Path(path)
    try:
        text = mapping_path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError("mapping file not found", "找不到映射文件", file=str(mapping_path)) from None
    except (OSError, UnicodeDecodeError):
        raise UsageError(
            "mapping file cannot be read as UTF-8 text", "映射文件无法按 UTF-8 文本读取",
            file=str(mapping_path),
        ) from None
    try:
        data: Any = json.loads(text) if mapping_path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(
            f"mapping file is not valid {mapping_path.suffix.lstrip('.').upper() or 'TOML'}: {error}",
            f"映射文件格式有误：{error}",
            file=str(mapping_path),
        ) from None
    if isinstance(data, dict) and set(data) == {"mapping"} and isinstance(data["mapping"], dict):
        data = data["mapping"]
    if not isinstance(data, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in data.items()
    ):
        raise UsageError(
            'a mapping file holds header = "field" pairs only, e.g. "户口登记日期" = "registered_on"',
            '映射文件只能包含 表头 = "字段" 的对应，如 "户口登记日期" = "registered_on"',
            file=str(mapping_path),
        )
    return dict(data)
