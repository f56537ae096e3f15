"""Thresholds and evaluation profiles as values (read from TOML by :mod:`.profile_file`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Threshold:
    """A threshold on one indicator at some levels: ``min``, ``max``, ``range`` or ``veto``.

    ``veto`` is a lower bound whose failure fails the whole evaluation (一票否决); values are
    in the indicator's unit (``92`` for 92 %).
    """

    indicator: str
    kind: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    inclusive: bool = True
    levels: tuple[str, ...] = ("county",)
    sources: tuple[str, ...] = ()
    note: str = ""

    def applies_to(self, level: str, source: str) -> bool:
        return level in self.levels and (not self.sources or source in self.sources)

    def describe(self) -> str:
        """The threshold as written in indicators.csv: ``>= 92``, ``< 110``, ``103-107``."""
        if self.kind == "range":
            return f"{_number(self.low)}-{_number(self.high)}"
        if self.kind in ("min", "veto"):
            text = f"{'>=' if self.inclusive else '>'} {_number(self.value)}"
        else:
            text = f"{'<=' if self.inclusive else '<'} {_number(self.value)}"
        return f"{text} (veto)" if self.kind == "veto" else text

    def status(self, value: float) -> str:
        """``meets``, or ``below`` / ``veto`` / ``above`` / ``out_of_range``; empty for no value."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if self.kind == "range":
            assert self.low is not None and self.high is not None
            inside = (
                (self.low <= value <= self.high)
                if self.inclusive
                else (self.low < value < self.high)
            )
            return "meets" if inside else "out_of_range"
        assert self.value is not None
        if self.kind in ("min", "veto"):
            ok = value >= self.value if self.inclusive else value > self.value
            return "meets" if ok else ("veto" if self.kind == "veto" else "below")
        ok = value <= self.value if self.inclusive else value < self.value
        return "meets" if ok else "above"

    def to_dict(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator,
            "kind": self.kind,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "inclusive": self.inclusive,
            "levels": list(self.levels),
            "sources": list(self.sources),
            "note": self.note,
            "threshold": self.describe(),
        }


@dataclass(frozen=True)
class Profile:
    """An evaluation profile: indicator thresholds and audit check settings."""

    name: str
    title_zh: str = ""
    title_en: str = ""
    description: str = ""
    source: str = ""
    thresholds: tuple[Threshold, ...] = ()
    check_settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def threshold_for(self, indicator: str, level: str, source: str) -> Threshold | None:
        for threshold in self.thresholds:
            if threshold.indicator == indicator and threshold.applies_to(level, source):
                return threshold
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "description": self.description,
            "source": self.source,
            "thresholds": [t.to_dict() for t in self.thresholds],
            "checks": self.check_settings,
        }


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
