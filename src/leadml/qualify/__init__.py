"""Probability → the labels sales works with: score 0–100, grade A–D, tier and funnel stage."""

from leadml.qualify.grades import GRADES, GradeBands, choose_bands, grade_table

__all__ = ["GRADES", "GradeBands", "choose_bands", "grade_table"]
