"""The settings reference, written at build time from the pydantic ``Field`` descriptions.

``leadml.config.Settings`` (every command) and ``serve.settings.ServeSettings`` (the service)
are the one place a setting is declared; this page is their table. A field without a
description stops the build, so a new setting cannot ship undocumented.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import mkdocs_gen_files
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from leadml.config import Settings
from serve.settings import ServeSettings


def environment_names(model: type[BaseSettings], name: str, field: FieldInfo) -> list[str]:
    """The variables that set ``name``: its aliases when it has them, else prefix + NAME."""
    alias = field.validation_alias
    if alias is not None:
        choices = getattr(alias, "choices", [alias])
        return [str(choice) for choice in choices]
    return [f"{model.model_config.get('env_prefix', '')}{name}".upper()]


def default_text(field: FieldInfo) -> str:
    """The default as a reader would type it; a computed default says so."""
    if field.default_factory is not None:
        return "computed at start"
    if field.default is None:
        return "unset"
    if isinstance(field.default, tuple):
        return ",".join(str(part) for part in field.default)
    return str(field.default) if str(field.default) else "empty"


def table(model: type[BaseSettings], names: Iterable[str]) -> list[str]:
    """One row per field: name, environment variables, default, description."""
    rows = ["| setting | environment | default | meaning |", "|---|---|---|---|"]
    for name in names:
        field = model.model_fields[name]
        if not (field.description or "").strip():
            raise SystemExit(
                f"{model.__module__}.{model.__name__}.{name} has no Field description: "
                "describe it (the settings reference is built from the descriptions)"
            )
        env = ", ".join(f"`{variable}`" for variable in environment_names(model, name, field))
        meaning = html.escape(" ".join(field.description.split()), quote=False)
        default = default_text(field).replace("|", "\\|")
        rows.append(f"| `{name}` | {env} | `{default}` | {meaning.replace('|', chr(92) + '|')} |")
    return rows


def render() -> str:
    """Both tables: every command's settings, then the ones only the service reads."""
    served = [name for name in ServeSettings.model_fields if name not in Settings.model_fields]
    return "\n".join(
        [
            "# Settings reference",
            "",
            "Generated from the `Field` descriptions of `leadml.config.Settings` and",
            "`serve.settings.ServeSettings` at every docs build. Every setting can be given in",
            "the environment; a command's own options win over it.",
            "",
            "## Every command (`leadml.config.Settings`)",
            "",
            *table(Settings, Settings.model_fields),
            "",
            "## The service (`serve.settings.ServeSettings`)",
            "",
            "`leadml serve` reads every setting above, and these:",
            "",
            *table(ServeSettings, served),
            "",
        ]
    )


# mkdocs-gen-files runs this file with runpy (run name "<run_path>"); imported, it only defines.
if __name__ == "<run_path>":
    with mkdocs_gen_files.open("reference/settings.md", "w") as page:
        page.write(render())
