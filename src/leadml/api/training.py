"""How ``leadml.train`` and ``leadml train`` train: one path for Python and the command line.

The CLI's verb is a caller of this module: it turns its options into :class:`TrainOptions`,
hands a :class:`Listener` that prints, and shows the result. Everything between (which values
are valid, reading and labelling the leads, settling the schema, the MLflow store checked once
before any work, one machine or Dask) lives here, so a notebook and the command line train the
same model with the same run, registration and bundle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from leadml.data.resolve import (
    NO_SCHEMA,
    ColumnRoles,
    OutcomeOptions,
    label_with_outcomes,
    outcome_options,
    resolve_schema,
    schema_options,
    staff_kept,
)
from leadml.errors import LeadMLError

if TYPE_CHECKING:
    import pandas as pd

    from leadml.api.model import Model
    from leadml.config import Settings
    from leadml.modeling.finish import TrainResult
    from leadml.schema.spec import LeadSchema

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainOptions:
    """What to train on and where it goes: ``leadml train``'s options, as one object."""

    data: str | Path | pd.DataFrame
    schema: str | Path | LeadSchema | None = None
    target: str | None = None
    outcome: OutcomeOptions = field(default_factory=OutcomeOptions)
    outcomes: str | None = None
    on: str | None = None
    allow: list[str] | None = None
    time_order: bool = False
    roles: ColumnRoles = field(default_factory=ColumnRoles)
    dask: bool = False
    scheduler: str | None = None
    name: str | None = None
    out: Path | None = None
    experiment: str | None = None
    force: bool = False
    track: bool = True

    @property
    def on_dask(self) -> bool:
        """A scheduler address implies Dask."""
        return self.dask or self.scheduler is not None

    @property
    def source(self) -> str:
        """The data as a project is named after it (a DataFrame: "leads")."""
        return "leads" if _is_frame(self.data) else str(self.data)


