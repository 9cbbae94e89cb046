"""Why a lead scored what it scored, in the words sales already uses: Budget, Authority, Need,
Timing, and a few plain reasons built from the lead's own answers.

**Attributions.** Exact path-dependent TreeSHAP values in log-odds from LightGBM's own
``pred_contrib=True`` (the routine ``shap.TreeExplainer`` itself calls on these models, without
its overhead). For every lead,
``base_value + sum(contributions) == raw_log_odds`` to float precision; the calibrated
probability is reported beside them (calibration is monotone, so the sign of a push is the same
on both scales).

**Roll-up.** Contributions are summed per criterion of the chosen framework (BANT by default;
CHAMP, ANUM, FAINT, GPCT read the same schema tags, see :mod:`leadml.frameworks`). Features the
framework does not read roll up under their group (engagement, firmographic, ...). Each feature
sits in exactly one bucket, so the buckets add up to the same total as the features.

**Verdict rule** (per criterion, per lead):

* *unknown* (``met=None``) when every feature of the criterion is missing for this lead, or the
  criterion has no features at all: there is no evidence either way;
* *met* when the criterion's summed contribution is **> 0**: its answers make this lead more
  likely to convert than the average lead the model was trained on;
* *not met* when the summed contribution is **<= 0**.

``bant_qualified`` is the classic BANT rule: at least 3 of the 4 BANT criteria met (always read
against BANT, whatever framework the other columns use).

**Reasons.** The three largest positive and three largest negative contributions, worded from
the lead's *values* with the schema's ``reason`` / ``reason_true`` / ``reason_false`` templates
("Requested a demo", "Budget 50k–100k", "No activity for 45 days"); columns without a template
fall back to "{display}: {value}", and missing values read "Budget not stated" or
"Annual revenue unknown". PII columns are never features, so they can never appear in a reason.

``explain_lead`` is the serving fast path (one numpy row, one thread, no pandas; call
``prepare(model)`` when a server loads a model so the first lead finds its tables built);
``explain_matrix``, ``explain_rows`` and ``explanation_columns`` are the batch paths (one
vectorised attribution call, then numpy roll-ups).
"""

from __future__ import annotations

import calendar
import math
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leadml.frameworks import criterion_label, framework_criteria, map_features
from leadml.schema import BANT, FeatureSpec

if TYPE_CHECKING:
    from leadml.model import LeadModel

#: How many reasons of each sign a lead gets (sales reads three, not twenty).
TOP_REASONS = 3
#: Joins reason texts in one CSV cell.
REASON_SEPARATOR = " | "
_SINGULAR = re.compile(r"\b1 (\w+?)s\b")


# -- public results ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reason:
    """One plain-language reason and the contribution (log-odds) behind it."""

    text: str
    feature: str
    contribution: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "feature": self.feature, "contribution": self.contribution}


@dataclass(frozen=True)
class CriterionVerdict:
    """A criterion's summed contribution and whether it is met (None: no data to tell)."""

    contribution: float
    met: bool | None
    features: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "contribution": self.contribution,
            "met": self.met,
            "features": list(self.features),
        }


