"""gpuplan: plan GPU capacity and commitments from forecast distributions, validated in simulation.

The top floor: the CLI, the end-to-end plan pipeline, reports and executors.  It builds on the three
engines (``forecasting``, ``simulator``, ``optimizer``) and the shared vocabulary in ``scenarios``.
"""

__version__ = "0.1.0"
