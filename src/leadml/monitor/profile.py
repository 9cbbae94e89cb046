"""The reference profile: what the training leads looked like, as numbers only.

Drift is always measured against something. The training leads themselves cannot travel with
the model (they hold names, emails and phone numbers, and a bundle is copied to servers and
registries), so training keeps, in ``model.meta["reference"]``, only what a drift test needs:

* **features**: for a number, its training deciles as bin edges (repeated edges merged, so a
  count that is 0 for half the leads gives one bin, not five) and how many leads fell in each
  bin, plus how many had it missing; for a category, an ordinal answer or a yes/no, how many
  leads gave each level the encoder already stores, how many left it missing, and an
  "other" bin for values never seen in training (always 0 here, by definition);
* **pushes**: each criterion's summed contribution (log-odds) binned on its own deciles, for
  every framework of :mod:`leadml.schema.frameworks` and their leftover groups; frameworks are
  only different readings of one set of tags, so a team that switches ``LEADML_FRAMEWORK``
  (which needs no retraining) can still monitor, for about 15 kB;
* **score**: leads per 10-point score bin, and **grades**: leads per grade;
* **segments** (a model trained with a segment column): the same profile for each of the
  ``MAX_SEGMENTS`` largest segments of at least ``SEGMENT_ROWS`` training leads, so ``leadml
  monitor --by segment`` compares EMEA's leads with EMEA's training leads (against all of
  them, a region would "drift" on its own country mix), with the segment's expected ROC AUC
  as its performance baseline. Its pushes come from up to ``SEGMENT_PUSH_ROWS`` of its leads
  (a few thousand more TreeSHAP rows: 1.5 s more for three regions of 6,000 leads).

Level names are not repeated (the encoder holds them); no free text, no identifier and no row
ever goes in. The profile is computed on at most ``max_rows`` training leads drawn at random,
plenty for shares good to a fraction of a point (the pushes on ``PUSH_ROWS`` of them), so it
costs the same second or two at any size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from leadml.explain.rollup import plan_for
from leadml.features.encoder import NUMERIC_KINDS
from leadml.qualify.grades import GRADES, score_0_100
from leadml.schema.criteria import FRAMEWORKS

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel

#: Bumped when the layout changes; the monitor reads only the formats it knows.
PROFILE_FORMAT = 1
#: Deciles: ten bins is the usual PSI resolution, and stable at a thousand recent leads.
QUANTILES = np.linspace(0.1, 0.9, 9)
#: Leads whose contributions give the pushes' reference: TreeSHAP costs ~40× a prediction (a
#: second per 2,000 leads on a laptop core), and a reference of 2,000 adds ~0.005 to a PSI.
PUSH_ROWS = 2_000
#: Score bins 0–9, 10–19, ..., 90–100: edges between whole scores (the score is 0–100).
SCORE_EDGES = [9.5, 19.5, 29.5, 39.5, 49.5, 59.5, 69.5, 79.5, 89.5]
#: Fewest training leads a segment gets a profile of its own on (fewer: PSI is mostly noise).
SEGMENT_ROWS = 200
#: A segment's pushes are binned on up to this many of its leads' contributions.
SEGMENT_PUSH_ROWS = 1_000
#: Segments profiled, the largest first (about 16 kB each; Dynamics 365 also stops at 10).
MAX_SEGMENTS = 10
#: Kinds binned by level (codes 0..L-1 in the encoded matrix) and their level names.
LEVEL_KINDS = ("categorical", "ordinal", "boolean", "month", "weekday")


# -- binning (shared with the drift tests, so both sides cut alike) ----------------------------
def decile_edges(values: np.ndarray) -> list[float]:
    """Interior bin edges at the deciles of the finite ``values``, repeated edges merged."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return []
    return [float(e) for e in np.unique(np.quantile(finite, QUANTILES))]


def numeric_counts(values: np.ndarray, edges: list[float]) -> tuple[np.ndarray, int]:
    """Leads per bin (-inf, e1], (e1, e2], ..., (ek, inf), and leads with the value missing.

    Bins are closed on the right, so a count that sits on an edge (0 visits) keeps a bin of
    its own rather than sharing one with the next value.
    """
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    which = np.searchsorted(np.asarray(edges, dtype=np.float64), values[finite], side="left")
    counts = np.bincount(which, minlength=len(edges) + 1)
    return counts, int((~finite).sum())


def level_counts(codes: np.ndarray, n_levels: int) -> tuple[np.ndarray, int]:
    """Leads per level code 0..n_levels-1, and leads whose code is missing (NaN)."""
    codes = np.asarray(codes, dtype=np.float64)
    known = np.isfinite(codes) & (codes >= 0) & (codes < n_levels)
    counts = np.bincount(codes[known].astype(np.int64), minlength=n_levels)
    return counts, int((~known).sum())


def feature_spec(model: LeadModel, j: int, column: np.ndarray) -> dict[str, Any]:
    """One feature's reference: bins and counts (see the module's docstring)."""
    kind = model.encoder.kinds[j]
    if kind in NUMERIC_KINDS:
        edges = decile_edges(column)
        counts, missing = numeric_counts(column, edges)
        finite = column[np.isfinite(column)]
        median = float(np.median(finite)) if len(finite) else None
        return {
            "type": "numeric",
            "edges": edges,
            "counts": counts.tolist(),
            "missing": missing,
            "median": median,
        }
    counts, missing = level_counts(column, len(model.encoder.level_names(j)))
    return {"type": "level", "counts": counts.tolist(), "missing": missing, "other": 0}


def push_spec(push: np.ndarray) -> dict[str, Any]:
    """A criterion's push (always known: a criterion with no answer still has a value)."""
    edges = decile_edges(push)
    counts, _ = numeric_counts(push, edges)
    return {"type": "numeric", "edges": edges, "counts": counts.tolist(), "missing": 0}


def score_counts(probability: np.ndarray) -> list[int]:
    """Leads per 10-point score bin."""
    counts, _ = numeric_counts(score_0_100(probability), SCORE_EDGES)
    return counts.tolist()


def framework_pushes(model: LeadModel, phi: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """framework → bucket → each lead's summed contribution, for every bucket with features."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for framework in FRAMEWORKS:
        plan = plan_for(model, framework)
        sums = phi @ plan.membership
        out[framework] = {
            name: sums[:, c] for c, (name, feats) in enumerate(plan.buckets.items()) if feats
        }
    return out


# -- the profile ---------------------------------------------------------------------------------
def reference_profile(
    model: LeadModel, x: np.ndarray, *, seed: int = 0, max_rows: int = 20_000
) -> dict[str, Any]:
    """The training leads' profile from their encoded matrix ``x`` (JSON-ready, numbers only)."""
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    sample = x if len(x) <= max_rows else x[np.sort(rng.choice(len(x), max_rows, replace=False))]
    probability = model.predict_proba(sample) if len(sample) else np.zeros(0)
    few = sample
    if len(sample) > PUSH_ROWS:
        few = sample[np.sort(rng.choice(len(sample), PUSH_ROWS, replace=False))]
    profile = _profile(model, sample, probability, few)
    profile["sampled_from"] = len(x)
    segments = _segment_profiles(model, sample, probability, rng)
    if segments is not None:
        profile["segments"] = segments
    return profile


def segment_column(model: LeadModel) -> int | None:
    """Where the model's segment feature sits in the encoded matrix (None: no segment)."""
    name = getattr(model.schema, "segment", None)
    return model.encoder.names.index(name) if name in model.encoder.names else None


def _segment_profiles(
    model: LeadModel, sample: np.ndarray, probability: np.ndarray, rng: np.random.Generator
) -> dict[str, dict[str, Any]] | None:
    """Each segment's own profile (see the module's docstring); None without a segment."""
    from leadml.monitor.performance import expected_roc_auc

    j = segment_column(model)
    if j is None:
        return None
    levels = model.encoder.level_names(j)
    sizes = [int((sample[:, j] == code).sum()) for code in range(len(levels))]
    largest = sorted(range(len(levels)), key=lambda code: -sizes[code])[:MAX_SEGMENTS]
    out: dict[str, dict[str, Any]] = {}
    for code in sorted(largest):
        level, rows = levels[code], np.flatnonzero(sample[:, j] == code)
        if len(rows) < SEGMENT_ROWS:
            continue
        pushed = rows
        if len(rows) > SEGMENT_PUSH_ROWS:
            pushed = np.sort(rng.choice(rows, SEGMENT_PUSH_ROWS, replace=False))
        p = probability[rows]
        profile = _profile(model, sample[rows], p, sample[pushed])
        auc = expected_roc_auc(p)
        profile["expected_roc_auc"] = float(auc) if np.isfinite(auc) else None
        out[level] = profile
    return out


def _profile(
    model: LeadModel, sample: np.ndarray, probability: np.ndarray, few: np.ndarray
) -> dict[str, Any]:
    """Features, pushes (on the rows ``few``), score and grades of the leads ``sample``."""
    names = model.encoder.names
    grades = model.grades(probability, sample)
    pushes = {}
    if len(few):
        pushes = framework_pushes(model, model.contributions(few)[:, : len(names)])
    return {
        "format": PROFILE_FORMAT,
        "rows": len(sample),
        "sampled_from": len(sample),
        "push_rows": len(few),
        "features": {name: feature_spec(model, j, sample[:, j]) for j, name in enumerate(names)},
        "pushes": {
            framework: {name: push_spec(push) for name, push in buckets.items()}
            for framework, buckets in pushes.items()
        },
        "score": {
            "type": "numeric",
            "edges": SCORE_EDGES,
            "counts": score_counts(probability),
            "missing": 0,
        },
        "grades": {g: int((grades == g).sum()) for g in GRADES},
        "mean_probability": float(probability.mean()) if len(probability) else None,
    }
