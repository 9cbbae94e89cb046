"""The served model: held, swapped only for one that proved it works, and its shadow.

``holder`` keeps the model requests read (one per request, whatever reloads happen);
``candidate`` proves a new one in a child process; ``reload_refs`` says what a reload may
name; ``shadow`` and ``shadow_input`` run a challenger beside it, never answered; ``info``
describes it for ``/v1/model``. Routes reach it through :mod:`serve.deps`.
"""
