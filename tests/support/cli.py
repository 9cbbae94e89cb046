"""The CLI as tests run it: in-process through typer's runner, or as the installed script.

Both ways pin the project home and clear ``MLFLOW_TRACKING_URI`` so a run always uses the
store inside its own home, whatever the developer's shell (or an earlier test) set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from leadml.cli import app

RUNNER = CliRunner()


def cli(home: Path, *args: str, **env: str) -> Result:
    """``leadml ARGS`` in this process with ``home`` as the project; ``env`` adds variables
    (``LEADML_NUM_THREADS="1"``)."""
    values = {"LEADML_HOME": str(home), "MLFLOW_TRACKING_URI": "", **env}
    return RUNNER.invoke(app, list(args), env=values)


def leadml_process(
    *args: str, cwd: Path, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess:
    """The installed console script in its own process, run from ``cwd`` as a user would."""
    environment = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    environment.pop("DASK_SCHEDULER_ADDRESS", None)
    environment.update({"LEADML_HOME": str(cwd), **env})
    exe = Path(sys.executable).with_name("leadml")
    return subprocess.run(
        [str(exe), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )
