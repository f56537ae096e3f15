"""The Fellegi-Sunter model of record linkage, with m and u estimated by EM.

A candidate pair of records is described by a comparison vector gamma: for each field k a level
gamma_k (exact agreement, near agreement, ..., disagreement) or *missing* when one side lacks the
field. Under conditional independence of the fields given the pair's status (Fellegi & Sunter
1969), with

    m_k(l) = P(gamma_k = l | match),   u_k(l) = P(gamma_k = l | non-match),   lambda = P(match),

the match weight is ``W = log2(lambda / (1 - lambda)) + sum_k log2(m_k(gamma_k) / u_k(gamma_k))``
and the posterior match probability is ``P(match | gamma) = 1 / (1 + 2^-W)``. A missing field
contributes nothing (its likelihood ratio is 1), i.e. it is taken as missing at random
(Enamorado, Fifield & Imai 2019).

m, u and lambda are unknown. They are estimated by the EM algorithm for the two-class latent
mixture over the candidate pairs (Winkler 1988; Jaro 1989): the E step gives each comparison
pattern its posterior g = P(match | gamma), the M step re-estimates m and u as g- and
(1 - g)-weighted level frequencies and lambda as the mean of g. EM runs over the *distinct*
patterns with their counts, so its cost does not grow with the number of pairs. The M step adds
Dirichlet pseudo-counts centred on the starting values (and a Beta pseudo-count for lambda: a
MAP-EM), which keeps levels seen in few pairs away from 0 or 1 when a source contributes only a
handful of uncertain pairs; with thousands of pairs their effect vanishes.

References
----------
* Fellegi, I. P. & Sunter, A. B. (1969). A theory for record linkage. JASA 64(328), 1183-1210.
* Winkler, W. E. (1988). Using the EM algorithm for weight computation in the Fellegi-Sunter
  model of record linkage. Proc. Section on Survey Research Methods, ASA, 667-671.
* Jaro, M. A. (1989). Advances in record-linkage methodology as applied to matching the 1985
  Census of Tampa, Florida. JASA 84(406), 414-420.
* Larsen, M. D. & Rubin, D. B. (2001). Iterative automated record linkage using mixture
  models. JASA 96(453), 32-41.
* Enamorado, T., Fifield, B. & Imai, K. (2019). Using a probabilistic model to assist merging of
  large-scale administrative records. American Political Science Review 113(2), 353-371.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: Level code of a field that one side of the pair lacks.
MISSING = -1
#: Probabilities are kept at or above FLOOR so that logarithms stay finite.
FLOOR = 1e-12


def _normalised(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(np.asarray(probabilities, dtype=np.float64), FLOOR, None)
    return clipped / clipped.sum()


@dataclass
class FellegiSunterModel:
    """m and u per field and level, and the prior match probability lambda."""

    fields: tuple[str, ...]
    m: list[np.ndarray]
    u: list[np.ndarray]
    prior: float

    def __post_init__(self) -> None:
        self.m = [_normalised(values) for values in self.m]
        self.u = [_normalised(values) for values in self.u]
        self.prior = float(np.clip(self.prior, FLOOR, 1 - FLOOR))

    def bayes_factor_log2(self, levels: np.ndarray) -> np.ndarray:
        """``sum_k log2(m_k / u_k)`` per row of ``levels`` (n x fields; MISSING adds 0)."""
        levels = np.asarray(levels)
        total = np.zeros(levels.shape[0], dtype=np.float64)
        for k in range(len(self.fields)):
            ratio = np.log2(self.m[k]) - np.log2(self.u[k])
            column = levels[:, k]
            present = column != MISSING
            total[present] += ratio[column[present]]
        return total

    def match_weight(self, levels: np.ndarray) -> np.ndarray:
        """The posterior log2-odds of a match: prior log-odds plus the Bayes factor."""
        prior_log_odds = np.log2(self.prior) - np.log2(1.0 - self.prior)
        return prior_log_odds + self.bayes_factor_log2(levels)

    def match_probability(self, levels: np.ndarray) -> np.ndarray:
        """``P(match | gamma) = 1 / (1 + 2^-W)``."""
        return 1.0 / (1.0 + np.exp2(-self.match_weight(levels)))

    def describe(self, level_labels: Sequence[Sequence[str]]) -> dict[str, object]:
        """m, u and the agreement weight of every level, for the run manifest."""
        fields_out: dict[str, object] = {}
        for k, name in enumerate(self.fields):
            fields_out[name] = {
                label: {
                    "m": round(float(self.m[k][level]), 6),
                    "u": round(float(self.u[k][level]), 6),
                    "weight": round(float(np.log2(self.m[k][level] / self.u[k][level])), 4),
                }
                for level, label in enumerate(level_labels[k])
            }
        return {"lambda": round(self.prior, 8), "fields": fields_out}


def level_frequencies(
    levels: np.ndarray,
    level_counts: Sequence[int],
    weights: np.ndarray | None = None,
    pseudo: Sequence[np.ndarray] | None = None,
    pseudo_strength: float = 0.0,
) -> list[np.ndarray]:
    """Weighted frequency of each level of each field among the rows where it is present.

    ``pseudo`` and ``pseudo_strength`` add Dirichlet pseudo-counts ``strength * pseudo[k]``
    (used to smooth estimates from few pairs). Missing levels are ignored.
    """
    levels = np.asarray(levels)
    weights = np.ones(levels.shape[0]) if weights is None else np.asarray(weights, np.float64)
    result = []
    for k, count in enumerate(level_counts):
        column = levels[:, k]
        present = column != MISSING
        totals = np.bincount(column[present], weights=weights[present], minlength=count)
        if pseudo is not None and pseudo_strength > 0:
            totals = totals + pseudo_strength * np.asarray(pseudo[k], dtype=np.float64)
        if totals.sum() <= 0:
            totals = np.ones(count)
        result.append(_normalised(totals[:count]))
    return result


#: Largest number of possible comparison vectors for which patterns are counted in a table
#: indexed by the packed vector (linear time) instead of by sorting the packed vectors.
MAX_TABLE_PATTERNS = 1 << 24


def distinct_patterns(levels: np.ndarray, level_counts: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct comparison vectors (in the order of their packed keys), their counts, and each
    row's pattern index.

    Rows are packed into one integer (mixed radix, MISSING as digit 0), which is much faster
    than ``np.unique(axis=0)`` on millions of rows. With few possible vectors (eight fields
    of two to seven levels make 140,000) they are counted in a table indexed by the key, in
    linear time, and the distinct vectors are unpacked from their keys.
    """
    levels = np.asarray(levels)
    key = np.zeros(levels.shape[0], dtype=np.int64)
    for k, count in enumerate(level_counts):
        key *= count + 1
        key += levels[:, k].astype(np.int64) + 1
    space = int(np.prod([count + 1 for count in level_counts], dtype=np.float64))
    if space > MAX_TABLE_PATTERNS:
        distinct_keys, first_index, inverse, counts = np.unique(
            key, return_index=True, return_inverse=True, return_counts=True
        )
        return levels[first_index].astype(np.int64), counts.astype(np.float64), inverse.reshape(-1)
    table = np.bincount(key, minlength=space)
    distinct_keys = np.flatnonzero(table)
    position = np.zeros(space, dtype=np.int64)
    position[distinct_keys] = np.arange(len(distinct_keys))
    patterns = np.empty((len(distinct_keys), len(level_counts)), dtype=np.int64)
    rest = distinct_keys.copy()
    for k in range(len(level_counts) - 1, -1, -1):
        rest, digit = np.divmod(rest, level_counts[k] + 1)
        patterns[:, k] = digit - 1
    return patterns, table[distinct_keys].astype(np.float64), position[key]


