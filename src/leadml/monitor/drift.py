"""Drift: do recent leads still look like the leads the model learned from?

**PSI.** The population stability index compares two distributions over the same bins:
``sum((a - e) * ln(a / e))`` over the bins' shares, recent ``a`` against training ``e``. It is
the symmetric Kullback–Leibler divergence, computed as ``rel_entr(a, e) + rel_entr(e, a)``
(:func:`scipy.special.rel_entr`). A bin no lead fell into counts as ``FLOOR`` (0.01 % of
leads) rather than zero, so a value never seen in training (a new lead source) gives a large,
finite index instead of infinity, and a bin nearly empty on both sides adds next to nothing.

**Bands**, as credit-risk teams have used them for decades: below 0.1 *stable*, 0.1 to 0.25
*watch*, above 0.25 *act*. With ten bins and a thousand recent leads, sampling noise alone
gives a PSI near 0.01, far below the first band; a field with forty categories, near 0.04.

**What is compared**: every feature (numbers on the training deciles, categories by level plus
"missing" and "other" for values the model never saw; beyond ``LEVEL_BINS`` levels the rarer
ones are pooled, since every bin adds its share of noise), every criterion's push (its summed
contribution, on its own training deciles) and the score (10-point bins). A month-of-year
feature is reported but raises no alarm: a window shorter than a year always moves it.

**Sentences** name what moved most in the words sales uses ("Budget answers shifted: 38 % of
recent leads say '< 10k', 21 % did in training"). Only model features' values are ever named,
and an unseen value is quoted only when at least ``MIN_EXAMPLE_LEADS`` recent leads gave it and
it looks like a category, not like an email, a phone number or a web address: a value many
leads share is a category, not one person's data.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import rel_entr

from leadml.explain.rollup import plan_for
from leadml.features.encoder import MAX_LEVELS, NUMERIC_KINDS
from leadml.monitor.profile import level_counts, numeric_counts, score_counts
from leadml.qualify.grades import GRADES
from leadml.schema.frameworks import criterion_label, framework_criteria

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel

#: PSI bands: below STABLE "stable", up to ACT "watch", above "act".
STABLE, ACT = 0.1, 0.25
#: The share an empty bin counts as (see the module's docstring).
FLOOR = 1e-4
#: Recent leads whose pushes are computed (a random sample beyond that).
RECENT_PUSH_ROWS = 20_000
#: Levels of a category compared one by one; the rarer ones share one bin.
LEVEL_BINS = 15
#: An unseen value is quoted as an example only when this many recent leads gave it.
MIN_EXAMPLE_LEADS = 5
_PERSONAL = re.compile(r"@|\d{4,}|https?:|www\.|\+\d", re.IGNORECASE)


# -- the index -----------------------------------------------------------------------------------
def shares(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    return counts / total if total > 0 else np.full(len(counts), np.nan)


def psi(reference: np.ndarray, recent: np.ndarray) -> float:
    """PSI between two count (or share) vectors over the same bins; NaN when either is empty."""
    e, a = shares(reference), shares(recent)
    if np.isnan(e).any() or np.isnan(a).any():
        return float("nan")
    e, a = np.maximum(e, FLOOR), np.maximum(a, FLOOR)
    return float(np.sum(rel_entr(a, e) + rel_entr(e, a)))


def band(value: float) -> str:
    """stable (< 0.1), watch (0.1 to 0.25) or act (> 0.25); "unknown" without a value."""
    if not np.isfinite(value):
        return "unknown"
    return "stable" if value < STABLE else "watch" if value <= ACT else "act"


# -- words ---------------------------------------------------------------------------------------
def number(value: float | None) -> str:
    """A number as a person would write it: 1,200 · 35 · 2.5 · 0.031."""
    if value is None or not np.isfinite(value):
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.3g}"


def percent(share: float) -> str:
    return f"{100 * share:.0f} %"


def numeric_bin_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all"]
    inner = [f"{number(a)}–{number(b)}" for a, b in pairwise(edges)]
    return [f"≤ {number(edges[0])}", *inner, f"> {number(edges[-1])}"]


def moved_phrase(item: dict[str, Any]) -> str:
    """What moved most in one feature, as a clause: "38 % of recent leads say '< 10k', 21 %
    did in training"."""
    moved, label = item["moved"], _in_sentence(item["label"])
    a, e = percent(moved["recent"]), percent(moved["reference"])
    if moved["bin"] == "other":
        examples = item.get("unseen_examples") or []
        quoted = f" (e.g. {', '.join(repr(v) for v in examples)})" if examples else ""
        return f"{a} of recent leads have {label} values never seen in training{quoted}"
    if moved["bin"] == "missing":
        return f"{a} of recent leads leave {label} blank, {e} did in training"
    median = item.get("median")
    if median and median["reference"] != median["recent"] and item["type"] == "numeric":
        return (
            f"median {label} moved from {number(median['reference'])} to {number(median['recent'])}"
        )
    verb = "say" if item["type"] == "level" else "fall in"
    return f"{a} of recent leads {verb} '{moved['bin']}', {e} did in training"


