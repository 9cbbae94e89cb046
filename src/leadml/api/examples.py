"""Example data for notebooks and doctests: the synthetic CRM history and its schema.

The history has a known generating process (BANT answers, engagement, firmographic fit) with
the mess of a real export: missing answers, CRM placeholders and personal data columns that
the schema marks as PII, so they are never features.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from leadml.schema.spec import LeadSchema


def example_leads(rows: int = 6_000, seed: int = 7) -> pd.DataFrame:
    """A synthetic lead history, the same for the same ``rows`` and ``seed``.

    Examples
    --------
    >>> leadml.example_leads(100, seed=1).shape[0]
    100
    """
    from leadml.data.synthetic import generate_leads

    return generate_leads(rows, seed=seed)


def example_schema() -> LeadSchema:
    """The schema of :func:`example_leads` (``data/schemas/synthetic.toml``).

    Examples
    --------
    >>> leadml.example_schema().target
    'converted'
    """
    from leadml.schema import bundled_schema

    return bundled_schema()
