"""The model being served, and how it is swapped for a new one without failing a request.

A request reads ``holder.current`` once and uses that object to the end, so a swap (one
attribute assignment, atomic in Python) never changes a model under a request's feet. A new
model is loaded, checked against the API's request fields and made to score a canary lead
*before* the swap; if any of that fails, the old model keeps serving and the error says why.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from leadml.bundle.model import LeadModel
from leadml.errors import LeadMLError, ModelLoadError
from leadml.explain.attributions import explain_lead
from leadml.schema.frameworks import framework_criteria
from leadml.schema.spec import LeadSchema
from leadml.tracking.references import load_model

log = logging.getLogger("serve.model")

Loader = Callable[[str, str | None], LeadModel]


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


def canary(model: LeadModel, framework: str) -> None:
    """Score and explain an empty lead: a model that cannot do this must not go live."""
    scored = model.score_one({})
    explained = explain_lead(model, {}, framework)
    for p in (scored["probability"], explained.probability):
        if not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise ModelLoadError(f"model answers probability {p} for an empty lead")


class ModelHolder:
    """Holds the served model; ``reload`` swaps it only for a model that proved it works."""

    def __init__(
        self,
        ref: str,
        tracking_uri: str | None = None,
        framework: str = "bant",
        loader: Loader = load_model,
    ) -> None:
        self._tracking_uri = tracking_uri
        self._framework = framework
        self._loader = loader
        self._lock = threading.Lock()
        self.current = self._load(ref, api=None)
        #: The schema the API's request models were built from; later models must fit it.
        self.api_schema = self.current.model.schema
        self.reloads = 0

    def _load(self, ref: str, api: LeadSchema | None) -> LoadedModel:
        try:
            model = self._loader(ref, self._tracking_uri)
        except LeadMLError:
            raise
        except Exception as exc:  # anything else a loader raises still means "not loadable"
            raise ModelLoadError(f"cannot load {ref}: {type(exc).__name__}: {exc}") from None
        if api is not None:
            problems = incompatibilities(api, model.schema)
            if problems:
                raise ModelLoadError(
                    f"{ref} takes different inputs than the running API ("
                    + "; ".join(problems)
                    + "): restart the service to serve it"
                )
        try:
            canary(model, self._framework)
        except LeadMLError:
            raise
        except Exception as exc:  # a bundle that loads but cannot predict
            raise ModelLoadError(f"{ref} failed to score a test lead: {exc}") from None
        return LoadedModel(model=model, ref=str(ref), framework=self._framework)

    def reload(self, ref: str | None = None) -> tuple[LoadedModel, LoadedModel]:
        """Load ``ref`` (default: the current reference again) and swap; returns (old, new).

        Raises ``LeadMLError`` with the reason when the new model is unusable; the old one is
        then still ``current``. Reloads are serialised; scoring never waits for them.
        """
        with self._lock:
            old = self.current
            target = ref or old.ref
            try:
                new = self._load(target, api=self.api_schema)
            except LeadMLError as exc:
                log.warning("reload of %s refused, still serving %s: %s", target, old.version, exc)
                raise
            self.current = new
            self.reloads += 1
            log.info("now serving %s (from %s), was %s", new.version, new.ref, old.version)
            return old, new

    def reload_quietly(self, ref: str | None = None) -> None:
        """For SIGHUP: the outcome goes to the log, since there is nobody to answer."""
        try:
            self.reload(ref)
        except LeadMLError:
            pass  # already logged with the reason
        except Exception:
            log.exception("reload failed unexpectedly; still serving %s", self.current.version)
