"""gpuplan's shared vocabulary: scenario schema and loader, the table contract, units, readers, bundled data.

This is the bottom floor: it imports none of ``forecasting``, ``simulator``, ``optimizer`` or ``gpuplan``.
"""

from scenarios.errors import InfeasibleError, InputError, ScenarioError
from scenarios.loader import load_scenario
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase
from scenarios.schema import Scenario

__all__ = [
    "CapacityPlan",
    "CommitmentPurchase",
    "InfeasibleError",
    "InputError",
    "ReservedPurchase",
    "Scenario",
    "ScenarioError",
    "load_scenario",
]
