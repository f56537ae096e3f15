"""Synthetic people: resident ID numbers (GB 11643) and Chinese names, vectorised.

A resident ID is 6 digits of area + 8 of birth date + 3 of sequence (odd for men) + a check
character from ISO 7064 MOD 11-2 over the first 17 digits (weights 2^(17-i) mod 11, check
table ``10X98765432``; GB 11643-1999, section 8). The sequence numbers are drawn so that two
different people never share an ID. First-generation 15-digit IDs (GB 11643-1989) drop the
century and the check character.

Names are surname + given name, drawn from frequency-weighted lists; the characters are all
in GBK so that the police export, which is GBK-encoded like most Chinese office systems,
can hold them. Variants (traditional characters, homophone typos) are what copying names
between systems does to them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from opencc import OpenCC

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = np.array(list("10X98765432"))
SEQUENCES_PER_SEX = 500  # 3-digit sequence, one parity per sex

#: Common surnames with rough relative frequencies (per mille of the population).
_SURNAMES = (
    ("王", 72), ("李", 72), ("张", 68), ("刘", 54), ("陈", 46), ("杨", 32), ("黄", 24),
    ("赵", 21), ("吴", 21), ("周", 20), ("徐", 17), ("孙", 15), ("马", 15), ("朱", 14),
    ("胡", 13), ("郭", 12), ("何", 12), ("高", 11), ("林", 11), ("罗", 10), ("郑", 10),
    ("梁", 9), ("谢", 8), ("宋", 7), ("唐", 7), ("许", 7), ("韩", 6), ("冯", 6), ("邓", 6),
    ("曹", 6), ("彭", 5), ("曾", 5), ("肖", 5), ("田", 5), ("董", 5), ("袁", 4), ("潘", 4),
    ("于", 4), ("蒋", 4), ("蔡", 4), ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 3),
    ("魏", 3), ("吕", 3), ("丁", 3), ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3),
    ("崔", 3), ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3),
    ("廖", 2), ("贾", 2), ("夏", 2), ("韦", 2), ("付", 2), ("方", 2), ("白", 2), ("邹", 2),
    ("孟", 2), ("熊", 2), ("秦", 2), ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("段", 2),
    ("雷", 2), ("侯", 2), ("龙", 2), ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2), ("顾", 2),
    ("毛", 2), ("郝", 2), ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2), ("严", 2), ("欧阳", 1),
    ("诸葛", 1), ("司马", 1),
)
#: Given names of women born 1980-2004.
_MOTHER_GIVEN = tuple(
    "丽 静 敏 燕 艳 娟 霞 芳 婷 雪 琳 颖 倩 晶 莉 佳 欣 怡 梦 雨 洁 慧 丹 玲 萍 红 英 华 "
    "丽娟 丽华 晓燕 晓丽 秀英 海燕 春梅 雪梅 丽萍 婷婷 晶晶 静怡 佳怡 雨欣 梦瑶 思雨 欣怡 "
    "佳琪 雅琪 诗琪 文静 晓敏 小红 小燕 玉兰 金凤 美玲 慧敏 丽丽 芳芳 亚楠 晓雪 嘉欣 "
    "宇婷 梦洁 紫涵 一帆 若曦 欣然 可馨 心怡".split()
)
#: Given names of children born 2023-2025, by sex.
_BOY_GIVEN = tuple(
    "子轩 浩宇 沐阳 宇轩 一诺 梓豪 浩然 宇航 睿 晨 阳 俊熙 子墨 锦程 奕辰 思远 博文 "
    "皓轩 铭泽 宇泽 沐宸 煜祺 承泽 嘉懿 景行 明哲 天佑 瑞霖 梓睿 弘毅 昊天 诚 彦".split()
)
_GIRL_GIVEN = tuple(
    "梓涵 欣怡 诗涵 若汐 梓萱 一诺 雨桐 可馨 语汐 安然 若曦 书瑶 芷若 思琪 佳怡 "
    "沐晴 语桐 心怡 依诺 梦琪 雅琪 诗雨 晨曦 婉清 静怡 清妍 念慈 知夏 悦 彤 楠 瑶".split()
)
#: Characters that a clerk may type for one another (same or near-same pinyin).
_HOMOPHONES = {
    "丽": "莉", "莉": "丽", "静": "晶", "晶": "静", "敏": "民", "燕": "艳", "艳": "燕",
    "婷": "亭", "芳": "方", "娟": "鹃", "霞": "侠", "琳": "林", "雪": "薛", "颖": "影",
    "倩": "茜", "佳": "家", "欣": "馨", "怡": "仪", "梦": "孟", "雨": "宇", "洁": "杰",
    "慧": "惠", "玲": "琳", "萍": "平", "轩": "萱", "萱": "轩", "涵": "含", "宇": "雨",
    "浩": "皓", "皓": "浩", "阳": "洋", "辰": "晨", "晨": "辰", "泽": "则", "琪": "淇",
    "汐": "希", "曦": "希", "桐": "彤", "瑶": "遥", "诺": "娜", "程": "成", "然": "燃",
}
_TRADITIONAL = OpenCC("s2t")


def _surname_table() -> tuple[np.ndarray, np.ndarray]:
    names = np.array([name for name, _ in _SURNAMES])
    weights = np.array([weight for _, weight in _SURNAMES], dtype=float)
    return names, weights / weights.sum()


def surnames(rng: np.random.Generator, count: int) -> np.ndarray:
    """Indexes into the surname table, frequency-weighted."""
    _, weights = _surname_table()
    return rng.choice(len(weights), size=count, p=weights)


def compose_names(surname_index: np.ndarray, given: tuple[str, ...], given_index: np.ndarray) -> pa.Array:
    """Full names (Arrow strings) from surname and given-name indexes, built once per pair."""
    names, _ = _surname_table()
    code = surname_index.astype(np.int64) * len(given) + given_index
    distinct, inverse = np.unique(code, return_inverse=True)
    built = pa.array([names[c // len(given)] + given[c % len(given)] for c in distinct.tolist()])
    return built.take(pa.array(inverse))


def mother_names(rng: np.random.Generator, count: int) -> pa.Array:
    return compose_names(surnames(rng, count), _MOTHER_GIVEN, rng.integers(0, len(_MOTHER_GIVEN), count))


def child_names(rng: np.random.Generator, surname_index: np.ndarray, male: np.ndarray) -> pa.Array:
    """Children's names: the father's surname and a given name of the child's sex."""
    boys = compose_names(surname_index, _BOY_GIVEN, rng.integers(0, len(_BOY_GIVEN), len(male)))
    girls = compose_names(surname_index, _GIRL_GIVEN, rng.integers(0, len(_GIRL_GIVEN), len(male)))
    return pc.if_else(pa.array(male), boys, girls)


