"""Power and energy: SPECpower curves, energy over a replay, annual figures, PUE, cost, CO2.

A machine's power at load ``u`` (fraction of its full throughput) is read off its 11-point
SPECpower_ssj2008 curve (active idle, 10 %, ..., 100 %) by linear interpolation between the
points, as CloudSim's ``PowerModelSpecPower`` does; a model known only by idle and maximum power
has the straight line between them. Load is clipped to [0, 1] for power: demand above a
machine's capacity (Bitbrains reports it) cannot draw more than full-load power.

Each sample holds for its whole interval, so energy is ``sum(P(u_t)) x interval_s / 3600`` Wh.

References
----------
.. [1] SPEC, "SPECpower_ssj2008 Run and Reporting Rules"; results at spec.org/power_ssj2008/results.
.. [2] A. Beloglazov, R. Buyya, "Optimal online deterministic algorithms and adaptive heuristics
   for energy and performance efficient dynamic consolidation of virtual machines in cloud data
   centers", CCPE 24(13), 2012 (CloudSim's SPECpower interpolation).
.. [3] The Green Grid, "PUE: a comprehensive examination of the metric", WP#49, 2012:
   facility energy = IT energy x PUE.
"""

from __future__ import annotations

import numpy as np

from consolidate.jit import njit
from consolidate.models.constants import HOURS_PER_YEAR
from consolidate.models.hardware import POWER_POINTS, busy_share

SEGMENTS = POWER_POINTS - 1  # ten 10 % steps between the 11 points


@njit
def energy_wh_kernel(curves_w: np.ndarray, util: np.ndarray, interval_s: float) -> np.ndarray:
    """Energy of each machine over the series, Wh: float64 (n,).

    ``curves_w`` float64 (n, 11); ``util`` float32 (n, steps), fraction of full load, clipped to
    [0, 1]; each sample lasts ``interval_s`` seconds.
    """
    n, steps = util.shape
    energy = np.zeros(n)
    for i in range(n):
        total_w = 0.0
        for t in range(steps):
            x = min(max(np.float64(util[i, t]), 0.0), 1.0) * SEGMENTS
            seg = min(int(x), SEGMENTS - 1)
            lo = curves_w[i, seg]
            total_w += lo + (x - seg) * (curves_w[i, seg + 1] - lo)
        energy[i] = total_w * interval_s / 3600.0
    return energy


def energy_wh(curves_w: np.ndarray, util: np.ndarray, interval_s: float) -> np.ndarray:
    """Energy each machine uses over a replay, Wh, float64 (n,).

    Parameters
    ----------
    curves_w : (n, 11) SPECpower curves, W (or one (11,) curve for every row).
    util : (n, steps) load as a fraction of full throughput (clipped to [0, 1] for power).
    interval_s : length of one sample, s.
    """
    util = np.ascontiguousarray(util, dtype=np.float32)
    if util.ndim != 2:
        raise ValueError(f"util must be (machines, steps), got shape {util.shape}")
    curves_w = np.asarray(curves_w, dtype=np.float64)
    if curves_w.ndim == 1:
        curves_w = np.broadcast_to(curves_w, (util.shape[0], curves_w.shape[0]))
    if curves_w.shape != (util.shape[0], POWER_POINTS):
        raise ValueError(f"curves_w must be ({util.shape[0]}, {POWER_POINTS}), got {curves_w.shape}")
    if not np.isfinite(util).all():
        raise ValueError("util holds NaN or infinite values; fill the series before integrating energy")
    return energy_wh_kernel(np.ascontiguousarray(curves_w), util, float(interval_s))


def source_load_fraction(cpu_pct: np.ndarray, cores: np.ndarray, threads: np.ndarray, smt_gain: float) -> np.ndarray:
    """A source server's load as a fraction of its full throughput, float32 (servers, steps).

    SPECpower's load levels are shares of the machine's maximum throughput, which includes SMT.
    The busy physical cores of :func:`consolidate.models.hardware.busy_cores` over
    ``cores x (1 + smt_gain)`` (``cores`` without SMT) is that share; without SMT it is
    ``cpu_pct / 100``.
    """
    cores = np.asarray(cores, dtype=np.float64)
    threads = np.asarray(threads, dtype=np.float64)
    full = cores * np.where(threads > cores, 1.0 + smt_gain, 1.0)
    return busy_share(cpu_pct, cores, threads, smt_gain, full)


def host_load_fraction(load_ghz: np.ndarray, capacity_ghz: float | np.ndarray) -> np.ndarray:
    """A host's load as a fraction of its full throughput, float32 (hosts, steps).

    ``capacity_ghz`` is the capacity VMs can use, after the hypervisor's CPU overhead
    (:func:`consolidate.models.hardware.host_cpu_ghz`): the overhead is taken to grow with the
    VMs' work, so ``load / usable capacity`` is also the physical machine's busy share.
    """
    capacity = np.asarray(capacity_ghz, dtype=np.float64)
    if capacity.ndim == 1:
        capacity = capacity[:, None]
    return np.ascontiguousarray(np.asarray(load_ghz, dtype=np.float64) / capacity, dtype=np.float32)


def annualise(amount: float | np.ndarray, duration_h: float) -> float | np.ndarray:
    """Scale an amount measured over ``duration_h`` hours to one year (8760 h, leap days ignored)."""
    if not duration_h > 0:
        raise ValueError(f"duration_h must be positive, got {duration_h}")
    return amount * float(HOURS_PER_YEAR.value) / duration_h


def facility_kwh(it_kwh: float | np.ndarray, pue: float) -> float | np.ndarray:
    """Facility energy, kWh: IT energy x PUE (cooling, power distribution, ...), ref [3]."""
    return it_kwh * pue


def cost(kwh: float | np.ndarray, price_per_kwh: float) -> float | np.ndarray:
    """Cost of ``kwh`` at ``price_per_kwh`` (in the price's currency)."""
    return kwh * price_per_kwh


def co2_tonnes(kwh: float | np.ndarray, carbon_g_per_kwh: float) -> float | np.ndarray:
    """CO2 emitted for ``kwh`` at a grid intensity of ``carbon_g_per_kwh``, tonnes."""
    return kwh * carbon_g_per_kwh / 1e6
