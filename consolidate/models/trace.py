"""The aligned trace set every stage after the readers works on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Inventory:
    """Source-server hardware, one entry per row of the trace set (same order).

    Arrays are float64 except ``model`` and ``host`` (str objects) and ``defaulted`` (bool: the
    server was missing from the inventory, or had no value there, and got the stated default).
    ``power_idle_w`` / ``power_max_w`` are NaN where unknown. ``host``: the physical machine the
    server runs on as a VM today (an ESXi host), "" for a server on a box of its own; the same
    class describes those machines (:attr:`TraceSet.source_hosts`, ``host`` all "").
    """

    server_ids: np.ndarray
    cores: np.ndarray
    threads: np.ndarray
    ghz: np.ndarray
    perf: np.ndarray
    ram_gb: np.ndarray
    model: np.ndarray
    power_idle_w: np.ndarray
    power_max_w: np.ndarray
    defaulted: np.ndarray
    host: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "server_id": self.server_ids,
                "cores": self.cores,
                "threads": self.threads,
                "ghz": self.ghz,
                "perf": self.perf,
                "ram_gb": self.ram_gb,
                "model": self.model,
                "power_idle_w": self.power_idle_w,
                "power_max_w": self.power_max_w,
                "defaulted": self.defaulted,
                "host": self.host,
            }
        )

    def take(self, rows: np.ndarray) -> "Inventory":
        return Inventory(**{k: getattr(self, k)[rows] for k in self.__dataclass_fields__})


@dataclass(frozen=True)
class QualityReport:
    """What the reader repaired, by rule, and what it warns about.

    ``counts`` maps a repair rule to how many samples (or servers, for inventory rules) it touched;
    ``samples`` is the number of raw samples read; ``missing_pct`` the share of grid cells that
    had no sample and were filled (``cpu_mean_measured_pct`` is the mean CPU % of the others);
    ``conversions`` states each conversion the reader made from
    the file's own measures (a counter to a rate, %idle to busy, kB to GB, local time to UTC).
    """

    samples: int
    missing_pct: float
    counts: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    conversions: tuple[str, ...] = ()
    #: Mean CPU % over the grid cells that held a sample (no filled cell), all servers.
    cpu_mean_measured_pct: float | None = None


@dataclass(frozen=True)
class TraceSet:
    """Per-server utilisation on one regular UTC grid.

    Attributes
    ----------
    server_ids : tuple of str
        One per row.
    start : pandas.Timestamp
        UTC time of the first column.
    interval_s : int
        Grid spacing in seconds.
    cpu_pct : numpy.ndarray
        float32, C-contiguous, shape (servers, steps): CPU busy as a percentage of all the
        server's logical CPUs. Percent-only sources are clipped to [0, 100]; sources measured
        in MHz (Bitbrains) keep demand above the provisioned capacity, so values may exceed 100.
    mem_gb : numpy.ndarray or None
        float32 (servers, steps) memory in use, GB, where the source has it.
    inventory : Inventory
        Source hardware for each row.
    quality : QualityReport
        Repairs and warnings from reading.
    measured : numpy.ndarray or None
        int64 (servers, 2): each server's first measured step and the step after its last
        (the steps before and after are filled copies of its first and last values); None when
        every step of every server is measured. See :func:`measured_spans`.
    source_hosts : Inventory or None
        The physical machines the servers of ``inventory.host`` run on today, one row per machine
        named (``server_ids`` are their names; ``defaulted`` where the inventory does not describe
        them); None when every server is on a box of its own.
    untraced_vcpus : numpy.ndarray or None
        float64 (source hosts,): the vCPUs of the VMs the inventory puts on each source host that
        the traces do not hold (they stay on it whatever the plan does); None without source hosts.
    """

    server_ids: tuple[str, ...]
    start: pd.Timestamp
    interval_s: int
    cpu_pct: np.ndarray
    mem_gb: np.ndarray | None
    inventory: Inventory
    quality: QualityReport
    source: str = ""
    measured: np.ndarray | None = None
    source_hosts: Inventory | None = None
    untraced_vcpus: np.ndarray | None = None

    @property
    def n_servers(self) -> int:
        return self.cpu_pct.shape[0]

    @property
    def n_steps(self) -> int:
        return self.cpu_pct.shape[1]

    @property
    def end(self) -> pd.Timestamp:
        """UTC end of the last interval (exclusive)."""
        return self.start + pd.Timedelta(seconds=self.interval_s * self.n_steps)

    @property
    def duration_days(self) -> float:
        return self.interval_s * self.n_steps / 86400.0

    def timestamps(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.n_steps, freq=pd.Timedelta(seconds=self.interval_s))

    def steps(self, first: int, stop: int) -> "TraceSet":
        """The same servers over grid columns ``first:stop`` (for hold-out validation)."""
        mem = None if self.mem_gb is None else np.ascontiguousarray(self.mem_gb[:, first:stop])
        return TraceSet(
            server_ids=self.server_ids,
            start=self.start + pd.Timedelta(seconds=self.interval_s * first),
            interval_s=self.interval_s,
            cpu_pct=np.ascontiguousarray(self.cpu_pct[:, first:stop]),
            mem_gb=mem,
            inventory=self.inventory,
            quality=self.quality,
            source=self.source,
            measured=shift_spans(self.measured, *slice(first, stop).indices(self.n_steps)[:2]),
            source_hosts=self.source_hosts,
            untraced_vcpus=self.untraced_vcpus,
        )

    @property
    def measured_days(self) -> np.ndarray:
        """Days from each server's first to its last measured sample, float64 (servers,)."""
        spans = measured_spans(self.measured, self.n_servers, self.n_steps)
        return (spans[:, 1] - spans[:, 0]) * self.interval_s / 86400.0


def measured_spans(measured: np.ndarray | None, n_servers: int, n_steps: int) -> np.ndarray:
    """``measured`` as (servers, 2) spans, every step where it is None."""
    if measured is None:
        return np.tile(np.array([0, n_steps], dtype=np.int64), (n_servers, 1))
    return measured


def shift_spans(measured: np.ndarray | None, first: int, stop: int) -> np.ndarray | None:
    """Measured spans seen from a window of steps ``first:stop``; a server not measured inside it
    counts as measured throughout (its filled values are all the window knows of it)."""
    if measured is None:
        return None
    spans = np.clip(measured - first, 0, stop - first)
    empty = spans[:, 0] >= spans[:, 1]
    spans[empty] = (0, stop - first)
    return spans
