"""Why a lead scored what it did: exact TreeSHAP, rolled up by qualification criteria, in words.

``attributions`` computes (one lead or a batch), ``rollup`` holds the per-model tables of which
feature feeds which criterion, ``reasons`` words a feature's value for a sales rep.
"""
