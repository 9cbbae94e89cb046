"""The synthetic history as a CRM would export it on a day: a live funnel.

By default ``converted`` is every lead's *eventual* outcome, which no real export knows: a
CRM shows a live funnel, where the newest leads have not had time to convert and many others
are still open. ``as_of`` shows the same
leads as the CRM would that day: leads created later are left out; an eventual converter
converts a lognormal delay after creation (median 21 days, sigma 1.1: about 9 % take longer
than 90 days), a non-converter is closed as lost after a lognormal delay (median 45 days, sigma
0.8) with probability 0.7 and otherwise goes stale, never closed. Whatever has not happened by
``as_of`` is still open. ``converted`` gives way to ``status`` (spelled a few ways per class, as
CRMs mix them: :data:`STATUS_WON`, :data:`STATUS_LOST`, :data:`STATUS_OPEN`), ``converted_at``
and ``closed_at``. The delays and spellings come from a random stream of their own, drawn for
every lead whatever ``as_of`` is, so the other columns are the default table's, row for row,
and two exports of different days tell one consistent story;
:func:`leadml.data.synthetic.eventual_outcomes` gives what the exported leads really did, to
judge a model trained on the export.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.errors import LeadMLError

#: How the synthetic table writes dates and times.
STAMP = "%Y-%m-%d %H:%M:%S"

#: The as-of export's statuses, a few spellings per class as real CRMs mix them (another module
#: classifies them by these exact strings), with how often each spelling is drawn.
STATUS_WON = ("Closed Won", "Won")
STATUS_WON_P = (0.8, 0.2)
STATUS_LOST = ("Closed Lost", "Disqualified", "Unqualified")
STATUS_LOST_P = (0.6, 0.25, 0.15)
STATUS_OPEN = ("New", "Working", "Contacted", "Nurturing", "Engaging", "Prospecting")
STATUS_OPEN_P = (0.25, 0.25, 0.15, 0.15, 0.1, 0.1)
#: Days from creation to conversion: lognormal, median and sigma of its log (about 9 % of
#: conversions come after 90 days, so a young lead's open status says little yet).
WON_MEDIAN_DAYS = 21.0
WON_SIGMA = 1.1
#: Eventual non-converters closed as lost (the rest go stale, open forever), and when.
LOST_SHARE = 0.7
LOST_MEDIAN_DAYS = 45.0
LOST_SIGMA = 0.8
#: Seeds, with ``seed``, the as-of export's own random stream, apart from the main one.
AS_OF_STREAM = 20_261_101


def _fates(
    created: pd.DatetimeIndex, converted: np.ndarray, seed: int
) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, np.ndarray]:
    """When each lead converts (NaT for non-converters) or is lost (NaT for converters and
    stale leads), whatever the export's day, and the status it shows on each of those days.

    Everything is drawn for every lead, from a stream of its own, in a fixed order: a lead's
    delays depend on neither ``as_of`` nor the other leads' outcomes, so no other column moves
    and a later export never undoes what an earlier one showed.
    """
    own = np.random.default_rng([seed, AS_OF_STREAM])
    n = len(created)
    won_days = own.lognormal(np.log(WON_MEDIAN_DAYS), WON_SIGMA, n)
    lost_days = own.lognormal(np.log(LOST_MEDIAN_DAYS), LOST_SIGMA, n)
    closes = own.random(n) < LOST_SHARE
    won_word = own.choice(STATUS_WON, size=n, p=STATUS_WON_P)
    lost_word = own.choice(STATUS_LOST, size=n, p=STATUS_LOST_P)
    open_word = own.choice(STATUS_OPEN, size=n, p=STATUS_OPEN_P)

    def after(days: np.ndarray) -> pd.DatetimeIndex:
        return created + pd.to_timedelta(np.round(days * 86_400), unit="s")

    won_at = after(won_days).where(converted == 1)
    lost_at = after(lost_days).where((converted == 0) & closes)
    return won_at, lost_at, np.stack([won_word, lost_word, open_word])


def _created(frame: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(frame["created_at"], format=STAMP))


def _kept(created: pd.DatetimeIndex, moment: pd.Timestamp, as_of: str) -> np.ndarray:
    """The leads created by ``moment``; none is an error, not an empty export."""
    keep = np.asarray(created <= moment)
    if not keep.any():
        raise LeadMLError(
            f"as-of '{as_of}' is before the first lead (created {created.min():{STAMP}}): "
            "the export would be empty"
        )
    return keep


def as_of_export(frame: pd.DataFrame, seed: int, moment: pd.Timestamp, as_of: str) -> pd.DataFrame:
    """The default table as a CRM would export it at ``moment`` (see
    :func:`leadml.data.synthetic.generate_leads`)."""
    created = _created(frame)
    keep = _kept(created, moment, as_of)
    won_at, lost_at, words = _fates(created, frame["converted"].to_numpy(), seed)
    won = np.asarray(won_at <= moment)  # NaT compares False: never converts
    lost = np.asarray(lost_at <= moment)
    out = frame.drop(columns="converted")
    out["status"] = np.where(won, words[0], np.where(lost, words[1], words[2])).astype(object)
    out["converted_at"] = won_at.where(won).strftime(STAMP)
    out["closed_at"] = won_at.where(won, lost_at.where(lost)).strftime(STAMP)
    return out[keep].reset_index(drop=True)


def eventual_fates(
    frame: pd.DataFrame, seed: int, moment: pd.Timestamp | None, as_of: str | None
) -> pd.DataFrame:
    """What the leads of a default table really did, the rows an export on ``moment`` keeps
    (all without one): see :func:`leadml.data.synthetic.eventual_outcomes`."""
    created = _created(frame)
    won_at, _, _ = _fates(created, frame["converted"].to_numpy(), seed)
    out = pd.DataFrame(
        {
            "lead_id": frame["lead_id"],
            "created_at": frame["created_at"],
            "converted": frame["converted"],
            "converted_at": won_at.strftime(STAMP),
            "days_to_convert": np.asarray((won_at - created) / pd.Timedelta(days=1)),
        }
    )
    if as_of is None or moment is None:
        return out
    return out[_kept(created, moment, as_of)].reset_index(drop=True)
