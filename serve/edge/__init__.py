"""The service's edge: what every request meets before a route runs, and what answers for it.

Keys (``auth``), strict JSON bodies (``body``, ``body_shape``), the response headers and the
body deadline (``middleware``), the bounded 4xx answers (``errors``) and the access log with
lead ids hashed (``access_log``). Nothing here knows the model or the history.
"""
