"""Which model references a reload may name; nothing is fetched before this says yes.

An admin key lets its holder choose among the operator's models, not make the server fetch from
any host it names (``http://``, ``s3://``: server-side request forgery), nor serve a bundle it
wrote itself somewhere on the disk. So a reload names either the served model's own registry
entries, ``models:/<served name>@<alias>`` or ``models:/<served name>/<version>`` (the name is
the one in the served bundle's metadata, in the operator's store), or a bundle folder that,
links resolved, lies under the models root (``LEADML_MODELS_ROOT``, default the project's
``models/``). The operator's own start-up reference stays allowed, whatever it is: they chose
it, and a reload without a body or a SIGHUP loads it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from leadml.errors import LeadMLError
from leadml.tracking.references import is_registry_reference

REGISTRY_PREFIX = "models:/"
#: What MLflow allows in an alias, and a registry version number.
ALIAS = re.compile(r"[A-Za-z0-9_-]{1,255}")
VERSION = re.compile(r"[1-9][0-9]{0,9}")


class RefusedReference(LeadMLError):
    """A reload named something this server may not load; nothing was fetched."""


@dataclass(frozen=True)
class ReloadScope:
    """What a reload may name on this server."""

    #: The operator's start-up reference (``--model`` / ``LEADML_MODEL_REF``).
    startup: str
    #: The served model's registered name (None: it is not a registered model).
    served_name: str | None
    #: Bundle folders must resolve under this folder (None: no folder may be named).
    root: Path | None

    def allowed(self) -> str:
        """The forms a reference may take here, for a refusal to quote."""
        forms = []
        if self.served_name:
            forms.append(f"models:/{self.served_name}@<alias>, models:/{self.served_name}/<n>")
        if self.root is not None:
            forms.append(f"a bundle folder under {self.root}")
        return " or ".join(forms) or "nothing but the start-up model (reload without a body)"

    def check(self, ref: str) -> str:
        """The reference to load (a folder: its resolved path), or ``RefusedReference``."""
        if ref == self.startup:
            return ref
        if "\0" in ref:
            raise RefusedReference("reload refused: the reference holds a NUL character")
        if ref.startswith(REGISTRY_PREFIX):
            return self._registry(ref)
        if is_registry_reference(ref):
            scheme = ref.split(":", 1)[0]
            raise RefusedReference(
                f"reload refused: '{scheme}:' references are not allowed; a reload may name "
                f"{self.allowed()}"
            )
        return self._folder(ref)

    def _registry(self, ref: str) -> str:
        prefix = f"{REGISTRY_PREFIX}{self.served_name}"
        rest = ref.removeprefix(prefix) if self.served_name and ref.startswith(prefix) else ""
        if (rest[:1] == "@" and ALIAS.fullmatch(rest[1:])) or (
            rest[:1] == "/" and VERSION.fullmatch(rest[1:])
        ):
            return ref
        raise RefusedReference(
            f"reload refused: {ref} is not the served model's own registry entry; a reload "
            f"may name {self.allowed()}"
        )

    def _folder(self, ref: str) -> str:
        if self.root is None:
            raise RefusedReference(
                f"reload refused: no models root is set; a reload may name {self.allowed()}"
            )
        path = Path(ref)
        try:
            resolved = (path if path.is_absolute() else self.root / path).resolve()
        except (OSError, RuntimeError):  # a link loop, a name too long
            raise RefusedReference(f"reload refused: {ref} cannot be resolved") from None
        if resolved == self.root or not resolved.is_relative_to(self.root):
            raise RefusedReference(
                f"reload refused: {ref} is not a folder under the models root {self.root} "
                "(links resolved); a reload may name " + self.allowed()
            )
        return str(resolved)
