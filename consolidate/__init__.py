"""consolidate: a server-consolidation capacity planner.

>>> import consolidate
>>> traces = consolidate.read_traces("data/samples/traces.csv", inventory="data/samples/inventory.csv")
>>> p = consolidate.plan(traces, hypervisor="kvm", sizing="timeseries")
>>> p.summary["hosts_after"], p.placement_frame().head()

The names below load their modules on first use (as pandas does for its optional engines), so
``import consolidate`` and ``consolidate --help`` stay fast.
"""

from importlib import import_module

from consolidate.errors import InputError

#: Public name -> the module that defines it.
_PUBLIC = {
    "HostModel": "consolidate.models.hardware",
    "EstatePlan": "consolidate.sites",
    "Plan": "consolidate.planner",
    "Settings": "consolidate.settings",
    "TraceSet": "consolidate.models.trace",
    "make_settings": "consolidate.settings",
    "plan": "consolidate.planner",
    "plan_estate": "consolidate.sites",
    "read_inventory": "consolidate.io",
    "read_traces": "consolidate.io",
    "simulate_placement": "consolidate.simulate",
}

__all__ = ["InputError", *_PUBLIC]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'consolidate' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
