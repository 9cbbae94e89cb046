"""The CLI reference, written at build time from the typer app itself.

Every verb, sub-verb, argument and option comes from ``leadml.cli.app``: a verb added, renamed or
given a new option shows here on the next build, and a page written by hand could not keep up.
"""

from __future__ import annotations

import html

import mkdocs_gen_files
import typer.main

from leadml.cli.app import app


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (no HTML tags, no column breaks)."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def _code(text: str) -> str:
    """An option's spelling as code in a table cell: shown as typed, pipes kept in the cell."""
    return "`" + " ".join(text.split()).replace("|", "\\|") + "`"


def _commands(command, path: list[str]):
    """(path, command) for every leaf verb, in the order the app registers them."""
    children = getattr(command, "commands", None)
    if children is None:
        yield path, command
        return
    for name, child in children.items():
        if not getattr(child, "hidden", False):
            yield from _commands(child, [*path, name])


def render() -> str:
    """The whole page: the app's own help, then one section per verb."""
    root = typer.main.get_command(app)
    lines = [
        "# CLI reference",
        "",
        "Generated from the typer app (`leadml.cli.app`) at every docs build: what `leadml VERB"
        " --help` prints, verb by verb. `leadml --version` prints the version.",
        "",
    ]
    for path, command in _commands(root, ["leadml"]):
        name = " ".join(path)
        context = command.context_class(command, info_name=name)
        lines += [f"## `{name}`", "", html.escape(command.help or "", quote=False).strip(), ""]
        usage = " ".join([name, *command.collect_usage_pieces(context)])
        lines += ["```", usage, "```", ""]
        rows = [param.get_help_record(context) for param in command.params]
        rows = [row for row in rows if row]
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        for argument in arguments:
            rows.insert(0, (argument.make_metavar(context), getattr(argument, "help", "") or ""))
        if rows:
            lines += ["| option | meaning |", "|---|---|"]
            lines += [f"| {_code(opts)} | {_cell(meaning)} |" for opts, meaning in rows]
            lines.append("")
    return "\n".join(lines)


# mkdocs-gen-files runs this file with runpy (run name "<run_path>"); imported, it only defines.
if __name__ == "<run_path>":
    with mkdocs_gen_files.open("reference/cli.md", "w") as page:
        page.write(render())
