"""Outcomes posted to a live score history: the writes a server makes while it is scoring.

A server's history has scores waiting in its queue, and one writer thread that both the queue
and the outcome posts share. A post is written in transactions of ``WRITE_LEADS`` leads, with
the queued scores let through to the database before the first and between two of them, and
as long a pause as the transaction took (at most ``PACE_MAX_S``): on SQLite, eight posters of
10,000 outcomes held the score writer out for 15 s and 7 of 21 posts failed before this
(issue 27). The history was upgraded as the server started, so a post runs no migration check
(5.5 ms each) unless the history has failed since.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from leadml.history.outcomes import Outcome, OutcomeResult, record_outcomes

if TYPE_CHECKING:
    from leadml.history.store import ScoreHistory

#: Longest a post waits for queued scores to reach a healthy database (as history reads).
CATCH_UP_S = 1.0
#: Longest pause between two transactions of a post.
PACE_MAX_S = 0.25


class Written:
    """How many transactions of a post were committed: a failure says what was kept."""

    def __init__(self) -> None:
        self.chunks = 0
        self.since = 0.0  # when the current transaction began (``time.perf_counter``)


def record_posted(
    history: ScoreHistory, tenant: str, outcomes: list[Outcome], written: Written
) -> OutcomeResult:
    """On the writer's thread: let queued scores through, then store the outcomes, letting
    the scores through again between two transactions (``written`` counts them)."""

    def let_scores_through() -> None:
        if history.healthy:
            history.flush(CATCH_UP_S)

    def next_chunk() -> None:
        written.chunks += 1  # the transaction before has committed
        let_scores_through()
        # as long a pause as the chunk took: the database's write lock and the interpreter
        # are free half the time, for scoring and for other writers of the same file
        time.sleep(min(PACE_MAX_S, time.perf_counter() - written.since))
        written.since = time.perf_counter()

    let_scores_through()
    written.since = time.perf_counter()
    # A healthy history was upgraded at start (or before its last write); after a failure
    # the table may be new or gone, so it is checked again.
    return record_outcomes(
        history.engine, tenant, outcomes, upgrade=not history.healthy, between=next_chunk
    )
