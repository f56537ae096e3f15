"""The synthetic prefecture: counties, townships and villages with statistical area codes.

Codes follow the structure of the statistical area codes (统计用区划代码) that the National
Bureau of Statistics publishes: province 2 + prefecture 2 + county 2 + township 3 + village 3
digits. Township codes 001-099 are sub-districts (街道), 100-199 towns (镇), 200-399 townships
(乡); village codes 001-199 are residents' committees (社区/居委会), 200-399 villagers'
committees (村委会). County codes 81-99 are county-level cities (县级市).

The province code (32) and prefecture code (3205) are real codes, everything below them is
invented, and so are all the names: the drop must never be mistaken for real data.

Each county has a part in the story the drop tells (see ``truth/injected.json``): one has a
monthly sex-ratio swing, one heaps its reported policy rates just above 92 %, one hides
births from its register in some townships. The fourth (medium and large only) is clean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PROVINCE_CODE = "32"
PROVINCE_NAME = "江苏省"
PREFECTURE_CODE = "3205"
PREFECTURE_NAME = "清江市"

#: (code suffix, name) of the counties, in the order of their parts below.
_COUNTIES = (("81", "临湖市"), ("82", "双河市"), ("83", "青山市"), ("85", "桐溪市"))
#: County parts, by position: the swing county, the heaping county, the hiding county, clean.
SWING, HEAPING, HIDING, CLEAN = 0, 1, 2, 3

_PLACE_HEADS = tuple("东西南北新金银石白青黄红长永安兴福康宁平和丰华龙凤桃柳杨梅松竹湖河溪塘桥沙湾庄港")
_PLACE_TAILS = tuple("湖塘桥港湾庄岗坪铺集口浜泾圩墩岭山林园洲渡滩埠桥店营坝泉源井楼")


@dataclass(frozen=True)
class SizeProfile:
    """How big a drop of one size is: births, townships per county, villages per township."""

    name: str
    births: int
    townships: tuple[int, ...]
    villages: tuple[int, int]
    county_shares: tuple[float, ...]


SIZES: dict[str, SizeProfile] = {
    "small": SizeProfile("small", 3_000, (5, 6, 4), (4, 7), (0.36, 0.47, 0.17)),
    "medium": SizeProfile("medium", 40_000, (10, 12, 8, 9), (8, 14), (0.30, 0.30, 0.18, 0.22)),
    "large": SizeProfile("large", 1_350_000, (14, 16, 12, 12), (12, 20), (0.27, 0.27, 0.20, 0.26)),
}


@dataclass(frozen=True)
class CountyTraits:
    """What differs between counties in the true population."""

    srb: float                       # sex ratio at birth (boys per 100 girls) of first births + 4
    order_mix: tuple[float, float, float]       # share of maternities of order 1, 2, 3+
    within_policy: tuple[float, float, float]   # P(within policy) by order 1, 2, 3+
    migrant_share: float


TRAITS: dict[int, CountyTraits] = {
    SWING: CountyTraits(112.0, (0.46, 0.40, 0.14), (0.97, 0.90, 0.60), 0.15),
    HEAPING: CountyTraits(116.0, (0.42, 0.42, 0.16), (0.95, 0.86, 0.50), 0.10),
    HIDING: CountyTraits(108.0, (0.48, 0.40, 0.12), (0.99, 0.96, 0.80), 0.08),
    CLEAN: CountyTraits(106.0, (0.47, 0.40, 0.13), (0.98, 0.93, 0.70), 0.12),
}


@dataclass(frozen=True)
class Geography:
    """The area hierarchy of one drop and the parts its areas play."""

    villages: pd.DataFrame   # one row per village, see :func:`build_geography`
    townships: pd.DataFrame  # one row per township
    counties: pd.DataFrame   # one row per county

    @property
    def prefecture_code(self) -> str:
        return PREFECTURE_CODE.ljust(12, "0")

    @property
    def province_code(self) -> str:
        return PROVINCE_CODE.ljust(12, "0")

    def county_code(self, part: int) -> str:
        return str(self.counties.loc[self.counties["part"] == part, "county_code"].iloc[0])

    def township_name(self, code: str) -> str:
        return str(self.townships.loc[self.townships["township_code"] == code, "township_name"].iloc[0])

    def county_name(self, code: str) -> str:
        return str(self.counties.loc[self.counties["county_code"] == code, "county_name"].iloc[0])

    def area_names(self) -> dict[str, str]:
        """12-digit code -> name, for every area of every level."""
        names = {self.province_code: PROVINCE_NAME, self.prefecture_code: PREFECTURE_NAME}
        names.update(zip(self.counties["county_code"], self.counties["county_name"], strict=True))
        names.update(zip(self.townships["township_code"], self.townships["township_name"], strict=True))
        names.update(zip(self.villages["village_code"], self.villages["village_name"], strict=True))
        return names


def _place_names(rng: np.random.Generator, count: int, taken: set[str]) -> list[str]:
    """``count`` distinct two-character place names not in ``taken`` (which is updated)."""
    names: list[str] = []
    while len(names) < count:
        name = str(rng.choice(_PLACE_HEADS)) + str(rng.choice(_PLACE_TAILS))
        if name[0] != name[1] and name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _township_kinds(count: int, subdistricts: int) -> list[tuple[int, str]]:
    """(3-digit code, suffix) of a county's townships: 街道 first, then 镇, the last one a 乡."""
    kinds = [(index + 1, "街道") for index in range(subdistricts)]
    towns = count - subdistricts - (1 if count >= 8 else 0)
    kinds += [(101 + index, "镇") for index in range(towns)]
    if count >= 8:
        kinds.append((201, "乡"))
    return kinds


