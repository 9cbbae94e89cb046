"""Monitoring per segment (``--by segment``): which team's leads drifted, and where the model
stopped keeping its promise.

One global model with the segment as a feature serves every segment, so a drift confined to
EMEA barely moves the global figures (a 40 % segment's shift is diluted by the other 60 %),
and a model still fine on average can fail one team. So the leads are split by the model's
segment column (its value as the model read it: from a file or from the score history alike)
and each segment gets what the whole gets: drift, realized and estimated performance, and
alarms that name it ("drift in segment EMEA: Budget range PSI 0.41 (act)").

**Against what.** Each segment is compared with its own training leads: the reference profile
keeps one per segment (:mod:`leadml.monitor.profile`). Against all training leads, a region
would "drift" on its own country mix every month. A model whose profile has no per-segment
part gets performance per segment and a note instead of a drift figure.

**How many leads.** Below ``MIN_SEGMENT_LEADS`` (200) leads a segment is named with its count
and no figure: with ten bins and 200 leads, noise alone gives a PSI near 0.05, and the chance
that one of twenty fields crosses 0.25 by chance stays far below 1 %; at 100 leads it would
not. Realized figures also need ``MIN_LABELLED`` labelled leads, as for the whole.

**Baseline.** A segment's realized ROC AUC is held against the ROC AUC its training leads'
calibrated probabilities imply (CBPE's expected AUC, kept in its profile), not the global
one: within one region the segment feature no longer separates leads, so a lower figure is
expected and is no alarm. Grades are held to their global promise, as the bands are global.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from leadml.counts import plural
from leadml.errors import LeadMLError
from leadml.monitor.drift import drift_alarm, drift_report
from leadml.monitor.performance import (
    estimated_performance,
    performance_findings,
    promised_rates,
    realized_performance,
)
from leadml.monitor.profile import segment_column

if TYPE_CHECKING:
    import pandas as pd

    from leadml.bundle.model import LeadModel

#: Fewest leads a segment gets figures on (see the module's docstring).
MIN_SEGMENT_LEADS = 200
#: The group of leads whose segment the model does not know (blank, or never seen in training).
UNKNOWN = "(blank or unseen)"
#: What ``--by`` accepts besides the segment column's own name.
BY_SEGMENT = "segment"


def segment_name(model: LeadModel, by: str) -> str:
    """The model's segment column, checked against ``--by``: one line when it cannot be."""
    segment = getattr(model.schema, "segment", None)
    if segment is None or segment_column(model) is None:
        raise LeadMLError("the model has no segment column; train with --segment COL")
    if by not in (BY_SEGMENT, segment):
        raise LeadMLError(
            f"--by {by!r}: monitoring splits by the model's segment column only: "
            f"--by segment (this model's is '{segment}')"
        )
    return segment


def monitor_segments(
    model: LeadModel,
    typed: pd.DataFrame,
    x: np.ndarray,
    probability: np.ndarray,
    known: np.ndarray,
    *,
    framework: str = "bant",
    unmeasured: list[str] | tuple[str, ...] = (),
    num_threads: int = 0,
) -> dict[str, Any]:
    """Drift and performance per segment of the leads ``x`` (encoded), with their calibrated
    ``probability`` and outcomes ``known`` (1 / 0, -1 not known yet); ``typed`` are the leads
    as the encoder parsed them. Returns the ``segments`` section of the monitoring result."""
    column = segment_name(model, BY_SEGMENT)
    j = segment_column(model)
    assert j is not None  # segment_name checked it
    reference = model.meta.get("reference")
    profiles = reference.get("segments") if isinstance(reference, dict) else None
    promised = promised_rates(model.metrics)
    # The segment itself is constant within a segment: its "drift" would be the split.
    skip = [*unmeasured, model.encoder.names[j]]
    levels = model.encoder.level_names(j)
    codes = x[:, j]
    groups = [(level, codes == code) for code, level in enumerate(levels)]
    groups.append((UNKNOWN, ~np.isfinite(codes) | (codes < 0) | (codes >= len(levels))))
    rows = []
    for level, mask in groups:
        if not mask.any():
            continue
        rows.append(
            _segment_row(
                model,
                level,
                typed[mask],
                x[mask],
                probability[mask],
                known[mask],
                (profiles or {}).get(level) if isinstance(profiles, dict) else None,
                promised,
                framework=framework,
                skip=skip,
                num_threads=num_threads,
            )
        )
    rows.sort(key=lambda r: -r["leads"])
    notes = []
    if not isinstance(profiles, dict):
        notes.append(
            "this model's reference profile has no per-segment part (trained before leadml "
            "kept one): drift per segment needs a retrained model; performance is given"
        )
    return {
        "column": column,
        "min_leads": MIN_SEGMENT_LEADS,
        "segments": rows,
        "alarms": [line for r in rows for line in r["alarms"]["lines"]],
        "notes": notes,
    }


