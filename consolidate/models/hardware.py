"""Hardware: target host models, and the CPU demand and capacity formulas of DESIGN.md.

CPU is counted in effective GHz: a core at ``ghz`` with relative per-clock performance
``perf`` (1.0 = the reference core) is worth ``ghz * perf``.

References
----------
.. [1] VMware, "vSphere Resource Management" (8.0): a logical CPU on a busy core gives
   "slightly more than half" a core.
.. [2] Y. Ruan, V. S. Pai, E. Nahum, J. M. Tracey, "Evaluating the impact of simultaneous
   multithreading on network servers using real hardware", SIGMETRICS 2005.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from consolidate.errors import InputError

#: Throughput a second hardware thread adds to a busy core (share of a core), refs [1], [2].
DEFAULT_SMT_GAIN = 0.25

POWER_POINTS = 11  # SPECpower_ssj2008: active idle, then 10 %, 20 %, ... 100 % load


@dataclass(frozen=True)
class HostModel:
    """A target (or source) server model.

    ``power_curve_w`` holds the 11 SPECpower_ssj2008 points (watts at active idle, 10 %, ...,
    100 % load); a model known only by idle and maximum power gets the straight line between them.
    """

    name: str
    cores: int
    threads: int
    ghz: float
    ram_gb: float
    power_curve_w: tuple[float, ...]
    perf: float = 1.0
    sockets: int = 1
    rack_units: float = 1.0
    price_usd: float = float("nan")
    source: str = ""
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def idle_w(self) -> float:
        return self.power_curve_w[0]

    @property
    def max_w(self) -> float:
        return self.power_curve_w[-1]


def linear_curve_w(idle_w: float, max_w: float) -> tuple[float, ...]:
    """The 11-point curve of a model known by idle and maximum power only, in watts."""
    return tuple(float(w) for w in np.linspace(idle_w, max_w, POWER_POINTS))


def busy_cores(cpu_pct: np.ndarray, cores: np.ndarray, threads: np.ndarray, smt_gain: float) -> np.ndarray:
    """Physical cores' worth of work behind a CPU percentage of all logical CPUs.

    With ``k = threads / cores`` and ``u = cpu_pct / 100`` the scheduler fills physical cores
    first, and each busy extra thread adds ``smt_gain`` of a core::

        cores * (min(k*u, 1) + smt_gain * max(0, k*u - 1) / (k - 1))      (k > 1)
        cores * u                                                          (k = 1)

    Parameters
    ----------
    cpu_pct : (servers, steps) array, percent of all logical CPUs.
    cores, threads : (servers,) arrays of physical cores and hardware threads.
    smt_gain : share of a core an extra thread adds.

    Returns
    -------
    float64 (servers, steps) busy physical cores.
    """
    from consolidate.models.busy import busy  # numba: loaded where demand is computed, not for --help

    return busy(cpu_pct, cores, threads, smt_gain, 1.0, 1.0, np.float64)


def busy_share(cpu_pct: np.ndarray, cores: np.ndarray, threads: np.ndarray, smt_gain: float,
               full_cores: np.ndarray) -> np.ndarray:
    """:func:`busy_cores` over ``full_cores`` (servers,), float32 (servers, steps)."""
    from consolidate.models.busy import busy

    return busy(cpu_pct, cores, threads, smt_gain, 1.0, full_cores, np.float32)


def cpu_demand_ghz(
    cpu_pct: np.ndarray,
    cores: np.ndarray,
    threads: np.ndarray,
    ghz: np.ndarray,
    perf: np.ndarray,
    smt_gain: float,
) -> np.ndarray:
    """CPU demand in effective GHz: busy cores x ``ghz`` x ``perf``, float64 (servers, steps)."""
    scale = np.asarray(ghz, dtype=np.float64) * np.asarray(perf, dtype=np.float64)
    from consolidate.models.busy import busy

    return busy(cpu_pct, cores, threads, smt_gain, scale, 1.0, np.float64)


def host_cpu_ghz(host: HostModel, smt_gain: float, cpu_overhead: float = 0.0) -> float:
    """Full effective CPU capacity of a host in GHz, after the hypervisor's CPU overhead.

    ``cores x ghz x perf x (1 + smt_gain if threads > cores else 1) x (1 - cpu_overhead)``;
    multiply by the CPU target for the plannable capacity.
    """
    smt = 1.0 + smt_gain if host.threads > host.cores else 1.0
    return host.cores * host.ghz * host.perf * smt * (1.0 - cpu_overhead)


SPEC_KEYS = {"cores", "threads", "ghz", "ram_gb", "idle_w", "max_w", "perf", "name", "sockets"}


def parse_host_spec(text: str) -> HostModel:
    """A custom host from ``"cores=64,threads=128,ghz=2.6,ram_gb=768,idle_w=200,max_w=600"``.

    ``threads`` defaults to ``cores``, ``perf`` to 1.0; the power model is linear from ``idle_w``
    to ``max_w`` (both required, watts).
    """
    values: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in SPEC_KEYS:
            raise InputError(
                f"--host-spec: cannot read {part!r}; give key=value pairs from {', '.join(sorted(SPEC_KEYS))}, "
                'e.g. "cores=64,threads=128,ghz=2.6,ram_gb=768,idle_w=200,max_w=600"'
            )
        values[key] = value.strip()
    nums: dict[str, float] = {}
    for key, value in values.items():
        if key == "name":
            continue
        try:
            nums[key] = float(value)
        except ValueError:
            raise InputError(f"--host-spec: {key}={value!r} is not a number") from None
        if not np.isfinite(nums[key]) or nums[key] <= 0:
            raise InputError(f"--host-spec: {key}={value} must be a positive number")
    missing = [k for k in ("cores", "ghz", "ram_gb", "idle_w", "max_w") if k not in values]
    if missing:
        raise InputError(f"--host-spec is missing {', '.join(missing)}; e.g. \"cores=64,ghz=2.6,ram_gb=768,idle_w=200,max_w=600\"")
    cores = nums["cores"]
    threads = nums.get("threads", cores)
    if cores != int(cores) or threads != int(threads) or threads < cores:
        raise InputError("--host-spec: cores and threads must be whole numbers with threads >= cores")
    if nums["max_w"] < nums["idle_w"]:
        raise InputError("--host-spec: max_w must be at least idle_w")
    return HostModel(
        name=values.get("name", "custom"),
        cores=int(cores),
        threads=int(threads),
        ghz=nums["ghz"],
        ram_gb=nums["ram_gb"],
        perf=nums.get("perf", 1.0),
        sockets=int(nums.get("sockets", 1)),
        power_curve_w=linear_curve_w(nums["idle_w"], nums["max_w"]),
        source="--host-spec (linear power model)",
    )
