"""The scoring work behind ``/v1/score`` and ``/v1/explain``: the routes parse and answer.

``fields`` turns validated leads into dicts and refuses leads that give too few fields;
``recording`` admits a batch to the score history and writes its scores; ``predict`` runs
the model (numpy, one-thread LightGBM, no pandas); ``scorer`` does one request, in order,
on the event loop or a worker thread.
"""
