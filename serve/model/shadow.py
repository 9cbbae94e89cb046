"""Shadow scoring: a challenger scores the champion's requests in the background, never served.

``leadml serve --model REF --shadow REF2`` answers every request with the champion; the
challenger then sees the same validated leads and its scores go to the score history marked
``shadow`` (left out of every served read and every trend). Sales ops can compare the two on
real traffic before the challenger is promoted, and no CRM ever sees a challenger's number.

The request path does one thing, after its answer is built: it appends references to what it
already holds (tenant, leads, ids, the champion's matrix) to a queue, holding a lock for that
append only. It never waits, never raises into the
request and cannot change the answer. One daemon thread does the rest, in batches, because on a
two-core machine it shares the GIL with the event loop: it is woken only when the queue goes
from empty (or a batch fills), gathers requests for ``LINGER_S``, reads the challenger's input
off the matrices the champion scored (:mod:`serve.model.shadow_input`; else it encodes the leads
through the per-lead path serving uses: ~15 µs a lead, where a pandas frame costs ~20 ms a call)
and makes one single-threaded ``predict`` call (LightGBM releases the GIL inside it). Numbers
only: the challenger's explanations are nobody's question until it serves.

A full queue drops the shadow work, counted in ``status()`` and logged once per burst. That is
safe because a shadow score is never acknowledged: unlike a champion's score, which the history
keeps at the price of a 503, no CRM was told it exists. For the same reason shadow rows never
take room the champion's rows need: while the history's queue is past ``HISTORY_SHARE`` of its
cap they are dropped too. With the history off, the challenger still scores and counts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from leadml.errors import LeadMLError, ModelLoadError
from leadml.features.encoder import FeatureEncoder
from leadml.history.rows import ScoreRecord
from leadml.qualify.grades import score_0_100
from serve.model.candidate import load_checked
from serve.model.holder import LoadedModel, clip, encode, incompatibilities, prove
from serve.model.shadow_input import Translation, matrix_translation
from serve.settings import SHADOW_QUEUE_LEADS, ServeSettings

if TYPE_CHECKING:
    from leadml.history.store import ScoreHistory
    from leadml.schema.spec import LeadSchema

log = logging.getLogger("serve.shadow")

#: How long the thread gathers requests after the first one arrives, and the batch it aims for.
LINGER_S = 0.2
BATCH_LEADS = 500
#: Longest the server's stop waits for the queue to be scored (then the history writes it).
CLOSE_S = 2.0
#: Share of the history's queue past which shadow rows are dropped rather than queued.
HISTORY_SHARE = 0.5

#: One request's shadow work: tenant, validated lead dicts, lead ids, time.time() at answer,
#: the matrix the champion scored and the champion's encoder (what that matrix means).
Job = tuple[str, list[dict[str, Any]], list[str | None], float, np.ndarray, FeatureEncoder]


class ShadowScorer:
    """The challenger, its bounded queue and the one thread that scores and records for it."""

    def __init__(
        self,
        loaded: LoadedModel,
        history: ScoreHistory | None,
        *,
        queue: int = SHADOW_QUEUE_LEADS,
        linger_s: float = LINGER_S,
        batch_leads: int = BATCH_LEADS,
    ) -> None:
        self.loaded = loaded
        self.history = history
        self.queue_limit = queue
        self.linger_s = linger_s
        self.batch_leads = batch_leads
        self._jobs: deque[Job] = deque()
        self._queued = 0  # leads in _jobs
        self._in_flight = 0  # leads of the batch being scored
        self._cond = threading.Condition(threading.Lock())
        self._closing = False
        self._recording = threading.Lock()
        self._abandoned = False  # close gave up waiting: the batch in flight is not recorded
        self._dropping = False  # in a burst of drops (logged at its start and its end)
        self._burst = 0
        self._failed_submit = False
        #: id of a champion's encoder → (that encoder, how to read the challenger's input off it)
        self._translations: dict[int, tuple[FeatureEncoder, Translation | None]] = {}
        #: How the last batch's input was made (None before the first): for the status.
        self.input: str | None = None
        self._thread: threading.Thread | None = None
        self.scored = 0
        self.recorded = 0
        self.dropped = 0
        self.last_error: str | None = None

    @classmethod
    def for_settings(
        cls, settings: ServeSettings, api_schema: LeadSchema, history: ScoreHistory | None
    ) -> ShadowScorer | None:
        """The challenger ``settings.shadow_ref`` names, proved like a reload's candidate (None
        without one); ``ModelLoadError`` in one line when it cannot serve the API's leads.

        It goes through the child-process check before it is loaded here (unlike the champion,
        it was never served: a model that crashes LightGBM on a real lead would take the server
        down with the first request the shadow scores), then scores the test leads here too.
        A challenger refused stops the start, as a champion refused does: ``--shadow`` is the
        operator's explicit request, and a server that came up without it would compare
        nothing while seeming to, for as long as nobody reads the log; a start that fails is
        seen at once, in the deploy that asked for it.
        """
        ref = settings.shadow_ref
        if not ref:
            return None
        try:
            model = load_checked(
                ref,
                tracking_uri=settings.tracking_uri,
                framework=settings.framework,
                key=settings.bundle_key,
                timeout_s=settings.reload_timeout_s,
            )
            prove(model, ref, settings.framework)
        except LeadMLError as exc:
            raise ModelLoadError(f"shadow model: {exc}") from None
        loaded = LoadedModel(model=model, ref=ref, framework=settings.framework)
        problems = incompatibilities(api_schema, loaded.model.schema)
        if problems:
            raise ModelLoadError(
                f"shadow model {clip(ref)} takes different inputs than the served API ("
                + "; ".join(problems)
                + "): it could not score the leads the champion is sent"
            )
        return cls(loaded, history, queue=settings.shadow_queue)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="shadow-scoring", daemon=True)
        self._thread.start()
        log.info(
            "shadow: %s (from %s) scores every request in the background",
            self.loaded.version,
            clip(self.loaded.ref),
        )
        if self.history is None:
            log.warning("shadow: the score history is off, so shadow scores are counted, not kept")

    def close(self, timeout: float = CLOSE_S) -> None:
        """Score what is queued within ``timeout``, then stop; the rest is dropped (counted).

        Called before the history's own close, which then writes the rows recorded here.
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._recording, self._cond:
            self._abandoned = True
            left = self._queued + self._in_flight
            self._jobs.clear()
            self._queued = self._in_flight = 0
            self.dropped += left
        if left:
            log.warning("shadow: %d shadow scores not made before shutdown (dropped)", left)

    def status(self) -> dict[str, Any]:
        """What ``/ready`` shows: the challenger and what became of its work."""
        with self._cond:
            pending = self._queued + self._in_flight
        return {
            "model_version": self.loaded.version,
            "ref": clip(self.loaded.ref),
            "scored": self.scored,
            "recorded": self.recorded,
            "dropped": self.dropped,
            "pending": pending,
            "queue_limit": self.queue_limit,
            "stored": self.history is not None,
            "input": self.input,
            "error": self.last_error,
        }

    # -- the request's side ----------------------------------------------------------------------
    def submit(
        self,
        tenant: str,
        leads: list[dict[str, Any]],
        ids: list[str | None],
        x: np.ndarray,
        encoder: FeatureEncoder,
    ) -> None:
        """Queue a request's leads for the challenger: O(1), never blocks, never raises.

        ``x`` is the matrix the champion scored, by ``encoder``: the challenger reads its input
        off it when it can (:mod:`serve.model.shadow_input`). Everything is kept by reference, not
        copied: the request is done with it.
        """
        try:
            n = len(leads)
            with self._cond:
                if not self._closing and self._queued + n <= self.queue_limit:
                    was_empty = not self._queued
                    self._jobs.append((tenant, leads, ids, time.time(), x, encoder))
                    self._queued += n
                    # Wake the thread to start a batch, or when one is full; not per request.
                    if was_empty or self._queued - n < self.batch_leads <= self._queued:
                        self._cond.notify()
                    return
                first = self._note_drop(n) and not self._closing
            if first:
                log.warning(
                    "shadow: queue full (%d leads waiting): shadow scores are dropped until it "
                    "catches up; answers are not affected",
                    self._queued,
                )
        except Exception:  # the champion's answer must go out whatever happens here
            self.dropped += 1
            if not self._failed_submit:
                self._failed_submit = True
                log.exception("shadow: a request's leads could not be queued (dropped)")

    def _note_drop(self, n: int) -> bool:
        """Count ``n`` dropped scores (caller holds the lock); True when a burst starts."""
        self.dropped += n
        self._burst += n
        first, self._dropping = not self._dropping, True
        return first

    # -- the thread's side -----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._closing:
                    self._cond.wait()
                if not self._jobs:
                    return  # closing, and everything queued was scored
                self._gather()
                jobs = self._take()
            self._score(jobs)
            with self._cond:
                self._in_flight = 0
                ended = self._burst if self._dropping and not self._jobs else 0
                if ended:
                    self._dropping, self._burst = False, 0
            if ended:
                log.warning("shadow: caught up; %d shadow scores were dropped in that burst", ended)

    def _gather(self) -> None:
        """Let more requests join the batch, up to ``linger_s`` (``wait`` releases the lock);
        not when the batch is full or the server stops."""
        deadline = time.monotonic() + self.linger_s
        while self._queued < self.batch_leads and not self._closing:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _take(self) -> list[Job]:
        """Whole requests off the queue, about ``batch_leads`` leads (caller holds the lock)."""
        jobs: list[Job] = []
        taken = 0
        while self._jobs and (not jobs or taken + len(self._jobs[0][1]) <= self.batch_leads):
            job = self._jobs.popleft()
            jobs.append(job)
            taken += len(job[1])
        self._queued -= taken
        self._in_flight = taken
        return jobs

    def _matrix(self, jobs: list[Job]) -> np.ndarray:
        """The batch as the challenger's input: read off the champion's matrices, or encoded
        from the leads when the champion's encoding does not carry what it reads."""
        parts = []
        for _, leads, _, _, x, encoder in jobs:
            translate = self._translation(encoder)
            parts.append(translate(x) if translate else encode(self.loaded, leads))
            self.input = "champion's matrix" if translate else "encoded"
        return parts[0] if len(parts) == 1 else np.vstack(parts)

    def _translation(self, encoder: FeatureEncoder) -> Translation | None:
        """Worked out once per champion (a reload brings a new one); only this thread asks."""
        known = self._translations.get(id(encoder))
        if known is not None and known[0] is encoder:
            return known[1]
        translate = matrix_translation(encoder, self.loaded.model.encoder)
        if len(self._translations) >= 4:
            self._translations.clear()
        self._translations[id(encoder)] = (encoder, translate)
        how = (
            "reads its input off the champion's encoded leads"
            if translate
            else "encodes the leads itself (the champion's encoding lacks some of its inputs)"
        )
        log.info("shadow: %s %s", self.loaded.version, how)
        return translate

    def _score(self, jobs: list[Job]) -> None:
        count = sum(len(job[1]) for job in jobs)
        try:
            model = self.loaded.model
            x = self._matrix(jobs)
            probabilities = model.predict_proba(x, num_threads=1)
            scores = score_0_100(probabilities).tolist()
            grades = model.grades(probabilities, x).tolist()
            self.scored += count
            self.last_error = None  # the status says what is happening now; the log, what was
            if self.history is not None:
                self._record(jobs, probabilities.tolist(), scores, grades)
        except Exception as exc:  # a challenger that fails costs its own scores, nothing else
            with self._cond:
                self.dropped += count  # no burst: each new error is logged on its own
            why = f"{type(exc).__name__}: {exc}"
            if why != self.last_error:
                log.error(
                    "shadow: %s failed to score %d leads: %s", self.loaded.version, count, clip(why)
                )
            self.last_error = why

    def _record(
        self, jobs: list[Job], probabilities: list[float], scores: list[int], grades: list[str]
    ) -> None:
        """Rows for the leads with an id, marked shadow; no feature values: the champion's row
        of the same request already holds what the lead said."""
        assert self.history is not None
        version = self.loaded.version
        records = []
        i = 0
        for tenant, _, ids, stamp, _, _ in jobs:
            at = datetime.fromtimestamp(stamp, UTC)
            for lead_id in ids:
                if lead_id is not None:
                    records.append(
                        ScoreRecord(
                            tenant,
                            lead_id,
                            version,
                            probabilities[i],
                            scores[i],
                            grades[i],
                            at,
                            None,
                            shadow=True,
                        )
                    )
                i += 1
        if not records:
            return
        waiting = self.history.status()["pending"]
        if waiting + len(records) > self.history.queue_limit * HISTORY_SHARE:
            with self._cond:
                first = self._note_drop(len(records))
        else:
            first = False
            with self._recording:  # not the queue's lock: requests never wait for this
                if self._abandoned:
                    return  # close has counted them as dropped
                self.history.record(records)
                self.recorded += len(records)
        if first:
            log.warning(
                "shadow: the score history is behind (%d scores waiting): shadow scores are "
                "dropped so that served ones keep their room",
                waiting,
            )
