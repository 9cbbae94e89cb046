"""Learning who converts: prepare the leads, fit LightGBM, calibrate, judge against baselines,
and hand a bundle to MLflow (``train.train_leads`` is the whole pipeline in one call)."""
