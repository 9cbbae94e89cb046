"""The HTTP API reference, written at build time from the service's own OpenAPI document.

The service is built as ``leadml serve`` builds it (``serve.app.create_app``) and asked for
``app.openapi()``: the routes, their answers and the request models the served schema makes.
The document is written beside the page (``openapi.json``) and summed up route by route, so a
route or a field that changes shows here on the next build.

The request models come from a model's schema, so a model is needed: ``LEADML_DOCS_MODEL``
(a bundle folder), else the demo's ``models/synthetic-crm`` after ``make demo``, else a small
model of the demo schema trained here, untracked, in a temporary folder (a few seconds).
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "post", "put", "patch", "delete")


def bundle_folder(scratch: Path) -> Path:
    """A bundle of the demo schema to build the service from (see the module docstring)."""
    named = os.environ.get("LEADML_DOCS_MODEL")
    if named:
        return Path(named)
    demo = ROOT / "models" / "synthetic-crm"
    if (demo / "leadml.json").is_file():
        return demo
    from leadml.config import Settings
    from leadml.data.synthetic import generate_leads
    from leadml.modeling.train import train_leads
    from leadml.schema import bundled_schema

    settings = Settings(home=scratch, num_threads=1, bootstrap=10)
    out = scratch / "bundle"
    train_leads(generate_leads(3_000, seed=7), bundled_schema(), settings, out=out, track=False)
    return out


def openapi_document() -> tuple[dict, str]:
    """``app.openapi()`` of the service serving a demo-schema model, history off; its name."""
    from serve.app import create_app
    from serve.settings import ServeSettings

    with tempfile.TemporaryDirectory(prefix="leadml-docs-") as scratch:
        bundle = bundle_folder(Path(scratch))
        settings = ServeSettings(
            home=Path(scratch), model_ref=str(bundle), history_url="none", models_root=bundle.parent
        )
        return create_app(settings).openapi(), bundle.name


def _text(value: object) -> str:
    return html.escape(" ".join(str(value or "").split()), quote=False).replace("|", "\\|")


def _schema_name(schema: dict) -> str:
    """A body or answer's model name, or its JSON type."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_schema_name(part) for part in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items', {}))}"
    return str(schema.get("type", "any"))


def route_section(path: str, method: str, operation: dict) -> list[str]:
    """One route: what it does, its parameters, its body and every answer it documents."""
    lines = [f"### `{method.upper()} {path}`", ""]
    if operation.get("summary"):
        lines += [f"**{_text(operation['summary'])}**", ""]
    if operation.get("description"):
        lines += [html.escape(operation["description"].strip(), quote=False), ""]
    parameters = operation.get("parameters", [])
    if parameters:
        lines += ["| parameter | in | type | meaning |", "|---|---|---|---|"]
        for parameter in parameters:
            kind = _schema_name(parameter.get("schema", {}))
            lines.append(
                f"| `{parameter['name']}` | {parameter['in']} | {_text(kind)} "
                f"| {_text(parameter.get('description'))} |"
            )
        lines.append("")
    body = operation.get("requestBody", {}).get("content", {})
    for media, content in body.items():
        lines += [f"Body ({media}): `{_schema_name(content.get('schema', {}))}`", ""]
    lines += ["| answer | meaning | body |", "|---|---|---|"]
    for code, answer in operation.get("responses", {}).items():
        schemas = [c.get("schema", {}) for c in answer.get("content", {}).values()]
        shape = ", ".join(f"`{_schema_name(s)}`" for s in schemas if s)
        lines.append(f"| {code} | {_text(answer.get('description'))} | {shape} |")
    return [*lines, ""]


def schema_section(name: str, schema: dict) -> list[str]:
    """One model: its fields, their types, whether required, and what they mean."""
    lines = [f"### `{name}`", ""]
    if schema.get("description"):
        lines += [_text(schema["description"]), ""]
    properties = schema.get("properties", {})
    if properties:
        required = set(schema.get("required", []))
        lines += ["| field | type | required | meaning |", "|---|---|---|---|"]
        for field, spec in properties.items():
            lines.append(
                f"| `{field}` | {_text(_schema_name(spec))} | {'yes' if field in required else ''} "
                f"| {_text(spec.get('description') or spec.get('title'))} |"
            )
        lines.append("")
    return lines


def render(document: dict, model: str) -> str:
    """The page: how to read it, every route, then every request and response model."""
    lines = [
        "# HTTP API reference",
        "",
        f"Generated from the service's OpenAPI document ({document['info']['title']} "
        f"{document['info']['version']}, OpenAPI {document['openapi']}) at every docs build;",
        "the document itself is [openapi.json](openapi.json). A running server serves the same",
        "at `/openapi.json`, with Swagger UI at `/docs`. The lead fields come from the served",
        f"model's schema (here `{model}`'s).",
        "",
        "## Routes",
        "",
    ]
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                lines += route_section(path, method, item[method])
    lines += ["## Models", ""]
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        lines += schema_section(name, schema)
    return "\n".join(lines)


# mkdocs-gen-files runs this file with runpy (run name "<run_path>"); imported, it only defines.
if __name__ == "<run_path>":
    document, model = openapi_document()
    with mkdocs_gen_files.open("reference/openapi.json", "w") as raw:
        raw.write(json.dumps(document, indent=2, ensure_ascii=False))
    with mkdocs_gen_files.open("reference/http-api.md", "w") as page:
        page.write(render(document, model))
