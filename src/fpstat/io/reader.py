"""``read_export``: any office export (workbook, delimited text, parquet) -> RawSheets."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from fpstat.errors import UnreadableInputError
from fpstat.io.excel import read_workbook
from fpstat.io.header import HeaderScorer
from fpstat.io.parquet import read_parquet
from fpstat.io.paths import detect_format, file_sha256
from fpstat.io.rawsheet import FileFacts, RawSheet
from fpstat.io.text import read_delimited


def _checked_path(path: Path, source: str) -> None:
    if not path.exists():
        raise UnreadableInputError("file not found", "找不到文件", file=source)
    if not path.is_file():
        raise UnreadableInputError("not a file (a folder?)", "不是文件（是文件夹？）", file=source)


def read_export(
    path: str | Path,
    *,
    sheets: Sequence[str] | None = None,
    header_scorer: HeaderScorer | None = None,
    source: str | None = None,
) -> list[RawSheet]:
    """Every table of an export: each worksheet holding anything (or those named), or the one
    table of a CSV/parquet file. Raises UnreadableInputError (bilingual, with file and sheet).
    """
    source = str(path) if source is None else source
    resolved = Path(path).expanduser()
    _checked_path(resolved, source)
    resolved = resolved.resolve()
    try:
        with open(resolved, "rb") as handle:
            head = handle.read(512)
    except OSError as error:
        raise UnreadableInputError(
            f"cannot open the file ({type(error).__name__})",
            f"无法打开文件（{type(error).__name__}）",
            file=source,
        ) from None
    file_format = detect_format(resolved, head, source=source)
    if sheets is not None and not sheets:
        sheets = None  # an empty selection means no selection
    if sheets is not None and file_format in ("csv", "parquet"):
        raise UnreadableInputError(
            f"a {file_format} file has no sheets; remove the sheet name",
            f"{file_format}文件没有工作表，请去掉工作表名称",
            file=source,
        )
    if file_format == "csv":
        data = resolved.read_bytes()
        facts = FileFacts(source, resolved, "csv", hashlib.sha256(data).hexdigest())
        return read_delimited(data, facts, header_scorer=header_scorer)
    facts = FileFacts(source, resolved, file_format, file_sha256(resolved))
    if file_format == "parquet":
        return read_parquet(facts)
    return read_workbook(facts, sheets=sheets, header_scorer=header_scorer)
