"""Data-centre defaults and model assumptions, each with its source beside it as data.

Every figure the energy, cost, CO2, sizing and idle models use by default lives here as a
:class:`Sourced` value, so that a report can print where each number comes from
(:data:`SOURCES`). Figures marked *assumption* have no primary source; the user can override
each of them (``--pue``, ``--price``, ``--carbon``, ``--smt-gain``, ``--host-spec``, ...).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Sourced:
    """A default figure with its unit and where it comes from."""

    value: float | str | tuple[float, ...]
    unit: str
    source: str


PUE = Sourced(
    1.56, "",
    "Uptime Institute Global Data Center Survey 2024: average PUE 1.56 (1.58 in 2023, 1.55 in 2022)",
)
PRICE_PER_KWH = Sourced(
    0.10, "USD/kWh",
    "EIA Electric Power Annual 2023: about 0.09 USD/kWh in the US data-centre states (Virginia "
    "commercial 8.95 cents); rounded up to a round default. EU non-household: about 0.20 EUR/kWh "
    "excl. VAT (Eurostat, H2 2023)",
)
CARBON_G_PER_KWH = Sourced(
    390.0, "g CO2/kWh",
    "EIA 2022: US grid average about 390 g CO2/kWh (world 440-470 g/kWh, Ember 2023-2024)",
)
HOURS_PER_YEAR = Sourced(8760.0, "h", "365 days x 24 h; leap days are ignored")

# The R710 is the commonest kind of server in a 2008-2013 sprawl estate: a 2U two-socket box.
# SPEC configurations are lean (few DIMMs, one disk), so real estate servers draw more and this
# default understates the savings rather than inflating them.
SOURCE_DEFAULT_MODEL = Sourced(
    "dell-r710", "",
    "assumption: a source server with no inventory watts and no catalogue model is taken to be a "
    "Dell PowerEdge R710 (2x Xeon X5670, 2010), SPECpower_ssj2008 result power_ssj2008-20100727-00278",
)
SOURCE_DEFAULT_CURVE_W = Sourced(
    (64.0, 104.0, 116.0, 126.0, 137.0, 148.0, 158.0, 173.0, 190.0, 210.0, 232.0), "W",
    "SPECpower_ssj2008 result power_ssj2008-20100727-00278 (Dell PowerEdge R710, 2x Xeon X5670): "
    "active idle, then 10 % ... 100 % load",
)

IDLE_CPU_PCT = Sourced(5.0, "%", "Azure Migrate business case, 2024: idle server = CPU and memory < 5 %, network < 2 %")
IDLE_MEM_PCT = Sourced(5.0, "%", "Azure Migrate business case, 2024: idle server = CPU and memory < 5 %, network < 2 %")
IDLE_NET_PCT = Sourced(2.0, "%", "Azure Migrate business case, 2024: idle server = CPU and memory < 5 %, network < 2 %")
IDLE_PERCENTILE = Sourced(
    95.0, "%",
    "assumption: 'under 5 %' is read as the 95th percentile of the series being under the threshold, "
    "so a short spike (a backup, a virus scan) does not keep a comatose server alive, while a server "
    "busy for more than 5 % of the time is never a candidate",
)

XEN_MIN_GUEST_GB = Sourced(
    0.5, "GB",
    "Xen Project's minimal example HVM guest (tools/examples/xlexample.hvm) allocates memory = 512 "
    "MiB; the older xmexample.hvm warns that less than 32 MiB will not boot. No VM is sized below 512 MiB",
)
HYPERVISOR_CPU_OVERHEAD = Sourced(
    0.05, "fraction",
    "assumption: no primary figure found; a few percent of host CPU for a virtualising hypervisor "
    "(xen, kvm, esxi, hyperv), 0 for none",
)

RIGHTSIZE_CPU_PERCENTILE = Sourced(
    100.0, "%",
    "policy: a VM gets enough vCPUs for its observed peak (100th percentile) so it never runs slower "
    "than the server it replaces; Azure Migrate's performance-based sizing uses the 95th percentile "
    "with a comfort factor of 1.3 instead",
)
RIGHTSIZE_HEADROOM = Sourced(1.0, "factor", "policy: none on the peak (Azure Migrate's comfort factor is 1.3 on the 95th percentile)")
RAM_STEP_GB = Sourced(0.25, "GB", "policy: memory sized from observed use is rounded up to whole quarter-GB")

PERF_REFERENCE = Sourced(
    "Westmere", "",
    "perf 1.0 = one Intel Westmere core (Xeon X5670, 2010) per GHz of base clock: the typical "
    "sprawl-era server core",
)

# Business case (consolidate.report.business). Licences count physical cores only (SMT threads
# are free), before and after. Money is in USD, like the catalogue's prices.
VSPHERE_USD_PER_CORE_YEAR = Sourced(
    135.0, "USD/core/yr",
    "VMware vSphere Foundation subscription, about 135 USD per core per year, 2024 reports "
    "(secondary source, unverified)",
)
VSPHERE_MIN_CORES_PER_CPU = Sourced(16.0, "cores", "VMware per-core licensing, 2024: at least 16 cores per CPU (socket)")
WINDOWS_DC_USD_PER_16_CORES = Sourced(
    6771.0, "USD/16 cores",
    "Microsoft Windows Server 2025 Datacenter, 6,771 USD per 16-core pack (Microsoft pricing, "
    "2025, secondary source); a perpetual licence",
)
WINDOWS_MIN_CORES_PER_SERVER = Sourced(16.0, "cores", "Microsoft Windows Server per-core licensing: at least 16 cores per server")
LICENCE_YEARS = Sourced(
    5.0, "yr",
    "assumption: a perpetual licence (Windows Server) is spread over 5 years to give a yearly cost",
)
MAINTENANCE_PCT = Sourced(
    10.0, "%/yr",
    "assumption, unverified: hardware support contracts cost about 10 % of the hardware price a "
    "year (no primary source found)",
)
RACK_USD_PER_U_YEAR = Sourced(
    300.0, "USD/U/yr",
    "assumption, unverified: a 42U colocation rack at about 1,000 USD a month is about 286 USD per "
    "rack unit a year, rounded up",
)
DISCOUNT_RATE = Sourced(
    0.08, "fraction/yr",
    "assumption: a typical corporate cost of capital (7-10 % a year); no single source",
)

#: Per-clock throughput of a CPU micro-architecture relative to the one before it:
#: ``uarch: (previous uarch, factor, source)``. Chained to the reference they give the catalogue's
#: ``perf`` factors (see :func:`uarch_perf`). Vendor launch claims where one exists, otherwise an
#: estimate from launch reviews; base clock only, turbo is not counted. All are estimates.
UARCH_UPLIFT: dict[str, tuple[str, float, str]] = {
    "Penryn": ("Core", 1.05, "estimate: 45 nm shrink of Core with larger caches, about 5 % per clock"),
    "Nehalem": ("Penryn", 1.15, "estimate: integrated memory controller and QPI, 10-20 % per clock on server workloads"),
    "Westmere": ("Nehalem", 1.00, "32 nm shrink of the Nehalem core, same per-clock throughput"),
    "Sandy Bridge": ("Westmere", 1.10, "estimate: about 10 % per clock (launch reviews)"),
    "Ivy Bridge": ("Sandy Bridge", 1.05, "estimate: about 5 % per clock (launch reviews)"),
    "Haswell": ("Ivy Bridge", 1.10, "estimate: about 10 % per clock (launch reviews)"),
    "Broadwell": ("Haswell", 1.05, "Intel, IDF 2014: about 5 % more IPC than Haswell"),
    "Skylake": ("Broadwell", 1.10, "estimate: about 10 % per clock (launch reviews)"),
    "Cascade Lake": ("Skylake", 1.00, "same Skylake-SP core, security fixes and higher clocks only"),
    "Ice Lake": ("Cascade Lake", 1.20, "Intel, 3rd Gen Xeon Scalable launch 2021: about 20 % more IPC than Cascade Lake"),
    "Zen": ("Broadwell", 1.00, "AMD New Horizon demo 2016: Ryzen matched a Broadwell-E i7-6900K at equal clocks; estimate"),
    "Zen 2": ("Zen", 1.15, "AMD, Computex 2019: 15 % more IPC than Zen"),
    "Zen 3": ("Zen 2", 1.19, "AMD, 2020: 19 % more IPC than Zen 2"),
    "Zen 4": ("Zen 3", 1.13, "AMD, 2022: about 13 % more IPC than Zen 3"),
}
UARCH_ROOT = "Core"  # Intel Core (Conroe/Woodcrest, 65 nm, 2006): the oldest micro-architecture here


def uarch_perf(uarch: str) -> float:
    """Per-clock throughput of ``uarch`` relative to :data:`PERF_REFERENCE` (unrounded).

    Walks :data:`UARCH_UPLIFT` back to :data:`UARCH_ROOT` and divides by the reference's figure.
    """
    return _from_root(uarch) / _from_root(str(PERF_REFERENCE.value))


def _from_root(uarch: str) -> float:
    factor = 1.0
    while uarch != UARCH_ROOT:
        if uarch not in UARCH_UPLIFT:
            raise KeyError(f"unknown micro-architecture {uarch!r}; known: {', '.join([UARCH_ROOT, *UARCH_UPLIFT])}")
        uarch, step, _ = UARCH_UPLIFT[uarch]
        factor *= step
    return factor


DEFAULT_PUE = float(PUE.value)
DEFAULT_PRICE_PER_KWH = float(PRICE_PER_KWH.value)
DEFAULT_CARBON_G_PER_KWH = float(CARBON_G_PER_KWH.value)
DEFAULT_SOURCE_CURVE_W: tuple[float, ...] = SOURCE_DEFAULT_CURVE_W.value  # type: ignore[assignment]

#: Every default above by name, JSON-ready (value, unit, source), for summary.json and reports.
SOURCES: dict[str, dict] = {
    name.lower(): asdict(figure)
    for name, figure in {
        "PUE": PUE,
        "PRICE_PER_KWH": PRICE_PER_KWH,
        "CARBON_G_PER_KWH": CARBON_G_PER_KWH,
        "HOURS_PER_YEAR": HOURS_PER_YEAR,
        "SOURCE_DEFAULT_MODEL": SOURCE_DEFAULT_MODEL,
        "SOURCE_DEFAULT_CURVE_W": SOURCE_DEFAULT_CURVE_W,
        "IDLE_CPU_PCT": IDLE_CPU_PCT,
        "IDLE_MEM_PCT": IDLE_MEM_PCT,
        "IDLE_NET_PCT": IDLE_NET_PCT,
        "IDLE_PERCENTILE": IDLE_PERCENTILE,
        "XEN_MIN_GUEST_GB": XEN_MIN_GUEST_GB,
        "HYPERVISOR_CPU_OVERHEAD": HYPERVISOR_CPU_OVERHEAD,
        "RIGHTSIZE_CPU_PERCENTILE": RIGHTSIZE_CPU_PERCENTILE,
        "RIGHTSIZE_HEADROOM": RIGHTSIZE_HEADROOM,
        "RAM_STEP_GB": RAM_STEP_GB,
        "PERF_REFERENCE": PERF_REFERENCE,
        "VSPHERE_USD_PER_CORE_YEAR": VSPHERE_USD_PER_CORE_YEAR,
        "VSPHERE_MIN_CORES_PER_CPU": VSPHERE_MIN_CORES_PER_CPU,
        "WINDOWS_DC_USD_PER_16_CORES": WINDOWS_DC_USD_PER_16_CORES,
        "WINDOWS_MIN_CORES_PER_SERVER": WINDOWS_MIN_CORES_PER_SERVER,
        "LICENCE_YEARS": LICENCE_YEARS,
        "MAINTENANCE_PCT": MAINTENANCE_PCT,
        "RACK_USD_PER_U_YEAR": RACK_USD_PER_U_YEAR,
        "DISCOUNT_RATE": DISCOUNT_RATE,
    }.items()
}
