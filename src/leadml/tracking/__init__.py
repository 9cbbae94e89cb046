"""MLflow: the store every run is logged to, the registry that names models, and the pyfunc.

Nothing here is imported by ``leadml.bundle``: a bundle folder loads without MLflow.
"""
