"""Model report placeholder: the full HTML report (issue #3) replaces ``write_report``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from leadml.model import LeadModel


def write_report(
    model: LeadModel,
    test_frame: pd.DataFrame,
    x_test: np.ndarray,
    y_test: np.ndarray,
    predictions: dict[str, np.ndarray],
    bundle_dir: Path,
) -> Path | None:
    return None
