"""The notebook runs top to bottom on small data, as a data scientist would run it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01-train-and-explain.ipynb"
SKLEARN_NOTEBOOK = NOTEBOOK.with_name("02-scikit-learn.ipynb")


def test_train_and_explain_notebook_runs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # "python3" is ipykernel's own spec; jupyter_client starts it with this interpreter.
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=300, resources={"metadata": {"path": tmp_path}}
    )
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs
    )
    assert "Budget" in text and "BANT qualified" in text
    assert "(model raw score" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # reliability, gains, waterfall
    print(f"notebook ran in {elapsed:.1f} s with {sys.executable}")


def test_scikit_learn_notebook_runs(tmp_path: Path, monkeypatch) -> None:
    """The estimator in Pipeline, cross_val_score, GridSearchCV and a calibration check,
    through ``import leadml`` only."""
    monkeypatch.chdir(tmp_path)
    notebook = nbformat.read(SKLEARN_NOTEBOOK, as_version=4)
    sources = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "import leadml\n" in sources
    assert "from leadml" not in sources and "import leadml." not in sources
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=300, resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs
    )
    assert "AUC per fold" in text and "rank_test_score" in text and "Brier" in text
    assert "observed conversion" in text and "grade" in text
