"""``monitor_model``: one call that says whether a deployed model still fits its leads.

Given recent leads (raw columns, as read from a file or rebuilt from the score history), their
served probabilities when known and their outcomes where known, it returns a
:class:`MonitorResult`: drift against the training profile, realized performance on the leads
whose outcome is known, estimated performance on those whose outcome has not arrived (and on
all of them, to set beside the realized figures), and a shadow comparison when one is given.
The CLI prints ``summary_lines()``, the API returns ``to_dict()``, and ``write_monitor_html``
writes the page a sales-ops lead can forward.

A model trained before bundles kept a reference profile still gets its performance checked;
its drift section is one line saying to retrain it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leadml.explain.rollup import plan_for
from leadml.monitor.drift import drift_alarm, drift_report
from leadml.monitor.performance import (
    estimated_performance,
    performance_findings,
    promised_rates,
    realized_performance,
)
from leadml.monitor.profile import PROFILE_FORMAT
from leadml.monitor.segments import monitor_segments, segment_lines, segment_name
from leadml.monitor.shadow import compare_shadow

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel
    from leadml.monitor.recent import RecentLeads

#: Drifted fields named in the summary (the page and the JSON list them all).
SUMMARY_FIELDS = 5


@dataclass
class MonitorResult:
    """Drift, realized and estimated performance (and a shadow comparison) for recent leads."""

    model: dict[str, Any]
    window: str
    framework: str
    leads: int
    labelled: int
    drift: dict[str, Any] | None
    realized: dict[str, Any]
    estimated: dict[str, Any]
    shadow: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    #: When the figures were computed (ISO 8601, UTC): an answer read later, or reused by the
    #: API, says how old it is instead of passing for a fresh one.
    computed_at: str = field(default_factory=lambda: utc_now())
    #: The newest score the figures read (ISO 8601, UTC; None for a file of leads).
    newest_score_at: str | None = None
    #: Drift and performance per segment (``--by segment``; :mod:`leadml.monitor.segments`).
    segments: dict[str, Any] | None = None

    @property
    def drift_alarm(self) -> bool:
        """Any feature, criterion push or the score with PSI above 0.25 ("act"), in the whole
        or (monitored by segment) in any segment."""
        whole = self.drift is not None and drift_alarm(self.drift)
        return whole or any(r["alarms"]["drift"] for r in self._segment_rows)

    @property
    def performance_findings(self) -> list[str]:
        """Why the performance alarm is raised, one line each (see
        :func:`leadml.monitor.performance.performance_findings`)."""
        found = performance_findings(self.realized, self.model.get("roc_auc"))
        return found + [f for r in self._segment_rows for f in r["alarms"]["performance_findings"]]

    @property
    def _segment_rows(self) -> list[dict[str, Any]]:
        return self.segments["segments"] if self.segments else []

    @property
    def performance_alarm(self) -> bool:
        return bool(self.performance_findings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: plain numbers (NaN and infinity as null), text, lists and dicts."""
        segments = {} if self.segments is None else {"segments": self.segments}
        return json_safe(
            {
                "model": self.model,
                "computed_at": self.computed_at,
                "newest_score_at": self.newest_score_at,
                "window": self.window,
                "framework": self.framework,
                "leads": self.leads,
                "labelled": self.labelled,
                "alarms": {
                    "drift": self.drift_alarm,
                    "performance": self.performance_alarm,
                    "performance_findings": self.performance_findings,
                },
                "notes": self.notes,
                "drift": self.drift,
                "performance": {"realized": self.realized, "estimated": self.estimated},
                "shadow": self.shadow,
                **segments,
            }
        )

    def summary_lines(self) -> list[str]:
        """The few lines the CLI prints: the verdicts first, then what backs them."""
        window = f" ({self.window})" if self.window else ""
        lines = [
            f"Model {self.model['version']}: {self.leads:,} leads{window}, "
            f"{self.labelled:,} with a known outcome"
        ]
        newest = f"; newest score {_shown(self.newest_score_at)}" if self.newest_score_at else ""
        lines.append(f"Computed {_shown(self.computed_at)}{newest}")
        lines += self.notes
        if self.drift is not None:
            lines += _drift_lines(self.drift)
        lines += _performance_lines(self.realized, self.estimated, self.model.get("roc_auc"))
        if self.shadow is not None:
            lines.append(_shadow_line(self.shadow))
        if self.drift is not None and drift_alarm(self.drift):
            lines.append("Drift alarm: at least one PSI above 0.25 (act)")
        whole = performance_findings(self.realized, self.model.get("roc_auc"))
        lines += [f"Performance alarm: {finding}" for finding in whole]
        if self.segments is not None:
            lines += segment_lines(self.segments)
        return lines


