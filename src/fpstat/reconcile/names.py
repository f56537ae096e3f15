"""Chinese personal names, made comparable across sources.

Sources spell the same name differently: traditional characters (陳 / 陈), homophone typing
slips of a pinyin input method (张丽 / 张莉), stray spaces and middle dots (阿依·买买提),
full-width letters. A name is compared in two forms:

* its **simplified form**: NFKC-normalised, separators dropped, each character converted
  traditional -> simplified with OpenCC's ``t2s`` dictionary, lower-cased;
* its **pinyin key**: the tone-less pinyin (pypinyin ``Style.NORMAL``) of every character,
  joined, so that homophones share a key.

Both conversions are pure Python and slow per call, so they run once per distinct *character*
(a few thousand in any drop) and names are rewritten with ``str.translate``, once per distinct
name. Converting character by character loses OpenCC's phrase context and pypinyin's polyphone
context; for personal names that hardly matters (given names are not phrases), and both sides of
a comparison are converted the same way, so equal names always stay equal.

Similarity is rapidfuzz's normalised Indel similarity over Python strings, i.e. over
*characters*; DuckDB's ``levenshtein``/``jaro_similarity`` count UTF-8 bytes and would rate two
Chinese names differing in one character as differing in three.

Placeholders that are no name (未取名, 不详, "张丽之子" = "son of 张丽" in hospital books) are
treated as missing: they would otherwise agree between unrelated babies.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import opencc
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pypinyin import Style, lazy_pinyin
from rapidfuzz import process
from rapidfuzz.distance import Indel

#: Characters that separate parts of a name and carry no identity.
_SEPARATORS = re.compile(r"[\s·•・．.\-_/\\,，、()（）\[\]【】]+")
#: Written where a name is unknown or not yet given.
_PLACEHOLDERS = frozenset(
    {"", "无", "不详", "未知", "未取名", "未起名", "未命名", "待定", "暂无", "婴儿", "新生儿",
     "男婴", "女婴", "男孩", "女孩", "null", "none", "na", "n/a", "x", "?", "？"}
)
#: "<mother>之子" / "<mother>之女" / "<mother>婴": a hospital's label for a baby without a name.
_BABY_OF = re.compile(r"(之子|之女|之男|之婴|之儿|[之]?[男女]?婴儿?|[之]?新生儿)$")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def simplified_char(char: str) -> str:
    """One character in simplified form (OpenCC ``t2s``), lower-cased."""
    return _t2s().convert(char).lower()


@lru_cache(maxsize=65536)
def pinyin_of_char(char: str) -> str:
    """Tone-less pinyin of one (simplified) character; non-Chinese characters stay as they are."""
    syllables = lazy_pinyin(char, style=Style.NORMAL, errors="default")
    return "".join(syllables).lower()


def _clean(text: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))


def normalise_name(text: str | None) -> str | None:
    """The simplified comparison form of a name, or ``None`` if it is blank or a placeholder."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    cleaned = _clean(str(text))
    simplified = "".join(simplified_char(char) for char in cleaned)
    if simplified in _PLACEHOLDERS or _BABY_OF.search(simplified):
        return None
    return simplified


def name_pinyin(text: str | None) -> str | None:
    """The tone-less pinyin key of a name (``张丽`` and ``張莉`` both give ``zhangli``)."""
    simplified = normalise_name(text)
    if simplified is None:
        return None
    return "".join(pinyin_of_char(char) for char in simplified)


def name_similarity(left: str | None, right: str | None) -> float:
    """Character-level similarity in [0, 1] of two names' simplified forms (0 if one is blank)."""
    a, b = normalise_name(left), normalise_name(right)
    if a is None or b is None:
        return 0.0
    return float(Indel.normalized_similarity(a, b))


@dataclass(frozen=True)
class NameThresholds:
    """Similarity cut-offs (rapidfuzz normalised Indel, 0..1) between name levels.

    "similar" needs >= ``similar_chars`` over characters (刘德华 / 刘华: 0.8) or
    >= ``similar_pinyin`` over pinyin (陈琳 / 陈玲: chenlin / chenling 0.93). The pinyin cut-off
    is high on purpose: 张子涵 / 张子轩 (twins' names) score 0.86 in pinyin. "partly similar"
    needs >= ``partial_chars`` over characters (same surname and one given-name character).
    """

    similar_chars: float = 0.8
    similar_pinyin: float = 0.9
    partial_chars: float = 0.5


#: Name comparison levels, weakest first (also the level codes of the comparison vectors).
NAME_LEVELS: tuple[str, ...] = ("different", "partly similar", "similar", "homophone", "same")


def name_level(left: str | None, right: str | None, thresholds: NameThresholds | None = None) -> int | None:
    """The comparison level (index into :data:`NAME_LEVELS`) of two names; ``None`` if one is blank."""
    thresholds = thresholds or NameThresholds()
    a, b = normalise_name(left), normalise_name(right)
    if a is None or b is None:
        return None
    if a == b:
        return 4
    a_pinyin, b_pinyin = name_pinyin(a), name_pinyin(b)
    if a_pinyin == b_pinyin:
        return 3
    characters = Indel.normalized_similarity(a, b)
    sounds = Indel.normalized_similarity(a_pinyin, b_pinyin)
    if characters >= thresholds.similar_chars or sounds >= thresholds.similar_pinyin:
        return 2
    return 1 if characters >= thresholds.partial_chars else 0


