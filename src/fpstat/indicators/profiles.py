"""Evaluation profiles: thresholds on indicators and settings of the audit checks, from TOML.

A profile is a shipped name (``county-quality-service``, the default; ``county-targets``;
``who-dqr``) or the path of a TOML file that a user copied from one and edited. The schema is
documented in ``docs/profiles.md``. Unknown keys are a :class:`~fpstat.errors.ConfigError`
naming the key and its line: ``tomllib`` reports no positions for valid TOML, so the line is
found by scanning the text for the key (after the header of the table it sits in).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fpstat.errors import ConfigError
from fpstat.indicators.profile_file import PROFILE_KEYS, line_of, no_overlaps, parse
from fpstat.indicators.thresholds import Profile, Threshold

__all__ = ["DEFAULT_PROFILE", "Profile", "Threshold", "load_profile", "shipped_profiles"]

DEFAULT_PROFILE = "county-quality-service"


def shipped_profiles() -> list[str]:
    """Names of the profiles that ship inside the package."""
    folder = resources.files("fpstat.indicators") / "profiles"
    return sorted(item.name[:-5] for item in folder.iterdir() if item.name.endswith(".toml"))


def _open(name_or_path: str | Path) -> tuple[str, str, Path | None]:
    """``(text, source, folder)`` of a shipped profile name or a TOML path."""
    text_name = str(name_or_path)
    if (
        isinstance(name_or_path, Path)
        or text_name.endswith(".toml")
        or "/" in text_name
        or "\\" in text_name
    ):
        path = Path(name_or_path)
        if not path.is_file():
            raise ConfigError("no such profile file", "评估方案文件不存在", file=str(path))
        return path.read_text("utf-8"), str(path), path.parent
    if text_name not in shipped_profiles():
        raise ConfigError(
            f"unknown profile {text_name!r}; shipped: {', '.join(shipped_profiles())}, or give a TOML path",
            f"未知的评估方案 {text_name!r}；内置：{'、'.join(shipped_profiles())}，或给出 TOML 文件路径",
            field="profile",
        )
    resource = resources.files("fpstat.indicators") / "profiles" / f"{text_name}.toml"
    return resource.read_text("utf-8"), f"shipped:{text_name}", None


def load_profile(name_or_path: str | Path | None = None, *, _depth: int = 0) -> Profile:
    """Load a shipped profile by name (default :data:`DEFAULT_PROFILE`) or a TOML file.

    ``[profile] extends = "<name or path>"`` starts from another profile: its thresholds for
    an indicator are replaced by this file's thresholds for that indicator, and check settings
    are merged per check (this file's keys win).
    """
    if _depth > 8:
        raise ConfigError(
            "profiles extend each other in a cycle", "评估方案相互继承形成循环", field="extends"
        )
    text, source, folder = _open(name_or_path or DEFAULT_PROFILE)
    data, reader = parse(text, source)
    header = data.get("profile", {})
    if not isinstance(header, dict):
        raise reader.fail("[profile] must be a table", "[profile] 须为表", "profile")
    reader.unknown(header, PROFILE_KEYS, "[profile]", line_of(text, "profile") or 0)
    raw_thresholds = data.get("thresholds", [])
    if not isinstance(raw_thresholds, list):
        raise reader.fail(
            "'thresholds' must be an array of tables", "“thresholds”须为表数组", "thresholds"
        )
    thresholds = [reader.threshold(entry, index) for index, entry in enumerate(raw_thresholds)]
    checks = reader.checks(data.get("checks", {}))
    no_overlaps(thresholds, reader)
    parent_name = header.get("extends")
    if parent_name:
        parent_ref: str | Path = parent_name
        if folder is not None and parent_name not in shipped_profiles():
            parent_ref = folder / parent_name
        parent = load_profile(parent_ref, _depth=_depth + 1)
        replaced = {t.indicator for t in thresholds}
        thresholds = [t for t in parent.thresholds if t.indicator not in replaced] + thresholds
        merged = {check: dict(values) for check, values in parent.check_settings.items()}
        for check, values in checks.items():
            merged.setdefault(check, {}).update(values)
        checks = merged
    fallback_name = source.removeprefix("shipped:") if folder is None else Path(source).stem
    return Profile(
        name=str(header.get("name") or fallback_name),
        title_zh=str(header.get("title_zh", "")),
        title_en=str(header.get("title_en", "")),
        description=str(header.get("description", "")).strip(),
        source=source,
        thresholds=tuple(thresholds),
        check_settings=checks,
    )
