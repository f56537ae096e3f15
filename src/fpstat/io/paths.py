"""Which files make up a source, what format each is, and its fingerprint.

One source may be many files (one export per township): :func:`expand_paths` takes repeated
paths and globs (``**`` included). Excel's lock files (``~$name.xlsx``, present while a workbook
is open) are never matched by a glob.

The format comes from the file's first bytes where they are telling, else from its name: web
systems often save tab-separated text or an HTML page under a ``.xls`` name, and a renamed
xlsx is still a zip. Text content under ``.xls``/``.csv``/``.txt``/``.tsv`` is read as
delimited text.
"""

from __future__ import annotations

import glob
import hashlib
import os
from pathlib import Path

from fpstat.errors import UnreadableInputError

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PARQUET = b"PAR1"
_WORKBOOK_SUFFIXES = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".xlsb": "xlsb",
    ".ods": "ods",
}
_TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".xls"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_GLOB_CHARACTERS = set("*?[")


def expand_paths(patterns: list[str], *, base_dir: Path | None = None) -> list[str]:
    """Paths and globs (relative to ``base_dir`` if given) -> sorted, de-duplicated file paths."""
    found: dict[str, str] = {}
    for pattern in patterns:
        full = os.path.expanduser(str(pattern))
        if base_dir is not None and not os.path.isabs(full):
            full = os.path.join(base_dir, full)
        if _GLOB_CHARACTERS & set(full):
            matches = [
                match
                for match in glob.glob(full, recursive=True)
                if os.path.isfile(match) and not os.path.basename(match).startswith("~$")
            ]
        else:
            matches = [full] if os.path.exists(full) else []
        if not matches:
            raise UnreadableInputError(
                f"no file matches {pattern!r}",
                f"没有与“{pattern}”匹配的文件",
                file=str(pattern),
            )
        for match in matches:
            found.setdefault(os.path.realpath(match), match)
    return sorted(set(found.values()))


def file_sha256(path: Path) -> str:
    """SHA-256 of the whole file, hex."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _looks_like_markup(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<html", b"<!doctype", b"<?xml", b"<table", b"<meta"))


def detect_format(path: Path, head: bytes, *, source: str) -> str:
    """``xlsx``, ``xls``, ``xlsb``, ``ods``, ``csv`` or ``parquet`` from content and name."""
    suffix = path.suffix.lower()
    if head.startswith(_PARQUET):
        return "parquet"
    if head.startswith(_OLE):
        return "xls"
    if head.startswith(_ZIP):  # xlsx, xlsb and ods are zips; a zip named .xls is an xlsx
        return "xlsx" if suffix == ".xls" else _WORKBOOK_SUFFIXES.get(suffix, "xlsx")
    # Named as a binary format but without its signature: let the reader say it is damaged.
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix in _WORKBOOK_SUFFIXES and suffix != ".xls":
        return _WORKBOOK_SUFFIXES[suffix]
    if _looks_like_markup(head):
        raise UnreadableInputError(
            "the file is a web page or XML saved under a spreadsheet name; open it in Excel "
            "and save it as .xlsx or .csv",
            "该文件是以表格文件名保存的网页或XML，请用Excel打开后另存为.xlsx或.csv",
            file=source,
        )
    if suffix in _TEXT_SUFFIXES:
        return "csv"
    raise UnreadableInputError(
        f"unknown file format {suffix or '(no extension)'}; expected xlsx, xls, xlsb, ods, "
        "csv or parquet",
        f"无法识别的文件格式{suffix or '（无扩展名）'}；支持xlsx、xls、xlsb、ods、csv、parquet",
        file=source,
    )
