"""After deployment, as library calls: the champion, retraining and promotion, monitoring, and
the outcomes a CRM sends back.

The CLI (``leadml retrain``, ``promote``, ``monitor``, ``outcomes import``), the service
(``GET /v1/monitor``, ``POST /v1/outcomes``) and the Python API call these; they only format
what comes back. Stage packages (modeling, tracking, history, monitor) sit below; nothing here
prints.
"""
