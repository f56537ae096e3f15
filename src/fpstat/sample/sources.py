"""Which true births each source captures.

Capture is *heterogeneous*: a birth is missed more often if it is a girl, a later birth, out of
policy, or a migrant's. Each source's probability is a logistic model on those covariates,

    logit P(source s records birth i) = a_s + b_s' x_i (+ an area offset),

with the intercept ``a_s`` solved so that the source's overall capture hits its target (and, in
the townships that hide births, a planning offset solved for their lower capture). Given
the covariates (the stratum), sources capture independently of each other, the assumption of
stratified dual-system estimation (Sekar & Deming 1949; Wolter 1986, "Some coverage error
models for census data", JASA 81, 338-346). An *unstratified* two-list estimate on this drop
is therefore biased low: the births both lists miss are the same kind of births.

Registration takes time: a birth registered after the export date (``EXPORT_DATE``) is not in
the planning register or the police export yet, whatever the model says.

What each source then writes down about the births it holds is :mod:`fpstat.sample.recording`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fpstat.sample.geography import Parts
from fpstat.sample.population import EXPORT_DATE

RECORD_ROLES = ("planning", "police", "census", "hospital", "education")


@dataclass(frozen=True)
class CaptureModel:
    """Target overall capture and log-odds effects of the covariates."""

    target: float
    girl: float
    order_2: float
    order_3: float
    out_of_policy: float
    migrant: float


CAPTURE: dict[str, CaptureModel] = {
    "planning": CaptureModel(0.94, -0.5, -0.3, -0.9, -1.2, -1.0),
    "police": CaptureModel(0.90, -0.4, -0.2, -0.7, -1.3, -0.8),
    "census": CaptureModel(0.85, -0.5, -0.1, -0.6, -0.8, -0.7),
    "hospital": CaptureModel(0.93, -0.15, 0.0, -0.4, -0.5, -0.6),
    "education": CaptureModel(0.80, -0.2, -0.1, -0.4, -0.6, -0.9),
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _solve_offset(eta: np.ndarray, weight: np.ndarray, target: float) -> float:
    """The shift ``a`` with mean(weight * sigmoid(eta + a)) == target (Newton's method).

    The mean is increasing and smooth in ``a``, so Newton steps from 0 converge in a few
    iterations; steps are clamped to 2 on the logit scale so early ones cannot overshoot.
    """
    if len(eta) == 0:
        return 0.0
    if target >= float(np.mean(weight)):  # fewer eligible births than the target: take them all
        return 15.0
    shift = 0.0
    for _ in range(50):
        p = _sigmoid(eta + shift)
        gap = float(np.mean(weight * p)) - target
        slope = float(np.mean(weight * p * (1 - p)))
        step = float(np.clip(gap / max(slope, 1e-12), -2.0, 2.0))
        shift -= step
        if abs(step) < 1e-10:
            break
    return shift


def _linear_predictor(model: CaptureModel, births: pd.DataFrame) -> np.ndarray:
    order = births["birth_order"].to_numpy()
    return (
        model.girl * (births["sex"].to_numpy() == "F")
        + model.order_2 * (order == 2)
        + model.order_3 * (order == 3)
        + model.out_of_policy * ~births["within_policy"].to_numpy(dtype=bool)
        + model.migrant * births["migrant"].to_numpy(dtype=bool)
    ).astype(float)


def _eligible(role: str, births: pd.DataFrame) -> np.ndarray:
    """Births the source can hold at export time (registered by then; police: with an ID)."""
    export = np.datetime64(EXPORT_DATE)
    if role == "planning":
        return births["registered_on"].to_numpy(dtype="datetime64[D]") <= export
    if role == "police":
        hukou = births["hukou_registered_on"].to_numpy(dtype="datetime64[D]")
        return ~np.isnat(hukou) & (hukou <= export)
    return np.ones(len(births), dtype=bool)


@dataclass(frozen=True)
class Capture:
    """Which births each source holds, and the planning capture in the hiding townships."""

    captured: dict[str, np.ndarray]
    hiding_capture: dict[str, float]   # township -> share of its births in the register


def capture_births(births: pd.DataFrame, parts: Parts, rng: np.random.Generator) -> Capture:
    """Draw, independently per source given the covariates, which births each source holds."""
    captured: dict[str, np.ndarray] = {}
    township = births["township_code"].to_numpy()
    hiding = np.isin(township, np.array(parts.hiding_townships))
    realised: dict[str, float] = {}
    for role in RECORD_ROLES:
        model = CAPTURE[role]
        eta = _linear_predictor(model, births)
        eligible = _eligible(role, births).astype(float)
        calibrate = ~hiding if role == "planning" else np.ones(len(births), dtype=bool)
        eta = eta + _solve_offset(eta[calibrate], eligible[calibrate], model.target)
        if role == "planning":
            for code, target in zip(parts.hiding_townships, parts.hiding_capture, strict=True):
                here = township == code
                eta[here] += _solve_offset(eta[here], eligible[here], target)
        draw = rng.random(len(births))
        captured[role] = (draw < _sigmoid(eta)) & (eligible > 0)
        if role == "planning":
            for code in parts.hiding_townships:
                here = township == code
                if here.any():
                    realised[code] = float(captured[role][here].mean())
    return Capture(captured, realised)
