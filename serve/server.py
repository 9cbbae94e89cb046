"""Run the service with uvicorn: the loopback rule, the Host allow-list, SIGHUP reloads.

One worker process is the design: a request costs well under a millisecond of CPU, and one
process keeps one model in memory and one history writer. Run more replicas behind a load
balancer to scale out.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys
import threading

import uvicorn
from fastapi import FastAPI

from leadml.errors import LeadMLError
from serve.app import create_app
from serve.settings import ServeSettings, is_loopback
from serve.shutdown import StoppingServer, drain_s

log = logging.getLogger("serve")

#: uvicorn's exit status when the server could not start (e.g. the port is taken).
STARTUP_FAILURE = 3

#: How long a thread that wants the GIL waits before the interpreter asks the holder to let go
#: (Python's default is 5 ms). The event loop shares the GIL with the history writer and the
#: worker threads of big batches; with the default, a single-lead request that needed the GIL
#: back could wait up to 5 ms for it, which is what set the p99. 0.5 ms took the p99 of one
#: sequential client from 4.1-5.1 ms to 3.8 ms on a 2-core machine (bench/bench_serve.py).
SWITCH_INTERVAL_S = 0.0005


def check_bind(settings: ServeSettings, host: str) -> None:
    """An API without keys is open to anyone who can reach it: then only loopback may."""
    if not settings.keys and not is_loopback(host):
        raise LeadMLError(
            f"refusing to listen on {host} without API keys: anyone on the network could use "
            "the API. Set LEADML_API_KEYS=<key>[,<key>...] or use --host 127.0.0.1"
        )


def is_wildcard(host: str) -> bool:
    """0.0.0.0, :: and the empty host: every interface, so no one name clients will use."""
    try:
        return host.strip() == "" or ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def allow_bind_host(settings: ServeSettings, host: str) -> ServeSettings:
    """``settings`` whose Host allow-list also holds ``host``, when it is one specific address.

    ``--host 10.0.0.5`` means clients will write ``Host: 10.0.0.5``; answering them must not
    need a second setting. An IPv6 address is added as clients send it, in brackets.
    """
    hosts = settings.hosts
    if "*" in hosts or is_wildcard(host):
        return settings
    name = host.strip()
    try:
        if ipaddress.ip_address(name.strip("[]")).version == 6:
            name = f"[{name.strip('[]')}]"
    except ValueError:
        pass  # a host name
    if name.lower() in (h.lower() for h in hosts):
        return settings
    return settings.model_copy(update={"allowed_hosts": ",".join([*hosts, name])})


def install_sighup(app: FastAPI) -> None:
    """``kill -HUP <pid>`` reloads the model reference in the background (outcome in the log)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGHUP"):
        return
    holder = app.state.holder

    def on_hup(_signum: int, _frame: object) -> None:
        log.info("SIGHUP: reloading %s", holder.current.ref)
        threading.Thread(target=holder.reload_quietly, name="sighup-reload", daemon=True).start()

    signal.signal(signal.SIGHUP, on_hup)


def run(
    settings: ServeSettings,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Check the bind rule, load the model (errors surface before any socket opens), serve."""
    check_bind(settings, host)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")
    settings = allow_bind_host(settings, host)
    if is_wildcard(host) and "*" not in settings.hosts:
        log.warning(
            "listening on every interface but answering only Host names %s: set "
            "LEADML_ALLOWED_HOSTS to the names clients use (or '*')",
            ",".join(settings.hosts),
        )
    app = create_app(settings)
    install_sighup(app)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=drain_s(settings.shutdown_s),
    )
    server = StoppingServer(config, settings.shutdown_s)
    server.run()
    if not server.started:  # what uvicorn.run does when the socket could not be opened
        sys.exit(STARTUP_FAILURE)
