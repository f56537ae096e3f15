"""Placing export headers on the data contract, and telling which role a sheet comes from.

A header is compared after :func:`normalise_header`: NFKC (full-width -> half-width), case
folded, bracketed units such as ``（人）`` dropped, spaces and punctuation removed. Then:

1. an alias of :data:`fields.ALIASES` (or the canonical name) matches with strength 3;
2. an *ending* rule matches with strength 2 (``...编号`` -> ``record_id``, ``...性别`` -> ``sex``,
   ``...出生日期`` -> ``birth_date``, ``...代码`` of a place -> ``area_code``,
   ``母亲...身份证号``/``...证件号码`` -> ``mother_id``, ``新生儿...姓名`` -> ``child_name`` ...),
   never a child's field for a header about a parent (``母亲出生日期``, ``户主姓名``);
3. a weak alias (``序号``) matches with strength 1.

A two-row header ``group|sub`` is read as a whole: ``出生人数|男`` -> ``births_male``,
``出生人数|合计`` -> ``births``, ``育龄妇女数|已婚`` -> ``married_women_15_49``,
``母亲|姓名`` -> ``mother_name``, and ``母亲|出生日期`` -> nothing (not the child's birth date).

Strength only ranks *competing* headers: when two headers claim one field, the stronger wins
(an office's ``出生登记编号`` beats its ``序号``); two equally strong ones are a
:class:`MappingError`, as is one header that names two fields. An explicit mapping settles both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from fpstat.errors import MappingError
from fpstat.schema import fields as contract

EXACT, ENDING, WEAK = 3, 2, 1
#: Mapping targets that mean "drop this column".
IGNORE_TARGETS = frozenset({"", "ignore", "-", "none"})

_BRACKETED = re.compile(r"[(\[【〔<《{][^)\]】〕>》}]*[)\]】〕>》}]")
_NOISE = re.compile(r"[\s_\-:：*#.'’‘\"“”/\\、,，;；!！?？]+")
_TOTAL_WORDS = frozenset({"合计", "小计", "总计", "计", "总数", "合"})
_PARENT_WORDS = ("母亲", "父亲", "母", "父", "妇女", "妻", "夫", "产妇", "户主", "监护人")
_ID_NUMBER_ENDINGS = ("身份证号码", "身份证号", "公民身份号码", "证件号码", "身份证")
_PLACE_WORDS = ("区划", "地", "区", "村", "居")
_NUMBER_FIELDS = frozenset(contract.NUMBER_FIELDS)
_MOTHER_WORDS = ("母亲", "育龄妇女", "妻子", "产妇")
_FATHER_WORDS = ("父亲", "丈夫")
_CHILD_WORDS = ("婴儿", "子女", "孩子", "新生儿", "儿童", "小孩")
#: Sub-headers under a births group that split births by sex, order or policy.
_BIRTH_SPLITS = {
    "男": "births_male", "男性": "births_male", "男孩": "births_male", "男婴": "births_male",
    "女": "births_female", "女性": "births_female", "女孩": "births_female", "女婴": "births_female",
    "一孩": "births_order_1", "二孩": "births_order_2", "三孩": "births_order_3plus",
    "多孩": "births_order_3plus", "三孩及以上": "births_order_3plus",
    "符合政策": "births_within_policy", "政策内": "births_within_policy",
}


def normalise_header(text: object) -> str:
    """Comparable form of one header cell (one part of a ``group|sub`` header)."""
    value = unicodedata.normalize("NFKC", "" if text is None else str(text)).casefold()
    value = _BRACKETED.sub("", value)
    value = _NOISE.sub("", value)
    # "其中：男" under a births group is the same column as "男".
    if value.startswith("其中") and len(value) > 2:
        value = value[2:]
    return value


def _alias_table() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    exact: dict[str, set[str]] = {}
    weak: dict[str, set[str]] = {}
    for name in contract.ALL_FIELDS:
        exact.setdefault(normalise_header(name), set()).add(name)
    for name, aliases in contract.ALIASES.items():
        for alias in aliases:
            exact.setdefault(normalise_header(alias), set()).add(name)
    for name, aliases in contract.WEAK_ALIASES.items():
        for alias in aliases:
            weak.setdefault(normalise_header(alias), set()).add(name)
    return exact, weak


_EXACT_ALIASES, _WEAK_ALIASES = _alias_table()


def _ending_matches(text: str) -> set[str]:
    """Fields named by the ending of a header that is no alias (strength ``ENDING``)."""
    found: set[str] = set()
    about_parent = any(word in text for word in _PARENT_WORDS)
    id_number = next((end for end in _ID_NUMBER_ENDINGS if text.endswith(end)), None)
    if id_number:
        head = text[: -len(id_number)]
        if any(word in head for word in _MOTHER_WORDS):
            found.add("mother_id")
        elif any(word in head for word in _FATHER_WORDS):
            found.add("father_id")
        elif any(word in head for word in _CHILD_WORDS):
            found.add("child_id")
        return found
    if text.endswith("姓名"):
        head = text[:-2]
        if any(word in head for word in _MOTHER_WORDS):
            found.add("mother_name")
        elif any(word in head for word in _CHILD_WORDS):
            found.add("child_name")
        return found
    if text.endswith("编号") and not about_parent and "身份" not in text:
        found.add("record_id")
    if text.endswith("性别") and not about_parent:
        found.add("sex")
    if (text.endswith("出生日期") or text.endswith("出生年月日")) and not about_parent:
        found.add("birth_date")
    if text.endswith("代码") and any(word in text[:-2] for word in _PLACE_WORDS):
        found.add("area_code")
    if text.endswith("名称") and any(word in text[:-2] for word in _PLACE_WORDS + ("乡", "镇", "街道")):
        found.add("area_name")
    return found


@lru_cache(maxsize=4096)
def _match_part(text: str) -> tuple[int, frozenset[str]]:
    if not text:
        return 0, frozenset()
    if text in _EXACT_ALIASES:
        return EXACT, frozenset(_EXACT_ALIASES[text])
    ending = _ending_matches(text)
    if ending:
        return ENDING, frozenset(ending)
    if text in _WEAK_ALIASES:
        return WEAK, frozenset(_WEAK_ALIASES[text])
    return 0, frozenset()


@lru_cache(maxsize=4096)
def match_header(header: str) -> tuple[int, frozenset[str]]:
    """``(strength, fields)`` a header names; ``(0, {})`` for a header that names none.

    Never raises, whatever the text.
    """
    parts = [normalise_header(part) for part in str(header).split("|")]
    parts = [part for part in parts if part]
    if not parts:
        return 0, frozenset()
    if len(parts) == 1:
        return _match_part(parts[0])
    group, sub = parts[-2], parts[-1]
    if sub == group or sub in _TOTAL_WORDS:
        return _match_part(group)
    group_strength, group_fields = _match_part(group)
    if group_fields == {"births"} and sub in _BIRTH_SPLITS:
        return group_strength, frozenset({_BIRTH_SPLITS[sub]})
    if any(word in group for word in _PARENT_WORDS) and not group_fields & _NUMBER_FIELDS:
        # Under a 母亲 / 户主 group, 姓名 or 出生日期 is the parent's: never a child's field.
        return _match_part(group + sub)
    # "育龄妇女数|已婚" reads as 已婚育龄妇女数; "出生|男" as 出生男.
    for joined in (sub + group, group + sub):
        strength, names = _match_part(joined)
        if strength == EXACT:
            return strength, names
    strength, names = _match_part(sub)
    if names:
        return strength, names
    return _match_part(group)


def header_scorer(texts: Iterable[object]) -> float:
    """How much a row looks like a header row: matching cells, exact aliases counting most.

    ``fpstat.io.read_export`` calls this on each of the first rows to find the header row.
    """
    score = 0.0
    for text in texts:
        if text is None:
            continue
        strength, names = match_header(str(text))
        if names:
            score += 1.0 if strength == EXACT else 0.5
    return score


def matched_fields(headers: Iterable[str]) -> set[str]:
    """Every contract field (of any kind) that some header names, ignoring conflicts."""
    found: set[str] = set()
    for header in headers:
        found |= match_header(header)[1]
    return found


@dataclass
class ColumnAssignment:
    """Which column holds which field, for one sheet."""

    columns: dict[int, str] = field(default_factory=dict)  # column position -> field
    headers: dict[int, str] = field(default_factory=dict)  # column position -> header text
    ignored: list[str] = field(default_factory=list)

    def column_of(self, name: str) -> int | None:
        for position, assigned in self.columns.items():
            if assigned == name:
                return position
        return None

    def used(self) -> dict[str, str]:
        """header -> field, for the manifest."""
        return {self.headers[position]: name for position, name in sorted(self.columns.items())}


def _check_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for header, target in mapping.items():
        name = str(target).strip()
        if name.casefold() in IGNORE_TARGETS:
            name = ""
        elif name not in contract.ALL_FIELDS:
            raise MappingError(
                f"mapping of header '{header}': '{name}' is not a field of the data contract "
                f"(fields: {', '.join(contract.ALL_FIELDS)}; use \"\" to ignore a column)",
                f"表头“{header}”的映射目标“{name}”不是数据规范中的字段（用 \"\" 表示忽略该列）",
                field=name,
            )
        checked[header_key(header)] = name
    return checked


def header_key(header: str) -> str:
    """The comparable form of a whole header, ``group|sub`` parts normalised one by one."""
    return "|".join(part for part in (normalise_header(p) for p in str(header).split("|")) if part)


def assign_columns(
    headers: list[str],
    kind: str,
    mapping: Mapping[str, str] | None = None,
    *,
    file: str | None = None,
    sheet: str | None = None,
) -> ColumnAssignment:
    """Place each header on a field of a ``kind`` (``"records"``/``"counts"``) table.

    Raises :class:`MappingError` naming the headers when one header names two fields or two
    equally strong headers name one field; ``mapping`` (header -> field, ``""`` to ignore)
    settles both.
    """
    allowed = set(contract.fields_of_kind(kind))
    explicit = _check_mapping(mapping or {})
    result = ColumnAssignment()
    claims: dict[str, list[tuple[int, int]]] = {}  # field -> [(strength, position)]
    explicit_claims: dict[str, list[int]] = {}
    for position, header in enumerate(headers):
        result.headers[position] = header
        target = explicit.get(header_key(header))
        if target is not None:
            if target == "":
                result.ignored.append(header)
            elif target not in allowed:
                raise MappingError(
                    f"mapping puts header '{header}' on '{target}', which {kind} tables do not have",
                    f"映射把表头“{header}”指向“{target}”，但该类表格没有此字段",
                    file=file, sheet=sheet, field=target,
                )
            else:
                explicit_claims.setdefault(target, []).append(position)
            continue
        strength, names = match_header(header)
        names = frozenset(name for name in names if name in allowed)
        if not names:
            if header:
                result.ignored.append(header)
            continue
        if len(names) > 1:
            raise MappingError(
                f"header '{header}' matches several fields ({', '.join(sorted(names))}); "
                "say which with --mapping",
                f"表头“{header}”同时匹配多个字段（{'、'.join(sorted(names))}），请用 --mapping 指定",
                file=file, sheet=sheet,
            )
        claims.setdefault(next(iter(names)), []).append((strength, position))
    for name, positions in explicit_claims.items():
        if len(positions) > 1:
            raise _two_headers(name, [headers[p] for p in positions], file, sheet)
        result.columns[positions[0]] = name
    for name, candidates in claims.items():
        if name in explicit_claims:
            result.ignored.extend(headers[position] for _, position in candidates)
            continue
        best = max(strength for strength, _ in candidates)
        winners = [position for strength, position in candidates if strength == best]
        if len(winners) > 1:
            raise _two_headers(name, [headers[p] for p in winners], file, sheet)
        result.columns[winners[0]] = name
        result.ignored.extend(headers[p] for strength, p in candidates if strength != best)
    return result


def _two_headers(name: str, names: list[str], file: str | None, sheet: str | None) -> MappingError:
    listed = ", ".join(f"'{header}'" for header in names)
    return MappingError(
        f"headers {listed} all match field '{name}'; say which with --mapping",
        f"表头 {listed} 都匹配字段“{name}”，请用 --mapping 指定",
        file=file, sheet=sheet, field=name,
    )
