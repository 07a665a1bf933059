"""FinOps operations on a billing export: anomalies, budget variance, breach probability, chargeback, tags.

:func:`~gpuplan.monitor.run.run_monitor` runs them all on a FOCUS or CUR export; the pure table operations
live in ``scenarios`` (:mod:`scenarios.chargeback`, :mod:`scenarios.variance`, :mod:`scenarios.tagging`).
"""
