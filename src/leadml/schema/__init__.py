"""The lead schema: what each column of a lead table means, and the vocabulary of criteria.

Everything downstream (validation, features, explanations, the API's request models) is read
from one ``LeadSchema``; see :mod:`leadml.schema.spec`.
"""

from leadml.schema.criteria import BANT
from leadml.schema.spec import DATE_KINDS, DEFAULT_MISSING, FeatureSpec, LeadSchema, bundled_schema

__all__ = ["BANT", "DATE_KINDS", "DEFAULT_MISSING", "FeatureSpec", "LeadSchema", "bundled_schema"]
