"""The one owner of every file fpstat writes.

Everything that leaves fpstat goes through here, so that it is done the same way everywhere:

* atomic replace: written to a temporary file in the same directory, flushed, then renamed over
  the target, so a reader never sees half a file and an interrupted run leaves the old one;
* CSV as UTF-8 with a BOM (Excel shows Chinese headers correctly), ``\\n`` line ends, and
  formula neutralising: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a
  leading apostrophe so a spreadsheet never executes it (OWASP "CSV injection");
* JSON with sorted keys, two-space indent, UTF-8 (not ``\\u`` escapes);
* owner-only (0600) files for record-level personal data (``records.xlsx``);
* the run directory's ``manifest.json`` and structured ``fpstat.log`` (JSON lines).

Same inputs give the same bytes: callers sort their tables; this module adds no timestamps
except in the manifest's ``created_at``/``timings`` and the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fpstat import __version__

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + rename); 0600 when ``private``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o600 if private else 0o644)
        os.replace(temp_name, target)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise
    return target


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, private: bool = False) -> Iterator[Path]:
    """A temporary path to hand to a library that writes files itself; renamed on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent
    )
    os.close(descriptor)
    try:
        yield Path(temp_name)
        os.chmod(temp_name, 0o600 if private else 0o644)
        os.replace(temp_name, target)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would read as a formula with an apostrophe."""
    result = frame.copy()
    for column in result.columns:
        series = result[column]
        if not (pd.api.types.is_string_dtype(series) or series.dtype == object):
            continue
        text = series.astype("string")
        risky = text.str.startswith(_FORMULA_STARTS).fillna(False)
        # Plain negative numbers are data, not formulas.
        numeric = text.str.fullmatch(r"-?\d+(\.\d+)?").fillna(False)
        risky &= ~numeric
        if risky.any():
            result[column] = text.where(~risky, "'" + text)
    return result


def csv_bytes(frame: pd.DataFrame, *, neutralise: bool = True) -> bytes:
    """The CSV form of ``frame`` that fpstat writes: UTF-8 with BOM, formulas neutralised."""
    if neutralise:
        frame = neutralise_formulas(frame)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_csv(path: str | os.PathLike[str], frame: pd.DataFrame, *, neutralise: bool = True) -> Path:
    """Write a table as fpstat CSV (see :func:`csv_bytes`), atomically."""
    return atomic_write_bytes(path, csv_bytes(frame, neutralise=neutralise))


def json_bytes(obj: Any) -> bytes:
    """Deterministic JSON: sorted keys, indent 2, UTF-8, trailing newline."""
    text = json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=_json_default)
    return (text + "\n").encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if value is pd.NA:
        return None
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    return atomic_write_bytes(path, json_bytes(obj))


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_parquet(path: str | os.PathLike[str], table: pd.DataFrame | pa.Table) -> Path:
    """Write Parquet atomically, without pandas index or timestamps that would vary run to run."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    with atomic_path(path) as temp:
        pq.write_table(table, temp, compression="zstd")
    return Path(path)


def write_private_xlsx(path: str | os.PathLike[str], sheets: Mapping[str, pd.DataFrame]) -> Path:
    """Write record-level personal data to an owner-only (0600) workbook, formulas neutralised."""
    import xlsxwriter  # local: only needed when records are asked for

    with atomic_path(path, private=True) as temp:
        workbook = xlsxwriter.Workbook(
            str(temp), {"strings_to_formulas": False, "strings_to_urls": False}
        )
        workbook.set_properties({"created": dt.datetime(2000, 1, 1)})
        for sheet_name, frame in sheets.items():
            worksheet = workbook.add_worksheet(sheet_name[:31])
            for col, name in enumerate(frame.columns):
                worksheet.write_string(0, col, str(name))
            for row_index, row in enumerate(frame.itertuples(index=False), start=1):
                for col, value in enumerate(row):
                    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
                        continue
                    worksheet.write_string(row_index, col, str(value))
        workbook.close()
    return Path(path)


