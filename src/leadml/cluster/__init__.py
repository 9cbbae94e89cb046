"""Lead tables larger than one process, on Dask: the same validation, scoring and training
functions as on one machine, run per partition (``client``, ``partitions``, ``score``,
``split``, ``train``)."""
