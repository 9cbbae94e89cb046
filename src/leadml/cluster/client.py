"""A Dask client: of the scheduler the user names, or of a LocalCluster that leadml starts.

Dask, not a home-made pool: it already schedules partitions over processes and machines, keeps
memory bounded by the partition, and reports progress. Workers must run leadml at the client's
version: a model scored by another version could give different scores without saying so.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from leadml.errors import LeadMLError
from leadml.version import __version__

if TYPE_CHECKING:
    from distributed import Client

#: A LocalCluster as the 2-core machines run it: one single-threaded process per core.
LOCAL_WORKERS = 2


@contextmanager
def dask_client(address: str | None = None) -> Iterator[Client]:
    """A client of the scheduler at ``address`` (else ``DASK_SCHEDULER_ADDRESS``), or of a
    LocalCluster of single-threaded worker processes that is closed on exit.

    One thread per worker: LightGBM then uses one core per partition and the workers never
    fight over the cores. Workers must run leadml at the client's version: a model pickled by one
    version and scored by another would give different scores without saying so.
    """
    import dask
    from distributed import Client, LocalCluster

    address = address or dask.config.get("scheduler-address", None)
    with ExitStack() as stack:
        try:
            if address:
                client = stack.enter_context(Client(address, timeout="15s"))
            else:
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=LOCAL_WORKERS,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                )
                client = stack.enter_context(Client(cluster))
        except (OSError, TimeoutError) as exc:
            where = f"reach the Dask scheduler at {address}" if address else "start local Dask"
            raise LeadMLError(f"cannot {where}: {first_line(exc)}") from None
        _check_workers(client, address)
        yield client


def _check_workers(client: Client, address: str | None) -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        client.wait_for_workers(1, timeout=30)
    except TimeoutError:
        raise LeadMLError(f"no Dask worker joined the scheduler at {address} in 30 s") from None
    try:
        versions = client.run(version, "leadml")
    except PackageNotFoundError:
        raise LeadMLError(
            "the Dask workers do not have leadml installed; install it on every worker"
        ) from None
    wrong = sorted({v for v in versions.values() if v != __version__})
    if wrong:
        raise LeadMLError(
            f"the Dask workers run leadml {', '.join(wrong)}, this client runs {__version__}; "
            "install the same version everywhere"
        )
    if address is None:  # our own LocalCluster: its workers print to the user's terminal
        client.run(_quiet_worker)


def _quiet_worker() -> None:
    """LightGBM's network setup prints to stdout, which a local worker shares with the user's
    terminal; errors still reach the client as exceptions, and stderr stays open."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
