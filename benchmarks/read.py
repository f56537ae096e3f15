"""Reading speed: fpstat's reader (and reader + validation) against pandas, in one run.

Generates, in a temporary folder (or ``--work-dir``), a planning-register-like workbook of
``--xlsx-rows`` rows (title row, Chinese headers, resident IDs as text with a few typed into
number cells, date cells) written with xlsxwriter, and a UTF-8 CSV of ``--csv-rows`` rows;
then times, for each file:

* ``fpstat.io.read_export`` (read only),
* ``fpstat.schema.load_inputs`` (read + map + validate + normalise), "n/a" if not importable,
* ``pandas.read_excel`` with openpyxl / ``pandas.read_csv`` (every column as text).

Rows come from ``fpstat.sample.generate_sample(size="large")``'s ``planning.csv`` when that works
(``--data auto``, the default, or ``sample``), else from the generator below (``synthetic``).
Prints a Markdown table; writes into the repository only with ``--write-readme`` (the
``## Reading`` section of ``benchmarks/README.md``).

    PYTHONPATH=src python benchmarks/read.py [--xlsx-rows 200000] [--csv-rows 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import xlsxwriter

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from fpstat.io import read_export  # noqa: E402

HEADERS = [
    "序号", "婴儿姓名", "性别", "出生日期", "母亲姓名", "母亲身份证号", "婴儿身份证号",
    "行政区划代码", "村(居)委会", "孩次", "政策属性", "登记日期", "流动人口", "备注",
]  # fmt: skip
DATE_COLUMNS = {"出生日期", "登记日期"}
NUMBER_COLUMNS = {"序号", "孩次"}
TITLE = "XX县出生登记台账（基准测试数据，虚构）"
AS_OF = dt.date(2025, 12, 31)
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- data ------------------------------------------------------------------------------------


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    return np.char.zfill(values.astype(str), width)


def _resident_ids(area: np.ndarray, born: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """GB 11643 IDs with the ISO 7064 MOD 11-2 check character, vectorised."""
    dates = np.datetime_as_string(born, unit="D")
    body = np.char.add(np.char.add(area, np.char.replace(dates, "-", "")), _digits(sequence, 3))
    digits = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17) - 48
    return np.char.add(body, _CHECK[(digits @ _WEIGHTS) % 11])


def synthetic_register(rows: int, seed: int = 20250101) -> pd.DataFrame:
    """A planning register of made-up births (valid IDs, dates, villages), all cells text."""
    rng = np.random.default_rng(seed)
    village = rng.integers(1, 13, rows) * 1000 + rng.integers(1, 25, rows)
    area = np.char.add("320581", _digits(village, 6))
    child_born = np.datetime64("2015-01-01") + rng.integers(0, 3650, rows)
    mother_born = child_born - rng.integers(20 * 365, 40 * 365, rows)
    male = rng.random(rows) < 0.52
    child_sequence = rng.integers(0, 500, rows) * 2 + male
    child_ids = _resident_ids(np.full(rows, "320581"), child_born, child_sequence)
    mother_ids = _resident_ids(np.full(rows, "320581"), mother_born, rng.integers(0, 500, rows) * 2)
    child_ids[rng.random(rows) < 0.05] = ""  # not yet registered
    surnames = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
    given = np.array(["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "子涵", "欣怡"])
    return pd.DataFrame({
        "序号": np.arange(1, rows + 1).astype(str),
        "婴儿姓名": np.char.add(surnames[rng.integers(0, 20, rows)], given[rng.integers(0, 12, rows)]),
        "性别": np.where(male, "男", "女"),
        "出生日期": np.datetime_as_string(child_born, unit="D"),
        "母亲姓名": np.char.add(surnames[rng.integers(0, 20, rows)], given[rng.integers(0, 12, rows)]),
        "母亲身份证号": mother_ids,
        "婴儿身份证号": child_ids,
        "行政区划代码": area,
        "村(居)委会": np.char.add(_digits(village % 1000, 2), "村委会"),
        "孩次": rng.choice(["1", "1", "2", "3"], rows),
        "政策属性": rng.choice(["政策内", "政策内", "政策外"], rows),
        "登记日期": np.datetime_as_string(child_born + rng.integers(0, 60, rows), unit="D"),
        "流动人口": rng.choice(["是", "否", "否", "否"], rows),
        "备注": np.where(rng.random(rows) < 0.02, "补录", ""),
    })  # fmt: skip


def sample_register(work: Path, rows: int) -> pd.DataFrame:
    """The planning register of an ``fpstat sample --size large`` drop, as text cells."""
    from fpstat.sample import generate_sample

    out = work / "sample"
    generate_sample(out, size="large", births=min(2_000_000, int(rows * 1.3) + 1000))
    (sheet,) = read_export(out / "planning.csv")
    register = sheet.cells.copy()
    register.columns = sheet.headers
    return register.fillna("")


def _real_date(value: str) -> bool:
    """The sample plants impossible dates (2024-13-45): those stay text, as an office's would."""
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def write_xlsx(register: pd.DataFrame, path: Path) -> None:
    """As an office saves it: title row, header, text cells, date cells, small numbers; one
    ID in 200 typed into a number cell (Excel then shows 3.20581E+17)."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("出生登记")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(0, 0, TITLE)
    sheet.write_row(1, 0, list(register.columns))
    kinds = []
    for name in register.columns:
        if name in DATE_COLUMNS:
            kinds.append("date")
        elif name in NUMBER_COLUMNS:
            kinds.append("number")
        elif "身份证" in name:
            kinds.append("id")
        else:
            kinds.append("text")
    for offset, record in enumerate(register.itertuples(index=False), start=2):
        for column, (value, kind) in enumerate(zip(record, kinds, strict=True)):
            if not value:
                continue
            if kind == "date" and _ISO_DATE.match(value) and _real_date(value):
                sheet.write_datetime(offset, column, dt.date.fromisoformat(value), date_format)
            elif kind == "number" and value.isdigit():
                sheet.write_number(offset, column, int(value))
            elif kind == "id" and offset % 200 == 0 and value.isdigit():
                sheet.write_number(offset, column, float(value))
            else:
                sheet.write_string(offset, column, value)
    workbook.close()


def write_csv(register: pd.DataFrame, path: Path) -> None:
    """UTF-8 with a BOM, as Excel saves "CSV UTF-8"."""
    table = pa.Table.from_pandas(register.astype(str), preserve_index=False)
    with open(path, "wb") as handle:
        handle.write(b"\xef\xbb\xbf")
        pacsv.write_csv(table, handle, pacsv.WriteOptions(eol="\r\n"))


EXPLANATION = """\
One run of each tool, one after the other; "vs pandas" is pandas' time over the tool's on the
same file. Wall time is what a user waits; CPU s is this process's CPU time (pyarrow's CSV
reader uses both cores, so its CPU time can exceed its wall time; on a busy shared machine wall
time exceeds CPU time). `read_export` returns every cell as text plus the type the file stored
(`kinds`); `load_inputs` adds header mapping, validation of IDs, dates, codes, and the split into
accepted and rejected rows.

