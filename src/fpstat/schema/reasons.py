"""Why an input row was rejected: the stable catalogue of reason codes, in English and Chinese.

Codes are kebab-case and never change meaning (users filter ``rejects.csv`` on them and
``check`` gates on them); new problems get new codes.

One row of ``rejects.csv`` is one *problem*: a row with a bad date and a bad ID gets two reject
rows, one per field, so the office can fix everything in one pass. Row counts
(``rows_rejected`` in the manifest, ``rows`` in the validate summary) count input *rows*, not
problems, so that ``rows_read = rows_accepted + rows_rejected`` always holds. A totals row gets
exactly one reject row (``totals-row``): its other cells are not data and are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    en: str
    zh: str


_CATALOGUE = (
    Reason("missing-value", "required value is missing", "必填项为空"),
    Reason(
        "id-invalid",
        "resident ID is not valid (length, characters, check character or embedded birth date)",
        "公民身份号码无效（位数、字符、校验码或其中的出生日期有误）",
    ),
    Reason(
        "id-precision-lost",
        "resident ID was stored as a number and lost digits (scientific notation or rounding); "
        "it cannot be repaired, re-export the column as text",
        "公民身份号码被存成数值，已丢失位数（科学计数法或舍入），无法修复，请以文本格式重新导出",
    ),
    Reason("invalid-date", "not a valid date", "不是有效日期"),
    Reason(
        "date-out-of-range",
        "date is before 1900-01-01 or after the as-of date",
        "日期早于1900-01-01或晚于核查基准日",
    ),
    Reason(
        "invalid-sex",
        "sex is not one of 男/女, 1/2, M/F, male/female",
        "性别不是男/女、1/2、M/F 之一",
    ),
    Reason(
        "invalid-birth-order",
        "birth order is not 1, 2, 3 or more (一孩/二孩/多孩, 第一胎 ...)",
        "孩次无法识别（应为1、2、3及以上或一孩/二孩/多孩）",
    ),
    Reason(
        "invalid-boolean",
        "not a recognised yes/no value (是/否, 政策内/政策外, 流动/本地, 1/0)",
        "不是可识别的是/否取值（是/否、政策内/政策外、流动/本地、1/0）",
    ),
    Reason(
        "invalid-area-code",
        "area code is not a 2-, 4-, 6-, 9- or 12-digit statistical area code",
        "区划代码不是2、4、6、9或12位的统计用区划代码",
    ),
    Reason("invalid-number", "count is not a non-negative whole number", "数值不是非负整数"),
    Reason(
        "invalid-period",
        "period is not a year, statistical year, quarter or month",
        "报告期无法识别（应为年、统计年度、季度或月份）",
    ),
    Reason(
        "totals-row",
        "totals row (合计/小计/全县 ...), set aside so that it is not counted twice",
        "合计行（合计/小计/全县等），已剔除以免重复计数",
    ),
)

#: reason code -> :class:`Reason`.
REASONS: dict[str, Reason] = {reason.code: reason for reason in _CATALOGUE}

