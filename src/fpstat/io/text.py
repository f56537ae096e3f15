"""Delimited text exports (CSV, TSV, text saved as ``.xls``): encoding, delimiter, every cell as text.

Encoding is decided, not guessed: a strict UTF-8 decode (``utf-8-sig`` when the file starts with
a byte-order mark), else a strict GB18030 decode (GB18030 is a superset of GBK and GB2312, so
GBK exports read the same); a file that is neither is refused with the byte offset where each
decode failed. Every cell is text of kind ``"s"``: the reader never infers numbers from text.

Delimiter: the first line that holds any of comma, tab, semicolon or ``|`` decides, by count
(a title line above the table usually holds none); comma wins ties.

Row numbers are *record* numbers: the row Excel shows when it opens the CSV, with blank lines
counted. They equal a text editor's line numbers unless a quoted field spans several lines
(then Excel's row is the record, the editor's line is where the record starts plus its embedded
newlines); we report Excel's, which is what the office will open the file with.

Speed: the data part is parsed by ``pyarrow.csv`` with every column typed as string (about a
million rows a second here). Record boundaries for the row numbers come from the positions of
newlines outside quotes (quote parity, vectorised with numpy). Whenever the file is irregular
(rows with more or fewer fields than the header, stray quotes, CR-only line ends) and the two
disagree, the file is read again with Python's ``csv`` module, which is slower and is the
reference for what a record is.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from fpstat.errors import UnreadableInputError
from fpstat.io.cells import TEXT, kinds_where_present, stripped_text
from fpstat.io.header import HEAD_ROWS, HeaderLayout, HeaderScorer, HeadRow, locate_header
from fpstat.io.rawsheet import FileFacts, RawSheet, assemble

_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (",", "\t", ";", "|")
_NEWLINE, _QUOTE = 10, 34


def _is_utf8(data: bytes) -> bool:
    """Strict UTF-8 validation in Arrow (SIMD), without building a Python string."""
    buffer = pa.py_buffer(data)
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, buffer]).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def decode(data: bytes, *, source: str = "<bytes>") -> tuple[str | None, str]:
    """The encoding (``utf-8``, ``utf-8-sig`` or ``gb18030``) of a text file, and its text when
    it had to be decoded in Python (GB18030; None for UTF-8, which Arrow validates in place).
    """
    encoding = "utf-8-sig" if data.startswith(_BOM) else "utf-8"
    if _is_utf8(data):
        return None, encoding
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableInputError(
            "the file is UTF-16 (Excel's 'Unicode Text'); save it as 'CSV UTF-8'",
            "文件为UTF-16编码（Excel的“Unicode文本”），请另存为“CSV UTF-8”",
            file=source,
        )
    try:
        return data.decode(encoding), encoding  # Python's decoder is the reference
    except UnicodeDecodeError as utf8_error:
        # The utf-8-sig decoder counts from after the byte-order mark.
        utf8_offset = utf8_error.start + (len(_BOM) if encoding == "utf-8-sig" else 0)
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as gb_error:
        raise UnreadableInputError(
            f"the file is neither UTF-8 (invalid byte at offset {utf8_offset}) nor GB18030/GBK "
            f"(invalid byte at offset {gb_error.start}); save it as UTF-8 CSV",
            f"文件既不是UTF-8编码（第{utf8_offset}字节处无效）也不是GB18030/GBK编码"
            f"（第{gb_error.start}字节处无效），请另存为UTF-8格式的CSV",
            file=source,
        ) from None


def sniff_encoding(data: bytes | str | os.PathLike[str], *, source: str | None = None) -> str:
    """``utf-8``, ``utf-8-sig`` or ``gb18030`` of a file (or its bytes) by strict decoding;
    UnreadableInputError otherwise. GBK and GB2312 files report ``gb18030``, their superset.
    """
    if not isinstance(data, bytes):
        source = str(data) if source is None else source
        data = Path(data).read_bytes()
    return decode(data, source=source or "<bytes>")[1]


def sniff_delimiter(text: str) -> str:
    """The delimiter of a delimited text, from its first line holding any candidate."""
    for line in text[:65536].splitlines():
        counts = [line.count(candidate) for candidate in _DELIMITERS]
        if any(counts):
            return _DELIMITERS[counts.index(max(counts))]
    return ","


def _record_bounds(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end byte offsets of each record: newlines outside double quotes end records.

    Counting quotes is enough because an escaped quote (``""``) flips the parity twice.
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buffer == _NEWLINE)
    quotes = np.flatnonzero(buffer == _QUOTE)
    if len(quotes):
        newlines = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(data)]))
    if starts[-1] == len(data):  # the final newline ends the last record
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


def _head(records: Sequence[list[str]]) -> list[HeadRow]:
    head = []
    for index, fields in enumerate(records):
        texts = [field.strip() for field in fields]
        if any(texts):
            head.append(HeadRow(index + 1, texts, [TEXT if text else None for text in texts]))
            if len(head) == HEAD_ROWS:
                break
    return head


def _layout(
    head: list[HeadRow], width: int, scorer: HeaderScorer | None, source: str
) -> HeaderLayout:
    layout = locate_header(head, width, scorer=scorer)
    if layout is None:
        raise UnreadableInputError(
            "no header row found in the first rows (a row of column names)",
            "前几行中找不到表头（列名行）",
            file=source,
        )
    return layout


def _text_columns(columns: Sequence[pa.Array]) -> tuple[list[pa.Array], list[pa.Array]]:
    texts = [stripped_text(column) for column in columns]
    return texts, [kinds_where_present(text, TEXT) for text in texts]


def _read_with_csv_module(
    text: str, facts: FileFacts, delimiter: str, scorer: HeaderScorer | None
) -> RawSheet | None:
    """The reference reader: Python's csv module, records padded to the widest."""
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    head = _head(records)
    if not head:
        return None
    width = max(len(fields) for fields in records)
    layout = _layout(head, width, scorer, facts.source)
    data = records[layout.header_row :]
    padded = [fields + [""] * (width - len(fields)) for fields in data]
    columns = (
        [pa.array(column, pa.string()) for column in zip(*padded, strict=True)]
        if padded
        else [pa.array([], pa.string())] * width
    )
    texts, kinds = _text_columns(columns)
    rows = np.arange(len(data), dtype=np.int64) + layout.header_row + 1
    return assemble(facts, "", layout, texts, kinds, rows)


