"""The service's routes, one module per resource: health, scoring, history, admin, page."""