@dataclass(frozen=True)
class LeadExplanation:
    """Everything sales and the API need to read one lead's score."""

    probability: float
    raw_log_odds: float
    base_value: float
    contributions: dict[str, float]
    criteria: dict[str, CriterionVerdict]
    bant_qualified: bool
    positive: list[Reason]
    negative: list[Reason]
    framework: str = "bant"

    @property
    def framework_criteria(self) -> tuple[str, ...]:
        """The framework's own criteria (the other ``criteria`` keys are feature groups)."""
        return framework_criteria(self.framework)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: plain floats, bools, None, strings, lists and dicts only."""
        return {
            "probability": self.probability,
            "raw_log_odds": self.raw_log_odds,
            "base_value": self.base_value,
            "framework": self.framework,
            "contributions": dict(self.contributions),
            "criteria": {name: v.to_dict() for name, v in self.criteria.items()},
            "bant_qualified": self.bant_qualified,
            "positive": [r.to_dict() for r in self.positive],
            "negative": [r.to_dict() for r in self.negative],
        }


# -- wording -------------------------------------------------------------------------------------
def format_number(value: float) -> str:
    """Numbers as people write them: 45, 1,200, 3.5, 0.25, and 2.4M / 350k from 100,000 up."""
    x = float(value)
    if not math.isfinite(x):
        return str(x)
    a = abs(x)
    if a >= 100_000:
        for unit, div in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
            if round(a / div, 1) >= 1:
                text = f"{x / div:,.1f}".removesuffix(".0")
                return f"{text}{unit}"
    if x.is_integer():
        return f"{int(x):,}"
    if a >= 1:
        return f"{x:,.1f}".removesuffix(".0")
    return f"{x:.2g}"


def _label(spec: FeatureSpec | None, name: str) -> str:
    return spec.label if spec is not None else name.replace("_", " ").capitalize()


def _fill(template: str, value: str, label: str) -> str | None:
    try:
        return template.format(value=value, display=label)
    except (KeyError, IndexError, ValueError):
        return None  # a bring-your-own template with stray braces: use the fallback


def reason_text(spec: FeatureSpec | None, name: str, kind: str, value: Any) -> str:
    """Words for one feature's value, from the schema's templates or a readable fallback."""
    label = _label(spec, name)
    if value is None:
        # Unanswered qualification questions read differently from unknown company facts.
        verb = "not stated" if kind in ("ordinal", "boolean") else "unknown"
        return f"{label} {verb}"
    if kind == "boolean":
        flag = bool(value)
        own = (spec.reason_true if flag else spec.reason_false) if spec is not None else None
        if own:
            return own
        shown = "yes" if flag else "no"
    elif kind == "month":
        shown = calendar.month_name[int(value)]
    elif kind == "weekday":
        shown = calendar.day_name[int(value)]
    elif kind == "age_days":
        shown = format_number(round(float(value)))  # whole days: "45", not "44.63"
    elif kind == "numeric":
        shown = format_number(value)
    else:
        shown = str(value)
    if spec is not None and spec.reason:
        text = _fill(spec.reason, shown, label)
        if text:
            # "1 days", "1 emails" → "1 day", "1 email": templates are written for plurals.
            return _SINGULAR.sub(r"1 \1", text) if shown == "1" else text
    return f"{label}: {shown}"


# -- the plan: per model and framework, built once ------------------------------------------------
@dataclass
class _Plan:
    """Index arrays and templates for one (model, framework): nothing per lead is recomputed."""

    framework: str
    names: list[str]
    kinds: list[str]
    specs: list[FeatureSpec | None]
    buckets: dict[str, tuple[str, ...]]
    membership: np.ndarray  # (features, buckets) 0/1
    bant_membership: np.ndarray  # (features, 4) 0/1
    bucket_index: list[tuple[str, tuple[str, ...], tuple[int, ...]]]  # for one-lead sums
    bant_index: list[tuple[int, ...]]
    texts: dict[tuple[int, float | None], str] = field(default_factory=dict)

    def text(self, model: LeadModel, j: int, code: float) -> str:
        """Reason wording for feature ``j`` at encoded value ``code`` (cached when discrete)."""
        missing = code != code
        key = (j, None if missing else float(code))
        cached = self.texts.get(key)
        if cached is not None:
            return cached
        kind = self.kinds[j]
        value = None if missing else model.encoder.decode_value(j, float(code))
        text = reason_text(self.specs[j], self.names[j], kind, value)
        if missing or kind not in ("numeric", "age_days"):  # a few values each: safe to keep
            self.texts[key] = text
        return text


_PLANS: weakref.WeakKeyDictionary[Any, dict[str, _Plan]] = weakref.WeakKeyDictionary()


def _membership(names: list[str], buckets: Mapping[str, tuple[str, ...]]) -> np.ndarray:
    position = {n: i for i, n in enumerate(names)}
    matrix = np.zeros((len(names), len(buckets)), dtype=np.float64)
    for col, feats in enumerate(buckets.values()):
        for name in feats:
            matrix[position[name], col] = 1.0
    return matrix


def _plan(model: LeadModel, framework: str) -> _Plan:
    """Cached per booster, so the serving path pays for the roll-up tables only once."""
    per_model = _PLANS.setdefault(model.booster, {})
    plan = per_model.get(framework)
    if plan is not None and plan.names == model.encoder.names:
        return plan
    names = list(model.encoder.names)
    specs_by_name = {f.name: f for f in model.schema.features}
    # The encoder is the truth about the model's columns; the schema only adds words to them.
    schema = model.schema.model_copy(
        update={"features": [specs_by_name[n] for n in names if n in specs_by_name]}
    )
    rollup = map_features(schema, framework)
    buckets = dict(rollup.buckets)
    strays = tuple(n for n in names if n not in specs_by_name)
    if strays:
        buckets["other"] = buckets.get("other", ()) + strays
    bant = {c: map_features(schema, "bant").criteria[c] for c in BANT}
    position = {n: j for j, n in enumerate(names)}
    plan = _Plan(
        framework=rollup.framework,
        names=names,
        kinds=list(model.encoder.kinds),
        specs=[specs_by_name.get(n) for n in names],
        buckets=buckets,
        membership=_membership(names, buckets),
        bant_membership=_membership(names, bant),
        bucket_index=[
            (name, feats, tuple(position[f] for f in feats)) for name, feats in buckets.items()
        ],
        bant_index=[tuple(position[f] for f in feats) for feats in bant.values()],
    )
    per_model[framework] = plan
    return plan


# -- attributions --------------------------------------------------------------------------------
def contributions(model: LeadModel, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
    """Exact TreeSHAP from LightGBM's ``pred_contrib`` (base value last), in log-odds."""
    return model.contributions(x, num_threads=num_threads)