def _village_codes(count: int, suffix: str, rng: np.random.Generator) -> list[tuple[int, str]]:
    """(3-digit code, suffix) of a township's villages: 社区 in 街道, mostly 村 elsewhere."""
    if suffix == "街道":
        return [(index + 1, "社区") for index in range(count)]
    communities = 0 if suffix == "乡" else int(rng.integers(1, 3))
    communities = min(communities, count - 1)
    codes = [(index + 1, "社区") for index in range(communities)]
    codes += [(201 + index, "村") for index in range(count - communities)]
    return codes


def build_geography(profile: SizeProfile, rng: np.random.Generator) -> Geography:
    """The prefecture for a size profile, with birth weights per village (shares summing to 1).

    Townships of the heaping county get similar weights so that each has enough births per
    statistical year for a rate to be set to within one point of the threshold.
    """
    prefix = PROVINCE_CODE + PREFECTURE_CODE[2:]
    counties, townships, villages = [], [], []
    taken: set[str] = set()
    for part, n_townships in enumerate(profile.townships):
        suffix, county_name = _COUNTIES[part]
        county_code = prefix + suffix
        counties.append({"county_code": county_code.ljust(12, "0"), "county_name": county_name,
                         "part": part, "share": profile.county_shares[part]})
        kinds = _township_kinds(n_townships, 2 if part == SWING else 1)
        names = _place_names(rng, len(kinds), taken)
        if part == HEAPING:
            weights = rng.uniform(0.9, 1.1, len(kinds))
        else:
            weights = rng.lognormal(0.0, 0.35, len(kinds))
        weights = weights / weights.sum() * profile.county_shares[part]
        for (number, kind), name, weight in zip(kinds, names, weights, strict=True):
            township_code = f"{county_code}{number:03d}"
            township_name = name + kind
            townships.append({
                "township_code": township_code.ljust(12, "0"), "township_name": township_name,
                "county_code": county_code.ljust(12, "0"), "part": part, "share": weight,
            })
            n_villages = int(rng.integers(profile.villages[0], profile.villages[1] + 1))
            village_kinds = _village_codes(n_villages, kind, rng)
            village_names = _place_names(rng, len(village_kinds), set(taken))
            village_weights = rng.lognormal(0.0, 0.45, len(village_kinds))
            village_weights = village_weights / village_weights.sum() * weight
            for (v_number, v_kind), v_name, v_weight in zip(
                village_kinds, village_names, village_weights, strict=True
            ):
                villages.append({
                    "village_code": f"{township_code}{v_number:03d}",
                    "village_name": v_name + v_kind,
                    "township_code": township_code.ljust(12, "0"),
                    "township_name": township_name,
                    "county_code": county_code.ljust(12, "0"),
                    "county_name": county_name,
                    "part": part,
                    "share": v_weight,
                })
    village_table = pd.DataFrame(villages)
    village_table["share"] = village_table["share"] / village_table["share"].sum()
    return Geography(
        villages=village_table.reset_index(drop=True),
        townships=pd.DataFrame(townships),
        counties=pd.DataFrame(counties),
    )


@dataclass(frozen=True)
class Parts:
    """The areas that carry the drop's injected problems (all 12-digit codes)."""

    swing_county: str
    heaping_county: str
    heaping_townships: tuple[str, ...]
    hiding_townships: tuple[str, ...]
    hiding_capture: tuple[float, ...]       # target planning capture in each hiding township
    misreport_township: str
    mismatch_township: str
    relation_township: str
    gap_county: str


def choose_parts(geo: Geography, rng: np.random.Generator) -> Parts:
    """Pick the townships that carry each injection, by their part and size."""
    towns = geo.townships.sort_values(["share", "township_code"], ascending=[False, True])

    def of(part: int) -> pd.DataFrame:
        return towns[towns["part"] == part]

    hiding = of(HIDING)
    n_hiding = max(1, int(round(len(hiding) * 0.4)))
    hiding_codes = tuple(sorted(hiding["township_code"].iloc[1 : 1 + n_hiding]))
    relation = hiding[~hiding["township_code"].isin(hiding_codes)]["township_code"].iloc[0]
    return Parts(
        swing_county=geo.county_code(SWING),
        heaping_county=geo.county_code(HEAPING),
        heaping_townships=tuple(sorted(of(HEAPING)["township_code"])),
        hiding_townships=hiding_codes,
        hiding_capture=tuple(float(round(x, 3)) for x in rng.uniform(0.65, 0.75, n_hiding)),
        misreport_township=str(of(HEAPING)["township_code"].iloc[0]),
        mismatch_township=str(of(SWING)["township_code"].iloc[0]),
        relation_township=str(relation),
        gap_county=geo.county_code(HIDING),
    )
