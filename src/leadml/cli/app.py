"""``leadml``: the command line, one verb per stage (typer + rich).

Each command is a thin shell over a library function, kept in a module per stage (``data``,
``train``, ``score``, ``registry``, ``serve``, ``demo``) and registered on one app here, so the
verbs stay flat (``leadml train``, not ``leadml modeling train``). Input problems
(``LeadMLError``) print one red line and exit with code 2, never a traceback; set
``LEADML_DEBUG=1`` to see one.
"""

from __future__ import annotations

from typing import Annotated

import typer
from typer.core import TyperOption

from leadml.cli.shell import friendly
from leadml.version import __version__


def _flags_without_a_type() -> None:
    """Typer 0.29's rich help prints ``<bool>`` beside a flag, which takes no value at all
    (``--explain``, not ``--explain true``); show nothing there, as click's plain help does."""
    show_type = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag else show_type(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_without_a_type()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"leadml {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="leadml",
    help="Open lead conversion scoring: train, score and explain leads against BANT.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print leadml's version and exit."
        ),
    ] = False,
) -> None:
    """Open lead conversion scoring: train, score and explain leads against BANT."""


def _register() -> None:
    """Every verb, flat on the one app; ``schema`` and ``history`` are groups of their own
    (``schema infer``, ``history purge``)."""
    from leadml.cli import (
        accounts,
        audit,
        data,
        demo,
        history,
        monitor,
        opt_outs,
        outcomes,
        registry,
        retrain,
        score,
        serve,
        thresholds,
        train,
    )

    app.add_typer(data.schema_app, name="schema")
    app.add_typer(history.history_app, name="history")
    app.add_typer(outcomes.outcomes_app, name="outcomes")
    app.add_typer(opt_outs.opt_outs_app, name="opt-outs")
    for command in (
        data.generate,
        train.train,
        score.score,
        score.explain_command,
        score.evaluate,
        accounts.accounts,
        registry.promote,
        registry.rollback,
        registry.versions,
        thresholds.thresholds,
        retrain.retrain,
        monitor.monitor,
        audit.audit,
        serve.serve,
        demo.demo,
    ):
        app.command(name=command.__name__.removesuffix("_command"))(friendly(command))


_register()


def main() -> None:  # pragma: no cover - console-script shim
    app(prog_name="leadml")
