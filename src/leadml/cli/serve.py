"""``leadml serve``: the scoring API for CRMs and the page for sales ops."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from leadml.cli.options import MODEL_HELP
from leadml.cli.shell import project_settings


def serve(
    model: Annotated[str, typer.Option(help=MODEL_HELP, metavar="REF")],
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on; beyond loopback needs LEADML_API_KEYS. A specific "
            "address is also added to the Host names answered (LEADML_ALLOWED_HOSTS).",
            metavar="ADDR",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.", metavar="PORT")] = 8000,
    history: Annotated[
        str | None,
        typer.Option(
            help="Score history: SQLAlchemy URL or 'none' (default: SQLite in the project home).",
            metavar="URL",
        ),
    ] = None,
    shadow: Annotated[
        str | None,
        typer.Option(
            help="A challenger (same forms as --model) that scores every request in the "
            "background: its scores go to the history marked shadow, never to a caller.",
            metavar="REF",
        ),
    ] = None,
    allow_sparse: Annotated[
        bool,
        typer.Option(
            "--allow-sparse",
            help="Score leads that give fewer than half of the model's fields "
            "(LEADML_MIN_FIELD_SHARE) instead of answering 422.",
        ),
    ] = False,
) -> None:
    """Serve the scoring API for CRMs and the sales-ops page (FastAPI + uvicorn)."""
    # The service lives in serve/, outside the library: only this verb loads it, at call
    # time, so importing leadml never imports FastAPI.
    from serve.server import run
    from serve.settings import ServeSettings

    project_settings()  # says which home (and so which store and history) is served
    overrides: dict[str, Any] = {"model_ref": model}
    if history is not None:
        overrides["history_url"] = history
    if shadow is not None:
        overrides["shadow_ref"] = shadow
    if allow_sparse:
        overrides["allow_sparse"] = True
    run(ServeSettings(**overrides), host=host, port=port)
