"""Typed leads → the model's numeric matrix, the same way at training and at serving time."""

from leadml.features.encoder import FeatureEncoder

__all__ = ["FeatureEncoder"]