@dataclass
class EmOutcome:
    """The fitted model and how the fit went (for the manifest)."""

    model: FellegiSunterModel
    iterations: int
    converged: bool
    log_likelihood: float
    patterns: int
    pairs: int
    notes: list[str] = field(default_factory=list)


def _likelihoods(model: FellegiSunterModel, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    match = np.full(patterns.shape[0], model.prior)
    nonmatch = np.full(patterns.shape[0], 1.0 - model.prior)
    for k in range(len(model.fields)):
        column = patterns[:, k]
        present = column != MISSING
        match[present] *= model.m[k][column[present]]
        nonmatch[present] *= model.u[k][column[present]]
    return match, nonmatch


def estimate_em(
    levels: np.ndarray,
    level_counts: Sequence[int],
    initial: FellegiSunterModel,
    *,
    max_iterations: int = 200,
    tolerance: float = 1e-6,
    prior_strength: float = 10.0,
    fixed_u: bool = False,
    known_matches: np.ndarray | None = None,
    total_pairs: float | None = None,
) -> EmOutcome:
    """Fit m, u and lambda by EM over the comparison vectors ``levels`` (pairs x fields).

    Starts from ``initial`` and stops when no parameter moves by more than ``tolerance``.
    ``prior_strength`` is the weight, in pairs, of the Dirichlet pseudo-counts centred on the
    starting m, u and lambda. With ``fixed_u`` the u probabilities keep their starting values (e.g.
    when they were measured on random pairs).

    ``known_matches`` are comparison vectors of pairs known to be matches (set MISSING on the
    fields they were selected on). They enter the M step of m with posterior 1, and neither
    u nor lambda: semi-supervised EM in the manner of Larsen & Rubin (2001, JASA 96, 32-41),
    which keeps the latent "match" class anchored to real matches. Without them a two-class
    mixture over blocked pairs may settle on another split, e.g. "same mother" (siblings
    share the mother's ID, name and address) instead of "same birth".

    ``total_pairs``: the size of the whole comparison space when ``levels`` are only the pairs
    that blocking kept. The pairs left out are taken as non-matches (posterior 0), so lambda
    is the expected number of matches over ``total_pairs``; use it with ``fixed_u`` and u
    measured on random pairs of the whole space, which is what u over all pairs would be.
    """
    n_pairs = int(levels.shape[0])
    if n_pairs == 0:
        return EmOutcome(initial, 0, True, 0.0, 0, 0, ["no candidate pairs"])
    patterns, counts, _ = distinct_patterns(levels, level_counts)
    if known_matches is not None and len(known_matches):
        known_patterns, known_counts, _ = distinct_patterns(known_matches, level_counts)
    else:
        known_patterns = np.zeros((0, len(level_counts)), dtype=np.int64)
        known_counts = np.zeros(0)
    all_patterns = np.concatenate([patterns, known_patterns])
    model = FellegiSunterModel(initial.fields, list(initial.m), list(initial.u), initial.prior)
    log_likelihood = -np.inf
    converged = False
    iteration = 0
    while iteration < max_iterations:
        iteration += 1
        match, nonmatch = _likelihoods(model, patterns)
        total = match + nonmatch
        log_likelihood = float(np.sum(counts * np.log(total)))
        posterior = match / total
        match_weight = counts * posterior
        new_m = level_frequencies(
            all_patterns, level_counts, np.concatenate([match_weight, known_counts]),
            initial.m, prior_strength,
        )
        new_u = (
            model.u
            if fixed_u
            else level_frequencies(
                patterns, level_counts, counts - match_weight, initial.u, prior_strength
            )
        )
        space = counts.sum() if total_pairs is None else max(float(total_pairs), counts.sum())
        new_prior = float(
            (match_weight.sum() + prior_strength * initial.prior) / (space + prior_strength)
        )
        change = max(
            abs(new_prior - model.prior),
            max(float(np.max(np.abs(a - b))) for a, b in zip(new_m, model.m, strict=True)),
            max(float(np.max(np.abs(a - b))) for a, b in zip(new_u, model.u, strict=True)),
        )
        model = FellegiSunterModel(model.fields, new_m, new_u, new_prior)
        if change < tolerance:
            converged = True
            break
    outcome = EmOutcome(model, iteration, converged, log_likelihood, len(patterns), n_pairs)
    if not _match_class_agrees_more(model):
        # EM found a split other than match / non-match (label switching): keep the start.
        outcome = EmOutcome(initial, iteration, converged, log_likelihood, len(patterns), n_pairs)
        outcome.notes.append("EM match class did not agree more than non-matches; kept start")
    return outcome


def _match_class_agrees_more(model: FellegiSunterModel) -> bool:
    """True when, for most fields, the top level (full agreement) is likelier among matches."""
    votes = [float(m[-1]) > float(u[-1]) for m, u in zip(model.m, model.u, strict=True)]
    return sum(votes) * 2 > len(votes)
