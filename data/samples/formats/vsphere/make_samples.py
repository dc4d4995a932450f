"""Write the vSphere sample exports of this folder (see PROVENANCE.md): synthetic values, real layouts.

Run from the repository root: ``python data/samples/formats/vsphere/make_samples.py``. The same
seed gives byte-identical files. Nothing here is measured data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 11

#: The PowerCLI sample type Windows PowerShell 5.1 names on the first line unless -NoTypeInformation.
TYPE_LINE = "#TYPE VMware.VimAutomation.ViCore.Impl.V1.VimClient.FloatSampleImpl"
HEADER = ("Value", "Timestamp", "MetricId", "Unit", "Description", "Entity", "EntityId", "IntervalSecs", "Instance")
#: MetricId -> (Unit, Description) as vCenter's PerfCounterInfo gives them.
COUNTERS = {
    "cpu.usage.average": ("%", "CPU usage as a percentage during the interval"),
    "cpu.usagemhz.average": ("MHz", "CPU usage in megahertz during the interval"),
    "mem.consumed.average": ("KB", "Amount of host physical memory consumed by a virtual machine, host, or cluster"),
}
#: The clock of the hosts' cores (a Xeon Gold 6126), MHz: what cpu.usagemhz is counted against.
CORE_MHZ = 2600
KB_PER_GB = 1024**2


def dotnet(value: float, decimal: str = ".") -> str:
    """A double as .NET's ToString() writes it (shortest form, no trailing zeros)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", decimal)


def load(rng, hours: np.ndarray, base: float, peak: float, busy: tuple[float, float], noise: float) -> np.ndarray:
    """CPU % over local hours: ``base``, ``peak`` inside the ``busy`` hours, noise, rare spikes."""
    inside = (hours >= busy[0]) & (hours < busy[1]) if busy[0] < busy[1] else (hours >= busy[0]) | (hours < busy[1])
    level = np.where(inside, peak, base)
    level = pd.Series(level).rolling(5, min_periods=1, center=True).mean().to_numpy()  # ramps, not steps
    spikes = np.where(rng.random(hours.size) < 0.01, rng.uniform(10, 30, hours.size), 0.0)
    return np.clip(level + rng.normal(0, noise, hours.size) + spikes, 0.3, 100.0).round(2)


def write_getstat(path: Path, rows: list[tuple], *, delimiter: str = ",", type_line: bool = False, encoding: str = "ascii",
                  header: bool = True, mode: str = "w") -> None:
    """Export-Csv's layout: every field quoted, CRLF line ends."""
    lines = [TYPE_LINE] if type_line else []
    if header:
        lines.append(delimiter.join(f'"{h}"' for h in HEADER))
    lines += [delimiter.join(f'"{c}"' for c in row) for row in rows]
    with open(path, mode, encoding=encoding, newline="") as out:
        out.write("\r\n".join(lines) + "\r\n")


def en_us(stamp: pd.Timestamp) -> str:
    """en-US DateTime.ToString(): M/d/yyyy h:mm:ss tt."""
    hour = stamp.hour % 12 or 12
    return f"{stamp.month}/{stamp.day}/{stamp.year} {hour}:{stamp.minute:02d}:{stamp.second:02d} {'AM' if stamp.hour < 12 else 'PM'}"


def de_de(stamp: pd.Timestamp) -> str:
    """de-DE DateTime.ToString(): dd.MM.yyyy HH:mm:ss."""
    return stamp.strftime("%d.%m.%Y %H:%M:%S")


def en_gb(stamp: pd.Timestamp) -> str:
    """en-GB DateTime.ToString(): dd/MM/yyyy HH:mm:ss."""
    return stamp.strftime("%d/%m/%Y %H:%M:%S")


def getstat_rows(name, entity_id, interval_s, stamps, series, stamp_text, decimal=".") -> list[tuple]:
    """Get-Stat's rows of one entity: per metric, then per instance (the aggregate "" first), newest sample first."""
    rows = []
    for metric, instances in series.items():
        unit, description = COUNTERS[metric]
        for instance, values in instances.items():
            for stamp, value in sorted(zip(stamps, values), reverse=True):
                text = dotnet(value, decimal) if unit == "%" else str(int(value))
                rows.append((text, stamp_text(stamp), metric, unit, description, name, entity_id, str(interval_s), instance))
    return rows


