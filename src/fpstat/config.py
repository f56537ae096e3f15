"""The config file of ``fpstat run`` / ``fpstat check`` (architecture spec, "Config file").

Parsed with :mod:`tomllib`, then checked strictly: an unknown key is an error naming the key and
its line (never silently ignored: a misspelt ``fail_on`` would otherwise turn a gate off). Paths
are relative to the config file's folder. The optional ``[linkage]`` table sets the record
linkage knobs users may change (:data:`LINKAGE_KEYS`, onto
:class:`fpstat.reconcile.LinkageSettings`); the reference is ``docs/config.md``.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fpstat.engine.sql_linkage import BLOCKING_RULES
from fpstat.errors import ConfigError, UsageError
from fpstat.reconcile import LinkageSettings
from fpstat.schema import ROLES
from fpstat.schema.periods import PERIOD_KINDS

SEVERITIES = ("info", "warning", "error")

_RUN_KEYS = {
    "out": str,
    "period": str,
    "language": str,
    "profile": str,
    "engine": str,
    "memory_limit": str,
    "areas": str,
    "as_of": (str, dt.date),
    "include_records": bool,
    "criterion": str,
    "stratify": bool,
}
_INPUT_KEYS = {"role": str, "path": str, "sheet": (str, list), "mapping": dict}
_TOP_KEYS = {"run", "inputs", "checks", "linkage"}
#: The keys of ``[linkage]``, each a LinkageSettings field of the same name, and the kind of
#: TOML value it takes (the rest of LinkageSettings are estimation internals, not user knobs).
LINKAGE_KEYS: dict[str, str] = {
    "match_threshold": "number",
    "orphan_merge_threshold": "number",
    "date_tolerance_days": "integer",
    "blocking_rules": "rule names",
    "second_look": "boolean",
    "uncertainty_floor": "number",
    "max_block_pairs": "integer",
    "seed": "integer",
    "workers": "integer",
}
_KIND_EN = {"number": "a number", "integer": "an integer", "boolean": "true or false",
            "rule names": "a list of blocking rule names"}
_KIND_ZH = {"number": "数值", "integer": "整数", "boolean": "布尔值（true 或 false）", "rule names": "分块规则名称的列表"}


@dataclass
class InputConfig:
    role: str
    path: str
    sheets: list[str] | None
    mapping: dict[str, str] | None
    line: int | None


@dataclass
class RunConfig:
    """A validated config file."""

    path: Path
    out: str = "runs/{date}"
    period: str = "sy"
    language: str = "zh"
    profile: str = "county-quality-service"
    engine: str = "duckdb"
    memory_limit: str | None = None
    areas: Path | None = None
    as_of: dt.date | None = None
    include_records: bool = False
    criterion: str = "aic"
    stratify: bool = True
    inputs: list[InputConfig] = field(default_factory=list)
    fail_on: str = "error"
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    linkage: LinkageSettings = field(default_factory=LinkageSettings)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def out_dir(self, as_of: dt.date, now: dt.datetime | None = None) -> Path:
        """The run directory with ``{date}`` (the as-of date) and ``{time}`` expanded."""
        now = now or dt.datetime.now()
        text = self.out.replace("{date}", as_of.isoformat()).replace("{time}", now.strftime("%H%M%S"))
        path = Path(text)
        return path if path.is_absolute() else self.base_dir / path


def _line_of(text: str, key: str, after_line: int = 0) -> int | None:
    """The 1-based line where ``key`` is assigned (tomllib does not report positions)."""
    pattern = re.compile(r'^\s*(?:"' + re.escape(key) + r'"|' + re.escape(key) + r")\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if number > after_line and pattern.match(line):
            return number
    return None


def _section_lines(text: str, header: str) -> list[int]:
    pattern = re.compile(r"^\s*\[+\s*" + re.escape(header) + r"\s*\]+\s*(#.*)?$")
    return [n for n, line in enumerate(text.splitlines(), start=1) if pattern.match(line)]


def _fail(path: Path, text: str, key: str, en: str, zh: str, after: int = 0) -> ConfigError:
    line = _line_of(text, key.split(".")[-1].strip('"'), after)
    return ConfigError(en, zh, file=str(path), row=line, field=key)


def _check_type(path: Path, text: str, key: str, value: Any, expected: Any, after: int = 0) -> None:
    if not isinstance(value, expected):
        names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
        raise _fail(path, text, key, f"must be {names}", f"类型应为 {names}", after)


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a config file; :class:`ConfigError` (exit 2) on anything wrong."""
    config_path = Path(path)
    try:
        text = config_path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("config file not found", "找不到配置文件", file=str(config_path)) from None
    except UnicodeDecodeError:
        raise ConfigError("config file is not UTF-8", "配置文件不是 UTF-8 编码", file=str(config_path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        raise ConfigError(
            f"not valid TOML: {error}", f"不是有效的 TOML：{error}",
            file=str(config_path), row=int(match.group(1)) if match else None,
        ) from None

    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(
                f"unknown section or key '{key}' (known: run, inputs, checks, linkage)",
                f"未知的节或键“{key}”（可用：run、inputs、checks、linkage）",
                file=str(config_path), row=_line_of(text, key) or (_section_lines(text, key) or [None])[0],
                field=key,
            )
    config = RunConfig(path=config_path.resolve())
    run_section = data.get("run", {})
    run_start = (_section_lines(text, "run") or [0])[0]
    for key, value in run_section.items():
        if key not in _RUN_KEYS:
            raise _fail(config_path, text, f"run.{key}", f"unknown key '{key}' in [run] (known: {', '.join(sorted(_RUN_KEYS))})",
                        f"[run] 中未知的键“{key}”", run_start)
        _check_type(config_path, text, f"run.{key}", value, _RUN_KEYS[key], run_start)
    for key in ("out", "language", "profile", "engine", "memory_limit", "criterion"):
        if key in run_section:
            setattr(config, key, run_section[key])
    for key in ("include_records", "stratify"):
        if key in run_section:
            setattr(config, key, run_section[key])
    if "period" in run_section:
        if run_section["period"] not in PERIOD_KINDS:
            raise _fail(config_path, text, "run.period", f"period must be one of {', '.join(PERIOD_KINDS)}",
                        f"period 须为 {'、'.join(PERIOD_KINDS)} 之一", run_start)
        config.period = run_section["period"]
    if config.language not in ("zh", "en"):
        raise _fail(config_path, text, "run.language", "language must be zh or en", "language 须为 zh 或 en", run_start)
    if config.engine not in ("duckdb", "spark"):
        raise _fail(config_path, text, "run.engine", "engine must be duckdb or spark", "engine 须为 duckdb 或 spark", run_start)
    if config.engine == "spark":
        raise _fail(config_path, text, "run.engine", "the Spark engine is not available in this version; use duckdb",
                    "此版本尚未提供 Spark 引擎，请使用 duckdb", run_start)
    if config.criterion not in ("aic", "bic"):
        raise _fail(config_path, text, "run.criterion", "criterion must be aic or bic", "criterion 须为 aic 或 bic", run_start)
    if "areas" in run_section:
        config.areas = config.base_dir / run_section["areas"]
    if "as_of" in run_section:
        value = run_section["as_of"]
        try:
            config.as_of = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
        except ValueError:
            raise _fail(config_path, text, "run.as_of", "as_of must be a date like 2026-01-31",
                        "as_of 须为日期，如 2026-01-31", run_start) from None

    inputs = data.get("inputs", [])
    if not isinstance(inputs, list):
        raise _fail(config_path, text, "inputs", "inputs must be an array of tables: [[inputs]]", "inputs 须写作 [[inputs]]")
    input_lines = _section_lines(text, "inputs")
    for index, entry in enumerate(inputs):
        start = input_lines[index] if index < len(input_lines) else 0
        for key, value in entry.items():
            if key not in _INPUT_KEYS:
                raise _fail(config_path, text, f"inputs.{key}", f"unknown key '{key}' in [[inputs]] (known: role, path, sheet, mapping)",
                            f"[[inputs]] 中未知的键“{key}”（可用：role、path、sheet、mapping）", start)
            _check_type(config_path, text, f"inputs.{key}", value, _INPUT_KEYS[key], start)
        if "path" not in entry:
            raise ConfigError("an [[inputs]] entry has no path", "[[inputs]] 缺少 path", file=str(config_path), row=start or None)
        role = entry.get("role")
        if role is not None and role not in ROLES:
            raise _fail(config_path, text, "inputs.role", f"unknown role '{role}' (known: {', '.join(ROLES)})",
                        f"未知的来源角色“{role}”", start)
        sheet = entry.get("sheet")
        sheets = [sheet] if isinstance(sheet, str) else (list(sheet) if sheet else None)
        mapping = entry.get("mapping")
        if mapping is not None and not all(isinstance(v, str) for v in mapping.values()):
            raise _fail(config_path, text, "inputs.mapping", "mapping values must be field names", "mapping 的值须为字段名", start)
        config.inputs.append(InputConfig(role=role, path=entry["path"], sheets=sheets, mapping=mapping, line=start or None))
    if not config.inputs:
        raise ConfigError("the config lists no [[inputs]]", "配置文件未列出任何 [[inputs]]", file=str(config_path))

    checks = dict(data.get("checks", {}))
    checks_start = (_section_lines(text, "checks") or [0])[0]
    fail_on = checks.pop("fail_on", "error")
    if fail_on not in SEVERITIES:
        raise _fail(config_path, text, "checks.fail_on", "fail_on must be info, warning or error",
                    "fail_on 须为 info、warning 或 error", checks_start)
    config.fail_on = fail_on
    for check_id, settings in checks.items():
        if not isinstance(settings, dict):
            raise _fail(config_path, text, f'checks."{check_id}"', "check settings must be a table, e.g. { threshold = 0.9 }",
                        "检查项设置须为表，如 { threshold = 0.9 }", checks_start)
        config.checks[check_id] = settings
    config.linkage = _linkage_settings(config_path, text, data.get("linkage", {}))
    return config


def _linkage_settings(path: Path, text: str, section: Any) -> LinkageSettings:
    """The ``[linkage]`` table as LinkageSettings: known keys, right types, values in range."""
    start = (_section_lines(text, "linkage") or [0])[0]
    if not isinstance(section, dict):
        raise _fail(path, text, "linkage", "linkage must be a table: [linkage]", "linkage 须写作 [linkage] 表")
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in LINKAGE_KEYS:
            raise _fail(path, text, f"linkage.{key}",
                        f"unknown key '{key}' in [linkage] (known: {', '.join(LINKAGE_KEYS)})",
                        f"[linkage] 中未知的键“{key}”（可用：{'、'.join(LINKAGE_KEYS)}）", start)
        values[key] = _linkage_value(path, text, key, value, start)
    blamed = blame_linkage_key(values)
    if blamed is not None:
        key, error = blamed
        raise _fail(path, text, f"linkage.{key}",
                    f"{key} = {values[key]!r} is out of range ({error.message_en})",
                    f"{key} = {values[key]!r} 超出允许范围（{error.message_zh}）", start)
    return replace(LinkageSettings(), **values)


def _linkage_value(path: Path, text: str, key: str, value: Any, start: int) -> Any:
    """``value`` converted to the field's type, or a ConfigError saying what the key takes."""
    kind = LINKAGE_KEYS[key]

    def fail(en: str = f"{key} must be {_KIND_EN[kind]}, not {value!r}",
             zh: str = f"{key} 须为{_KIND_ZH[kind]}，而不是 {value!r}") -> ConfigError:
        return _fail(path, text, f"linkage.{key}", en, zh, start)

    if kind == "rule names":
        return _blocking_rules(key, value, fail)
    if (kind == "boolean") != isinstance(value, bool):
        raise fail()  # TOML true/false are Python ints too: never take one for a number
    if kind == "boolean":
        return value
    if kind == "number" and isinstance(value, int | float):
        return float(value)
    if kind != "integer" or not isinstance(value, int):
        raise fail()
    # Checks LinkageSettings.validate() does not make, on values that would fail deep in a run.
    if key == "seed" and value < 0:
        raise fail("seed must be 0 or a positive integer", "seed 须为 0 或正整数")
    if key == "workers" and value < 1 and value != -1:
        raise fail("workers must be a positive integer, or -1 for all cores", "workers 须为正整数，或 -1 表示使用全部核心")
    return value


def _blocking_rules(key: str, value: Any, fail: Callable[..., ConfigError]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise fail()
    known = ", ".join(BLOCKING_RULES)
    if not value:  # no rule would mean no candidate pairs at all, not "exact passes only"
        raise fail(f"{key} needs at least one rule (known: {known})", f"{key} 至少须列出一条规则（可用：{known}）")
    unknown = ", ".join(repr(name) for name in value if name not in BLOCKING_RULES)
    if unknown:
        raise fail(f"unknown blocking rule {unknown} in {key} (known: {known})",
                   f"{key} 中有未知的分块规则 {unknown}（可用：{known}）")
    return tuple(dict.fromkeys(value))  # a rule listed twice is the same rule


def blame_linkage_key(values: Mapping[str, Any]) -> tuple[str, UsageError] | None:
    """Which of ``values`` (LinkageSettings fields over the defaults) puts them out of range.

    None when ``LinkageSettings.validate()`` accepts them all; else the key to name in the
    message with validate()'s error: the first key out of range on its own, else (two keys
    in range alone but not together, e.g. ``uncertainty_floor`` above ``match_threshold``)
    the first whose default would make the rest valid, else the first key.
    """

    def problem(chosen: Mapping[str, Any]) -> UsageError | None:
        try:
            replace(LinkageSettings(), **chosen).validate()
        except UsageError as error:
            return error
        return None

    error = problem(values)
    if error is None:
        return None
    for key, value in values.items():
        alone = problem({key: value})
        if alone is not None:
            return key, alone
    for key in values:
        if problem({other: value for other, value in values.items() if other != key}) is None:
            return key, error
    return next(iter(values)), error


def check_line(config: RunConfig, check_id: str) -> int | None:
    """The line of a check's settings, for error messages about them."""
    text = config.path.read_text(encoding="utf-8-sig")
    return _line_of(text, check_id)
