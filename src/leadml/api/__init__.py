"""The public Python API behind ``import leadml``: ``train``, ``load``, ``Model`` and
``LeadClassifier``. Import them from ``leadml``; these modules are where they live."""
