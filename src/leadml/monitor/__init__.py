"""Monitoring a deployed model: are today's leads still the leads it learned from, and does it
still do what it promised?

Three questions, one module each, and one entry point (:mod:`leadml.monitor.report`):

* **Drift** (:mod:`leadml.monitor.drift`): the population stability index (PSI) of every
  feature, of every criterion's push and of the score, between the training leads and recent
  ones. The training side is a *reference profile* (:mod:`leadml.monitor.profile`) stored in
  the bundle at training time: bin edges and counts only, never a lead's row.
* **Performance** (:mod:`leadml.monitor.performance`): realized figures on leads whose outcome
  is known (ROC AUC, conversion per grade against what the grade promised, reliability), and
  estimated figures where outcomes have not arrived yet, from the calibrated probabilities
  (confidence-based performance estimation, as NannyML's CBPE does), always shown apart.
* **Shadow** (:mod:`leadml.monitor.shadow`): a challenger scored beside the champion on the
  same leads: how often they agree, and which ranks the converted leads better.

The recent leads come from the score history or a file (:mod:`leadml.monitor.recent`); the
result is printed by ``leadml monitor``, returned by ``GET /v1/monitor`` and drawn as a page
(:mod:`leadml.monitor.page`).

The statistics come from scipy and scikit-learn (NannyML and Evidently do not install with
leadml's pinned numpy and pandas); what is computed here is only their arrangement.
"""

from leadml.monitor.report import MonitorResult, monitor_model, write_monitor_html

__all__ = ["MonitorResult", "monitor_model", "write_monitor_html"]