Where the workbook time goes (CPU, 200 000 rows x 14 columns): python-calamine's parse about
3 s, its `to_python()` about 1 s, fpstat's per-type conversion to Arrow text and kinds about
1 s; validation adds well under a second. openpyxl needs about 50 s. fastexcel parses in about
2 s but reports one type per column, so a number-stored ID would reach us as innocent-looking
digits: exactness rules it out (see `src/fpstat/io/excel.py`). The parse is the floor, so the
workbook ratio is about ten, not more; python-calamine releases the GIL while parsing, so
several files or sheets could be parsed on both cores at once."""


README_HEAD = """\
# Benchmarks

Scripts that time fpstat on generated data. Each prints a Markdown table and rewrites its own
section of this file only when run with `--write-readme`.
"""


# --- timing ----------------------------------------------------------------------------------


@dataclass
class Timing:
    workload: str
    tool: str
    rows: int
    wall: float | None
    cpu: float | None
    note: str = ""


def measure(workload: str, tool: str, rows: int, run: Callable[[], object], repeat: int) -> Timing:
    best_wall = best_cpu = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            run()
        except ImportError:
            return Timing(workload, tool, rows, None, None, "n/a (not importable)")
        except Exception as error:  # noqa: BLE001 - report and carry on with the other tools
            return Timing(workload, tool, rows, None, None, f"failed: {type(error).__name__}")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        best_wall = wall if best_wall is None else min(best_wall, wall)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    print(f"  {workload:>13} {tool:<42} {best_wall:8.2f} s", file=sys.stderr)
    return Timing(workload, tool, rows, best_wall, best_cpu)


def load_and_validate(path: Path) -> object:
    from fpstat.schema import load_inputs
    from fpstat.schema.load import InputSpec

    return load_inputs([InputSpec(path=str(path), role="planning")], as_of=AS_OF)


def table(timings: list[Timing]) -> str:
    lines = [
        "| file | tool | wall s | CPU s | rows/s (wall) | vs pandas (wall) | vs pandas (CPU) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    pandas = {t.workload: t for t in timings if t.tool.startswith("pandas") and t.wall}
    for timing in timings:
        if timing.wall is None or timing.cpu is None:
            lines.append(f"| {timing.workload} | {timing.tool} | {timing.note} | | | | |")
            continue
        base = pandas.get(timing.workload)
        wall_ratio = f"{base.wall / timing.wall:.1f}x" if base and base.wall else ""
        cpu_ratio = f"{base.cpu / timing.cpu:.1f}x" if base and base.cpu else ""
        lines.append(
            f"| {timing.workload} | {timing.tool} | {timing.wall:.2f} | {timing.cpu:.2f} | "
            f"{timing.rows / timing.wall:,.0f} | {wall_ratio} | {cpu_ratio} |"
        )
    return "\n".join(lines)


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, pandas "
        f"{pd.__version__}, pyarrow {pa.__version__}, python-calamine {version('python-calamine')}, "
        f"openpyxl {version('openpyxl')}; load average at the end "
        f"{', '.join(f'{load:.1f}' for load in os.getloadavg())} (other work shares the machine)"
    )


def write_readme(section: str) -> None:
    from fpstat.rundir import write_text

    readme = REPO / "benchmarks" / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else README_HEAD
    pattern = re.compile(r"^## Reading\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    write_text(readme, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--data", choices=["auto", "sample", "synthetic"], default="auto")
    parser.add_argument("--work-dir", type=Path, help="keep generated files here (reused)")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per tool")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="fpstat-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    xlsx, csv = work / "planning_register.xlsx", work / "planning_register.csv"
    try:
        marker = work / "rows_from.txt"
        if not (xlsx.exists() and csv.exists() and marker.exists()):
            rows = max(args.xlsx_rows, args.csv_rows)
            register, source = None, "synthetic"
            if args.data in ("auto", "sample"):
                try:
                    register, source = sample_register(work, rows), "fpstat sample --size large"
                except Exception as error:  # noqa: BLE001
                    if args.data == "sample":
                        raise
                    print(
                        f"sample unavailable ({type(error).__name__}); synthetic rows",
                        file=sys.stderr,
                    )
            if register is None:
                register = synthetic_register(rows)
            print(
                f"writing {args.xlsx_rows:,}-row xlsx and {args.csv_rows:,}-row csv",
                file=sys.stderr,
            )
            write_xlsx(register.iloc[: args.xlsx_rows], xlsx)
            write_csv(register.iloc[: args.csv_rows], csv)
            marker.write_text(source, encoding="utf-8")
        source = marker.read_text(encoding="utf-8")
        xlsx_rows = read_export(xlsx)[0].n_rows
        csv_rows = read_export(csv)[0].n_rows
        xlsx_name, csv_name = f"xlsx {xlsx_rows:,} rows", f"csv {csv_rows:,} rows"
        r = args.repeat
        timings = [
            measure(xlsx_name, "pandas.read_excel (openpyxl)", xlsx_rows,
                    lambda: pd.read_excel(xlsx, engine="openpyxl", header=1), r),
            measure(xlsx_name, "fpstat read_export", xlsx_rows, lambda: read_export(xlsx), r),
            measure(xlsx_name, "fpstat read + validate (load_inputs)", xlsx_rows,
                    lambda: load_and_validate(xlsx), r),
            measure(csv_name, "pandas.read_csv (dtype=str)", csv_rows,
                    lambda: pd.read_csv(csv, dtype=str, keep_default_na=False), r),
            measure(csv_name, "fpstat read_export", csv_rows, lambda: read_export(csv), r),
            measure(csv_name, "fpstat read + validate (load_inputs)", csv_rows,
                    lambda: load_and_validate(csv), r),
        ]  # fmt: skip
        shown = [flag for flag in sys.argv[1:] if flag != "--write-readme"]
        if "--work-dir" in shown:  # where the files were kept does not change the figures
            at = shown.index("--work-dir")
            del shown[at : at + 2]
        command = " ".join(["PYTHONPATH=src python benchmarks/read.py", *shown])
        markdown = table(timings)
        print(markdown)
        if args.write_readme:
            write_readme(
                "## Reading\n\n"
                f"`{command}` on {dt.date.today().isoformat()}; rows from: {source}.\n\n"
                f"Machine: {machine()}.\n\n{markdown}\n\n{EXPLANATION}\n\n"
            )
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
