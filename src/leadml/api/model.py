"""``leadml.Model`` and ``leadml.load``: a trained lead model at work, from Python.

A ``Model`` wraps the bundle's :class:`leadml.bundle.model.LeadModel` (``lead_model``, for
experts) and, when it came from :func:`leadml.train`, the training's result. Every method is
what a CLI verb does, returned instead of printed: ``score`` is ``leadml score``, ``explain``
is ``leadml explain``, ``monitor`` is ``leadml monitor --data``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from leadml.api.explanation import Explanation
    from leadml.bundle.model import LeadModel
    from leadml.config import Settings
    from leadml.explain.next_steps import NextStep
    from leadml.modeling.finish import TrainResult
    from leadml.monitor.report import MonitorResult
    from leadml.schema.spec import LeadSchema

#: What one lead may be given as: a mapping of field → raw value, or a row of a frame.
Lead = Mapping[str, Any]


class Model:
    """A trained lead model: score, explain, monitor; its metrics, schema and files.

    Made by :func:`leadml.train` or :func:`leadml.load`, not directly.

    Examples
    --------
    >>> model  # doctest: +ELLIPSIS
    <leadml.Model doc-leads doc-leads-v1-... · ROC AUC 0... · bundle .../doc-leads>
    """

    def __init__(
        self,
        lead_model: LeadModel,
        settings: Settings,
        *,
        bundle: Path | None = None,
        result: TrainResult | None = None,
    ) -> None:
        self.lead_model = lead_model
        self.settings = settings
        #: The bundle folder (None for a model downloaded from the registry).
        self.bundle = bundle
        #: The training's result (``leadml.modeling.finish.TrainResult``) when trained here.
        self.result = result

    # -- what it is ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The registered model (the project) it belongs to, else its schema's name."""
        return str(self.lead_model.meta.get("registered_model") or self.schema.name)

    @property
    def version(self) -> str:
        """The model's version label: the project, its registered version and an id."""
        return self.lead_model.version

    @property
    def metrics(self) -> dict[str, Any]:
        """The backtest's figures: ``roc_auc``, ``pr_auc``, ``log_loss``, ``brier``, ``ece``,
        the baselines beside them, the grades, and the verdict against the baselines.

        Examples
        --------
        >>> sorted(k for k in model.metrics if k in ("roc_auc", "pr_auc", "brier"))
        ['brier', 'pr_auc', 'roc_auc']
        """
        return self.lead_model.metrics

    @property
    def schema(self) -> LeadSchema:
        """The lead schema the model was trained with (what each column means).

        Examples
        --------
        >>> model.schema.target
        'converted'
        """
        return self.lead_model.schema

    @property
    def report_path(self) -> Path | None:
        """The model report (HTML) in the bundle, None when there is no bundle folder.

        Examples
        --------
        >>> model.report_path.name
        'report.html'
        """
        if self.bundle is None:
            return None
        path = Path(self.bundle) / "report.html"
        return path if path.exists() else None

    def __repr__(self) -> str:
        auc = self.metrics.get("roc_auc")
        shown = f" · ROC AUC {auc:.3f}" if isinstance(auc, float) else ""
        where = f" · bundle {self.bundle}" if self.bundle is not None else ""
        return f"<leadml.Model {self.name} {self.version}{shown}{where}>"

    # -- at work -------------------------------------------------------------------------------
    def score(
        self, leads: pd.DataFrame, explain: bool = False, allow_sparse: bool = False
    ) -> pd.DataFrame:
        """Score leads: the table ``leadml score`` writes.

        Parameters
        ----------
        leads : DataFrame
            Leads as the CRM exports them (the training's columns; others are kept).
        explain : bool
            Add each criterion's points and verdict, qualified, reasons, concerns, questions
            and next steps.
        allow_sparse : bool
            Score a table giving fewer than half of the model's fields instead of stopping.

        Returns
        -------
        DataFrame
            The input columns (id first), then ``probability``, ``score``, ``grade``,
            ``tier``, ``stage`` and ``warnings``; with ``explain``, the explanation columns.

        Raises
        ------
        leadml.errors.DataError
            The table gives too few of the model's fields, or an impossible value.

        Examples
        --------
        >>> scored = model.score(leads.head(3))
        >>> list(scored.columns[-6:])
        ['probability', 'score', 'grade', 'tier', 'stage', 'warnings']
        >>> sorted(set(scored["grade"]) - set("ABCD"))
        []
        """
        from leadml.api.scoring import min_share, score_frame

        scored = score_frame(
            self.lead_model,
            leads,
            explain=explain,
            framework=self.settings.framework,
            min_field_share=min_share(self.settings, allow_sparse),
        )
        return scored.table

    def explain(
        self, lead: Lead | pd.Series | pd.DataFrame, framework: str = "bant"
    ) -> Explanation | pd.DataFrame:
        """Why a lead scored what it did, in the framework's criteria.

        Parameters
        ----------
        lead : mapping, Series or DataFrame
            One lead (field → raw value, or a row), or a table of leads.
        framework : str
            ``bant``, ``champ``, ``anum``, ``faint`` or ``gpct``.

        Returns
        -------
        Explanation or DataFrame
            For one lead, an :class:`~leadml.api.explanation.Explanation` (``card()``,
            ``plot(path)``, ``criteria()``); for a table, one row per lead with each
            criterion's points and verdict, ``qualified``, fit, engagement, reasons, concerns
            and questions.

        Examples
        --------
        >>> one = model.explain(leads.iloc[0])
        >>> one.grade in "ABCD" and 0 <= one.score <= 100
        True
        >>> table = model.explain(leads.head(5))
        >>> len(table), "budget_met" in table.columns, "qualified" in table.columns
        (5, True, True)
        """
        import pandas as pd

        if isinstance(lead, pd.DataFrame):
            from leadml.explain.attributions import explanation_columns

            return explanation_columns(self.lead_model, lead, framework)
        from leadml.api.explanation import explain_one

        record = _record(lead)
        return explain_one(self.lead_model, record, framework, self._title(record))

    def next_steps(
        self, lead: Lead | pd.Series | pd.DataFrame, framework: str = "bant"
    ) -> list[NextStep] | list[list[NextStep]]:
        """Per criterion not met, the smallest actionable change that raises the grade.

        Parameters
        ----------
        lead : mapping, Series or DataFrame
            One lead, or a table of leads.
        framework : str
            The framework whose criteria are read.

        Returns
        -------
        list of NextStep, or a list of them per lead
            Best score first; a lead already in grade A gets none. ``step.text(model.lead_model)``
            says it in a rep's words.

        Examples
        --------
        >>> steps = model.next_steps(leads.head(4))
        >>> len(steps)
        4
        >>> all(step.grade in "ABCD" for lead_steps in steps for step in lead_steps)
        True
        """
        import pandas as pd

        from leadml.explain.attributions import explain_matrix
        from leadml.explain.next_steps import criteria_met, next_steps

        one = not isinstance(lead, pd.DataFrame)
        x = (
            self.lead_model.encoder.encode_row(_record(lead))  # type: ignore[arg-type]
            if one
            else self.lead_model.matrix(lead)  # type: ignore[arg-type]
        )
        met = [criteria_met(e) for e in explain_matrix(self.lead_model, x, framework)]
        steps = next_steps(self.lead_model, x, met, framework)
        return steps[0] if one else steps

    def monitor(
        self, leads: pd.DataFrame, source: str = "the leads given", by: str | None = None
    ) -> MonitorResult:
        """Is the model still right on these leads? Drift per feature, criterion and score,
        and with their outcomes (the schema's target column) realized performance.

        Parameters
        ----------
        leads : DataFrame
            Recent leads, with the target column where the outcome is known.
        source : str
            How the report names them.
        by : str, optional
            ``"segment"``: drift and performance per segment too, alarms naming it.

        Returns
        -------
        MonitorResult
            ``summary_lines()``, ``drift_alarm``, ``performance_alarm`` and ``to_dict()``.

        Examples
        --------
        >>> result = model.monitor(leads.tail(500))
        >>> isinstance(result.drift_alarm, bool), len(result.summary_lines()) > 0
        (True, True)
        """
        from leadml.lifecycle.monitoring import monitor_frame

        return monitor_frame(
            self.lead_model, leads, source, framework=self.settings.framework, by=by
        )

    def _title(self, lead: Lead) -> str:
        key = self.schema.id
        return f"Lead {lead[key]}" if key and lead.get(key) is not None else "Lead"


