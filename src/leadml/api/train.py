"""``leadml.train``: a lead model from history, from Python, as ``leadml train`` makes it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadml.api.training import (
    Listener,
    Progress,
    TrainOptions,
    check_training_values,
    train_with,
)
from leadml.config import settings_from
from leadml.data.resolve import ColumnRoles, OutcomeOptions

if TYPE_CHECKING:
    import pandas as pd

    from leadml.api.model import Model
    from leadml.config import Settings
    from leadml.schema.spec import LeadSchema


def _values(given: str | list[str] | None) -> list[str] | None:
    """One value or several, as the CLI's repeatable options give them."""
    return [given] if isinstance(given, str) else (list(given) if given else None)


def train(
    data: str | Path | pd.DataFrame,
    *,
    schema: str | Path | LeadSchema | None = None,
    target: str | None = None,
    positive: str | list[str] | None = None,
    negative: str | list[str] | None = None,
    open: str | list[str] | None = None,  # the CLI's --open
    converted_at: str | None = None,
    horizon: str = "auto",
    as_of: str | None = None,
    name: str | None = None,
    out: str | Path | None = None,
    experiment: str | None = None,
    outcomes: str | None = None,
    on: str | None = None,
    allow: str | list[str] | None = None,
    time_order: bool = False,
    segment: str | None = None,
    audit: str | list[str] | None = None,
    opt_out: str | None = None,
    dask: bool = False,
    scheduler: str | None = None,
    recency: str = "auto",
    tune: int = 0,
    tune_minutes: float | None = None,
    force: bool = False,
    track: bool = True,
    settings: Settings | Mapping[str, Any] | None = None,
    progress: Progress | Listener | None = None,
) -> Model:
    """Train a lead model, log it to MLflow, register it as challenger, write the bundle.

    A backtest judges it first (the newest leads, by a model trained on the older ones); the
    model shipped is then trained on every lead. The same run, registration and bundle as
    ``leadml train``: each keyword is that command's option of the same name.

    Parameters
    ----------
    data : str, Path or DataFrame
        The lead history: a CSV/TSV, Parquet or .xlsx file, a SQLAlchemy URL (``URL#table``),
        or a DataFrame. With ``dask=True``, a folder or glob of CSV or Parquet parts.
    schema : str, Path or LeadSchema, optional
        The lead schema (a TOML file or a ``LeadSchema``). Without it, one is inferred from
        the data around ``target``.
    target : str, optional
        The outcome column, to infer a schema from the data.
    positive, negative, open : str or list of str, optional
        Target values meaning converted, closed without converting, and still open.
    converted_at : str, optional
        The column holding when each lead converted (default: inferred).
    horizon : str
        The label is "converted within DAYS": ``"auto"``, a number of days, or ``"none"``.
    as_of : str, optional
        The export date (default: the newest date in the data).
    name : str, optional
        The registered model (and MLflow experiment) of the project.
    out : str or Path, optional
        The bundle folder (default: ``models/<name>`` in the project home).
    experiment : str, optional
        The MLflow experiment (default: the name).
    outcomes, on : str, optional
        A second table of conversions and the key column both tables share.
    allow : str or list of str, optional
        Columns the leakage guard flags, or staff columns, to keep as features.
    time_order : bool
        The rows are oldest first (test on the newest 20 % without a date column).
    segment : str, optional
        A column splitting the leads into segments (region, channel): a feature of the
        model, with figures, calibration, grade bands and specialist models per segment.
    audit : str or list of str, optional
        Columns to audit the model's fairness on (never features, never stored).
    opt_out : str, optional
        A column flagging leads that objected to profiling: never learned from or scored.
    dask, scheduler : bool, str, optional
        Train on Dask: the local cluster, or the scheduler at this address.
    recency : str
        Weight recent leads more: ``"auto"``, ``"none"`` or a half-life in days.
    tune : int
        Optuna trials over LightGBM's settings, judged by the backtest (0: off).
    tune_minutes : float, optional
        Stop tuning after this many minutes.
    force : bool
        Give the new version its aliases even if it loses to its baselines.
    track : bool
        Log to MLflow and register (False: only the bundle, nothing leaves the machine).
    settings : Settings or mapping, optional
        The project's settings, or a mapping of their fields (``{"home": ..., "seed": 1}``);
        default: from ``LEADML_*`` and the project home.
    progress : callable or Listener, optional
        Called with a line for each step, as the CLI's spinner shows them; a
        ``leadml.api.training.Listener`` also hears the notes (the CLI passes its printer).

    Returns
    -------
    Model
        The trained model, with its metrics, bundle folder and registered version.

    Raises
    ------
    leadml.errors.LeadMLError
        Bad input, in one line naming the column or the option (the line ``leadml train``
        prints); nothing is logged or written then.

    Examples
    --------
    >>> import leadml
    >>> from leadml.data.synthetic import generate_leads
    >>> leads = generate_leads(2_000, seed=3)
    >>> model = leadml.train(leads, target="converted", name="doc-leads", settings=cheap)
    >>> model.name
    'doc-leads'
    >>> 0.5 < model.metrics["roc_auc"] <= 1.0
    True
    >>> leadml.train(leads, target="converted", recency="soon", settings=cheap)
    Traceback (most recent call last):
    ...
    leadml.errors.DataError: --recency must be auto, none or a half-life in days ... not 'soon'
    """
    check_training_values(recency, horizon, as_of, tune, tune_minutes)
    chosen = settings_from(
        settings,
        recency=recency,
        tune=tune,
        tune_minutes=tune_minutes,
        horizon=horizon,
        as_of=as_of,
    )
    options = TrainOptions(
        data=data,
        schema=schema,
        target=target,
        outcome=OutcomeOptions(_values(positive), _values(negative), _values(open), converted_at),
        outcomes=outcomes,
        on=on,
        allow=_values(allow),
        time_order=time_order,
        roles=ColumnRoles(segment, _values(audit), opt_out),
        dask=dask,
        scheduler=scheduler,
        name=name,
        out=Path(out) if out is not None else None,
        experiment=experiment,
        force=force,
        track=track,
    )
    listener = progress if isinstance(progress, Listener) else Listener(progress)
    return train_with(options, chosen, listener)