def split_mhz(rng, total: np.ndarray, vcpus: int) -> dict[str, np.ndarray]:
    """Per-vCPU MHz (Instance "0", "1", ...) that add up to the aggregate."""
    weights = rng.dirichlet(np.full(vcpus, 4.0), total.size)
    parts = np.floor(weights * total[:, None])
    parts[:, -1] = total - parts[:, :-1].sum(axis=1)
    return {str(i): parts[:, i] for i in range(vcpus)}


def realtime_en_us(rng) -> None:
    """Windows PowerShell 5.1, PowerCLI 6.5, en-US, -Realtime: 20 s for 20 minutes across midnight."""
    stamps = pd.date_range("2024-03-04 23:50:20", "2024-03-05 00:10:00", freq="20s")
    hours = stamps.hour + stamps.minute / 60
    vms = [("web01", "VirtualMachine-vm-1042", 2, 8, 17.0, 24.0), ("web02", "VirtualMachine-vm-1043", 2, 8, 11.0, 13.0),
           ("sql01", "VirtualMachine-vm-1051", 4, 32, 30.0, 72.0)]  # the 00:00 index rebuild
    rows = []
    for name, entity_id, vcpus, ram_gb, base, peak in vms:
        pct = load(rng, hours.to_numpy(), base, peak, (0.0, 0.25), 2.5)
        mhz = np.round(pct / 100 * vcpus * CORE_MHZ)
        consumed_kb = np.round((ram_gb * 0.93 + rng.normal(0, 0.02, pct.size)) * KB_PER_GB)
        series = {"cpu.usage.average": {"": pct}, "cpu.usagemhz.average": {"": mhz, **split_mhz(rng, mhz, vcpus)},
                  "mem.consumed.average": {"": consumed_kb}}
        rows += getstat_rows(name, entity_id, 20, stamps, series, en_us)
    write_getstat(HERE / "getstat-en-us-realtime.csv", rows, type_line=True)


def day_de_de(rng) -> None:
    """Windows PowerShell 5.1, PowerCLI 12.7, de-DE, -UseCulture -Encoding UTF8: 300 s for a day, two VMs and their host."""
    stamps = pd.date_range("2024-03-11 00:05", "2024-03-12 00:00", freq="300s")
    hours = (stamps.hour + stamps.minute / 60).to_numpy()
    vms = [("app01", "VirtualMachine-vm-2001", 4, 16, 6.0, 38.0), ("fs-köln", "VirtualMachine-vm-2002", 2, 8, 3.0, 14.0)]
    rows = []
    host_mhz = np.zeros(stamps.size)
    for name, entity_id, vcpus, ram_gb, base, peak in vms:
        pct = load(rng, hours, base, peak, (7.5, 18.0), 1.8)
        host_mhz += pct / 100 * vcpus * CORE_MHZ
        consumed_kb = np.round(ram_gb * (0.7 + 0.1 * (pct / 100)) * KB_PER_GB + rng.normal(0, 2e4, pct.size))
        series = {"cpu.usage.average": {"": pct}, "mem.consumed.average": {"": consumed_kb}}
        rows += getstat_rows(name, entity_id, 300, stamps, series, de_de, ",")
    host_cores = 24  # 2 x 12-core Xeon Gold 6126
    host_pct = np.clip(100 * (host_mhz + 2600 + rng.normal(0, 300, stamps.size)) / (host_cores * CORE_MHZ), 0, 100).round(2)
    host_kb = np.round((2 * 16 * 0.75 + 6.0) * KB_PER_GB + rng.normal(0, 5e4, stamps.size))
    rows += getstat_rows("esx01.corp.local", "HostSystem-host-10", 300, stamps,
                         {"cpu.usage.average": {"": host_pct}, "mem.consumed.average": {"": host_kb}}, de_de, ",")
    write_getstat(HERE / "getstat-de-de-300s.csv", rows, delimiter=";", encoding="utf-8-sig")


