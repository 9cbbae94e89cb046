"""Retraining as one safe step: a challenger from the newest history, judged against the
champion on the same newest leads, promoted only when it is not worse.

Which leads judge: the backtest's headline fold, the newest fifth of the history. The
challenger's figures there come from its backtest model, trained only on the leads before them
and calibrated on earlier folds; the champion scores the very same leads. The model shipped is
then trained on every lead, as ``leadml train`` does (:mod:`leadml.modeling.train`), so the
newest leads judge the challenger *and* teach it, with one training, not two.

The champion may have learned from some of those leads already (when the new history overlaps
its own): the comparison then favours the champion, which is the safe side, and the evidence
says how many leads that was.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from leadml.bundle.model import LeadModel
from leadml.config import Settings
from leadml.counts import plural
from leadml.errors import LeadMLError
from leadml.modeling.backtest import shipped_rounds
from leadml.modeling.booster import fit_shipped
from leadml.modeling.finish import Progress, TrainResult, finish_training
from leadml.modeling.metrics import classification_metrics
from leadml.modeling.prepare import prepare_training
from leadml.modeling.promotion import GateResult, baseline_reasons, promotion_verdict
from leadml.modeling.recency import parse_recency
from leadml.modeling.train import open_run, run_backtest
from leadml.schema.spec import LeadSchema


def since_filter(frame: pd.DataFrame, schema: LeadSchema, since: str | None) -> pd.DataFrame:
    """Only the leads created on or after ``since`` (by the schema's time column)."""
    if since is None:
        return frame
    if not schema.time or schema.time not in frame.columns:
        raise LeadMLError("--since needs the schema's time column in the data; it has none")
    try:
        start = pd.Timestamp(since)
    except ValueError:
        raise LeadMLError(f"--since {since!r} is not a date (e.g. 2026-01-01)") from None
    stamps = pd.to_datetime(frame[schema.time], errors="coerce", utc=True)
    if start.tzinfo is None:
        start = start.tz_localize("UTC")
    kept = frame[(stamps >= start).to_numpy()]
    if kept.empty:
        raise LeadMLError(f"no lead in the data was created on or after {since}")
    return kept.reset_index(drop=True)


def _champion_saw(champion: LeadModel, newest: pd.DataFrame, schema: LeadSchema) -> int:
    """How many of the judging leads fall inside the champion's own training window."""
    until = (champion.meta.get("data") or {}).get("time_to")
    if not until or not schema.time or schema.time not in newest.columns:
        return 0
    try:
        end = pd.Timestamp(until)
    except ValueError:
        return 0
    stamps = pd.to_datetime(newest[schema.time], errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None and end.tzinfo is None:
        end = end.tz_localize(stamps.dt.tz)
    return int((stamps <= end).sum())


def judge(
    champion: LeadModel | None,
    newest: pd.DataFrame,
    y: np.ndarray,
    challenger_p: np.ndarray,
    schema: LeadSchema,
    period: str,
) -> GateResult:
    """The gate of ``leadml promote`` on the newest leads: the challenger's out-of-time
    probabilities against the champion's on the same typed rows."""
    new = classification_metrics(y, challenger_p)
    if champion is None:
        return GateResult(len(y), new, period=period)
    try:
        old_p = champion.predict_proba(champion.encoder.transform(newest))
    except (KeyError, ValueError) as exc:
        raise LeadMLError(
            f"the champion cannot score the new history ({exc}): its fields differ; "
            "train and promote explicitly"
        ) from None
    old = classification_metrics(y, old_p)
    _, reasons = promotion_verdict(old, new)
    saw = _champion_saw(champion, newest, schema)
    return GateResult(len(y), new, old, reasons, period=period, champion_saw=saw)


def retrain_leads(
    frame: pd.DataFrame,
    schema: LeadSchema,
    settings: Settings,
    champion: LeadModel | None,
    *,
    name: str,
    out: Any = None,
    progress: Progress | None = None,
    source: str | None = None,
) -> tuple[TrainResult, GateResult]:
    """Train, log and register a challenger (as ``train_leads`` does) and judge it against
    ``champion`` on the backtest's headline fold; moving the alias is the caller's choice."""
    run = open_run(settings, schema, name=name, out=out, progress=progress, source=source)
    data = prepare_training(frame, schema, settings, run.say)
    backtest = run_backtest(data, settings, parse_recency(settings.recency), run.say)
    head = data.folds.headline
    run.say(f"Judging challenger and champion on the newest {len(head.test):,} leads")
    newest = data.rows.frame.iloc[head.test]
    period = backtest.reports[-1].period if backtest.reports else "the headline fold"
    gate = judge(
        champion, newest, data.rows.y[head.test], backtest.honest[head.test], schema, period
    )
    rounds = shipped_rounds(backtest.chosen.rounds, data.folds, data.total_rows)
    run.say(
        f"Fitting the shipped model on all {data.total_rows:,} leads ({plural(rounds, 'round')})"
    )
    fitted = fit_shipped(data.rows, data.encoder, backtest.params, rounds, backtest.weights)
    result = finish_training(fitted, data, backtest, run)
    gate.reasons += baseline_reasons(result.model)
    return result, gate
