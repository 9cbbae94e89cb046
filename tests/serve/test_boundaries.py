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


def library_modules() -> list[str]:
    """Every module of the library but the command line (and ``python -m leadml``)."""
    import pkgutil

    import leadml

    names = [m.name for m in pkgutil.walk_packages(leadml.__path__, "leadml.")]
    return [n for n in names if not n.startswith("leadml.cli") and n != "leadml.__main__"]


def forbidden(loaded: set[str], *prefixes: str) -> set[str]:
    return {m for m in loaded if any(m == p or m.startswith(p + ".") for p in prefixes)}


def test_the_library_does_not_import_the_service() -> None:
    loaded = loaded_after(
        "leadml.cli",
        "leadml.bundle.model",
        "leadml.features",
        "leadml.explain.attributions",
        "leadml.schema",
    )
    assert "leadml.cli" in loaded
    assert not forbidden(loaded, "serve", "fastapi")


def test_no_module_of_the_library_imports_the_command_line() -> None:
    modules = [m for m in library_modules() if m != "leadml.tracking.pyfunc"]  # see above
    assert len(modules) > 40  # every package was found
    loaded = loaded_after(*modules)
    assert not forbidden(loaded, "leadml.cli", "serve")  # (MLflow's own FastAPI aside)


def test_the_service_does_not_import_training_code() -> None:
    loaded = loaded_after("serve.server", "serve.app")
    assert "serve.app" in loaded and "leadml.explain.attributions" in loaded
    assert not forbidden(
        loaded, "leadml.modeling", "leadml.cluster", "leadml.tracking.runs", "dask", "optuna"
    )
    assert not forbidden(loaded, "mlflow", "shap")
