"""The fairness audit: how the SQL cut-off treats groups of leads, and which features stand in
for an audit column (age, marital status) the model never sees.

``audit_leads`` (:mod:`leadml.fairness.audit`) is the entry: training and ``leadml audit`` call
it with the audit columns, the model's features, its probabilities and, where known, outcomes.
Only aggregates leave this package: group labels and figures, never a lead's value.
"""
