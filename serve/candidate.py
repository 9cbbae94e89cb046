"""A reload's candidate model, fetched and proved in a child process before the server loads it.

LightGBM does not raise on every damaged model: a cut ``model.txt`` crashes the process
(SIGSEGV), a garbled one can abort it (SIGABRT). In the server that is every request in flight
lost; in a child process it is one candidate refused. So a reload

1. makes a private folder (mode 0700) that only the server's user can write;
2. runs ``python -m serve.candidate`` with a deadline: the child copies the bundle's plain files
   into that folder (or downloads the registry's bundle there), loads the copy with every check
   (signature, checksum, metadata) and scores and explains a test lead with it;
3. then the server loads that same copy, the bytes that were checked, which nobody else can
   have changed since, and removes the folder, whatever happened.

The child reads MLflow's HTTP timeout and retries from its environment at each request, so it
gets a short timeout and no retries, and it is killed at the deadline: an unreachable or slow
store costs one reload ``reload_timeout_s`` at most, never the server.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from leadml.errors import LeadMLError, ModelLoadError

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel

JOB_RESULT = "result.json"
JOB_LOG = "check.log"
#: MLflow's per-request timeout in the child (its default is 120 s, with 7 retries).
MLFLOW_TIMEOUT_S = 10


class ReloadTimeout(ModelLoadError):
    """The candidate was not fetched and proved within the reload deadline."""


@dataclass(frozen=True)
class Checked:
    """A candidate that passed in the child: its folder (inside the private folder) and the
    registry identity of a ``models:/`` reference."""

    folder: Path
    identity: dict[str, str]
    seconds: float


def canary(model: LeadModel, framework: str) -> None:
    """Score and explain an empty lead: a model that cannot do this must not go live."""
    from leadml.explain.attributions import explain_lead

    scored = model.score_one({})
    explained = explain_lead(model, {}, framework)
    for p in (scored["probability"], explained.probability):
        if not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise ModelLoadError(f"model answers probability {p} for an empty lead")


def _tail(log: Path, limit: int = 300) -> str:
    """The last line the child wrote (LightGBM's own words for what it choked on)."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    last = next((line for line in reversed(lines) if line), "")
    return f": {last[:limit]}" if last else ""


def check_in_child(
    ref: str,
    workdir: Path,
    *,
    tracking_uri: str | None,
    framework: str,
    key: SecretStr | None,
    timeout_s: float,
) -> Checked:
    """Fetch and prove ``ref`` in a child process, inside ``workdir`` (which the caller owns and
    removes); raises ``ModelLoadError`` saying why when the candidate is refused."""
    job = {
        "ref": ref,
        "workdir": str(workdir),
        "tracking_uri": tracking_uri,
        "framework": framework,
        # on stdin, never on the command line or in the environment others may read
        "key": key.get_secret_value() if key is not None else None,
    }
    scratch = workdir / "tmp"
    scratch.mkdir()
    request_timeout = str(max(1, min(MLFLOW_TIMEOUT_S, int(timeout_s))))
    env = {
        **os.environ,
        "MLFLOW_HTTP_REQUEST_TIMEOUT": request_timeout,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_ARTIFACT_UPLOAD_DOWNLOAD_TIMEOUT": request_timeout,  # GCS and Azure stores
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "TMPDIR": str(scratch),  # whatever MLflow stages goes inside the private folder
        "OMP_NUM_THREADS": "1",  # one test lead needs no thread pool on a shared machine
    }
    log = workdir / JOB_LOG
    started = time.monotonic()
    with log.open("wb") as output:
        child = subprocess.Popen(
            [sys.executable, "-m", "serve.candidate"],
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,  # and the server's working folder: relative references mean the same
            start_new_session=True,  # its own process group: killed whole at the deadline
        )
        try:
            child.communicate(json.dumps(job).encode(), timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):  # it may have ended just now
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            raise ReloadTimeout(
                f"{ref}: not fetched and checked within {timeout_s:g} s "
                "(LEADML_RELOAD_TIMEOUT_S); the check was stopped"
            ) from None
    seconds = time.monotonic() - started
    code = child.returncode
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else "?"
        raise ModelLoadError(
            f"{ref}: candidate crashed the check process (signal {-code}, {name}){_tail(log)}"
        )
    try:
        result = json.loads((workdir / JOB_RESULT).read_text())
    except (OSError, ValueError):
        raise ModelLoadError(f"{ref}: the check process failed (exit {code}){_tail(log)}") from None
    if code != 0 or "refused" in result:
        raise ModelLoadError(str(result.get("refused") or f"{ref}: refused (exit {code})"))
    folder = Path(result["folder"]).resolve()
    if not folder.is_relative_to(workdir.resolve()):
        raise ModelLoadError(f"{ref}: the check process answered a folder outside its own")
    return Checked(folder, dict(result.get("identity") or {}), seconds)


# -- the child's side ---------------------------------------------------------------------------
# Imports are made inside these functions: ``main`` first keeps scikit-learn out, which
# LightGBM imports whenever it is installed (two thirds of the child's start-up) and which only
# training needs.
def fetch(ref: str, workdir: Path, tracking_uri: str | None) -> tuple[Path, dict[str, str]]:
    """The candidate's files, copied or downloaded into ``workdir``."""
    from leadml.bundle.files import copy_bundle
    from leadml.tracking.references import download_bundle, is_registry_reference

    if is_registry_reference(ref):
        return download_bundle(ref, workdir / "download", tracking_uri)
    source = Path(ref)
    if not source.is_dir():
        raise ModelLoadError(f"{ref} is not a leadml bundle (no such folder)")
    return copy_bundle(source, workdir / "bundle"), {}


def prove(job: dict[str, Any]) -> dict[str, Any]:
    """Fetch, load with every check and score a test lead: what the child does."""
    from leadml.bundle.model import LeadModel

    ref, workdir = str(job["ref"]), Path(job["workdir"])
    folder, identity = fetch(ref, workdir, job.get("tracking_uri"))
    key = SecretStr(job["key"]) if job.get("key") else None
    try:
        model = LeadModel.load(folder, key=key)
    except LeadMLError as exc:  # name the reference, not the private copy
        raise ModelLoadError(str(exc).replace(str(folder), ref)) from None
    try:
        canary(model, str(job["framework"]))
    except LeadMLError:
        raise
    except Exception as exc:  # a bundle that loads but cannot predict
        raise ModelLoadError(f"{ref} failed to score a test lead: {exc}") from None
    return {"folder": str(folder), "identity": identity}


def main() -> int:
    """``python -m serve.candidate``: the job as JSON on stdin, the verdict in result.json."""
    sys.modules.setdefault("sklearn", None)  # see the note above: training only
    job = json.loads(sys.stdin.read())
    workdir = Path(job["workdir"])
    try:
        result, code = prove(job), 0
    except LeadMLError as exc:
        result, code = {"refused": str(exc)}, 1
    except Exception as exc:  # anything else a bundle provokes still means "not loadable"
        result, code = {"refused": f"cannot load {job['ref']}: {type(exc).__name__}: {exc}"}, 1
    (workdir / JOB_RESULT).write_text(json.dumps(result))
    return code


if __name__ == "__main__":
    sys.exit(main())