def _examples(values: pd.Series) -> list[str]:
    """Unseen values safe to quote (see the module's docstring), most common first."""
    counts = values.astype(str).value_counts()
    kept = [
        v
        for v, c in counts.items()
        if c >= MIN_EXAMPLE_LEADS and len(str(v)) <= 40 and not _PERSONAL.search(str(v))
    ]
    return kept[:2]


# -- comparisons ---------------------------------------------------------------------------------
def compare_bins(
    labels: list[str], reference: np.ndarray, recent: np.ndarray
) -> tuple[float, list[dict[str, Any]], dict[str, Any]]:
    """PSI, every bin's two shares, and the bin whose share moved most."""
    value = psi(reference, recent)
    e, a = shares(reference), shares(recent)
    rows = [
        {"bin": label, "reference": float(e[i]), "recent": float(a[i])}
        for i, label in enumerate(labels)
        if reference[i] or recent[i]
    ]
    moved = max(rows, key=lambda r: abs(r["recent"] - r["reference"])) if rows else {}
    return value, rows, moved


def pool_rare_levels(
    levels: list[str], reference: list[int], recent: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Keep the ``LEVEL_BINS`` levels most common in training as bins of their own (in their
    own order) and pool the rest: PSI's noise grows with its bins, and forty job titles would
    otherwise put a quiet month near the watch band."""
    ref = np.asarray(reference, dtype=np.int64)
    recent = np.asarray(recent, dtype=np.int64)
    if len(levels) <= LEVEL_BINS + 1:
        return list(levels), ref, recent
    kept = np.sort(np.argsort(-ref, kind="stable")[:LEVEL_BINS])
    rest = np.setdiff1d(np.arange(len(levels)), kept)
    labels = [levels[i] for i in kept] + [f"{len(rest)} rarer levels"]
    return (
        labels,
        np.r_[ref[kept], ref[rest].sum()],
        np.r_[recent[kept], recent[rest].sum()],
    )


def feature_drift(
    model: LeadModel, j: int, spec: dict[str, Any], codes: np.ndarray, raw: pd.Series | None
) -> dict[str, Any]:
    """One feature, recent against training: PSI, band, shares per bin, what moved most."""
    name, kind = model.encoder.names[j], model.encoder.kinds[j]
    item: dict[str, Any] = {"feature": name, "label": _label(model, name), "kind": kind}
    if kind in NUMERIC_KINDS:
        counts, missing = numeric_counts(codes, spec["edges"])
        labels = numeric_bin_labels(spec["edges"])
        reference = np.array([*spec["counts"], spec["missing"]])
        recent = np.array([*counts, missing])
        finite = codes[np.isfinite(codes)]
        item["type"] = "numeric"
        item["median"] = {
            "reference": spec.get("median"),
            "recent": float(np.median(finite)) if len(finite) else None,
        }
        labels = [*labels, "missing"]
    else:
        levels = model.encoder.level_names(j)
        counts, missing = level_counts(codes, len(levels))
        unseen = np.zeros(len(codes), dtype=bool)
        if raw is not None and kind in ("categorical", "ordinal"):
            unseen = ~np.isfinite(codes) & raw.notna().to_numpy()
        other = int(unseen.sum())
        if len(levels) >= MAX_LEVELS:
            # Training sent its rarest levels to "missing", so it cannot tell them from
            # values never seen: compare the two together ("missing" counts both).
            other = 0
        else:
            missing -= other
        item["type"] = "level"
        labels, ref_levels, recent_levels = pool_rare_levels(levels, spec["counts"], counts)
        labels = [*labels, "missing", "other"]
        reference = np.array([*ref_levels, spec["missing"], spec.get("other", 0)])
        recent = np.array([*recent_levels, missing, other])
        if other:
            item["unseen_examples"] = _examples(raw[unseen])
    value, bins, moved = compare_bins(labels, reference, recent)
    item.update(psi=value, band=band(value), seasonal=kind == "month", bins=bins, moved=moved)
    item["sentence"] = f"{item['label']}: {moved_phrase(item)} (PSI {value:.2f}, {item['band']})."
    return item


def push_drift(
    name: str, spec: dict[str, Any], push: np.ndarray, features: list[dict[str, Any]]
) -> dict[str, Any]:
    """One criterion's push, recent against training, and its sentence from its fields."""
    counts, _ = numeric_counts(push, spec["edges"])
    value, bins, _ = compare_bins(
        numeric_bin_labels(spec["edges"]), np.asarray(spec["counts"]), counts
    )
    label = criterion_label(name)
    fields = sorted(features, key=lambda f: -_finite(f["psi"]))
    worst = fields[0] if fields else None
    if worst is not None and worst["band"] != "stable":
        noun = "answers shifted" if worst["type"] == "level" else "shifted"
        sentence = f"{label} {noun}: {moved_phrase(worst)} (PSI {worst['psi']:.2f})."
    elif band(value) != "stable":
        sentence = (
            f"{label}'s push on the score shifted (PSI {value:.2f}), "
            "though none of its fields did on its own."
        )
    else:
        sentence = f"{label}: no shift (PSI {value:.2f})."
    return {
        "criterion": name,
        "label": label,
        "psi": value,
        "band": band(value),
        "fields": [f["feature"] for f in fields],
        "named": worst["feature"] if worst is not None and worst["band"] != "stable" else None,
        "bins": bins,
        "sentence": sentence,
    }


def score_drift(spec: dict[str, Any], probability: np.ndarray) -> dict[str, Any]:
    """The score in 10-point bins, recent against training."""
    labels = [f"{10 * i}–{10 * i + 9}" for i in range(9)] + ["90–100"]
    recent = np.asarray(score_counts(probability))
    value, bins, moved = compare_bins(labels, np.asarray(spec["counts"]), recent)
    sentence = f"Scores: no shift (PSI {value:.2f})."
    if band(value) != "stable":
        sentence = (
            f"Scores shifted: {percent(moved['recent'])} of recent leads score "
            f"{moved['bin']}, {percent(moved['reference'])} did in training (PSI {value:.2f})."
        )
    return {"psi": value, "band": band(value), "bins": bins, "sentence": sentence}


def recent_pushes(
    model: LeadModel, x: np.ndarray, membership: np.ndarray, num_threads: int = 0
) -> np.ndarray:
    """Each bucket's push for recent leads, on at most ``RECENT_PUSH_ROWS`` of them (TreeSHAP
    is the monitor's one costly step; a sample that size moves a PSI by less than 0.001), on
    ``num_threads`` threads (0: every core; the service uses one, leaving scoring the rest)."""
    if len(x) > RECENT_PUSH_ROWS:
        rng = np.random.default_rng(0)
        x = x[np.sort(rng.choice(len(x), RECENT_PUSH_ROWS, replace=False))]
    if len(x) == 0:
        return np.zeros((0, membership.shape[1]))
    return model.contributions(x, num_threads)[:, : membership.shape[0]] @ membership


def drift_report(
    model: LeadModel,
    reference: dict[str, Any],
    typed: pd.DataFrame,
    x: np.ndarray,
    probability: np.ndarray,
    framework: str = "bant",
    unmeasured: Collection[str] = (),
    num_threads: int = 0,
) -> dict[str, Any]:
    """Every feature, criterion push and the score of recent leads against the profile.

    ``typed`` are the recent leads as the encoder parsed them (to tell a value never seen from
    a blank), ``x`` their encoded matrix and ``probability`` their calibrated scores.
    ``unmeasured`` names features the leads' source could not give (the score history keeps
    no date features): they are left out rather than reported as all missing.
    """
    names = model.encoder.names
    features = []
    for j, name in enumerate(names):
        spec = reference["features"].get(name)
        if spec is None or name in unmeasured:
            continue
        column = model.encoder.sources.get(name, name)
        raw = typed[column] if column in typed.columns else None
        features.append(feature_drift(model, j, spec, x[:, j], raw))
    by_name = {f["feature"]: f for f in features}

    plan = plan_for(model, framework)
    sums = recent_pushes(model, x, plan.membership, num_threads)
    specs = reference.get("pushes", {}).get(plan.framework, {})
    criteria = [
        push_drift(name, specs[name], sums[:, c], [by_name[f] for f in feats if f in by_name])
        for c, (name, feats) in enumerate(plan.buckets.items())
        if feats and name in specs
    ]
    own = set(framework_criteria(plan.framework))
    grades = model.grades(probability, x)
    ref_grades = shares(np.array([reference["grades"].get(g, 0) for g in GRADES]))
    return {
        "rows": len(x),
        "reference_rows": reference.get("rows"),
        "unmeasured": [n for n in names if n in unmeasured],
        "framework": plan.framework,
        "features": sorted(features, key=lambda f: -_finite(f["psi"])),
        "criteria": [{**c, "framework_criterion": c["criterion"] in own} for c in criteria],
        "score": score_drift(reference["score"], probability),
        "grades": {
            g: {"reference": float(ref_grades[i]), "recent": float(np.mean(grades == g))}
            for i, g in enumerate(GRADES)
        }
        if len(x)
        else {},
        "mean_probability": {
            "reference": reference.get("mean_probability"),
            "recent": float(np.mean(probability)) if len(probability) else None,
        },
    }


def drift_alarm(drift: dict[str, Any]) -> bool:
    """Any feature (month-of-year aside), criterion push or the score in the "act" band."""
    return any(
        f["band"] == "act" and not f.get("seasonal") for f in drift.get("features", [])
    ) or any(c["band"] == "act" for c in [*drift.get("criteria", []), drift.get("score", {})])


def _label(model: LeadModel, name: str) -> str:
    try:
        return model.schema.feature(name).label
    except KeyError:
        return name.replace("_", " ").capitalize()


def _in_sentence(label: str) -> str:
    """ "Lead source" → "lead source" inside a sentence; "CRM stage" stays as it is."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def _finite(value: float) -> float:
    return value if np.isfinite(value) else -1.0
