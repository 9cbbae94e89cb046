"""The service's routes, one module per resource (health, scoring, history, outcomes, monitor,
admin, page): each parses, calls and answers; what several share is in ``common``."""
