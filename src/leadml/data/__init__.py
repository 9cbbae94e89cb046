"""Lead data, from the raw export to checked, typed rows: read, parse, validate, split, audit.

``read`` and ``outcomes`` bring a table in, ``parse`` types its columns once, ``validate`` is
the one validation core (also run per partition on Dask), ``split`` cuts it by time,
``leakage`` audits the training rows, ``suggest`` proposes a schema for a new export.
"""
