"""Chinese name normalisation and comparison for record linkage."""

from __future__ import annotations

import numpy as np
import pytest

from fpstat.reconcile.names import (
    NAME_LEVELS,
    encode_names,
    name_level,
    name_pinyin,
    name_similarity,
    names_clearly_differ,
    normalise_name,
    pairwise_similarity,
)


@pytest.mark.parametrize(
    ("written", "simplified"),
    [("陳", "陈"), ("劉", "刘"), ("張麗", "张丽"), ("陳 麗", "陈丽"), ("阿依·买买提", "阿依买买提"),
     ("ＺＨＡＮＧ", "zhang")],
)
def test_traditional_characters_spaces_and_full_width_are_normalised(written: str, simplified: str) -> None:
    """Traditional characters become simplified; spaces, dots and full-width forms go."""
    assert normalise_name(written) == simplified


@pytest.mark.parametrize("placeholder", [None, "", "  ", "不详", "未取名", "张丽之子", "王芳之女", "男婴"])
def test_placeholders_are_no_name(placeholder: str | None) -> None:
    """Blank names and labels like "son of 张丽" count as missing, not as a name."""
    assert normalise_name(placeholder) is None
    assert name_pinyin(placeholder) is None


def test_homophones_share_a_pinyin_key() -> None:
    """张丽 and 张莉 (and 張麗) sound the same: one tone-less pinyin key."""
    assert name_pinyin("张丽") == name_pinyin("张莉") == name_pinyin("張麗") == "zhangli"
    assert name_level("张丽", "张莉") == NAME_LEVELS.index("homophone")
    assert name_level("陳靜", "陈静") == NAME_LEVELS.index("same")


def test_different_names_score_low() -> None:
    """Unrelated names have low character similarity and are "different"."""
    assert name_similarity("王芳", "李强") == 0.0
    assert name_level("王芳", "李强") == NAME_LEVELS.index("different")
    assert name_similarity("张伟", "张伟") == 1.0


def test_twin_names_clearly_differ_but_spelling_variants_do_not() -> None:
    """Twins' names differ clearly; homophone and traditional variants do not."""
    assert names_clearly_differ("张一鸣", "张一凡")
    assert names_clearly_differ("张子涵", "张子轩")
    assert not names_clearly_differ("张丽", "張莉")
    assert not names_clearly_differ("刘德华", "刘华")  # a dropped character: "similar"
    assert not names_clearly_differ("张丽", None)


def test_near_homophones_are_similar() -> None:
    """陈琳 / 陈玲 (lin / ling) are near-homophones: "similar", one level below homophones."""
    assert name_level("陈琳", "陈玲") == NAME_LEVELS.index("similar")


def test_encoded_names_agree_with_the_scalar_functions() -> None:
    """Vectorised codes: equal codes exactly where the normalised forms are equal."""
    names = ["陳麗", "陈丽", None, "张莉", "张丽", "未取名", "王芳"]
    encoded = encode_names(names)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            same_simple = encoded.simplified[i] >= 0 and encoded.simplified[i] == encoded.simplified[j]
            same_sound = encoded.pinyin[i] >= 0 and encoded.pinyin[i] == encoded.pinyin[j]
            present = normalise_name(a) is not None and normalise_name(b) is not None
            assert same_simple == (present and normalise_name(a) == normalise_name(b))
            assert same_sound == (present and name_pinyin(a) == name_pinyin(b))
    assert encoded.simplified[2] == -1 and encoded.simplified[5] == -1


def test_pairwise_similarity_counts_characters_not_bytes() -> None:
    """Two 3-character names differing in one character score 2/3, not by UTF-8 bytes."""
    encoded = encode_names(["张丽华", "张立华", "王芳"])
    scores = pairwise_similarity(
        encoded.simplified_values, encoded.simplified[[0, 0]], encoded.simplified[[1, 2]]
    )
    assert scores[0] == pytest.approx(2 / 3)
    assert scores[1] == 0.0
    assert np.all((scores >= 0) & (scores <= 1))