def traditional(name: str) -> str:
    """The name in traditional characters (陈 -> 陳, 刘 -> 劉), as some systems store them."""
    return str(_TRADITIONAL.convert(name))


def homophone_typo(name: str, rng: np.random.Generator) -> str:
    """The name with one given-name character replaced by a homophone (张丽 -> 张莉)."""
    positions = [i for i, char in enumerate(name) if i > 0 and char in _HOMOPHONES]
    if not positions:
        return name
    i = positions[int(rng.integers(0, len(positions)))]
    return name[:i] + _HOMOPHONES[name[i]] + name[i + 1 :]


def check_characters(body: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check characters of 17-digit ID bodies given as int64."""
    rest = body.astype(np.int64)
    total = np.zeros(len(rest), dtype=np.int64)
    for position in range(16, -1, -1):
        total += (rest % 10) * ID_WEIGHTS[position]
        rest //= 10
    return ID_CHECK[total % 11]


def _yyyymmdd(dates: np.ndarray) -> np.ndarray:
    days = pd.DatetimeIndex(dates)
    return (days.year * 10000 + days.month * 100 + days.day).to_numpy(dtype=np.int64)


def unique_sequences(
    prefix: np.ndarray, dates: np.ndarray, male: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """3-digit sequence numbers, distinct within (area prefix, birth date, sex), odd for men.

    Returns ``(sequence, ok)``; ``ok`` is false where more than 500 people of one sex were born
    on one day in one area (the real limit of the scheme), which never happens at drop sizes.
    """
    key = prefix.astype(np.int64) * 10**9 + _yyyymmdd(dates) * 10 + male.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    group_sorted = np.cumsum(starts) - 1
    start_index = np.flatnonzero(starts)
    rank = np.empty(len(key), dtype=np.int64)
    rank[order] = np.arange(len(key)) - start_index[group_sorted]
    offset = np.empty(len(key), dtype=np.int64)
    offset[order] = rng.integers(0, SEQUENCES_PER_SEX, len(start_index))[group_sorted]
    sequence = 2 * ((offset + rank) % SEQUENCES_PER_SEX) + male.astype(np.int64)
    return sequence, rank < SEQUENCES_PER_SEX


def resident_ids(prefix: np.ndarray, dates: np.ndarray, sequence: np.ndarray) -> pa.Array:
    """18-character IDs (Arrow strings) from 6-digit prefixes, dates and sequences."""
    body = prefix.astype(np.int64) * 10**11 + _yyyymmdd(dates) * 1000 + sequence.astype(np.int64)
    return digits_with_check(body)


def digits_with_check(body: np.ndarray) -> pa.Array:
    """17-digit bodies (int64) joined with their check characters, as Arrow strings."""
    text = pc.cast(pa.array(body, type=pa.int64()), pa.string())
    check = pa.array(check_characters(body), type=pa.string())
    return pc.binary_join_element_wise(text, check, "")


def numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers (``JS000123``), as Arrow strings."""
    text = pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def first_generation(resident_id: str) -> str:
    """The 15-digit first-generation form of an 18-digit ID of someone born in the 1900s."""
    return resident_id[:6] + resident_id[8:17]


def is_valid_id(resident_id: str) -> bool:
    """True for an 18-character ID with a right check character (for tests and assertions)."""
    if len(resident_id) != 18 or not resident_id[:17].isdigit():
        return False
    body = np.array([int(resident_id[:17])], dtype=np.int64)
    return bool(check_characters(body)[0] == resident_id[17].upper())
