"""The business case: capital cost of the new hosts against the yearly savings.

Yearly running cost, before (the source servers) and after (the hosts), is the sum of

- energy: the plan's facility electricity cost (``cost_per_year_before`` / ``_after``);
- licences: per physical core (SMT threads are free), ``none``, ``vsphere`` (a subscription
  per core per year, at least 16 cores per CPU) or ``windows`` (Windows Server Datacenter, a
  perpetual licence per 16-core pack, at least 16 cores per server, spread over
  ``licence_years``); the licence is taken to cover every physical machine, before and after;
- maintenance: ``maintenance_pct`` of the hardware's price a year (source servers at their
  catalogue model's price, hosts at the host price);
- rack space: rack units x ``rack_usd_per_u_year``.

The capital cost is hosts x host price. With the yearly saving ``S`` = before - after:
payback = capital / S x 12 months (none if S <= 0); TCO over ``n`` years = n x yearly cost
before, and capital + n x yearly cost after (undiscounted); NPV over ``n`` years at rate ``r``
= -capital + S x (1 - (1 + r)^-n) / r, savings counted at each year's end.

A source server whose inventory ``model`` names a catalogue model takes that model's rack units,
sockets and price; any other takes those of the default source model
(:data:`~consolidate.models.constants.SOURCE_DEFAULT_MODEL`, the one its power curve defaults to),
its sockets capped at its cores.

References
----------
.. [1] VMware vSphere Foundation per-core subscription, 2024 reports (secondary, unverified).
.. [2] Microsoft Windows Server 2025 Datacenter pricing, 2025 (secondary source).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np

from consolidate.models import catalog, constants
from consolidate.models.hardware import HostModel
from consolidate.models.trace import Inventory
from consolidate.options import BUSINESS, LICENCES

HORIZONS_YEARS = (3, 5)
CURRENCY = "USD"

#: What each licence's ``licence_price_usd`` is counted in, and its default.
LICENCE_PRICE_UNIT = {
    "none": "",
    "vsphere": "USD per core per year",
    "windows": "USD per 16-core pack (perpetual)",
}
LICENCE_DEFAULT_PRICE_USD = {
    "none": 0.0,
    "vsphere": float(constants.VSPHERE_USD_PER_CORE_YEAR.value),
    "windows": float(constants.WINDOWS_DC_USD_PER_16_CORES.value),
}
WINDOWS_PACK_CORES = 16


_DEFAULT = {o.name: o.default for o in BUSINESS}


@dataclass(frozen=True)
class BusinessInputs:
    """The business case's inputs; each is a ``plan`` / ``report`` option with a sourced default
    (:data:`consolidate.options.BUSINESS`).

    ``licence_price_usd`` None = the licence's default price (in :data:`LICENCE_PRICE_UNIT`);
    ``host_price_usd`` None = the host model's catalogue price. ``maintenance_pct`` is percent
    of the hardware price a year; ``discount_rate`` a fraction a year.
    """

    licence: str = _DEFAULT["licence"]
    licence_before: str = _DEFAULT["licence_before"]
    currency: str = _DEFAULT["currency"]
    licence_price_usd: float | None = _DEFAULT["licence_price_usd"]
    licence_years: float = _DEFAULT["licence_years"]
    maintenance_pct: float = _DEFAULT["maintenance_pct"]
    rack_usd_per_u_year: float = _DEFAULT["rack_usd_per_u_year"]
    discount_rate: float = _DEFAULT["discount_rate"]
    host_price_usd: float | None = _DEFAULT["host_price_usd"]

    def __post_init__(self) -> None:
        from consolidate.settings import check_values

        for name, value in check_values(BUSINESS, asdict(self)).items():
            object.__setattr__(self, name, value)

    @property
    def licence_price(self) -> float:
        """The licence's price in its unit (:data:`LICENCE_PRICE_UNIT`), USD."""
        return LICENCE_DEFAULT_PRICE_USD[self.licence] if self.licence_price_usd is None else self.licence_price_usd

    def licence_usd_per_core_year(self) -> float:
        """Yearly cost of one licensed core, USD."""
        if self.licence == "windows":
            return self.licence_price / WINDOWS_PACK_CORES / self.licence_years
        return self.licence_price

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict | None, **overrides) -> "BusinessInputs":
        """Inputs stored in a summary.json (unknown keys ignored), with ``overrides`` that are not None."""
        names = {f.name for f in fields(cls)}
        merged = {k: v for k, v in (values or {}).items() if k in names}
        given = {k: v for k, v in overrides.items() if v is not None}
        if given.get("licence", merged.get("licence")) != merged.get("licence") and "licence_price_usd" not in given:
            merged.pop("licence_price_usd", None)  # a price given for another licence does not carry over
        merged.update(given)
        return cls(**merged)