def _record(lead: Lead | pd.Series) -> dict[str, Any]:
    """One lead as the dict the serving path reads: missing values as None."""
    import pandas as pd

    if isinstance(lead, pd.Series):
        return lead.astype(object).where(lead.notna(), None).to_dict()
    return dict(lead)


def load(ref: str | Path, *, settings: Settings | Mapping[str, Any] | None = None) -> Model:
    """Load a trained model: a bundle folder, or a name in the MLflow registry.

    Parameters
    ----------
    ref : str or Path
        A bundle folder, ``models:/<name>@champion``, ``models:/<name>/<N>`` or
        ``runs:/<run id>/model``.
    settings : Settings or mapping, optional
        The project's settings (its MLflow store and bundle key); default: from
        ``LEADML_*`` and the project home.

    Returns
    -------
    Model
        The model; ``bundle`` is the folder for a folder reference, else None.

    Raises
    ------
    leadml.errors.ModelLoadError
        Not a bundle, a damaged or unsigned one, or a name the registry does not know.

    Examples
    --------
    >>> again = leadml.load(model.bundle, settings=cheap)
    >>> again.version == model.version
    True
    >>> leadml.load("models:/doc-leads@champion", settings=cheap).version == model.version
    True
    """
    from leadml.config import settings_from
    from leadml.tracking.references import is_registry_reference, load_model

    chosen = settings_from(settings)
    lead_model = load_model(ref, chosen.tracking_uri, chosen.bundle_key)
    bundle = None if is_registry_reference(ref) else Path(ref)
    return Model(lead_model, chosen, bundle=bundle)
