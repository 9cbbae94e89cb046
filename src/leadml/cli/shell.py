"""What every command shares: one line for an input error, and the project it works in."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from leadml.cli.render import console
from leadml.config import Settings, find_home
from leadml.errors import LeadMLError

F = TypeVar("F", bound=Callable[..., Any])


def _quiet_libraries() -> None:
    """MLflow and friends are chatty; the CLI says what matters itself."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    for name in ("mlflow", "alembic", "urllib3", "distributed", "lightgbm"):
        logging.getLogger(name).setLevel(logging.ERROR)


def friendly(func: F) -> F:
    """Turn input errors into one line and exit code 2; keep tracebacks for real bugs only."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _quiet_libraries()
        try:
            return func(*args, **kwargs)
        except LeadMLError as exc:
            console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            console.print("[yellow]Interrupted.[/]")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("LEADML_DEBUG"):
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            console.print(
                f"[bold red]Error:[/] unexpected {type(exc).__name__}: {first[:300]} "
                "(set LEADML_DEBUG=1 for the traceback)",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def project_settings() -> Settings:
    """The settings, after saying which project home (and so which MLflow store) is used."""
    home, why = find_home()  # found once: the home printed is the home used
    settings = Settings(home=home)
    store = settings.tracking_uri if settings.mlflow_tracking_uri else "embedded"
    console.print(
        f"[dim]Project home: {settings.home} ({why}); MLflow store: {store}[/]",
        highlight=False,
        soft_wrap=True,
    )
    return settings