def licensed_cores(cores: np.ndarray, sockets: np.ndarray, licence: str) -> np.ndarray:
    """Cores each machine licenses, float64: physical cores with the licence's minimums.

    ``none``: the physical cores; ``vsphere``: at least 16 per CPU, ref [1]; ``windows``: at least
    16 per server, ref [2].
    """
    cores = np.asarray(cores, dtype=np.float64)
    sockets = np.maximum(np.asarray(sockets, dtype=np.float64), 1.0)
    if licence == "vsphere":
        return sockets * np.maximum(float(constants.VSPHERE_MIN_CORES_PER_CPU.value), cores / sockets)
    if licence == "windows":
        return np.maximum(float(constants.WINDOWS_MIN_CORES_PER_SERVER.value), cores)
    return cores


def estate_facts(
    inventory: Inventory, host: HostModel, hosts_after: int, host_counts: Sequence[tuple[HostModel, int]] | None = None,
) -> dict:
    """What the business case needs to know of the machines before and after (summary["estate"]).

    Rack units, hardware price (USD) and licensed cores per licence scheme of the source servers
    (all of them) and of the ``hosts_after`` hosts of model ``host``; for a mix of models,
    ``host_counts`` gives each model and its host count, and the figures after are sums over them
    (``hardware_usd_after``: the sum of every host's catalogue price, None when one is unknown).
    """
    default = catalog.get_host(str(constants.SOURCE_DEFAULT_MODEL.value))
    n = len(inventory.server_ids)
    rack_u = np.full(n, default.rack_units)
    price_usd = np.full(n, default.price_usd)
    sockets = np.full(n, float(default.sockets))
    matched = np.zeros(n, dtype=bool)
    models = np.asarray(inventory.model, dtype=object)
    for text in {str(m) for m in models if isinstance(m, str) and m}:
        model = catalog.find_model(text)
        if model is not None:
            rows = models == text
            rack_u[rows], price_usd[rows], sockets[rows] = model.rack_units, model.price_usd, model.sockets
            matched |= rows
    cores = np.asarray(inventory.cores, dtype=np.float64)
    sockets = np.where(matched, sockets, np.minimum(sockets, np.maximum(cores, 1.0)))
    models = list(host_counts) if host_counts else [(host, int(hosts_after))]
    if len(models) == 1:  # a mix that kept one model: that model's facts
        host = models[0][0]
    host_price = float(host.price_usd)
    hardware_after = float(sum(m.price_usd * n for m, n in models))
    licensed_after = {
        lic: float(sum(licensed_cores(np.array([m.cores]), np.array([m.sockets]), lic)[0] * n for m, n in models))
        for lic in LICENCES
    }
    mix = len(models) > 1
    return {
        "servers": n,
        "servers_with_catalogue_model": int(matched.sum()),
        "default_source_model": default.name,
        "rack_units_before": float(rack_u.sum()),
        "hardware_usd_before": float(price_usd.sum()),
        "physical_cores_before": float(cores.sum()),
        "licensed_cores_before": {lic: float(licensed_cores(cores, sockets, lic).sum()) for lic in LICENCES},
        "hosts": int(hosts_after),
        "host_model": " + ".join(f"{n} x {m.name}" for m, n in models) if mix else host.name,
        "host_rack_units": float(host.rack_units),
        "host_price_usd": host_price if math.isfinite(host_price) else None,
        "host_cores": int(host.cores),
        "host_sockets": int(host.sockets),
        "hosts_by_model": [
            {"model": m.name, "hosts": int(n), "price_usd": float(m.price_usd) if math.isfinite(m.price_usd) else None,
             "rack_units": float(m.rack_units), "cores": int(m.cores), "sockets": int(m.sockets)}
            for m, n in models
        ],
        "hardware_usd_after": hardware_after if math.isfinite(hardware_after) else None,
        "rack_units_after": float(sum(m.rack_units * n for m, n in models)),
        "physical_cores_after": float(sum(m.cores * n for m, n in models)),
        "licensed_cores_after": licensed_after,
    }