def names_clearly_differ(left: str | None, right: str | None, thresholds: NameThresholds | None = None) -> bool:
    """True when both names are present and at most "partly similar".

    This is what tells twins from a duplicate entry: 张一鸣 / 张一凡 differ, 张丽 / 張莉 do not.
    """
    level = name_level(left, right, thresholds)
    return level is not None and level <= 1


@dataclass(frozen=True)
class EncodedNames:
    """Names of many records as integer codes (``-1`` = missing).

    ``simplified[i]`` indexes ``simplified_values``; ``pinyin[i]`` indexes ``pinyin_values``.
    Equal codes mean equal strings, so equality tests and SQL joins run on integers.
    """

    simplified: np.ndarray
    pinyin: np.ndarray
    simplified_values: np.ndarray
    pinyin_values: np.ndarray

    def take(self, index: np.ndarray) -> EncodedNames:
        """The names at ``index`` (same value tables)."""
        return EncodedNames(self.simplified[index], self.pinyin[index],
                            self.simplified_values, self.pinyin_values)

    def blanked(self, mask: np.ndarray) -> EncodedNames:
        """These names with the rows in ``mask`` set to missing."""
        return EncodedNames(np.where(mask, -1, self.simplified).astype(np.int32),
                            np.where(mask, -1, self.pinyin).astype(np.int32),
                            self.simplified_values, self.pinyin_values)


def _translation_tables(distinct_names: Iterable[str]) -> tuple[dict[int, str], dict[int, str]]:
    """Per-character maps to the simplified form and to pinyin, for every character present."""
    characters = set("".join(distinct_names))
    to_simplified = {ord(char): simplified_char(char) for char in characters}
    simplified_characters = set("".join(to_simplified.values()))
    to_pinyin = {ord(char): pinyin_of_char(char) for char in simplified_characters}
    return to_simplified, to_pinyin


def encode_names(names: pd.Series | pa.Array | pa.ChunkedArray | Sequence[str | None]) -> EncodedNames:
    """Normalise a column of names once per distinct value and return integer codes."""
    array = names if isinstance(names, pa.Array | pa.ChunkedArray) else pa.array(
        pd.Series(names, dtype="object").tolist(), type=pa.string()
    )
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.string())
    encoded = pc.dictionary_encode(array)
    distinct = encoded.dictionary.to_pylist()
    indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    to_simplified, to_pinyin = _translation_tables(_clean(name) for name in distinct)
    simplified_of_distinct: list[str | None] = []
    for name in distinct:
        simplified = _clean(name).translate(to_simplified)
        placeholder = simplified in _PLACEHOLDERS or _BABY_OF.search(simplified) is not None
        simplified_of_distinct.append(None if placeholder else simplified)
    pinyin_of_distinct = [
        None if value is None else value.translate(to_pinyin) for value in simplified_of_distinct
    ]
    simplified_codes, simplified_values = pd.factorize(
        pd.Series(simplified_of_distinct, dtype="object"), sort=True, use_na_sentinel=True
    )
    pinyin_codes, pinyin_values = pd.factorize(
        pd.Series(pinyin_of_distinct, dtype="object"), sort=True, use_na_sentinel=True
    )
    simplified_codes = np.append(simplified_codes, -1)  # index -1 (a null name) -> missing
    pinyin_codes = np.append(pinyin_codes, -1)
    return EncodedNames(
        simplified=simplified_codes[indices].astype(np.int32),
        pinyin=pinyin_codes[indices].astype(np.int32),
        simplified_values=np.asarray(simplified_values, dtype=object),
        pinyin_values=np.asarray(pinyin_values, dtype=object),
    )


def pairwise_similarity(
    values: np.ndarray, left_codes: np.ndarray, right_codes: np.ndarray, workers: int = 1
) -> np.ndarray:
    """Indel similarity in [0, 1] of ``values[left_codes[i]]`` and ``values[right_codes[i]]``.

    Both codes must be present (``>= 0``). Each distinct code pair is scored once.
    """
    if len(left_codes) == 0:
        return np.zeros(0, dtype=np.float64)
    width = np.int64(len(values) + 1)
    pair_keys = left_codes.astype(np.int64) * width + right_codes.astype(np.int64)
    distinct_keys, inverse = np.unique(pair_keys, return_inverse=True)
    left_strings = values[distinct_keys // width].tolist()
    right_strings = values[distinct_keys % width].tolist()
    scores = process.cpdist(
        left_strings, right_strings, scorer=Indel.normalized_similarity, dtype=np.float64,
        workers=workers,
    )
    return np.asarray(scores, dtype=np.float64)[inverse.reshape(-1)]