def prepare(model: LeadModel, framework: str = "bant") -> None:
    """Build the roll-up tables now (call when a server loads a model), so the first lead
    explained is as fast as the rest."""
    _plan(model, framework)


# -- core ----------------------------------------------------------------------------------------
@dataclass
class _Batch:
    """Vectorised results for n leads; rows become explanations or table columns."""

    x: np.ndarray
    phi: np.ndarray  # (n, k) contributions
    base: np.ndarray  # (n,)
    raw: np.ndarray  # (n,)
    probability: np.ndarray  # (n,)
    sums: np.ndarray  # (n, buckets)
    known: np.ndarray  # (n, buckets) bool: at least one feature present
    bant_qualified: np.ndarray  # (n,) bool


def _verdicts(sums: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The documented rule as numbers: 1 met, 0 not met, -1 unknown."""
    return np.where(known, (sums > 0).astype(np.int8), np.int8(-1))


def _batch(model: LeadModel, plan: _Plan, x: np.ndarray, contrib: np.ndarray) -> _Batch:
    k = len(plan.names)
    phi = contrib[:, :k]
    base = contrib[:, k]
    raw = base + phi.sum(axis=1)
    present = (~np.isnan(x)).astype(np.float64)
    bant_met = (phi @ plan.bant_membership > 0) & (present @ plan.bant_membership > 0)
    return _Batch(
        x=x,
        phi=phi,
        base=base,
        raw=raw,
        probability=np.asarray(model.calibrator(raw), dtype=np.float64),
        sums=phi @ plan.membership,
        known=present @ plan.membership > 0,
        bant_qualified=bant_met.sum(axis=1) >= 3,
    )


def _reasons(model: LeadModel, plan: _Plan, phi: list[float], x: list[float]) -> tuple:
    """Top positive and negative reasons for one lead (contributions of exactly 0 say nothing)."""
    order = sorted(range(len(phi)), key=phi.__getitem__)
    positive = [
        Reason(plan.text(model, j, x[j]), plan.names[j], phi[j])
        for j in reversed(order[-TOP_REASONS:])
        if phi[j] > 0
    ]
    negative = [
        Reason(plan.text(model, j, x[j]), plan.names[j], phi[j])
        for j in order[:TOP_REASONS]
        if phi[j] < 0
    ]
    return positive, negative


def _assemble(
    model: LeadModel, plan: _Plan, x: list[float], phi: list[float], base: float, p: float
) -> LeadExplanation:
    """One lead's explanation from plain Python lists: for a single lead, two dozen float
    additions cost less than the numpy calls that would vectorise them."""
    criteria = {}
    for name, feats, idx in plan.bucket_index:
        total = sum(phi[j] for j in idx)
        known = any(x[j] == x[j] for j in idx)  # NaN != NaN: a missing field
        criteria[name] = CriterionVerdict(total, (total > 0) if known else None, feats)
    met = 0
    for idx in plan.bant_index:
        if any(x[j] == x[j] for j in idx) and sum(phi[j] for j in idx) > 0:
            met += 1
    positive, negative = _reasons(model, plan, phi, x)
    return LeadExplanation(
        probability=p,
        raw_log_odds=base + sum(phi),
        base_value=base,
        contributions=dict(zip(plan.names, phi, strict=True)),
        criteria=criteria,
        bant_qualified=met >= 3,
        positive=positive,
        negative=negative,
        framework=plan.framework,
    )


# -- public API ----------------------------------------------------------------------------------
def explain_lead(
    model: LeadModel, lead: Mapping[str, Any], framework: str = "bant"
) -> LeadExplanation:
    """Explain one lead dict: numpy row, one-thread ``pred_contrib``, no pandas (for the API)."""
    plan = _plan(model, framework)
    row = model.encoder.encode_row(lead)
    contrib = model.booster.predict(row, pred_contrib=True, num_threads=1)[0].tolist()
    base = contrib.pop()
    raw = base + sum(contrib)
    p = float(model.calibrator(np.array([raw]))[0])
    return _assemble(model, plan, row[0].tolist(), contrib, base, p)


def explain_matrix(
    model: LeadModel, x: np.ndarray, framework: str = "bant", num_threads: int = 0
) -> list[LeadExplanation]:
    """Explain every row of an encoded matrix (one vectorised ``pred_contrib`` call)."""
    plan = _plan(model, framework)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(plan.names):
        raise ValueError(f"expected a matrix with {len(plan.names)} columns, got {x.shape}")
    if len(x) == 0:
        return []
    contrib = contributions(model, x, num_threads=num_threads)
    k = len(plan.names)
    probability = np.asarray(model.calibrator(contrib.sum(axis=1)), dtype=np.float64).tolist()
    xs, phis, bases = x.tolist(), contrib[:, :k].tolist(), contrib[:, k].tolist()
    return [_assemble(model, plan, xs[i], phis[i], bases[i], probability[i]) for i in range(len(x))]


@dataclass(frozen=True)
class ExplainedRows:
    """Batch results as arrays, for reports and monitoring (no per-lead objects).

    ``verdicts`` holds the documented rule as numbers: 1 met, 0 not met, -1 unknown.
    """

    features: list[str]
    contributions: np.ndarray  # (n, features), log-odds
    base_value: float
    raw_log_odds: np.ndarray  # (n,)
    probability: np.ndarray  # (n,)
    framework: str
    criteria: list[str]  # the framework's criteria, then groups
    criterion_features: dict[str, tuple[str, ...]]
    criterion_contributions: np.ndarray  # (n, criteria)
    verdicts: np.ndarray  # (n, criteria) int8
    bant_qualified: np.ndarray  # (n,) bool


def explain_rows(
    model: LeadModel, x: np.ndarray, framework: str = "bant", num_threads: int = 0
) -> ExplainedRows:
    """Contributions, criterion roll-ups and verdicts for an encoded matrix, as arrays."""
    plan = _plan(model, framework)
    x = np.asarray(x, dtype=np.float64)
    contrib = (
        contributions(model, x, num_threads=num_threads)
        if len(x)
        else np.zeros((0, len(plan.names) + 1))
    )
    batch = _batch(model, plan, x, contrib)
    base = float(batch.base[0]) if len(x) else float("nan")
    return ExplainedRows(
        features=list(plan.names),
        contributions=batch.phi,
        base_value=base,
        raw_log_odds=batch.raw,
        probability=batch.probability,
        framework=plan.framework,
        criteria=list(plan.buckets),
        criterion_features=dict(plan.buckets),
        criterion_contributions=batch.sums,
        verdicts=_verdicts(batch.sums, batch.known),
        bant_qualified=batch.bant_qualified,
    )


def explanation_columns(
    model: LeadModel, frame: pd.DataFrame, framework: str = "bant", num_threads: int = 0
) -> pd.DataFrame:
    """Columns for ``leadml score --explain``, indexed like ``frame``.

    ``<criterion>_contribution`` for every bucket (framework criteria, then groups; they add
    up to raw log-odds minus the base value), ``<criterion>_met`` (True / False / <NA> for
    unknown) for the framework's criteria, ``bant_qualified``, ``reasons`` (the top positive
    reasons joined by " | ") and ``concerns`` (the top negative ones).
    """
    plan = _plan(model, framework)
    x = model.matrix(frame)
    contrib = (
        contributions(model, x, num_threads=num_threads)
        if len(x)
        else np.zeros((0, len(plan.names) + 1))
    )
    batch = _batch(model, plan, x, contrib)
    columns: dict[str, Any] = {}
    for c, name in enumerate(plan.buckets):
        columns[f"{name}_contribution"] = batch.sums[:, c]
    verdicts = _verdicts(batch.sums, batch.known)
    for c, name in enumerate(plan.buckets):
        if name in framework_criteria(plan.framework):
            met = pd.array(verdicts[:, c] == 1, dtype="boolean")
            met[verdicts[:, c] < 0] = pd.NA
            columns[f"{name}_met"] = met
    columns["bant_qualified"] = batch.bant_qualified
    reasons, concerns = [], []
    phis, xs = batch.phi.tolist(), x.tolist()
    for i in range(len(x)):
        positive, negative = _reasons(model, plan, phis[i], xs[i])
        reasons.append(REASON_SEPARATOR.join(r.text for r in positive))
        concerns.append(REASON_SEPARATOR.join(r.text for r in negative))
    columns["reasons"] = reasons
    columns["concerns"] = concerns
    return pd.DataFrame(columns, index=frame.index)


# -- surfaces: rich cards and a PNG waterfall ------------------------------------------------------
def _verdict_mark(met: bool | None) -> str:
    return {True: "[green]✓ met[/]", False: "[red]✗ not met[/]", None: "[dim]? unknown[/]"}[met]


def explanation_card(explanation: LeadExplanation, title: str = "Lead") -> Any:
    """A rich panel: probability, the criteria with verdicts, and the reasons for and against."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    e = explanation
    own = e.framework_criteria
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column(e.framework.upper() if e.framework else "criterion")
    table.add_column("push", justify="right")
    table.add_column("verdict")
    for name in own:
        v = e.criteria[name]
        table.add_row(criterion_label(name), f"{v.contribution:+.2f}", _verdict_mark(v.met))
    others = [(n, v) for n, v in e.criteria.items() if n not in own and v.features]
    for name, v in others:
        table.add_row(f"[dim]{criterion_label(name)}[/]", f"[dim]{v.contribution:+.2f}[/]", "")
    lines = Text()
    for r in e.positive:
        lines.append("  + ", style="green").append(f"{r.text}\n")
    for r in e.negative:
        lines.append("  − ", style="red").append(f"{r.text}\n")
    lines.rstrip()
    qualified = "[green]BANT qualified[/]" if e.bant_qualified else "[yellow]not BANT qualified[/]"
    summary = f"[bold]{e.probability:.0%}[/] likely to convert · {qualified}"
    return Panel(
        Group(
            summary,
            Text(""),
            table,
            Text(""),
            lines if lines.plain else Text("  (no strong reasons)"),
        ),
        title=f"[bold]{title}[/]",
        title_align="left",
        expand=False,
    )