def annuity_factor(rate: float, years: int) -> float:
    """Present value of 1 a year for ``years`` years at ``rate``, paid at each year's end."""
    if rate == 0:
        return float(years)
    return (1.0 - (1.0 + rate) ** -years) / rate


def npv(capital: float, yearly_saving: float, rate: float, years: int) -> float:
    """Net present value of spending ``capital`` now to save ``yearly_saving`` a year, USD."""
    return -capital + yearly_saving * annuity_factor(rate, years)


def payback_months(capital: float, yearly_saving: float) -> float | None:
    """Months until the savings repay ``capital`` (undiscounted); None if they never do."""
    if not yearly_saving > 0:
        return None
    return 12.0 * capital / yearly_saving


def payback_text(case: dict) -> str:
    """A business case's payback in words: ``18.5 months``, ``never`` (no yearly saving) or ``n/a``
    (no capital cost: the host price is unknown)."""
    capital = case["capital_cost"]
    if capital is None or not math.isfinite(capital):
        return "n/a"
    if case["payback_months"] is None:
        return "never"
    return f"{case['payback_months']:,.1f} months"


def _num(value) -> float:
    return float("nan") if value is None else float(value)


def business_case(summary: dict, inputs: BusinessInputs | None = None) -> dict:
    """The business case of a plan from its summary (``summary["estate"]`` and the energy costs).

    Returns summary.json's ``business_case``: the inputs as given (None = default), the prices
    used, capital cost, yearly costs before and after by item, yearly saving, payback (months),
    TCO and NPV over 3 and 5 years, all USD.
    Figures that need an unknown host price (a ``--host-spec`` host without ``--host-price``)
    are NaN (null in JSON). The capital cost is the sum of every host's catalogue price (a mix
    of models: each at its own price), or ``--host-price`` for every host when given.
    """
    inputs = inputs or BusinessInputs()
    est = summary["estate"]
    if inputs.host_price_usd is not None:
        host_price = inputs.host_price_usd
        capital = est["hosts"] * host_price
    elif len(est.get("hosts_by_model", ())) > 1:
        capital = _num(est["hardware_usd_after"])
        host_price = capital / est["hosts"] if est["hosts"] else float("nan")  # the mix's average
    else:
        host_price = _num(est["host_price_usd"])
        capital = est["hosts"] * host_price
    per_core = inputs.licence_usd_per_core_year()
    maintenance = inputs.maintenance_pct / 100.0
    before = {
        "energy": float(summary["cost_per_year_before"]),
        "licences": est["licensed_cores_before"][inputs.licence] * per_core,
        "maintenance": est["hardware_usd_before"] * maintenance,
        "rack": est["rack_units_before"] * inputs.rack_usd_per_u_year,
    }
    after = {
        "energy": float(summary["cost_per_year_after"]),
        "licences": est["licensed_cores_after"][inputs.licence] * per_core,
        "maintenance": capital * maintenance,
        "rack": est["rack_units_after"] * inputs.rack_usd_per_u_year,
    }
    before["total"] = sum(before.values())
    after["total"] = sum(after.values())
    saving = before["total"] - after["total"]
    result = {
        "currency": CURRENCY,
        "inputs": inputs.to_dict(),
        "licence_price_usd": inputs.licence_price,
        "licence_price_unit": LICENCE_PRICE_UNIT[inputs.licence],
        "licence_usd_per_core_year": per_core,
        "host_price_usd": host_price,
        "host_price_from": "--host-price" if inputs.host_price_usd is not None else "catalogue",
        "capital_cost": capital,
        "yearly_cost_before": before,
        "yearly_cost_after": after,
        "yearly_saving": saving,
        "payback_months": payback_months(capital, saving) if math.isfinite(capital) else None,
        "licensed_cores_before": est["licensed_cores_before"][inputs.licence],
        "licensed_cores_after": est["licensed_cores_after"][inputs.licence],
        "rack_units_before": est["rack_units_before"],
        "rack_units_after": est["rack_units_after"],
    }
    for years in HORIZONS_YEARS:
        result[f"tco_{years}y_before"] = years * before["total"]
        result[f"tco_{years}y_after"] = capital + years * after["total"]
        result[f"npv_{years}y"] = npv(capital, saving, inputs.discount_rate, years)
    return result

