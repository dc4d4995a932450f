"""consolidate: a server-consolidation capacity planner.

>>> import consolidate
>>> traces = consolidate.read_traces("data/samples/traces.csv", inventory="data/samples/inventory.csv")
>>> p = consolidate.plan(traces, hypervisor_name="kvm", sizing="timeseries")
>>> p.summary["hosts_after"], p.placement_frame().head()
"""

from consolidate.errors import InputError
from consolidate.io import read_inventory, read_traces
from consolidate.models.hardware import HostModel
from consolidate.models.trace import TraceSet
from consolidate.plan import Plan, Settings, make_settings, plan, simulate_placement

__all__ = [
    "HostModel", "InputError", "Plan", "Settings", "TraceSet", "make_settings", "plan", "read_inventory", "read_traces",
    "simulate_placement",
]
__version__ = "0.1.0"