def explain_frame(model: LeadModel, frame: pd.DataFrame, framework: str = "bant") -> list[Any]:
    """Rich cards for the rows of a lead frame (the CLI's ``demo`` and ``explain``)."""
    explanations = explain_matrix(model, model.matrix(frame), framework)
    id_column = model.schema.id
    ids = (
        frame[id_column].astype(str).tolist()
        if id_column and id_column in frame.columns
        else [f"Row {i}" for i in frame.index]
    )
    return [
        explanation_card(e, f"Lead {lead_id}") for lead_id, e in zip(ids, explanations, strict=True)
    ]


def waterfall_png(explanation: LeadExplanation, path: str | Path, title: str = "") -> Path:
    """A waterfall by criterion (shap's own plot), from the base value to the lead's log-odds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    names = [n for n, v in explanation.criteria.items() if v.features]
    values = np.array([explanation.criteria[n].contribution for n in names])
    labelled = [
        f"{criterion_label(n)} ({_plain_verdict(explanation.criteria[n].met)})"
        if n in explanation.framework_criteria
        else criterion_label(n)
        for n in names
    ]
    shap.plots.waterfall(
        shap.Explanation(values=values, base_values=explanation.base_value, feature_names=labelled),
        max_display=len(names) + 1,
        show=False,
    )
    fig = plt.gcf()
    heading = title or "Score by criterion"
    fig.suptitle(f"{heading} — {explanation.probability:.0%} likely to convert (log-odds)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _plain_verdict(met: bool | None) -> str:
    return {True: "met", False: "not met", None: "unknown"}[met]
