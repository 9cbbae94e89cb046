"""The model being served, and how it is swapped for a new one without failing a request.

A request reads ``holder.current`` once and uses that object to the end, so a swap (one
attribute assignment, atomic in Python) never changes a model under a request's feet. A reload

* names only what this server may load (:mod:`serve.model.reload_refs`), checked before anything is
  fetched;
* runs one at a time: a second one is turned away at once (``ReloadBusy``, a 409), never queued
  behind a slow download;
* proves the candidate in a child process with a deadline (:mod:`serve.model.candidate`), so a
  bundle that crashes LightGBM costs the candidate, not the server;
* loads the checked private copy, checks it against the API's request fields and has it score a
  test lead *before* the swap; if any of that fails, the old model keeps serving and the error
  says why.

The start-up load stays in-process: a bundle that crashes it only stops that start.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr

from leadml.bundle.files import META_FILE, MODEL_FILE, holds_bundle
from leadml.bundle.model import LeadModel
from leadml.errors import LeadMLError, ModelLoadError
from leadml.schema.frameworks import framework_criteria
from leadml.schema.spec import LeadSchema
from leadml.tracking.references import is_registry_reference, load_model
from serve.model.candidate import WORKDIR_PREFIX, canary, load_checked
from serve.model.reload_refs import ReloadScope
from serve.settings import RELOAD_TIMEOUT_S

log = logging.getLogger("serve.model")


#: A log line is for a person: a caller's 4,000-character reference is cut to this.
LOG_LINE_CHARS = 400


def clip(text: str, limit: int = LOG_LINE_CHARS // 2) -> str:
    """``text`` at most ``limit`` characters long, saying how much was cut."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more)"


class ReloadBusy(LeadMLError):
    """Another reload is running; this one was not started."""


@dataclass(frozen=True)
class LoadedModel:
    """One served model and what requests need from it, fixed at load time."""

    model: LeadModel
    ref: str
    framework: str
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def criteria(self) -> tuple[str, ...]:
        """The framework's own criteria: what ``criteria`` in a score holds."""
        return framework_criteria(self.framework)

    @cached_property
    def base_score(self) -> float:
        """The average lead's score (0–100), where criteria points start (once per model)."""
        from leadml.explain.attributions import explain_lead

        return explain_lead(self.model, {}, self.framework).base_score


