"""The scoring service: FastAPI for CRMs and a page for sales ops, around one served model.

It imports the library's scoring and explanation code, never its training, Dask or MLflow
(except to resolve a registry reference when loading a model).
"""
