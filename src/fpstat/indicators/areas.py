"""Area names and code changes (区划调整) from an optional area table, else from the exports.

An area table (``--areas F``, CSV or xlsx) has one row per code: ``code``, ``name``, optionally
``valid_from`` / ``valid_to`` (years, or dates of which the year is used) and ``new_code`` for
a code that a 区划调整 replaced. Headers may also be Chinese (区划代码, 名称, 起始年份,
终止年份, 新代码).

Old codes are mapped to new ones *before* roll-up, so that a county renamed in mid-drop
(县改区: 320321 -> 320312) is one area in every period. A mapping on a code applies to everything
under it (its townships and villages keep their own digits under the new prefix); a mapping on
a deeper code wins over its parent's; chains (A -> B -> C) are followed.

Without an area table, an area's name is the most frequent ``area_name`` written next to its
code in the exports (ties: the first in code-point order).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fpstat.errors import UnreadableInputError, UsageError
from fpstat.schema.areas import LEVEL_DIGITS, level_of, pad_area_code
from fpstat.schema.periods import period_bounds

_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "area_code", "区划代码", "统计用区划代码", "行政区划代码", "代码"),
    "name": ("name", "area_name", "名称", "区划名称", "地区名称", "单位名称"),
    "valid_from": ("valid_from", "起始年份", "启用年份", "有效起始", "起始"),
    "valid_to": ("valid_to", "终止年份", "停用年份", "有效截止", "终止"),
    "new_code": ("new_code", "新代码", "新区划代码", "调整后代码"),
}


@dataclass(frozen=True)
class AreaEntry:
    """One row of an area table."""

    code: str
    name: str
    valid_from: int | None = None
    valid_to: int | None = None
    new_code: str | None = None

    def valid_in(self, year: int) -> bool:
        return (self.valid_from is None or self.valid_from <= year) and (
            self.valid_to is None or year <= self.valid_to
        )


class AreaTable:
    """Names by code (and year) and the old -> new code mapping of an area table."""

    def __init__(self, entries: Iterable[AreaEntry], *, source: str = "") -> None:
        self.entries = sorted(entries, key=lambda e: (e.code, e.valid_from or 0))
        self.source = source
        self._by_code: dict[str, list[AreaEntry]] = {}
        for entry in self.entries:
            self._by_code.setdefault(entry.code, []).append(entry)
        self.mapping = self._resolve_mapping()

    def _resolve_mapping(self) -> dict[str, str]:
        direct = {e.code: e.new_code for e in self.entries if e.new_code and e.new_code != e.code}
        resolved: dict[str, str] = {}
        for old in direct:
            seen = [old]
            target = direct[old]
            while target in direct:
                if target in seen:
                    raise UsageError(
                        "the area table's new_code entries form a cycle",
                        "区划表的新代码形成循环",
                        file=self.source,
                        field="new_code",
                    )
                seen.append(target)
                target = direct[target]
            if level_of(old) != level_of(target):
                raise UsageError(
                    f"code {old} is mapped to {target}, which is at another level",
                    f"代码 {old} 被映射到不同层级的 {target}",
                    file=self.source,
                    field="new_code",
                )
            resolved[old] = target
        return resolved

    def remap(self, codes: pd.Series) -> pd.Series:
        """Each 12-digit code with old prefixes replaced by their new codes (vectorised)."""
        if not self.mapping:
            return codes
        result = codes.astype("string")
        done = pd.Series(False, index=result.index)
        by_depth: dict[int, dict[str, str]] = {}
        for old, new in self.mapping.items():
            digits = LEVEL_DIGITS[level_of(old)]
            by_depth.setdefault(digits, {})[old[:digits]] = new[:digits]
        for digits in sorted(by_depth, reverse=True):  # the most specific mapping wins
            prefix = result.str.slice(0, digits)
            replacement = prefix.map(by_depth[digits]).astype("string")
            hit = replacement.notna() & ~done
            if hit.any():
                result = result.where(~hit, replacement + result.str.slice(digits))
                done |= hit
        return result

    def name_for(self, code: str, period: str | None = None) -> str | None:
        """The name of ``code``, as valid at the end of ``period`` when several are given."""
        entries = self._by_code.get(code)
        if not entries:
            return None
        if period:
            year = period_bounds(period)[1].year
            valid = [e for e in entries if e.valid_in(year)]
            if valid:
                return valid[-1].name
        return entries[-1].name


def _read_frame(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise UsageError("--areas: no such file", "--areas：文件不存在", file=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xls", ".xlsm"):
            return pd.read_excel(path, dtype=str, engine="calamine")
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)
            except UnicodeDecodeError:
                continue
    except Exception as error:  # noqa: BLE001 - any reader failure is an unreadable input
        raise UnreadableInputError(
            f"cannot read the area table ({type(error).__name__})",
            f"无法读取区划表（{type(error).__name__}）",
            file=str(path),
        ) from None
    raise UnreadableInputError(
        "the area table is neither UTF-8 nor GB18030 text",
        "区划表既非 UTF-8 也非 GB18030 编码",
        file=str(path),
    )


def _year(value: object) -> int | None:
    text = "" if value is None else str(value).strip()
    if not text or text.lower() == "nan":
        return None
    digits = text[:4]
    return int(digits) if digits.isdigit() else None


def load_areas(path: str | Path) -> AreaTable:
    """Read an area table (CSV in UTF-8 or GB18030, or xlsx); codes are padded to 12 digits."""
    path = Path(path)
    frame = _read_frame(path)
    columns: dict[str, str] = {}
    for header in frame.columns:
        key = str(header).strip().lower()
        for field, aliases in _HEADERS.items():
            if key in aliases and field not in columns:
                columns[field] = header
    for required in ("code", "name"):
        if required not in columns:
            raise UsageError(
                f"the area table needs a '{required}' column",
                f"区划表缺少“{required}”列",
                file=str(path),
                field=required,
            )
    entries = []
    for row_number, row in enumerate(frame.itertuples(index=False), start=2):
        values = dict(zip(frame.columns, row, strict=True))
        raw_code = values[columns["code"]]
        if raw_code is None or not str(raw_code).strip():
            continue
        code = pad_area_code(str(raw_code))
        new_raw = values.get(columns.get("new_code", ""), None)
        new_code = pad_area_code(str(new_raw)) if new_raw and str(new_raw).strip() else None
        if code is None or (new_raw and str(new_raw).strip() and new_code is None):
            raise UsageError(
                "not a 2-, 4-, 6-, 9- or 12-digit area code",
                "不是 2、4、6、9 或 12 位的区划代码",
                file=str(path),
                row=row_number,
                field="code" if code is None else "new_code",
            )
        entries.append(
            AreaEntry(
                code=code,
                name=str(values[columns["name"]] or "").strip(),
                valid_from=_year(values.get(columns.get("valid_from", ""), None)),
                valid_to=_year(values.get(columns.get("valid_to", ""), None)),
                new_code=new_code,
            )
        )
    return AreaTable(entries, source=str(path))


def most_frequent_names(pairs: Iterable[tuple[str, str, int]]) -> dict[str, str]:
    """``code -> name`` from ``(code, name, count)`` triples: the most frequent name per code."""
    counts: dict[str, Counter[str]] = {}
    for code, name, count in pairs:
        if not isinstance(code, str) or not isinstance(name, str) or not name.strip():
            continue
        counts.setdefault(code, Counter())[name.strip()] += int(count)
    return {
        code: min(counter.items(), key=lambda item: (-item[1], item[0]))[0]
        for code, counter in counts.items()
    }
