"""The errors leadml raises for bad input: each one a single line a user can act on.

The CLI prints these without a traceback and exits non-zero; the API maps them to 4xx.
Anything else escaping is a bug in leadml, not in the user's data.
"""


class LeadMLError(Exception):
    """Base class: a problem with the user's input or setup, explained in one line."""


class SchemaError(LeadMLError):
    """The schema file is missing, malformed, or does not match the data."""


class DataError(LeadMLError):
    """The lead table cannot be used as it is (names the column and example rows)."""


class ModelLoadError(LeadMLError):
    """A model bundle or registry reference cannot be loaded."""


class TrackingError(LeadMLError):
    """The MLflow store cannot be reached or written."""
