"""The drop's own files: ``fpstat.toml`` (so that ``fpstat run`` processes it) and ``README.md``."""

from __future__ import annotations

from pathlib import Path

from fpstat import rundir
from fpstat.sample.population import AS_OF
from fpstat.sample.reports import ANNUAL, BUREAU, MONTHLY, REPORT_FILE

ROLE_ORDER = ("planning", "police", "census", "hospital", "education")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_text(record_files: dict[str, list[str]]) -> str:
    """``fpstat.toml`` in the architecture spec's format, one ``[[inputs]]`` per export."""
    lines = [
        "# fpstat run config for this synthetic drop (made by `fpstat sample`).",
        "# Paths are relative to this file. Run: fpstat run fpstat.toml",
        "",
        "[run]",
        'out = "runs/{date}"',
        'period = "sy"',
        'language = "zh"',
        'profile = "county-quality-service"',
        f'as_of = "{AS_OF.isoformat()}"',
    ]
    for role in ROLE_ORDER:
        for path in record_files.get(role, []):
            lines += ["", "[[inputs]]", f"role = {_quoted(role)}", f"path = {_quoted(path)}"]
    lines += [
        "", "[[inputs]]", 'role = "report"', f"path = {_quoted(REPORT_FILE)}",
        f"sheet = [{_quoted(ANNUAL)}, {_quoted(MONTHLY)}]",
        "", "[[inputs]]", 'role = "population"', f"path = {_quoted(REPORT_FILE)}",
        f"sheet = {_quoted(BUREAU)}",
        "", "[checks]", 'fail_on = "error"', "",
    ]
    return "\n".join(lines)


README = """# 合成数据 / Synthetic data

本目录由 `fpstat sample`（种子 {seed}，规模 {size}，真实出生 {births} 人）生成，全部为虚构的合成数据：
地名、姓名、公民身份号码及各项统计数字均为随机生成，与任何真实的人、地区或统计报表无关，仅供测试、
演示和培训使用；其中故意加入了漏报、重报、性别错报、格式错误和报表不一致等问题，答案见 `truth/` 目录。

This folder was written by `fpstat sample` (seed {seed}, size {size}, {births} true births) and is
entirely synthetic: place names, personal names, resident ID numbers and every figure are randomly
generated and describe no real person, area or statistical report; it is for testing, demonstration
and training only. Problems were planted on purpose (missed, duplicated and sex-misreported births,
malformed values, reports that disagree with registers); `truth/` says what and where, and
`fpstat run fpstat.toml` processes the drop.
"""


def write_drop_files(out_dir: Path, record_files: dict[str, list[str]], *, seed: int, size: str,
                     births: int) -> list[str]:
    rundir.write_text(out_dir / "fpstat.toml", config_text(record_files))
    rundir.write_text(out_dir / "README.md", README.format(seed=seed, size=size, births=f"{births:,}"))
    return ["fpstat.toml", "README.md"]
