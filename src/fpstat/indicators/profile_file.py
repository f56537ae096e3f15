"""Reading an evaluation profile's TOML: validation with the key and line of every error.

``tomllib`` reports positions only for syntax errors; for a valid file with a wrong key the
line is found by scanning the text for the key after the header of the table it sits in.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from fpstat.errors import ConfigError
from fpstat.indicators.registry import REGISTRY
from fpstat.indicators.rollup import ALL_LEVEL
from fpstat.indicators.thresholds import Threshold
from fpstat.schema.areas import LEVEL_NAMES

KINDS: tuple[str, ...] = ("min", "max", "range", "veto")
#: Check ids of ``spec/checks.md`` that a profile may carry settings for.
KNOWN_CHECKS: frozenset[str] = frozenset(
    {
        "rows.rejected",
        "records.duplicate",
        "id.inconsistent",
        "completeness.low",
        "sex.misreported",
        "srb.out_of_range",
        "srb.volatile",
        "report.register_mismatch",
        "population.denominator_mismatch",
        "relation.inconsistent",
        "time.inconsistent",
        "outlier",
        "threshold.heaping",
        "digits.preference",
    }
)
PROFILE_KEYS = frozenset({"name", "title_zh", "title_en", "description", "extends"})
_THRESHOLD_KEYS = frozenset(
    {
        "indicator",
        "kind",
        "value",
        "low",
        "high",
        "inclusive",
        "levels",
        "sources",
        "note",
    }
)
_TOP_KEYS = frozenset({"profile", "thresholds", "checks"})


def line_of(text: str, key: str, after: int = 0) -> int | None:
    """First line (1-based) after line ``after`` where ``key`` is set or opens a table."""
    quoted = re.escape(key)
    pattern = re.compile(rf"""^\s*(\[\[?\s*)?(["']?){quoted}\2\s*(=|\]|\.)""")
    dotted = re.compile(rf"""\.\s*(["']?){quoted}\1\s*(\]|=)""")
    for number, line in enumerate(text.splitlines(), start=1):
        if number > after and (pattern.search(line) or dotted.search(line)):
            return number
    return None


def _nth_table_line(text: str, header: str, index: int) -> int:
    """Line of the ``index``-th ``[[header]]`` array-of-tables header (0 if not found)."""
    pattern = re.compile(rf"^\s*\[\[\s*{re.escape(header)}\s*\]\]")
    seen = -1
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            seen += 1
            if seen == index:
                return number
    return 0


class Reader:
    """Validates one profile file's parsed TOML, raising ConfigError with key and line."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source

    def fail(self, en: str, zh: str, key: str, after: int = 0) -> ConfigError:
        return ConfigError(en, zh, file=self.source, row=line_of(self.text, key, after), field=key)

    def unknown(
        self, table: dict[str, Any], allowed: frozenset[str], where: str, after: int = 0
    ) -> None:
        for key in sorted(set(table) - allowed):
            raise self.fail(
                f"unknown key '{key}' in {where} (allowed: {', '.join(sorted(allowed))})",
                f"{where} 中有未知的键“{key}”（允许：{'、'.join(sorted(allowed))}）",
                key,
                after,
            )

    def number(self, entry: dict[str, Any], key: str, after: int) -> float | None:
        value = entry.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"'{key}' must be a number", f"“{key}”须为数字", key, after)
        return float(value)

    def names(
        self, entry: dict[str, Any], key: str, after: int, default: tuple[str, ...]
    ) -> tuple[str, ...]:
        value = entry.get(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"'{key}' must be a list of names", f"“{key}”须为名称列表", key, after)
        return tuple(value)

    def threshold(self, entry: Any, index: int) -> Threshold:
        after = _nth_table_line(self.text, "thresholds", index)
        if not isinstance(entry, dict):
            raise self.fail(
                "each [[thresholds]] entry must be a table",
                "[[thresholds]] 的每一项须为表",
                "thresholds",
            )
        self.unknown(entry, _THRESHOLD_KEYS, "[[thresholds]]", after)
        indicator = entry.get("indicator")
        if indicator not in REGISTRY:
            raise self.fail(
                f"unknown indicator {indicator!r} (see spec/indicators.md)",
                f"未知的指标 {indicator!r}",
                "indicator",
                after,
            )
        kind = entry.get("kind")
        if kind not in KINDS:
            raise self.fail(
                f"'kind' must be one of {', '.join(KINDS)}",
                f"“kind”须为 {'、'.join(KINDS)} 之一",
                "kind",
                after,
            )
        value, low, high = (self.number(entry, k, after) for k in ("value", "low", "high"))
        if kind == "range" and (low is None or high is None or low > high):
            raise self.fail("a range needs 'low' <= 'high'", "range 须有 low <= high", "low", after)
        if kind != "range" and value is None:
            raise self.fail(
                f"a {kind} threshold needs 'value'", f"{kind} 阈值须有 value", "kind", after
            )
        levels = self.names(entry, "levels", after, ("county",))
        for level in levels:
            if level not in (*LEVEL_NAMES, ALL_LEVEL):
                raise self.fail(
                    f"unknown level {level!r} (province, prefecture, county, township, village, all)",
                    f"未知的层级 {level!r}",
                    "levels",
                    after,
                )
        inclusive = entry.get("inclusive", True)
        note = entry.get("note", "")
        if not isinstance(inclusive, bool):
            raise self.fail(
                "'inclusive' must be true or false",
                "“inclusive”须为 true 或 false",
                "inclusive",
                after,
            )
        if not isinstance(note, str) or not note.strip():
            raise self.fail(
                "each threshold needs a 'note' saying where it comes from",
                "每个阈值须有说明其出处的“note”",
                "indicator",
                after,
            )
        return Threshold(
            indicator=indicator,
            kind=kind,
            value=value,
            low=low,
            high=high,
            inclusive=inclusive,
            levels=levels,
            sources=self.names(entry, "sources", after, ()),
            note=note.strip(),
        )

    def checks(self, table: Any) -> dict[str, dict[str, Any]]:
        if not isinstance(table, dict):
            raise self.fail("[checks] must be a table", "[checks] 须为表", "checks")
        settings: dict[str, dict[str, Any]] = {}
        for check_id, values in table.items():
            if check_id not in KNOWN_CHECKS:
                raise self.fail(
                    f"unknown check {check_id!r} (see spec/checks.md)",
                    f"未知的检查 {check_id!r}",
                    check_id,
                )
            if not isinstance(values, dict):
                raise self.fail(
                    f"settings of {check_id!r} must be a table",
                    f"{check_id!r} 的设置须为表",
                    check_id,
                )
            settings[check_id] = dict(values)
        return settings


def parse(text: str, source: str) -> tuple[dict[str, Any], Reader]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"at line (\d+)", str(error))
        raise ConfigError(
            f"not valid TOML: {error}",
            f"不是有效的 TOML：{error}",
            file=source,
            row=int(match.group(1)) if match else None,
        ) from None
    reader = Reader(text, source)
    reader.unknown(data, _TOP_KEYS, "the profile file")
    return data, reader


def no_overlaps(thresholds: list[Threshold], reader: Reader) -> None:
    """One threshold per indicator, level and source: indicators.csv has one threshold column."""
    for index, first in enumerate(thresholds):
        for second in thresholds[index + 1 :]:
            same_sources = (
                not first.sources or not second.sources or set(first.sources) & set(second.sources)
            )
            if (
                first.indicator == second.indicator
                and set(first.levels) & set(second.levels)
                and same_sources
            ):
                raise reader.fail(
                    f"two thresholds for {first.indicator} at the same level and source",
                    f"{first.indicator} 在同一层级和来源有两个阈值",
                    "indicator",
                    _nth_table_line(
                        reader.text, "thresholds", index + 1 + thresholds[index + 1 :].index(second)
                    ),
                )
