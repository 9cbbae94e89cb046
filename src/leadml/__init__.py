"""leadml: open, self-hosted lead conversion prediction with BANT explanations."""

__version__ = "0.1.0"