def rollups_en_gb(rng) -> None:
    """PowerShell 7.4, PowerCLI 13.2, en-GB: -IntervalMins 30 for three days, then -IntervalMins 5 for the last day, -Append."""
    fine = pd.date_range("2024-03-18 00:05", "2024-03-21 00:00", freq="300s")
    hours = (fine.hour + fine.minute / 60).to_numpy()
    vms = [("web03", "VirtualMachine-vm-3101", 2, 4, 9.0, 27.0, (8.0, 17.5)),
           ("batch01", "VirtualMachine-vm-3120", 8, 64, 4.0, 81.0, (1.0, 5.0))]  # the nightly ETL
    coarse_rows, fine_rows = [], []
    last_day = fine >= pd.Timestamp("2024-03-20 00:05")
    for name, entity_id, vcpus, ram_gb, base, peak, busy in vms:
        pct = load(rng, hours, base, peak, busy, 2.0)
        consumed_kb = np.round(ram_gb * (0.55 + 0.3 * pct / 100) * KB_PER_GB)
        # a 30-minute rollup is the mean of its six 5-minute samples, stamped at its end
        coarse = pd.DataFrame({"pct": pct, "kb": consumed_kb}, index=fine).resample("1800s", label="right", closed="right").mean()
        coarse_series = {"cpu.usage.average": {"": coarse["pct"].round(2).to_numpy()}, "mem.consumed.average": {"": coarse["kb"].round().to_numpy()}}
        coarse_rows += getstat_rows(name, entity_id, 1800, coarse.index, coarse_series, en_gb)
        fine_series = {"cpu.usage.average": {"": pct[last_day]}, "mem.consumed.average": {"": consumed_kb[last_day]}}
        fine_rows += getstat_rows(name, entity_id, 300, fine[last_day], fine_series, en_gb)
    path = HERE / "getstat-en-gb-rollups.csv"
    write_getstat(path, coarse_rows, encoding="utf-8")
    write_getstat(path, fine_rows, encoding="utf-8", header=False, mode="a")


def charts(rng) -> None:
    """vSphere Web Client (Flex) 6.5, web01's CPU and Memory advanced charts, "Last day", Export > CSV."""
    folder = HERE / "chart-web01"
    folder.mkdir(exist_ok=True)
    stamps = pd.date_range("2024-03-11 00:05", "2024-03-12 00:00", freq="300s", tz="Europe/Berlin")
    hours = (stamps.hour + stamps.minute / 60).to_numpy()
    pct = load(rng, hours, 4.0, 31.0, (8.0, 18.0), 1.5)
    mhz = np.round(pct / 100 * 2 * CORE_MHZ)
    granted = np.full(pct.size, 8 * KB_PER_GB)
    consumed = np.round(granted * (0.78 + 0.05 * pct / 100))
    active = np.round(granted * (0.06 + 0.25 * pct / 100) + rng.normal(0, 3e4, pct.size))
    times = [flex_time(s) for s in stamps]
    cpu = pd.DataFrame({"Time": times, "Usage for web01": [dotnet(v) for v in pct], "Usage in MHz for web01": mhz.astype(int)})
    memory = pd.DataFrame({"Time": times, "Active for web01": active.astype(int), "Consumed for web01": consumed.astype(int),
                           "Granted for web01": granted.astype(int), "Balloon for web01": np.zeros(pct.size, dtype=int)})
    for frame, name in ((cpu, "web01-cpu.csv"), (memory, "web01-memory.csv")):
        frame.to_csv(folder / name, index=False, quoting=1, lineterminator="\r\n")


def flex_time(stamp: pd.Timestamp) -> str:
    """ActionScript Date.toString(): ``Mon Mar 11 00:05:00 GMT+0100 2024``."""
    offset = stamp.utcoffset().total_seconds() / 60
    sign = "+" if offset >= 0 else "-"
    return f"{stamp:%a %b} {stamp.day} {stamp:%H:%M:%S} GMT{sign}{int(abs(offset)) // 60:02d}{int(abs(offset)) % 60:02d} {stamp.year}"


def main() -> None:
    rng = np.random.default_rng(SEED)
    realtime_en_us(rng)
    day_de_de(rng)
    rollups_en_gb(rng)
    charts(rng)


if __name__ == "__main__":
    main()
