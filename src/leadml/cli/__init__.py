"""The ``leadml`` command line (``app``); see :mod:`leadml.cli.app`."""

from leadml.cli.app import app, main

__all__ = ["app", "main"]
