"""A trained model as a folder of plain files, and everything needed to score a lead with it."""

from leadml.bundle.model import LeadModel

__all__ = ["LeadModel"]