def monitor_model(
    model: LeadModel,
    leads: pd.DataFrame,
    *,
    probability: np.ndarray | None = None,
    converted: pd.Series | None = None,
    framework: str = "bant",
    window: str = "",
    shadow: pd.DataFrame | dict[str, Any] | None = None,
    unmeasured: Sequence[str] = (),
    num_threads: int = 0,
    by: str | None = None,
) -> MonitorResult:
    """Monitor ``model`` on recent ``leads`` (raw lead columns).

    ``probability``: the calibrated probabilities the leads were served with (default: score
    them now). ``converted``: their outcomes in the same order, nullable boolean (NA: not known
    yet); realized figures use the labelled leads, estimated ones the others (and all, for
    comparison). ``shadow``: pairs for :func:`leadml.monitor.shadow.compare_shadow`, or its
    result. ``unmeasured``: features the leads' source cannot give (left out of the drift).
    ``num_threads``: LightGBM's threads (0: every core; the service passes 1). ``by``:
    ``"segment"`` adds the figures per segment (:mod:`leadml.monitor.segments`).
    """
    plan_for(model, framework)  # an unknown framework fails here, in one line
    if by is not None:
        segment_name(model, by)  # a model without segments fails here, before any work
    typed = model.encoder.parse(leads)
    x = model.encoder.transform(typed)
    if probability is None:
        p = model.predict_proba(x, num_threads) if len(x) else np.zeros(0)
    else:
        p = np.asarray(probability, dtype=np.float64)
        if p.shape != (len(leads),):
            raise ValueError(f"expected {len(leads)} probabilities, got {p.shape}")
    known = _outcomes(converted, len(leads))
    labelled = known >= 0

    notes: list[str] = []
    drift = None
    reference = model.meta.get("reference")
    if not isinstance(reference, dict):
        trained_by = model.meta.get("leadml_version", "an earlier version")
        notes.append(
            f"this model has no reference profile (trained before leadml kept one, by leadml "
            f"{trained_by}); retrain it to monitor drift"
        )
    elif reference.get("format") != PROFILE_FORMAT:
        notes.append(
            f"this model's reference profile is format {reference.get('format')}, which this "
            "leadml does not read; retrain it to monitor drift"
        )
    else:
        drift = drift_report(model, reference, typed, x, p, framework, unmeasured, num_threads)

    if isinstance(shadow, pd.DataFrame):
        shadow = compare_shadow(shadow)
    segments = None
    if by is not None:
        segments = monitor_segments(
            model,
            typed,
            x,
            p,
            known,
            framework=framework,
            unmeasured=list(unmeasured),
            num_threads=num_threads,
        )
    return MonitorResult(
        model=_model_facts(model),
        window=window,
        framework=plan_for(model, framework).framework,
        leads=len(leads),
        labelled=int(labelled.sum()),
        drift=drift,
        realized=realized_performance(
            known[labelled], p[labelled], model.bands, promised_rates(model.metrics)
        ),
        estimated={
            "unlabelled": estimated_performance(p[~labelled], model.bands),
            "all": estimated_performance(p, model.bands),
        },
        shadow=shadow,
        notes=notes,
        segments=segments,
    )


def monitor_recent(
    model: LeadModel,
    recent: RecentLeads,
    *,
    framework: str = "bant",
    shadow: pd.DataFrame | None = None,
    num_threads: int = 0,
    by: str | None = None,
) -> MonitorResult:
    """``monitor_model`` on leads from :mod:`leadml.monitor.recent`, with their notes and the
    time of their newest score: what ``leadml monitor`` and ``GET /v1/monitor`` both show."""
    result = monitor_model(
        model,
        recent.leads,
        converted=recent.converted,
        framework=framework,
        window=recent.window,
        shadow=shadow if shadow is not None and len(shadow) else None,
        unmeasured=recent.unmeasured,
        num_threads=num_threads,
        by=by,
    )
    result.notes.extend(recent.notes)
    if recent.newest is not None:
        result.newest_score_at = recent.newest.isoformat(timespec="seconds")
    return result


