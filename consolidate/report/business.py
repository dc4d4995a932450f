"""The business case: capital cost of the new hosts against the yearly savings.

Yearly running cost, before (the source servers) and after (the hosts, and the servers that stay
on their own boxes: the unplaceable ones), is the sum of

- energy: the plan's facility electricity cost (``cost_per_year_before`` / ``_after``; "after"
  counts each staying server on its own power curve, as "before" does);
- licences: per physical core (SMT threads are free), ``none``, ``vsphere`` (a subscription
  per core per year, at least 16 cores per CPU) or ``windows`` (Windows Server Datacenter, a
  perpetual licence per 16-core pack, at least 16 cores per server, spread over
  ``licence_years``). The hosts run ``licence`` (``--licence``); the source servers run
  ``licence_before`` (``--licence-before``; ``auto``: ``vsphere`` when the sources are VMs on
  ESXi, read from RVTools, vSphere or esxtop, else ``none``), and so do the staying servers
  after. VMs license no cores of their own: for VM sources the count is their vCPUs, without the
  per-machine minimums (the ESXi hosts' cores are not known; with overcommit it is an upper figure);
- maintenance: ``maintenance_pct`` of the hardware's price a year (source servers at their
  catalogue model's price, hosts at the host price);
- rack space: rack units x ``rack_usd_per_u_year``.

A server retired by ``--retire-idle`` is the only one whose costs leave. The capital cost is
hosts x host price. With the yearly saving ``S`` = before - after: payback = capital / S x 12
months (none if S <= 0); TCO over ``n`` years = n x yearly cost before, and capital + n x
yearly cost after (undiscounted); NPV over ``n`` years at rate ``r`` = -capital + S x (1 - (1 +
r)^-n) / r, savings counted at each year's end.

A source server whose inventory ``model`` names a catalogue model takes that model's rack units,
sockets and price; any other takes those of the default source model
(:data:`~consolidate.models.constants.SOURCE_DEFAULT_MODEL`, the one its power curve defaults to),
its sockets capped at its cores.

Prices are in the user's currency (``currency``), not converted: the catalogue's and the
sourced defaults are USD.

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
from consolidate.models.boxes import Boxes, own_boxes
from consolidate.models.hardware import HostModel
from consolidate.models.trace import Inventory
from consolidate.options import BUSINESS, LICENCES

HORIZONS_YEARS = (3, 5)
#: The yearly cost categories, before and after.
CATEGORIES = ("energy", "licences", "maintenance", "rack")
#: How many categories ``largest_drivers`` names.
DRIVERS = 3
#: Trace formats whose servers are VMs on VMware ESXi hosts (``licence_before`` auto: vsphere).
VM_SOURCE_KINDS = ("rvtools", "vsphere", "esxtop")

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
        """The hosts' licence's price in its unit (:data:`LICENCE_PRICE_UNIT`): ``licence_price_usd``,
        else the default."""
        return LICENCE_DEFAULT_PRICE_USD[self.licence] if self.licence_price_usd is None else self.licence_price_usd

    def price_of(self, scheme: str, priced: str) -> float:
        """The price of licence ``scheme`` in its unit: ``licence_price_usd`` when given and
        ``scheme`` is ``priced`` (the scheme the given price is for), else the default."""
        given = self.licence_price_usd is not None and scheme == priced
        return self.licence_price_usd if given else LICENCE_DEFAULT_PRICE_USD[scheme]

    def per_core_year(self, scheme: str, price: float) -> float:
        """Yearly cost of one licensed core under ``scheme`` at ``price`` (its unit)."""
        if scheme == "windows":
            return price / WINDOWS_PACK_CORES / self.licence_years
        return price

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict | None, **overrides) -> "BusinessInputs":
        """Inputs stored in a summary.json (unknown keys ignored), with ``overrides`` that are not None."""
        names = {f.name for f in fields(cls)}
        merged = {k: v for k, v in (values or {}).items() if k in names}
        given = {k: v for k, v in overrides.items() if v is not None}
        changed = any(given.get(k, merged.get(k)) != merged.get(k) for k in ("licence", "licence_before"))
        if changed and "licence_price_usd" not in given:
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


def _machines(rows: np.ndarray, facts: dict) -> dict:
    """Rack units, hardware price, physical and licensed cores (per scheme) of the machines (or the
    servers' parts of them) ``rows`` of ``facts`` (:func:`_box_arrays`)."""
    return {
        "servers": int(rows.sum()),
        "rack_units": float(facts["rack_u"][rows].sum()),
        "hardware_usd": float(facts["price_usd"][rows].sum()),
        "physical_cores": float(facts["cores"][rows].sum()),
        "licensed_cores": {lic: float(v[rows].sum()) for lic, v in facts["licensed"].items()},
    }


@dataclass(frozen=True)
class Sources:
    """What the source servers run on today: ``boxes`` (:func:`~consolidate.models.boxes.source_boxes`),
    the ``hosts`` (``TraceSet.source_hosts``), whether the servers are VMs by their input (``vms``:
    an RVTools, vSphere or esxtop source) and which are costed on defaulted hardware (bool (servers,),
    :func:`~consolidate.models.boxes.costed_by_default`)."""

    boxes: Boxes
    hosts: Inventory | None
    vms: bool
    costed_by_default: np.ndarray


def _box_arrays(inventory: Inventory, vcpus: np.ndarray) -> dict:
    """Per machine of ``inventory``: rack units, price (USD), physical cores, licensed cores per
    scheme and whether a catalogue model was found (``matched``); the rows ``vcpus`` marks are VMs
    costed alone (no host known), whose licences count their vCPUs, no per-machine minimum."""
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
    licensed = {lic: np.where(vcpus, cores, licensed_cores(cores, sockets, lic)) for lic in LICENCES}
    return {"rack_u": rack_u, "price_usd": price_usd, "cores": cores, "licensed": licensed, "matched": matched}


def _attributed(servers: dict, hosts: dict | None, boxes: Boxes) -> dict:
    """Each server's part of the machines it runs on (:class:`~consolidate.models.boxes.Boxes`):
    its own box's facts, or its share of its host's."""
    if hosts is None:
        return servers
    on, host_of, share = boxes.on_host, np.maximum(boxes.host_of, 0), boxes.share

    def part(own: np.ndarray, host: np.ndarray) -> np.ndarray:
        return np.where(on, share * host[host_of], share * own)

    return {"rack_u": part(servers["rack_u"], hosts["rack_u"]), "price_usd": part(servers["price_usd"], hosts["price_usd"]),
            "cores": part(servers["cores"], hosts["cores"]), "matched": np.where(on, hosts["matched"][host_of], servers["matched"]),
            "licensed": {lic: part(servers["licensed"][lic], hosts["licensed"][lic]) for lic in LICENCES}}


def estate_facts(
    inventory: Inventory, host: HostModel, hosts_after: int, host_counts: Sequence[tuple[HostModel, int]] | None = None,
    staying: np.ndarray | None = None, sources: "Sources | None" = None,
) -> dict:
    """What the business case needs to know of the machines before and after (summary["estate"]).

    Rack units, hardware price (USD) and licensed cores per licence scheme of the machines the
    source servers run on today (all of them: boxes of their own, and the hosts of ``sources``)
    and of the ``hosts_after`` hosts of model ``host``; for a mix of models, ``host_counts`` gives
    each model and its host count, and the hosts' figures are sums over them
    (``hardware_usd_after``: the sum of every host's catalogue price, None when one is unknown).
    ``staying`` (servers,) bool marks the servers that stay after (the unplaceable ones,
    :func:`consolidate.figures.staying`; None: none stays): ``staying`` holds the facts of what
    they keep running (their own boxes; a staying VM's whole host), and ``rack_units_after`` and
    ``physical_cores_after`` count them with the hosts; ``licensed_cores_after`` is the hosts'
    alone (the staying machines keep their own licence). ``defaulted``: the servers with defaulted
    inventory, and the facts of those costed on defaulted hardware that leave (``leaving``: moved
    to a host or retired), whose "before" costs the saving rests on. ``source_hosts``: how many
    hosts the VMs run on today, how many of them have defaulted hardware, and how many VMs run on
    them or on no host known (each then costed as a box of its own).
    """
    n = len(inventory.server_ids)
    boxes = sources.boxes if sources else own_boxes(n)
    vm_alone = np.full(n, bool(sources and sources.vms)) & ~boxes.on_host
    own = _box_arrays(inventory, vm_alone)
    hosts = _box_arrays(sources.hosts, np.zeros(boxes.n_hosts, dtype=bool)) if boxes.n_hosts else None
    each = _attributed(own, hosts, boxes)
    stay = np.zeros(n, dtype=bool) if staying is None else np.asarray(staying, dtype=bool)
    costed_default = np.asarray(inventory.defaulted, dtype=bool) if sources is None else sources.costed_by_default
    kept = _machines(stay & boxes.own, own)
    if hosts is not None:
        # A staying VM keeps its host, of which the plan's VMs took their share (the rest runs VMs not planned).
        held = {**hosts, "rack_u": hosts["rack_u"] * boxes.traced_share, "price_usd": hosts["price_usd"] * boxes.traced_share,
                "cores": hosts["cores"] * boxes.traced_share,
                "licensed": {lic: v * boxes.traced_share for lic, v in hosts["licensed"].items()}}
        kept = {**_sum_machines(kept, _machines(boxes.hosts_of(stay), held)), "servers": int(stay.sum())}
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
    hosts_rack_units = float(sum(m.rack_units * n for m, n in models))
    everything = np.ones(n, dtype=bool)
    before = _machines(everything, each)
    return {
        "servers": n,
        "servers_with_catalogue_model": int(each["matched"].sum()),
        "default_source_model": catalog.get_host(str(constants.SOURCE_DEFAULT_MODEL.value)).name,
        "machines_before": boxes.machines,
        "source_hosts": {"hosts": boxes.n_hosts, "defaulted": int(sources.hosts.defaulted.sum()) if hosts is not None else 0,
                         "vms_on_hosts": int(boxes.on_host.sum()), "vms_without_host": int(vm_alone.sum())},
        "rack_units_before": before["rack_units"],
        "hardware_usd_before": before["hardware_usd"],
        "physical_cores_before": before["physical_cores"],
        "licensed_cores_before": before["licensed_cores"],
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
        "hosts_rack_units": hosts_rack_units,
        "rack_units_after": hosts_rack_units + kept["rack_units"],
        "physical_cores_after": float(sum(m.cores * n for m, n in models)) + kept["physical_cores"],
        "licensed_cores_after": licensed_after,
        "staying": kept,
        "defaulted": {"servers": int(np.asarray(inventory.defaulted).sum()),
                      "costed_by_default": int(costed_default.sum()),
                      "leaving": _machines(costed_default & ~stay, each)},
    }


def _sum_machines(a: dict, b: dict) -> dict:
    return {k: ({lic: a[k][lic] + b[k][lic] for lic in a[k]} if isinstance(a[k], dict) else a[k] + b[k]) for k in a}


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


def vm_source(source: str) -> bool:
    """Whether a trace set's ``source`` (``kind:path``) is an input of VMs on ESXi hosts (RVTools, vSphere, esxtop)."""
    return source.partition(":")[0] in VM_SOURCE_KINDS


def sources_are_vms(summary: dict) -> bool:
    """Whether the plan's source servers are VMs on ESXi hosts (:func:`vm_source` of ``summary["trace"]["source"]``)."""
    return vm_source(summary.get("trace", {}).get("source", ""))


def licence_before(inputs: BusinessInputs, summary: dict) -> str:
    """The licence the source servers run today: ``inputs.licence_before``, ``auto`` resolved
    (``vsphere`` for VMs on ESXi, :func:`sources_are_vms`, else ``none``)."""
    if inputs.licence_before != "auto":
        return inputs.licence_before
    return "vsphere" if sources_are_vms(summary) else "none"


_NO_MACHINES = {"servers": 0, "rack_units": 0.0, "hardware_usd": 0.0, "physical_cores": 0.0,
                "licensed_cores": {lic: 0.0 for lic in LICENCES}}


def _staying(summary: dict) -> dict:
    """The estate's staying servers; a summary written before they were counted has none recorded,
    which is only right when no server was unplaceable (else a KeyError: plan again)."""
    est = summary["estate"]
    if "staying" not in est and summary.get("unplaceable"):
        raise KeyError("estate.staying")
    return est.get("staying", _NO_MACHINES)


def _drivers(saving_by: dict, saving: float) -> list[dict]:
    """The :data:`DRIVERS` categories that move the saving most (by size, either sign), with their
    share of the saving (%; None when there is no saving); a category of unknown amount (NaN: no
    host price) is not ranked."""
    known = (item for item in saving_by.items() if item[1] and math.isfinite(item[1]))
    ranked = sorted(known, key=lambda item: -abs(item[1]))[:DRIVERS]
    share = (lambda v: 100.0 * v / saving) if saving > 0 else (lambda v: None)
    return [{"category": k, "saving": v, "share_of_saving_pct": share(v)} for k, v in ranked]


def _licensing(summary: dict, inputs: BusinessInputs) -> dict:
    """The licence each side runs (``before``: the sources and the staying servers; ``after``: the
    hosts), its ``price`` (its unit) and ``per_core_year``, and whether the sources are VMs (``vms``).
    A price given is for the hosts' licence, or for the sources' when the hosts run none."""
    schemes = {"before": licence_before(inputs, summary), "after": inputs.licence}
    priced = schemes["after"] if schemes["after"] != "none" else schemes["before"]
    price = {when: inputs.price_of(scheme, priced) for when, scheme in schemes.items()}
    return {**schemes, "price": price, "vms": sources_are_vms(summary),
            "per_core_year": {when: inputs.per_core_year(schemes[when], price[when]) for when in schemes}}


def _sources_licensed(lic: dict, machines: dict) -> float:
    """Cores the source ``machines`` (an :func:`_machines` dict) license under the sources' licence:
    a host's physical cores with the scheme's minimums, a VM costed alone its vCPUs (:func:`_box_arrays`)."""
    return machines["licensed_cores"][lic["before"]]


def _licence_counts(est: dict) -> str:
    """What the licensed cores count, in words (:func:`_box_arrays`)."""
    hosts = est.get("source_hosts", {})
    alone = hosts.get("vms_without_host", 0)
    physical = "physical cores with the licence's minimums"
    if hosts.get("hosts"):
        return f"the source hosts' {physical}" + (f"; the {alone:,} VMs without a known host: their vCPUs" if alone else "")
    return "the VMs' vCPUs, no per-machine minimum" if alone else physical


def business_case(summary: dict, inputs: BusinessInputs | None = None) -> dict:
    """The business case of a plan from its summary (``summary["estate"]``, the energy costs, the
    source kind and the failover).

    Returns summary.json's ``business_case``: the inputs as given (None = default), the licences
    and prices used, capital cost, yearly costs before and after by category and the saving by
    category (``largest_drivers``: the :data:`DRIVERS` largest), yearly saving, payback (months),
    TCO and NPV over 3 and 5 years, ``defaulted`` (how much of the saving rests on servers with
    defaulted inventory), ``n_plus_1`` (what the failover's spare hosts cost) and ``caveats``,
    money in ``currency``. Figures that need an unknown host price (a ``--host-spec`` host
    without ``--host-price``) are NaN (null in JSON). The capital cost is the sum of every host's
    catalogue price (a mix of models: each at its own price), or ``--host-price`` for every host.
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
    lic = _licensing(summary, inputs)
    stay = _staying(summary)
    maintenance = inputs.maintenance_pct / 100.0
    licensed = {"before": _sources_licensed(lic, {"licensed_cores": est["licensed_cores_before"]}),
                "hosts": est["licensed_cores_after"][lic["after"]],
                "staying": _sources_licensed(lic, stay)}
    per_core = lic["per_core_year"]
    before = {
        "energy": float(summary["cost_per_year_before"]),
        "licences": licensed["before"] * per_core["before"],
        "maintenance": est["hardware_usd_before"] * maintenance,
        "rack": est["rack_units_before"] * inputs.rack_usd_per_u_year,
    }
    after = {
        "energy": float(summary["cost_per_year_after"]),
        "licences": licensed["hosts"] * per_core["after"] + licensed["staying"] * per_core["before"],
        "maintenance": (capital + stay["hardware_usd"]) * maintenance,
        "rack": est["rack_units_after"] * inputs.rack_usd_per_u_year,
    }
    saving_by = {k: before[k] - after[k] for k in CATEGORIES}
    before["total"] = sum(before.values())
    after["total"] = sum(after.values())
    saving = before["total"] - after["total"]
    result = {
        "currency": inputs.currency,
        "inputs": inputs.to_dict(),
        "licence_before": lic["before"],
        "licence_after": lic["after"],
        **{f"licence_price_{when}": lic["price"][when] for when in ("before", "after")},
        **{f"licence_price_{when}_unit": LICENCE_PRICE_UNIT[lic[when]] for when in ("before", "after")},
        **{f"licence_per_core_year_{when}": per_core[when] for when in ("before", "after")},
        "licence_counts": _licence_counts(est),
        # the hosts' licence under the names of before licences were split by side
        "licence_price_usd": lic["price"]["after"],
        "licence_price_unit": LICENCE_PRICE_UNIT[lic["after"]],
        "licence_usd_per_core_year": per_core["after"],
        "host_price_usd": host_price,
        "host_price_from": "--host-price" if inputs.host_price_usd is not None else "catalogue",
        "capital_cost": capital,
        "yearly_cost_before": before,
        "yearly_cost_after": after,
        "yearly_saving": saving,
        "saving_by_category": saving_by,
        "largest_drivers": _drivers(saving_by, saving),
        "payback_months": payback_months(capital, saving) if math.isfinite(capital) else None,
        "licensed_cores_before": licensed["before"],
        "licensed_cores_after": licensed["hosts"] + licensed["staying"],
        "rack_units_before": est["rack_units_before"],
        "rack_units_after": est["rack_units_after"],
        "staying_servers": stay["servers"],
    }
    for years in HORIZONS_YEARS:
        result[f"tco_{years}y_before"] = years * before["total"]
        result[f"tco_{years}y_after"] = capital + years * after["total"]
        result[f"npv_{years}y"] = npv(capital, saving, inputs.discount_rate, years)
    result["defaulted"] = _defaulted(summary, inputs, lic, saving)
    result["n_plus_1"] = _n_plus_1(summary, inputs, lic, host_price, saving, capital)
    result["caveats"] = _caveats(summary, result)
    return result


def _defaulted(summary: dict, inputs: BusinessInputs, lic: dict, saving: float) -> dict | None:
    """How much of the yearly saving rests on servers with defaulted inventory: the "before" costs
    of those that leave their boxes (a staying one costs the same before and after). None for a
    summary that does not record them."""
    est = summary["estate"]
    if "defaulted" not in est:
        return None
    leaving = est["defaulted"]["leaving"]
    kwh_before = summary.get("energy_kwh_per_year_before") or 0.0
    energy_share = summary.get("defaulted_leaving_energy_kwh_per_year_before", 0.0) / kwh_before if kwh_before else 0.0
    from_defaulted = (
        float(summary["cost_per_year_before"]) * energy_share
        + _sources_licensed(lic, leaving) * lic["per_core_year"]["before"]
        + leaving["hardware_usd"] * inputs.maintenance_pct / 100.0
        + leaving["rack_units"] * inputs.rack_usd_per_u_year
    )
    n = est["defaulted"].get("costed_by_default", est["defaulted"]["servers"])
    return {
        "servers": n,
        "share_of_servers": n / est["servers"] if est["servers"] else 0.0,
        "servers_leaving": leaving["servers"],
        "saving_from_defaulted": from_defaulted,
        "share_of_saving_pct": 100.0 * from_defaulted / saving if saving > 0 else None,
        "default_model": est["default_source_model"],
    }


def _n_plus_1(summary: dict, inputs: BusinessInputs, lic: dict, host_price: float, saving: float, capital: float) -> dict | None:
    """What the failover's spare hosts for N+1 (``failover.spare_hosts_n_plus_1``) cost: their
    price, and a year of their maintenance, rack space, licences and energy at idle (a spare host
    takes a share of the load, which the other hosts shed: only its idle power is added), and the
    saving and 5-year NPV with them. None without a failover (or its assumptions)."""
    failover, a, est = summary.get("failover"), summary.get("assumptions"), summary["estate"]
    if not failover or not a or "spare_hosts_n_plus_1" not in failover:
        return None
    spare = int(failover["spare_hosts_n_plus_1"])
    hosts = est["hosts"]
    idle_w = float(a["host"]["power_curve_w"][0])
    yearly = {
        "energy": spare * idle_w / 1000.0 * float(constants.HOURS_PER_YEAR.value) * a["pue"] * a["price_per_kwh"],
        "licences": spare * (est["licensed_cores_after"][lic["after"]] / hosts if hosts else 0.0) * lic["per_core_year"]["after"],
        "maintenance": spare * host_price * inputs.maintenance_pct / 100.0,
        "rack": spare * est["host_rack_units"] * inputs.rack_usd_per_u_year,
    }
    spare_capital = spare * host_price
    yearly_cost = sum(yearly.values())
    return {
        "spare_hosts": spare,
        "capital_cost": spare_capital,
        "yearly_cost": yearly_cost,
        "yearly_cost_by_category": yearly,
        "counts": f"each spare {a['host_model']} at the host price; a year of its maintenance, rack space, licences "
                  f"and its energy at idle ({idle_w:g} W, the rest of the load only moves between hosts)",
        "yearly_saving_with": saving - yearly_cost,
        "npv_5y_with": npv(capital + spare_capital, saving - yearly_cost, inputs.discount_rate, 5),
    }


def _caveats(summary: dict, case: dict) -> list[str]:
    """The sentences on what the money rests on: defaulted servers' share of the saving, servers
    costed as the default model, VMs costed as machines of their own (no host known), an unknown
    host price. (Hosts the inventory does not describe are said by the reader, and in the first.)"""
    out = []
    est, cur = summary["estate"], case["currency"]
    d = case["defaulted"]
    if d and d["servers"] and d["share_of_saving_pct"] is not None:
        out.append(f"{d['share_of_saving_pct']:.0f} % of the yearly saving ({d['saving_from_defaulted']:,.0f} {cur}) rests on "
                   f"the {d['servers']:,} server(s) on machines the inventory does not describe, costed as the default "
                   f"{d['default_model']}")
    guessed = est.get("servers", 0) - est.get("servers_with_catalogue_model", est.get("servers", 0))
    if guessed:
        out.append(f"{guessed:,} of {est['servers']:,} servers (or the hosts they run on) name no catalogue model: their "
                   f"rack space, price and maintenance today are those of a {est['default_source_model']}")
    hosts = est.get("source_hosts", {})
    alone = hosts.get("vms_without_host", est["servers"] if sources_are_vms(summary) and not hosts else 0)
    if alone:
        out.append(f"{alone:,} VM(s) name no host the inventory describes: each is costed today as a machine of its own "
                   "(rack space, maintenance, power curve), where their hosts are what runs, which overstates the saving; "
                   "give --inventory an RVTools export (vInfo's Host, vHost) or a host column with rows for the hosts")
    if not math.isfinite(_num(case["capital_cost"])):
        out.append("the host price is unknown (give --host-price): no capital cost, payback or NPV")
    return out


def plan_estate(plan, hosts: int | None = None) -> dict:
    """summary.json's ``estate`` of ``plan`` (a :class:`~consolidate.planner.Plan`): :func:`estate_facts`
    of its servers, its hosts by model and the servers that stay on their own boxes. ``hosts``: the
    facts for that many hosts instead, the difference made up by the model with the most hosts."""
    # the plan's stages, loaded only when a plan is in memory (`consolidate report` reads folders)
    from consolidate.figures import staying
    from consolidate.models.boxes import costed_by_default, source_boxes

    counts = plan.model_counts()
    if hosts is not None and counts:
        main = max(counts, key=counts.get)
        counts[main] = max(0, counts[main] + hosts - plan.hosts_after)
    models = [(m, counts[m.name]) for m in plan.settings.models if counts.get(m.name, 0)]
    n = plan.hosts_after if hosts is None else sum(c for _, c in models)
    traces = plan.traces
    boxes = source_boxes(traces)
    sources = Sources(boxes, traces.source_hosts, vm_source(traces.source), costed_by_default(traces, boxes))
    return estate_facts(traces.inventory, plan.settings.host_model, n, models, staying=staying(plan), sources=sources)
