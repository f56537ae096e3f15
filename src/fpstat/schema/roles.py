"""Which source a sheet comes from (its role), and whether it holds records or counts.

The *kind* follows from the columns: birth date and sex mean one row per birth ("records");
an area with births or population figures and no birth date means one row per area x period
("counts"). The *role* follows from words that only one source uses, in the headers
(公安/户籍 for police, 住院/分娩 for hospitals, 育龄妇女/孩次/政策属性 for the planning
register ...) and, counted double, in the file name, its folder, the sheet name and the title
rows above the header (``公安户籍出生登记.csv``, ``XX县住院分娩登记``). Count tables are told apart
by structure first: report-only columns (育龄妇女数, 落实节育措施, 符合政策生育数) mean ``report``,
population figures without births mean ``population``.

When no role can be told, or two are equally likely, fpstat does not guess: the caller raises
a :class:`UsageError` asking for ``--role``.
"""

from __future__ import annotations

from collections.abc import Iterable

from fpstat.errors import UsageError
from fpstat.schema import fields as contract
from fpstat.schema.headers import matched_fields, normalise_header

_HINT_WEIGHT = 2
_AREA_FIELDS = frozenset({"area_code", "area_name"})
_COUNT_FORM_ROLES = tuple(role for role in contract.ROLES if role != "planning")


def table_kind(found: set[str]) -> str | None:
    """``"records"``, ``"counts"`` or ``None`` from the fields a sheet's headers name."""
    if "birth_date" in found or "sex" in found:
        return "records"
    if found & _AREA_FIELDS and found & set(contract.NUMBER_FIELDS):
        return "counts"
    return None


def role_scores(headers: Iterable[str], hint: str = "") -> dict[str, int]:
    """Evidence for each role: keyword hits in headers, plus double weight in the hint text."""
    scores = dict.fromkeys(contract.ROLES, 0)
    texts = [normalise_header(header) for header in headers]
    hint_text = normalise_header(hint)
    for role, keywords in contract.ROLE_KEYWORDS.items():
        words = [normalise_header(word) for word in keywords]
        scores[role] += sum(1 for text in texts if any(word in text for word in words))
        scores[role] += _HINT_WEIGHT * sum(1 for word in words if word in hint_text)
    return scores


def _best(scores: dict[str, int], candidates: Iterable[str]) -> str | None:
    ranked = sorted(((scores[role], role) for role in candidates), reverse=True)
    if not ranked or ranked[0][0] == 0:
        return None
    if len(ranked) > 1 and ranked[1][0] == ranked[0][0]:
        return None
    return ranked[0][1]


def infer_role(headers: list[str], hint: str = "") -> str | None:
    """The role a sheet most likely comes from, or ``None`` when it cannot be told.

    ``hint`` is free text about the sheet (file name, folder, sheet name, title rows).
    """
    found = matched_fields(headers)
    kind = table_kind(found)
    scores = role_scores(headers, hint)
    if kind == "records":
        return _best(scores, contract.RECORD_ROLES)
    if kind != "counts":
        return None
    if found & contract.REPORT_ONLY_FIELDS:
        return "report"
    if not found & contract.BIRTH_COUNT_FIELDS:
        return "population"
    # Births by area and period: the planning office's own report, another authority's
    # population table, or a count-form police/census/hospital/school source.
    scores["report"] += scores["planning"]
    return _best(scores, _COUNT_FORM_ROLES)


def resolve_role(
    headers: list[str], role: str | None, *, hint: str, file: str, sheet: str
) -> tuple[str, str]:
    """``(role, kind)`` of a sheet: ``role`` as given (checked) or inferred.

    Raises :class:`UsageError` when the role cannot be told, is unknown, or the planning
    register arrives as a count table (it is the record-level register under audit).
    """
    if role is not None and role not in contract.ROLES:
        raise UsageError(
            f"unknown role '{role}' (roles: {', '.join(contract.ROLES)})",
            f"未知的数据源类别“{role}”（可选：{', '.join(contract.ROLES)}）",
        )
    kind = table_kind(matched_fields(headers))
    if role is None:
        role = infer_role(headers, hint)
        if role is None:
            raise _cannot_tell(headers, hint, kind, file, sheet)
    if role in contract.COUNT_ROLES:
        kind = "counts"
    elif role == "planning":
        if kind == "counts":
            raise UsageError(
                "the planning register must be record-level (one row per birth); for the office's "
                "aggregate tables use --role report",
                "计生出生登记须为个案数据（每个出生一行）；计生统计报表请用 --role report",
                file=file, sheet=sheet,
            )
        kind = "records"
    elif kind is None:
        kind = "records"
    return role, kind


def _cannot_tell(
    headers: list[str], hint: str, kind: str | None, file: str, sheet: str
) -> UsageError:
    scores = role_scores(headers, hint)
    top = max(scores.values())
    tied = [role for role, score in scores.items() if score == top and top > 0]
    if kind is None:
        en = "cannot tell whether this sheet holds birth records or counts; give --role"
        zh = "无法判断该工作表是个案记录还是汇总数据，请用 --role 指定数据源类别"
    elif len(tied) > 1:
        en = f"this sheet could come from {' or '.join(tied)}; say which with --role"
        zh = f"该工作表可能来自 {'或'.join(contract.ROLE_ZH[r] for r in tied)}，请用 --role 指定"
    else:
        en = f"cannot tell which source this sheet comes from; give --role ({', '.join(contract.ROLES)})"
        zh = f"无法判断该工作表来自哪类数据源，请用 --role 指定（{', '.join(contract.ROLES)}）"
    return UsageError(en, zh, file=file, sheet=sheet)