def _segment_row(
    model: LeadModel,
    level: str,
    typed: pd.DataFrame,
    x: np.ndarray,
    p: np.ndarray,
    known: np.ndarray,
    profile: dict[str, Any] | None,
    promised: dict[str, float | None],
    *,
    framework: str,
    skip: list[str],
    num_threads: int,
) -> dict[str, Any]:
    """One segment's figures, or the reason it has none."""
    labelled = known >= 0
    row: dict[str, Any] = {
        "segment": level,
        "leads": len(x),
        "labelled": int(labelled.sum()),
        "enough": len(x) >= MIN_SEGMENT_LEADS,
        "reason": None,
        "drift": None,
        "realized": None,
        "estimated": None,
        "baseline_roc_auc": None,
        "alarms": {"drift": False, "performance": False, "performance_findings": [], "lines": []},
    }
    if not row["enough"]:
        row["reason"] = (
            f"only {plural(len(x), 'lead')}; figures per segment need at least {MIN_SEGMENT_LEADS}"
        )
        return row
    if level == UNKNOWN:
        row["reason"] = "no training leads in this segment to compare with"
    elif not _usable(profile):
        row["reason"] = "no reference profile for this segment: its drift is not measured"
    else:
        assert profile is not None
        drift = drift_report(model, profile, typed, x, p, framework, skip, num_threads)
        row["drift"] = _compact(drift)
        if drift_alarm(drift):
            row["alarms"]["drift"] = True
            row["alarms"]["lines"].append(f"drift in segment {level}: {_acting(drift)}")
        auc = profile.get("expected_roc_auc")
        row["baseline_roc_auc"] = float(auc) if isinstance(auc, int | float) else None
    realized = realized_performance(known[known >= 0], p[known >= 0], model.bands, promised)
    row["realized"] = realized
    row["estimated"] = {
        "unlabelled": estimated_performance(p[known < 0], model.bands),
        "all": estimated_performance(p, model.bands),
    }
    findings = performance_findings(realized, row["baseline_roc_auc"])
    if findings:
        named = [f"performance in segment {level}: {f}" for f in findings]
        row["alarms"].update(performance=True, performance_findings=named)
        row["alarms"]["lines"] += named
    return row


def _usable(profile: Any) -> bool:
    """A segment profile drift_report can read (a crafted bundle's is not trusted blindly)."""
    return (
        isinstance(profile, dict)
        and isinstance(profile.get("features"), dict)
        and isinstance(profile.get("score"), dict)
        and isinstance(profile.get("grades"), dict)
    )


def _acting(drift: dict[str, Any]) -> str:
    """The fields, criteria and score in the "act" band, worst first: "Budget range PSI 0.41
    (act), budget push PSI 0.33 (act)"."""
    items = [
        (f["psi"], f["label"])
        for f in drift["features"]
        if f["band"] == "act" and not f.get("seasonal")
    ]
    items += [(c["psi"], f"{c['label']} push") for c in drift["criteria"] if c["band"] == "act"]
    if drift["score"]["band"] == "act":
        items.append((drift["score"]["psi"], "score"))
    items.sort(key=lambda item: -item[0])
    return ", ".join(f"{label} PSI {value:.2f} (act)" for value, label in items)


def _compact(drift: dict[str, Any]) -> dict[str, Any]:
    """A segment's drift without the per-bin shares (the whole's section keeps those): each
    feature, criterion and the score with its PSI, band and sentence."""

    def brief(item: dict[str, Any], key: str) -> dict[str, Any]:
        return {k: item.get(k) for k in (key, "label", "psi", "band", "sentence")}

    return {
        "rows": drift["rows"],
        "reference_rows": drift["reference_rows"],
        "features": [brief(f, "feature") for f in drift["features"]],
        "criteria": [brief(c, "criterion") for c in drift["criteria"]],
        "score": {k: drift["score"][k] for k in ("psi", "band", "sentence")},
        "mean_probability": drift["mean_probability"],
    }


def segment_lines(section: dict[str, Any]) -> list[str]:
    """The per-segment table ``leadml monitor --by segment`` prints, then its named alarms."""
    lines = [
        f"By segment ({section['column']}; figures from {MIN_SEGMENT_LEADS} leads up):",
        f"  {'segment':<20} {'leads':>7} {'outcomes':>8} {'max PSI':>8} {'score PSI':>9} "
        f"{'ROC AUC':>8} {'baseline':>8} {'conv.':>6} {'expected':>8}",
    ]
    for row in section["segments"]:
        name = str(row["segment"])[:20]
        if not row["enough"]:
            lines.append(f"  {name:<20} {row['leads']:>7,} {row['labelled']:>8,}  {row['reason']}")
            continue
        drift, realized = row["drift"], row["realized"] or {}
        worst = max((f["psi"] for f in drift["features"]), default=None) if drift else None
        score = drift["score"]["psi"] if drift else None
        auc = (realized.get("roc_auc") or {}).get("value") if realized.get("available") else None
        conversion = (realized.get("conversion") or {}).get("rate")
        expected = row["estimated"]["all"]["conversion"]["rate"]
        lines.append(
            f"  {name:<20} {row['leads']:>7,} {row['labelled']:>8,} {_num(worst):>8} "
            f"{_num(score):>9} {_num(auc, 3):>8} {_num(row['baseline_roc_auc'], 3):>8} "
            f"{_pct(conversion):>6} {_pct(expected):>8}"
            + (f"  ({row['reason']})" if row["reason"] else "")
        )
    lines += section["notes"]
    lines += [f"Alarm: {line}" for line in section["alarms"]]
    if not section["alarms"]:
        lines.append("No segment alarm")
    return lines


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.1%}"
