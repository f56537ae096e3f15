"""The check registry: every check's id, family, the files it needs and its default settings.

A check is a small generator function ``check(inputs, settings) -> Iterator[Finding]``,
registered with :func:`register`. Its docstring cites where each default comes from; the
config's ``[checks]`` table overrides them, e.g. ``"completeness.low" = { threshold = 0.90 }``.
:func:`resolve_settings` validates that table: an unknown check id or setting is a
:class:`~fpstat.errors.ConfigError` naming it, never silently ignored.

Every check accepts ``enabled`` (default true), so that a config can switch one off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fpstat.errors import ConfigError

#: Keys of the config's ``[checks]`` table that are not check ids (read by ``fpstat check``).
RESERVED_KEYS = frozenset({"fail_on"})
FAMILIES = ("input", "reconcile", "integrity", "consistency")

CheckFunction = Callable[..., Iterator[Any]]


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: id, family, required run-directory files, defaults, function."""

    id: str
    family: str
    needs: tuple[str, ...]
    defaults: Mapping[str, Any]
    function: CheckFunction = field(compare=False)

    @property
    def doc(self) -> str:
        return (self.function.__doc__ or "").strip()


#: check id -> spec, filled as the ``checks_*`` modules are imported.
CHECKS: dict[str, CheckSpec] = {}


class SkipCheck(Exception):
    """Raised inside a check when the data cannot support it (e.g. no monthly figures)."""

    def __init__(self, reason_en: str, reason_zh: str) -> None:
        super().__init__(reason_en)
        self.reason_en = reason_en
        self.reason_zh = reason_zh


def register(
    check_id: str, *, family: str, needs: tuple[str, ...], defaults: Mapping[str, Any]
) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator adding a check function to :data:`CHECKS`."""
    if family not in FAMILIES:
        raise ValueError(f"unknown check family {family!r}")

    def decorate(function: CheckFunction) -> CheckFunction:
        if check_id in CHECKS:
            raise ValueError(f"check {check_id!r} registered twice")
        CHECKS[check_id] = CheckSpec(
            id=check_id,
            family=family,
            needs=needs,
            defaults={"enabled": True, **defaults},
            function=function,
        )
        return function

    return decorate


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)
    return True


def _type_name(default: Any) -> str:
    if isinstance(default, bool):
        return "true/false"
    if isinstance(default, (int, float)):
        return "a number"
    if isinstance(default, str):
        return "text"
    return "a list of text"


def resolve_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    layers: tuple[Mapping[str, Any] | None, ...] = (),
) -> dict[str, dict[str, Any]]:
    """Each check's settings: its defaults, then each of ``layers``, then ``overrides``.

    ``layers`` are lower-priority tables of the same shape (an evaluation profile's
    ``check_settings``). Raises :class:`ConfigError` for an unknown check id, an unknown
    setting key or a value of the wrong type, naming ``checks.<id>.<key>``.
    """
    resolved = {check_id: dict(spec.defaults) for check_id, spec in CHECKS.items()}
    for table in (*layers, overrides):
        for check_id, values in (table or {}).items():
            if check_id in RESERVED_KEYS:
                continue
            if check_id not in CHECKS:
                known = ", ".join(sorted(CHECKS))
                raise ConfigError(
                    f"unknown check {check_id!r} in [checks]; known checks: {known}",
                    f"[checks] 中的检查项 {check_id!r} 不存在；可用的检查项：{known}",
                    field=f"checks.{check_id}",
                )
            if not isinstance(values, Mapping):
                raise ConfigError(
                    f"settings of check {check_id!r} must be a table, e.g. {{ enabled = false }}",
                    f"检查项 {check_id!r} 的设置须为表，如 {{ enabled = false }}",
                    field=f"checks.{check_id}",
                )
            defaults = CHECKS[check_id].defaults
            for key, value in values.items():
                if key not in defaults:
                    known = ", ".join(sorted(defaults))
                    raise ConfigError(
                        f"unknown setting {key!r} of check {check_id!r}; its settings: {known}",
                        f"检查项 {check_id!r} 没有设置 {key!r}；可用的设置：{known}",
                        field=f"checks.{check_id}.{key}",
                    )
                if not _same_kind(defaults[key], value):
                    raise ConfigError(
                        f"setting {key!r} of check {check_id!r} must be {_type_name(defaults[key])}",
                        f"检查项 {check_id!r} 的设置 {key!r} 类型不对",
                        field=f"checks.{check_id}.{key}",
                    )
                resolved[check_id][key] = list(value) if isinstance(value, tuple) else value
    return resolved