def sha256_of(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Manifest:
    """What a run read, with which options, and how long each step took."""

    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        inputs = sorted(
            self.inputs,
            key=lambda entry: (str(entry.get("role", "")), str(entry.get("path", "")), str(entry.get("sheet", ""))),
        )
        return {
            "fpstat_version": __version__,
            "created_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
            "parameters": self.parameters,
            "inputs": inputs,
            "timings": {name: round(seconds, 3) for name, seconds in self.timings.items()},
            "outputs": dict(sorted(self.outputs.items())),
            **self.extra,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        known = {"fpstat_version", "created_at", "parameters", "inputs", "timings", "outputs"}
        return cls(
            parameters=dict(data.get("parameters", {})),
            inputs=list(data.get("inputs", [])),
            timings=dict(data.get("timings", {})),
            outputs=dict(data.get("outputs", {})),
            extra={k: v for k, v in data.items() if k not in known},
        )


class RunDir:
    """A run directory: the files of one pipeline run, and its manifest and log.

    Opening an existing run directory keeps its manifest, so that ``indicators`` and ``audit``
    add to what ``reconcile`` wrote; each output file is replaced atomically.
    """

    MANIFEST = "manifest.json"
    LOG = "fpstat.log"

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        if create:
            self.path.mkdir(parents=True, exist_ok=True)
        manifest_path = self.path / self.MANIFEST
        if manifest_path.exists():
            self.manifest = Manifest.from_dict(json.loads(manifest_path.read_text("utf-8")))
        else:
            self.manifest = Manifest()

    def file(self, name: str) -> Path:
        return self.path / name

    def exists(self, name: str) -> bool:
        return (self.path / name).exists()

    def _record(self, name: str) -> None:
        self.manifest.outputs[name] = sha256_of(self.path / name)

    def write_csv(self, name: str, frame: pd.DataFrame) -> Path:
        target = write_csv(self.path / name, frame)
        self._record(name)
        return target

    def write_parquet(self, name: str, table: pd.DataFrame | pa.Table) -> Path:
        target = write_parquet(self.path / name, table)
        self._record(name)
        return target

    def write_json(self, name: str, obj: Any) -> Path:
        target = write_json(self.path / name, obj)
        self._record(name)
        return target

    def write_text(self, name: str, text: str) -> Path:
        target = write_text(self.path / name, text)
        self._record(name)
        return target

    def write_private_xlsx(self, name: str, sheets: Mapping[str, pd.DataFrame]) -> Path:
        target = write_private_xlsx(self.path / name, sheets)
        self._record(name)
        return target

    def read_csv(self, name: str, **kwargs: Any) -> pd.DataFrame:
        """Read back a CSV this module wrote (BOM handled, codes kept as text)."""
        return pd.read_csv(
            self.path / name, encoding="utf-8-sig", dtype_backend="pyarrow",
            keep_default_na=False, na_values=[""], **kwargs,
        )

    def read_parquet(self, name: str) -> pd.DataFrame:
        return pq.read_table(self.path / name).to_pandas(types_mapper=pd.ArrowDtype)

    def read_json(self, name: str) -> Any:
        return json.loads((self.path / name).read_text("utf-8"))

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Record how long ``step`` took in the manifest's ``timings``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.manifest.timings[step] = time.perf_counter() - start

    def log(self, event: str, **fields: Any) -> None:
        """Append one JSON line to ``fpstat.log``. Never pass personal data here."""
        record = {"time": dt.datetime.now(dt.timezone.utc).isoformat(), "event": event, **fields}
        line = json.dumps(record, ensure_ascii=False, sort_keys=True, default=_json_default)
        with open(self.path / self.LOG, "a", encoding="utf-8") as handle:  # append-only log
            handle.write(line + "\n")

    def save_manifest(self) -> Path:
        return write_json(self.path / self.MANIFEST, self.manifest.to_dict())