def _empty_records(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Records with nothing in them (Arrow skips those lines; they still count as rows)."""
    lengths = ends - starts
    empty = lengths == 0
    single = np.flatnonzero(lengths == 1)
    empty[single] = np.frombuffer(data, dtype=np.uint8)[starts[single]] == 13
    return empty


def _read_with_arrow(
    data: bytes, facts: FileFacts, delimiter: str, scorer: HeaderScorer | None
) -> RawSheet | None:
    """The fast reader; None when the file is irregular and the csv module must decide."""
    starts, ends = _record_bounds(data)
    filled = ~_empty_records(data, starts, ends)
    # The head is parsed by the reference reader; its record count must match ours.
    head_records_end = np.flatnonzero(filled)[: 4 * HEAD_ROWS]
    head_end = int(head_records_end[-1]) + 1 if len(head_records_end) else 0
    head_text = data[: int(ends[head_end - 1])].decode("utf-8") if head_end else ""
    head_records = list(csv.reader(io.StringIO(head_text, newline=""), delimiter=delimiter))
    if len(head_records) != head_end:
        return None
    head = _head(head_records)
    if not head:
        return None
    width = max(len(fields) for fields in head_records)
    layout = _layout(head, width, scorer, facts.source)
    first_data = layout.header_row  # index of the first record below the header
    rows = np.flatnonzero(filled[first_data:]).astype(np.int64) + first_data + 1
    names = [f"c{index}" for index in range(width)]
    if not len(rows):
        columns = [pa.array([], pa.string())] * width
    else:
        irregular: list[int] = []
        try:
            table = pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(data).slice(int(starts[first_data]))),
                read_options=pacsv.ReadOptions(column_names=names),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter,
                    newlines_in_values=b'"' in data,
                    invalid_row_handler=lambda row: irregular.append(1) or "skip",
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    # Empty fields become null in the parser (cheaper than afterwards); "NA",
                    # "NULL" and the like stay text.
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    check_utf8=False,  # already proven by the strict validation
                ),
            )
        except (pa.ArrowInvalid, ValueError):
            return None
        if irregular or table.num_rows != len(rows):
            return None
        columns = [table.column(name) for name in names]
    texts, kinds = _text_columns(columns)
    return assemble(facts, "", layout, texts, kinds, rows)


def read_delimited(
    data: bytes, facts: FileFacts, *, header_scorer: HeaderScorer | None = None
) -> list[RawSheet]:
    """A delimited text file as one RawSheet (none when the file holds nothing)."""
    text, encoding = decode(data, source=facts.source)
    facts = FileFacts(facts.source, facts.path, facts.format, facts.sha256, encoding)
    if text is not None and encoding == "gb18030":
        utf8 = text.encode("utf-8")
    else:
        utf8 = data[len(_BOM) :] if encoding == "utf-8-sig" else data
    del text  # the decoded copy is large; Arrow reads the UTF-8 bytes
    delimiter = sniff_delimiter(utf8[:65536].decode("utf-8", errors="ignore"))
    raw = None
    if b"\n" in utf8 or b"\r" not in utf8:  # CR-only line ends: leave them to the csv module
        raw = _read_with_arrow(utf8, facts, delimiter, header_scorer)
    if raw is None:
        raw = _read_with_csv_module(utf8.decode("utf-8"), facts, delimiter, header_scorer)
    return [] if raw is None else [raw]