def utc_now() -> str:
    """Now, as ISO 8601 in UTC to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _shown(stamp: str) -> str:
    """An ISO time as a reader scans it: ``2026-11-30 10:00:00 UTC``."""
    return stamp.replace("T", " ").replace("+00:00", " UTC")


def write_monitor_html(result: MonitorResult, path: str | Path) -> Path:
    """Write the monitoring page (self-contained HTML, plots embedded) and return its path.

    Matplotlib is loaded only here, so the API's JSON path never pays for it.
    """
    from leadml.monitor.page import render_page

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_page(result.to_dict(), result.summary_lines()), encoding="utf-8")
    return target


# -- helpers -------------------------------------------------------------------------------------
def _outcomes(converted: pd.Series | None, n: int) -> np.ndarray:
    """Outcomes as 1 / 0, and -1 where not known yet."""
    if converted is None:
        return np.full(n, -1, dtype=np.int64)
    if len(converted) != n:
        raise ValueError(f"expected {n} outcomes (one per lead, in order), got {len(converted)}")
    flags = pd.Series(converted).astype("boolean").reset_index(drop=True)
    return np.where(flags.isna(), -1, flags.fillna(False).astype(int)).astype(np.int64)


def _model_facts(model: LeadModel) -> dict[str, Any]:
    headline = model.metrics.get("roc_auc")
    return {
        "version": model.version,
        "trained_at": model.meta.get("trained_at"),
        "leadml_version": model.meta.get("leadml_version"),
        "roc_auc": float(headline) if isinstance(headline, int | float) else None,
        "test_positive_rate": model.metrics.get("test_positive_rate"),
        "has_reference": isinstance(model.meta.get("reference"), dict),
    }


def json_safe(value: Any) -> Any:
    """Numpy scalars to Python, NaN and infinity to None, tuples to lists, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_safe(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def _drift_lines(drift: dict[str, Any]) -> list[str]:
    features = [f for f in drift["features"] if not f.get("seasonal")]
    act = [f for f in features if f["band"] == "act"]
    watch = [f for f in features if f["band"] == "watch"]
    score = drift["score"]
    lines = [
        f"Drift on {drift['rows']:,} leads against {drift['reference_rows']:,} training leads: "
        f"{len(act)} of {len(features)} fields to act on, {len(watch)} to watch; "
        f"score PSI {score['psi']:.2f} ({score['band']})"
    ]
    own = [c for c in drift["criteria"] if c["framework_criterion"]]
    lines += [c["sentence"] for c in own]
    said = {c["named"] for c in own}  # a criterion's sentence already named these fields
    lines += [f["sentence"] for f in (act + watch) if f["feature"] not in said][:SUMMARY_FIELDS]
    return lines


def _performance_lines(
    realized: dict[str, Any], estimated: dict[str, Any], headline: float | None
) -> list[str]:
    lines = []
    if not realized.get("available"):
        lines.append(f"Realized: {realized['reason']}")
    else:
        conv = realized["conversion"]
        auc = realized.get("roc_auc")
        auc_text = (
            f"ROC AUC {auc['value']:.3f} ({auc['interval'][0]:.3f}–{auc['interval'][1]:.3f})"
            if auc
            else realized.get("reason", "ROC AUC unavailable")
        )
        trained = f", training {headline:.3f}" if headline is not None else ""
        lines.append(
            f"Realized on {realized['n']:,} leads: {auc_text}{trained}; conversion "
            f"{conv['rate']:.1%} (predicted {realized['expected_conversion']:.1%})"
        )
        grades = [
            f"{r['grade']} {r['rate']:.0%}"
            + (f" vs {r['promised']:.0%}" if r["promised"] is not None else "")
            + f" ({r['n']})"
            for r in realized["grades"]
            if r["n"]
        ]
        lines.append("Realized conversion by grade, against its promise: " + ", ".join(grades))
    unlabelled = estimated["unlabelled"]
    if unlabelled.get("available"):
        auc = unlabelled.get("roc_auc")
        auc_text = f", expected ROC AUC {auc:.3f}" if auc is not None else ""
        grades = [f"{r['grade']} {r['rate']:.0%}" for r in unlabelled["grades"] if r["n"]]
        lines.append(
            f"Estimated on {unlabelled['n']:,} leads without an outcome yet (CBPE): conversion "
            f"{unlabelled['conversion']['rate']:.1%}{auc_text}; by grade " + ", ".join(grades)
        )
    return lines


def _shadow_line(shadow: dict[str, Any]) -> str:
    if not shadow.get("n"):
        return f"Shadow: {shadow.get('reason', 'no pairs')}"
    line = (
        f"Shadow on {shadow['n']:,} leads: same grade for {shadow['grade_agreement']:.0%}, "
        f"score moves {shadow['score_delta']['median']:+.0f} (median)"
    )
    realized = shadow.get("realized", {})
    if "served" in realized:
        line += (
            f"; ROC AUC served {realized['served']['roc_auc']:.3f}, shadow "
            f"{realized['shadow']['roc_auc']:.3f} on {realized['n_labelled']:,} outcomes"
        )
    return line
