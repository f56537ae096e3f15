"""The reconcile stage: link the sources, find births missing from the register, estimate
completeness.

Entry point: :func:`reconcile_inputs` (loaded inputs -> run directory) with
:class:`ReconcileSettings`; it returns a :class:`ReconcileSummary`. The building blocks are
public too: record linkage (:func:`link_records`), the births table (:func:`build_births`),
the estimators (Chapman, Lincoln-Petersen, log-linear multiple-system estimation, stratified
and small-area estimates) and the tables written (``counts.csv``, ``completeness.csv``,
``unregistered.csv``). See ``docs/internals.md`` for the files.
"""

from fpstat.reconcile.births import FIELD_PRIORITY, Births, build_births, reconciliation_window
from fpstat.reconcile.capture_histories import CaptureHistories
from fpstat.reconcile.completeness import CompletenessSettings, completeness_table
from fpstat.reconcile.counts import compare_counts, ratio_interval, sex_disagreements
from fpstat.reconcile.estimators import (
    EstimationWarning,
    TwoListEstimate,
    chapman,
    lincoln_petersen,
    lognormal_ci,
)
from fpstat.reconcile.linkage import LinkageResult, LinkageSettings, link_records
from fpstat.reconcile.loglinear import LogLinearModel, ModelFit, fit_model
from fpstat.reconcile.model_search import choose_models
from fpstat.reconcile.multiple_systems import MSEResult, estimate_completeness, estimate_mse
from fpstat.reconcile.run import ReconcileSettings, ReconcileSummary, reconcile_inputs
from fpstat.reconcile.small_areas import estimate_areas, fit_areas, synthetic_estimate
from fpstat.reconcile.strata import StratifiedEstimate, estimate_stratified
from fpstat.reconcile.unregistered import unregistered_births

__all__ = [
    "FIELD_PRIORITY", "Births", "CaptureHistories", "CompletenessSettings", "EstimationWarning",
    "LinkageResult", "LinkageSettings", "LogLinearModel", "MSEResult", "ModelFit",
    "ReconcileSettings", "ReconcileSummary", "StratifiedEstimate", "TwoListEstimate",
    "build_births", "chapman", "choose_models", "compare_counts", "completeness_table",
    "estimate_areas", "estimate_completeness", "estimate_mse", "estimate_stratified", "fit_areas",
    "fit_model", "lincoln_petersen", "link_records", "lognormal_ci", "ratio_interval",
    "reconcile_inputs", "reconciliation_window", "sex_disagreements", "synthetic_estimate",
    "unregistered_births",
]