def encode(loaded: LoadedModel, leads: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """The leads as this model reads them: an (n, features) float64 matrix, no pandas; absent or
    unusable values are NaN (LightGBM's missing). Scoring and the shadow both read leads so."""
    encoder = loaded.model.encoder
    x = np.empty((len(leads), len(encoder.names)), dtype=np.float64)
    for i, lead in enumerate(leads):
        # The encoder's own row path: date-derived features read their source column.
        x[i] = encoder.encode_row(lead)[0]
    return x


def input_signature(schema: LeadSchema) -> dict[str, tuple[str, tuple[str, ...]]]:
    """What a lead must look like for this schema: feature → (kind, ordinal levels)."""
    return {
        f.name: (f.kind, tuple(f.levels or ()) if f.kind == "ordinal" else ())
        for f in schema.features
    }


def incompatibilities(api: LeadSchema, new: LeadSchema) -> list[str]:
    """Why leads valid for the running API could not be scored by ``new`` (empty: they can).

    The API's request model is built once, from the first model; a later model may use fewer
    features (they are then accepted and ignored), but not new ones or different answers.
    """
    served, wanted = input_signature(api), input_signature(new)
    problems = []
    added = sorted(set(wanted) - set(served))
    if added:
        problems.append(f"new input fields {added}")
    for name in sorted(set(wanted) & set(served)):
        if wanted[name] != served[name]:
            problems.append(f"field '{name}' changed from {served[name]} to {wanted[name]}")
    if (new.id or None) != (api.id or None):
        problems.append(f"lead id column changed from '{api.id}' to '{new.id}'")
    return problems


def prove(model: LeadModel, ref: str, framework: str) -> None:
    """Raise ``ModelLoadError`` unless ``model`` scores and explains a test lead."""
    try:
        canary(model, framework)
    except LeadMLError:
        raise
    except Exception as exc:  # a bundle that loads but cannot predict
        raise ModelLoadError(f"{ref} failed to score a test lead: {exc}") from None


def load_proved(
    ref: str, tracking_uri: str | None, framework: str, key: SecretStr | None
) -> LoadedModel:
    """A start-up load, in-process: ``ref`` loaded with every check, then proved."""
    try:
        model = load_model(ref, tracking_uri, key)
    except LeadMLError:
        raise
    except Exception as exc:  # anything else a loader raises still means "not loadable"
        raise ModelLoadError(f"cannot load {ref}: {type(exc).__name__}: {exc}") from None
    prove(model, ref, framework)
    return LoadedModel(model=model, ref=ref, framework=framework)


#: A reload's private copy is ``<WORKDIR_PREFIX><pid>-<random>`` in the temp folder. The pid
#: says whose it is, so a later start can tell a copy left by a killed server from a live one's.
_COPY = re.compile(rf"{re.escape(WORKDIR_PREFIX)}(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_stale_copies(folder: Path | None = None) -> int:
    """Remove reload copies left in ``folder`` (the temp folder) by servers of this user that
    are gone (a ``kill -9`` mid-reload skips the ``finally`` that removes them); how many.

    Another user's copies, and those of a process still running (or of a pid reused since),
    are left alone.
    """
    root = Path(folder or tempfile.gettempdir())
    removed = 0
    try:
        entries = list(root.glob(f"{WORKDIR_PREFIX}*"))
    except OSError:
        return 0
    for entry in entries:
        match = _COPY.match(entry.name)
        try:
            mine = entry.is_dir() and not entry.is_symlink() and entry.stat().st_uid == os.getuid()
        except OSError:
            continue
        if not match or not mine or _alive(int(match.group(1))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    if removed:
        log.info("removed %d reload copies left in %s by servers that were killed", removed, root)
    return removed


class ModelHolder:
    """Holds the served model; ``reload`` swaps it only for a model that proved it works."""

    def __init__(
        self,
        ref: str,
        tracking_uri: str | None = None,
        framework: str = "bant",
        *,
        bundle_key: SecretStr | None = None,
        models_root: Path | None = None,
        reload_timeout_s: float = RELOAD_TIMEOUT_S,
    ) -> None:
        self._tracking_uri = tracking_uri
        self._framework = framework
        self._key = bundle_key
        self._timeout = reload_timeout_s
        self._lock = threading.Lock()
        remove_stale_copies()
        self.current = self._start(str(ref))
        #: The schema the API's request models were built from; later models must fit it.
        self.api_schema = self.current.model.schema
        #: What a reload may name: fixed by the operator's start-up model.
        self.scope = ReloadScope(
            startup=str(ref),
            served_name=self.current.model.meta.get("registered_model") or None,
            root=models_root.resolve() if models_root is not None else None,
        )
        self.reloads = 0

    def _start(self, ref: str) -> LoadedModel:
        return load_proved(ref, self._tracking_uri, self._framework, self._key)

    def _prove(self, model: LeadModel, ref: str) -> None:
        prove(model, ref, self._framework)

    def _candidate(self, ref: str) -> LoadedModel:
        """Prove ``ref`` in a child process, then load the very copy it proved."""
        if not is_registry_reference(ref) and not holds_bundle(Path(ref)):
            # no process started for what is plainly not a bundle
            raise ModelLoadError(
                f"{ref} is not a leadml bundle (expected {MODEL_FILE} and {META_FILE})"
            )
        model = load_checked(
            ref,
            tracking_uri=self._tracking_uri,
            framework=self._framework,
            key=self._key,
            timeout_s=self._timeout,
        )
        problems = incompatibilities(self.api_schema, model.schema)
        if problems:
            raise ModelLoadError(
                f"{ref} takes different inputs than the running API ("
                + "; ".join(problems)
                + "): restart the service to serve it"
            )
        self._prove(model, ref)
        return LoadedModel(model=model, ref=ref, framework=self._framework)

    @contextmanager
    def reload_slot(self) -> Iterator[None]:
        """The one reload slot, taken without waiting: ``ReloadBusy`` while another holds it.

        A reload waiting for another would hold a worker thread (or a caller) for as long as the
        slowest download; turning it away at once costs nothing and says why.
        """
        if not self._lock.acquire(blocking=False):
            raise ReloadBusy("another reload is running; try again when it has finished")
        try:
            yield
        finally:
            self._lock.release()

    def swap_to(self, ref: str | None = None) -> tuple[LoadedModel, LoadedModel]:
        """Load ``ref`` (default: the current reference again) and swap; returns (old, new).

        The caller holds ``reload_slot``. Raises ``LeadMLError`` with the reason when the
        reference is not allowed or the new model is unusable; the old one is then still
        ``current``. Scoring never waits for any of this.
        """
        old = self.current
        target = ref or old.ref
        try:
            new = self._candidate(self.scope.check(target))
        except LeadMLError as exc:
            log.warning(
                "reload of %s refused, still serving %s: %s",
                clip(target),
                old.version,
                clip(str(exc), LOG_LINE_CHARS),
            )
            raise
        self.current = new
        self.reloads += 1
        log.info("now serving %s (from %s), was %s", new.version, new.ref, old.version)
        return old, new

    def reload(self, ref: str | None = None) -> tuple[LoadedModel, LoadedModel]:
        """``swap_to`` in the reload slot: ``ReloadBusy`` at once if another reload runs."""
        with self.reload_slot():
            return self.swap_to(ref)

    def reload_quietly(self, ref: str | None = None) -> None:
        """For SIGHUP: the outcome goes to the log, since there is nobody to answer."""
        try:
            self.reload(ref)
        except ReloadBusy:
            log.warning("reload skipped: another reload is running")
        except LeadMLError:
            pass  # already logged with the reason
        except Exception:
            log.exception("reload failed unexpectedly; still serving %s", self.current.version)
