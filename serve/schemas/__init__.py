"""Every request and response body of the service, in one place: they are the documentation.

``request_models`` builds the lead bodies from the served schema; ``outcomes`` holds the
body of ``POST /v1/outcomes``, ``admin`` those of ``/v1/admin``; ``response_models`` what
every other route answers.
"""
