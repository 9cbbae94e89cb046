"""A reload's candidate model, fetched and proved in a child process before the server loads it.

LightGBM does not raise on every damaged model: a cut ``model.txt`` crashes the process
(SIGSEGV), a garbled one can abort it (SIGABRT). In the server that is every request in flight
lost; in a child process it is one candidate refused. So a reload

1. makes a private folder (mode 0700) that only the server's user can write;
2. runs ``python -m serve.model.candidate`` with a deadline: the child copies the bundle's plain
   files into that folder (or downloads the registry's bundle there), loads the copy with every
   check (signature, checksum, metadata, every tree's indices) and scores and explains test
   leads with it: an empty one, and every known level and each number's quantiles (``canary_rows``);
3. then the server loads that same copy, the bytes that were checked, which nobody else can
   have changed since, and removes the folder, whatever happened.

The child reads MLflow's HTTP timeout and retries from its environment at each request, so it
gets a short timeout and no retries, and it is killed at the deadline: an unreachable or slow
store costs one reload ``reload_timeout_s`` at most, never the server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import SecretStr

from leadml.errors import LeadMLError, ModelLoadError

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel

log = logging.getLogger("serve.model")

JOB_RESULT = "result.json"
#: The private folders' prefix, followed by the server's pid, so that a start can remove those
#: a killed server left behind (``serve.model.holder.remove_stale_copies``).
WORKDIR_PREFIX = "leadml-reload-"
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


def _quantiles(model: LeadModel, name: str) -> list[float]:
    """A number's training quantiles as the bundle records them: the reference's deciles and
    median, the novelty bands' 0.5 … 99.5 % points (nothing from a bundle without them)."""
    values: set[float] = set()
    reference = (model.meta.get("reference") or {}).get("features", {}).get(name) or {}
    novelty = ((model.meta.get("novelty") or {}).get("fields") or {}).get(name) or {}
    for edges in (reference.get("edges"), novelty.get("edges"), [reference.get("median")]):
        values.update(float(v) for v in edges or () if isinstance(v, int | float))
    return sorted(v for v in values if math.isfinite(v)) or [0.0]


def canary_rows(model: LeadModel) -> np.ndarray:
    """Encoded leads that, between them, give every feature each value a real lead can bring:
    every known level of every coded feature (and an ordinal's "(not answered)"), each
    number's training quantiles; the last row is an empty lead.

    Values are packed, row ``i`` giving each feature its ``i``-th value (round the list), so
    the set is as long as the longest list (≤ 256 levels, as training keeps), not their sum.
    That is enough because TreeSHAP, unlike a prediction, decides at every node of every tree
    for each row: each node meets every value of its feature somewhere in the set.
    """
    from leadml.features.encoder import NOT_ANSWERED_RANK, NUMERIC_KINDS

    encoder = model.encoder
    columns: list[list[float]] = []
    for j, (name, kind) in enumerate(zip(encoder.names, encoder.kinds, strict=True)):
        if kind in NUMERIC_KINDS:
            columns.append(_quantiles(model, name))
        else:
            codes = [float(c) for c in range(len(encoder.level_names(j)))]
            columns.append([*codes, NOT_ANSWERED_RANK] if kind == "ordinal" else codes or [0.0])
    longest = max((len(c) for c in columns), default=0)
    x = np.full((longest + 1, len(columns)), np.nan)
    for j, values in enumerate(columns):
        x[:longest, j] = [values[i % len(values)] for i in range(longest)]
    return x


def _probabilities(found: Any, what: str) -> None:
    p = np.asarray(found, dtype=np.float64)
    bad = ~(np.isfinite(p) & (p >= 0.0) & (p <= 1.0))
    if bad.any():
        raise ModelLoadError(f"model answers probability {p[bad][0]} for {what}")


def canary(model: LeadModel, framework: str) -> None:
    """Score and explain an empty lead and :func:`canary_rows`, on every path a request takes
    (one lead, a batch, TreeSHAP, the decisions of ``?detail=full``): a model that cannot
    must not go live. Run in the candidate's child process first, where a crash costs only
    the candidate."""
    from leadml.explain.attributions import explain_lead, explain_matrix
    from leadml.explain.decisions import lead_decisions

    scored = model.score_one({})
    explained = explain_lead(model, {}, framework)
    _probabilities([scored["probability"], explained.probability], "an empty lead")
    x = canary_rows(model)
    batch = model.predict_proba(x, num_threads=1)
    _probabilities(batch, "the test leads (every level, each quantile)")
    one_by_one = [model.predict_proba(x[i : i + 1], num_threads=1)[0] for i in range(len(x))]
    _probabilities(one_by_one, "a test lead scored alone")
    explanations = explain_matrix(model, x, framework, num_threads=1)
    _probabilities([e.probability for e in explanations], "a test lead explained")
    lead_decisions(model, x, batch.tolist(), explanations, num_threads=1)


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
            [sys.executable, "-m", "serve.model.candidate"],
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


def load_checked(
    ref: str,
    *,
    tracking_uri: str | None,
    framework: str,
    key: SecretStr | None,
    timeout_s: float,
) -> LeadModel:
    """``ref`` proved in a child process (:func:`check_in_child`), then the very copy it
    proved loaded here, in a private folder removed whatever happens.

    For a model that was never served and must not be trusted to load in the server: a
    reload's candidate, and the shadow's challenger at start (``--shadow``), which scores real
    leads as soon as it is up.
    """
    from leadml.bundle.model import LeadModel
    from leadml.tracking.references import is_registry_reference

    workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))
    try:
        checked = check_in_child(
            ref,
            workdir,
            tracking_uri=tracking_uri,
            framework=framework,
            key=key,
            timeout_s=timeout_s,
        )
        try:
            model = LeadModel.load(checked.folder, key=key)
        except LeadMLError as exc:  # name the reference, not the private copy
            raise ModelLoadError(str(exc).replace(str(checked.folder), ref)) from None
        if is_registry_reference(ref):
            model.meta["ref"] = ref
        model.meta.update(checked.identity)
        log.info("checked %s in a child process in %.2f s", ref, checked.seconds)
        return model
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


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
    """``python -m serve.model.candidate``: the job as JSON on stdin, the verdict in result.json."""
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
