"""The design's import rules, checked in fresh interpreters (so nothing else loaded them first).

The library never imports the service or FastAPI (``leadml serve`` loads ``serve`` only when
it runs); the service never imports training, evaluation, Dask or MLflow, so it starts fast and
stays small. (MLflow itself imports FastAPI: that is why ``leadml.pyfunc`` is left out.)
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = (
    "import importlib, json, sys\n"
    "for m in {mods!r}: importlib.import_module(m)\n"
    "print(json.dumps(sorted(sys.modules)))"
)


def loaded_after(*modules: str) -> set[str]:
    code = PROBE.format(mods=list(modules))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_the_library_does_not_import_the_service() -> None:
    loaded = loaded_after(
        "leadml.cli", "leadml.model", "leadml.features", "leadml.explain", "leadml.schema"
    )
    assert "leadml.cli" in loaded
    assert not {m for m in loaded if m == "serve" or m.startswith(("serve.", "fastapi"))}


def test_the_service_does_not_import_training_code() -> None:
    loaded = loaded_after("serve.server", "serve.app")
    assert "serve.app" in loaded and "leadml.explain" in loaded
    forbidden = ("leadml.train", "leadml.evaluate", "dask", "optuna", "mlflow", "shap")
    assert not {m for m in loaded if m.split(".")[0] in forbidden or m in forbidden}
