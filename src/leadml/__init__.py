"""leadml: open, self-hosted lead conversion prediction with BANT explanations.

The names below are the supported Python surface; everything under ``leadml.*`` is the
implementation and may change. They are imported on first use: ``import leadml`` stays cheap
and pulls in neither scikit-learn, LightGBM nor MLflow, because the scoring service imports
``leadml.*`` on every start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from leadml.version import __version__ as __version__

__all__ = [
    "LeadClassifier",
    "Model",
    "example_leads",
    "example_schema",
    "load",
    "train",
]

#: Each public name and the module it lives in.
_HOMES = {
    "train": "leadml.api.train",
    "load": "leadml.api.model",
    "Model": "leadml.api.model",
    "LeadClassifier": "leadml.api.estimator",
    "example_leads": "leadml.api.examples",
    "example_schema": "leadml.api.examples",
}

if TYPE_CHECKING:
    from leadml.api.estimator import LeadClassifier
    from leadml.api.examples import example_leads, example_schema
    from leadml.api.model import Model, load
    from leadml.api.train import train


def __getattr__(name: str) -> Any:
    """The public names, imported when first asked for (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'leadml' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # asked once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
