"""Real trainings made cheap where the training itself is not what a test checks.

Every model here goes through the real pipeline (LightGBM, the backtest, calibration, the
bundle, MLflow when tracked); only the knobs that buy statistical precision are turned down:
one LightGBM thread (two cores are shared by the whole run), two backtest folds, ten bootstrap
resamples for the intervals, no recency weighting, no tuning. Tests of the backtest, of tuning
or of the intervals train with the defaults on their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from leadml.config import Settings

#: Criteria the export behind the ``partial`` fixture has no field for.
PARTIAL_MISSING = ("budget", "timing")

#: Settings values of a cheap real training (see the module's docstring).
CHEAP: dict[str, Any] = {"num_threads": 1, "backtest_folds": 2, "bootstrap": 10, "tune": 0}

#: The same as ``LEADML_*`` variables, for trainings run through the CLI.
CHEAP_ENV: dict[str, str] = {
    "LEADML_NUM_THREADS": "1",
    "LEADML_BACKTEST_FOLDS": "2",
    "LEADML_BOOTSTRAP": "10",
}


def cheap_settings(home: Path, **overrides: Any) -> Settings:
    """Settings for a cheap real training in ``home`` (its own SQLite store unless given)."""
    values: dict[str, Any] = {
        "home": home,
        "mlflow_tracking_uri": f"sqlite:///{home / 'mlflow.db'}",
        **CHEAP,
    }
    values.update(overrides)
    return Settings(**values)
