"""MLflow pyfunc for a leadml bundle, logged as "model from code" (no pickle anywhere).

``mlflow models serve`` and ``mlflow.pyfunc.load_model`` use this file: it loads the plain
bundle files logged beside it and answers with probability, score, grade, tier and stage. With
``LEADML_BUNDLE_KEY`` set where it runs, only a bundle signed with that key loads.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.models import set_model

from leadml.bundle.model import LeadModel
from leadml.config import Settings


class LeadPyfunc(mlflow.pyfunc.PythonModel):
    """Scores a DataFrame of raw leads; columns may arrive as strings from JSON."""

    def load_context(self, context) -> None:
        self.model = LeadModel.load(context.artifacts["bundle"], key=Settings().bundle_key)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        return self.model.score_frame(frame).reset_index(drop=True)


set_model(LeadPyfunc())