class Listener:
    """Whom a training tells what it is doing. This one passes each step to ``progress`` and
    keeps the notes; the CLI's prints them as they come, in the order they come."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress: Progress = progress or (lambda _msg: None)
        #: ``(kind, line)``: "warning" (labelling), "schema" (inference), "staff" (--allow).
        self.notes: list[tuple[str, str]] = []

    @contextmanager
    def phase(self, title: str, long: bool = False) -> Iterator[Progress]:
        """A step with a title; ``long`` for the training itself. Yields where its
        progress messages go."""
        self.progress(title)
        yield self.progress

    def note(self, kind: str, line: str) -> None:
        """Something a person should read before the result (see ``notes``)."""
        self.notes.append((kind, line))

    def schema_settled(self, schema: LeadSchema, options: TrainOptions) -> None:
        """The schema a one-machine training uses, before it starts (the CLI's hint)."""


def check_training_values(
    recency: str, horizon: str, as_of: str | None, tune: int, tune_minutes: float | None
) -> None:
    """The values the CLI's parser would refuse, refused before any work with its words."""
    from leadml.data.maturity import LabelRule
    from leadml.modeling.recency import parse_recency

    parse_recency(recency)
    LabelRule.parse(horizon, as_of)
    if isinstance(tune, bool) or not isinstance(tune, int) or tune < 0:
        raise LeadMLError(f"--tune must be a whole number of trials, 0 or more, not {tune!r}")
    if tune_minutes is not None and not tune_minutes >= 0.1:
        raise LeadMLError(f"--tune-minutes must be 0.1 or more, not {tune_minutes!r}")


def train_with(options: TrainOptions, settings: Settings, listener: Listener) -> Model:
    """Train as ``options`` say: the store checked once before anything is read, then one
    machine or Dask. The settings carry recency, tuning and the label's horizon."""
    from leadml.api.model import Model

    if options.target is None and options.schema is None and options.outcomes is None:
        raise LeadMLError(NO_SCHEMA)
    if options.on_dask and _is_frame(options.data):
        raise LeadMLError("dask=True needs a folder or glob of CSV or Parquet parts, not a frame")
    outcome_options(options.outcomes, options.on)
    given = _given_schema(options.schema)
    project = settings.project_name(given.name if given else _source_name(options), options.name)
    experiment_id = None
    if options.track:
        from leadml.tracking.store import connect

        # Checked before the data is even read: nothing is half-done if it is down.
        with listener.phase("Checking the MLflow store"):
            experiment_id = connect(settings, options.experiment or project)
    if options.on_dask:
        result = _train_on_dask(options, given, settings, listener, experiment_id)
    else:
        result = _train_here(options, given, settings, listener, experiment_id)
    return Model(result.model, settings, bundle=result.bundle, result=result)


def _is_frame(data: object) -> bool:
    import pandas as pd

    return isinstance(data, pd.DataFrame)


def _source_name(options: TrainOptions) -> str:
    """What an inferred schema (and so the project) is named after."""
    from leadml.data.suggest import project_name

    return project_name(options.source)


def _given_schema(schema: str | Path | LeadSchema | None) -> LeadSchema | None:
    """The schema given, read once (None: inferred from the data)."""
    from leadml.schema.spec import LeadSchema

    if schema is None or isinstance(schema, LeadSchema):
        return schema
    return LeadSchema.load(schema)


def _train_here(
    options: TrainOptions,
    given: LeadSchema | None,
    settings: Settings,
    listener: Listener,
    experiment_id: str | None,
) -> TrainResult:
    """One machine: read, label (``outcomes``), settle the schema, ``train_leads``."""
    from leadml.data.read import describe_source, read_table
    from leadml.modeling.train import train_leads

    data = options.data
    described = "a DataFrame" if _is_frame(data) else describe_source(str(data))
    with listener.phase(f"Reading {described}"):
        frame = data if _is_frame(data) else read_table(str(data))  # type: ignore[arg-type]
        labelled = label_with_outcomes(
            frame, options.outcomes, options.on, options.target, options.outcome.positive
        )
    for line in labelled.notes:
        listener.note("warning", line)
    outcome = options.outcome
    if options.outcomes is not None:
        outcome = OutcomeOptions([str(labelled.positive)], None, None, outcome.converted_at)
    resolved = resolve_schema(
        _source_name(options), labelled.frame, given, labelled.target, outcome
    )
    for line in resolved.lines:
        listener.note("schema", line)
    lead_schema = schema_options(resolved.schema, options.allow, options.time_order, options.roles)
    for line in staff_kept(resolved.schema, lead_schema):
        listener.note("staff", line)
    listener.schema_settled(lead_schema, options)
    project = settings.project_name(lead_schema.name, options.name)
    with listener.phase("Training", long=True) as say:
        return train_leads(
            labelled.frame,
            lead_schema,
            settings,
            out=options.out or settings.models_dir / project,
            experiment=options.experiment,
            track=options.track,
            progress=say,
            source=described,
            name=project,
            force=options.force,
            experiment_id=experiment_id,
        )


def _train_on_dask(
    options: TrainOptions,
    given: LeadSchema | None,
    settings: Settings,
    listener: Listener,
    experiment_id: str | None,
) -> TrainResult:
    """``dask=True``: lightgbm.dask over the parts; a schema is inferred from the first part.

    With ``outcomes`` the outcome table (keys only) is read here and the parts are labelled
    on the workers.
    """
    from leadml.cluster.client import dask_client
    from leadml.cluster.partitions import first_rows
    from leadml.cluster.train import train_dask

    data, target, outcome, keys = str(options.data), options.target, options.outcome, None
    if options.outcomes is not None:
        from leadml.data.outcomes import outcome_keys
        from leadml.data.read import read_table

        target = target or "converted"
        outcome = OutcomeOptions(["1"], None, None, outcome.converted_at)
        keys = outcome_keys(read_table(options.outcomes), str(options.on), target)
    scheduler = options.scheduler
    with ExitStack() as stack:
        with listener.phase(f"Connecting to Dask at {scheduler}" if scheduler else "Starting Dask"):
            client = stack.enter_context(dask_client(scheduler))
        sample = first_rows(data) if given is None else None
        if sample is not None and keys is not None:
            from leadml.data.outcomes import check_lead_columns, label_leads

            check_lead_columns(list(map(str, sample.columns)), keys.on, keys.target)
            sample = label_leads(sample, keys)
        resolved = resolve_schema(data, sample, given, target, outcome)
        for line in resolved.lines:
            listener.note("schema", line)
        lead_schema = schema_options(
            resolved.schema, options.allow, options.time_order, options.roles
        )
        project = settings.project_name(lead_schema.name, options.name)
        with listener.phase("Training on Dask") as say:
            return train_dask(
                data,
                lead_schema,
                client,
                settings,
                out=options.out or settings.models_dir / project,
                experiment=options.experiment,
                track=options.track,
                progress=say,
                outcomes=keys,
                name=project,
                force=options.force,
                experiment_id=experiment_id,
            )
