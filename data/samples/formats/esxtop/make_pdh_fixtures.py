"""Writes the constructed perfmon and esxtop fixtures of data/samples/formats/ (run once)."""
import csv, io, sys
from pathlib import Path
import numpy as np
import pandas as pd

ROOT = Path(sys.argv[1])
PERFMON = ROOT / "perfmon"; ESXTOP = ROOT / "esxtop"
PERFMON.mkdir(parents=True, exist_ok=True); ESXTOP.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(11)

def pdh_lines(names, times, columns, quote=True, eol="\r\n"):
    out = io.StringIO()
    def cell(v):
        return v
    w = csv.writer(out, quoting=csv.QUOTE_ALL if quote else csv.QUOTE_MINIMAL, lineterminator=eol)
    w.writerow(names)
    for i, t in enumerate(times):
        w.writerow([t] + [c[i] for c in columns])
    return out.getvalue()

def mdy(ts, ms=True):
    s = ts.strftime("%m/%d/%Y %H:%M:%S")
    return s + f".{ts.microsecond // 1000:03d}" if ms else s

def busy(n, base, swing):
    x = base + swing * np.sin(np.linspace(0, 3 * np.pi, n)) + rng.normal(0, 3, n)
    return np.clip(x, 0.5, 99.5)

def fmt(values, first_blank=False, digits=None):
    cells = [repr(float(v)) if digits is None else f"{v:.{digits}f}" for v in values]
    if first_blank:
        cells[0] = " "
    return cells

# 1. relog-style, two hosts, India Standard Time (-330), 40 samples at 60 s
n = 40
t0 = pd.Timestamp("2024-03-04 09:00:00.117")
times = [mdy(t0 + pd.Timedelta(seconds=60 * i, milliseconds=int(rng.integers(0, 20)))) for i in range(n)]
names = ["(PDH-CSV 4.0) (India Standard Time)(-330)"]
cols = []
for host, base, ram_used in (("WEB01", 30, 6.5), ("DB01", 55, 24.0)):
    per = [busy(n, base + 5 * k, 15) for k in range(2)]
    total = (per[0] + per[1]) / 2
    for k in range(2):
        names.append(f"\\\\{host}\\Processor({k})\\% Processor Time"); cols.append(fmt(per[k], True))
    names.append(f"\\\\{host}\\Processor(_Total)\\% Processor Time"); cols.append(fmt(total, True))
    committed = (ram_used + rng.normal(0, 0.2, n)) * 1024**3
    names.append(f"\\\\{host}\\Memory\\Committed Bytes"); cols.append([str(int(v)) for v in committed])
    names.append(f"\\\\{host}\\Memory\\Available MBytes"); cols.append([str(int(8192 - v / 2**20 / 4)) for v in committed])
    names.append(f"\\\\{host}\\LogicalDisk(C:)\\% Free Space"); cols.append(fmt(np.full(n, 41.5)))
(PERFMON / "relog-two-hosts-ist.csv").write_text(pdh_lines(names, times, cols), encoding="utf-8", newline="")

# 2. German Windows, cp1252, per-CPU columns only, Central European (-60), 30 samples at 15 s
n = 30
t0 = pd.Timestamp("2024-01-15 13:30:00.250")
times = [mdy(t0 + pd.Timedelta(seconds=15 * i)) for i in range(n)]
names = ["(PDH-CSV 4.0) (Mitteleuropäische Zeit)(-60)"]
cols = []
for k in range(4):
    names.append(f"\\\\RECHNER01\\Prozessor({k})\\Prozessorzeit (%)"); cols.append(fmt(busy(n, 20 + 10 * k, 10), True))
names.append("\\\\RECHNER01\\Arbeitsspeicher\\Zugesicherte Bytes"); cols.append([str(int(v)) for v in (3.2 + rng.normal(0, 0.05, n)) * 1024**3])
names.append("\\\\RECHNER01\\Arbeitsspeicher\\Verfügbare MB"); cols.append([str(int(v)) for v in 4100 + rng.normal(0, 20, n)])
(PERFMON / "de-cp1252-per-cpu.csv").write_bytes(pdh_lines(names, times, cols).encode("cp1252"))

# 3. Russian Windows, cp1251, _Total CPU and Available MBytes only, Russia TZ 2 (-180), 25 samples at 30 s
n = 25
t0 = pd.Timestamp("2024-02-20 08:00:00.500")
times = [mdy(t0 + pd.Timedelta(seconds=30 * i)) for i in range(n)]
names = ["(PDH-CSV 4.0) (Russia TZ 2 Standard Time)(-180)",
         "\\\\SRV-1C\\Процессор(_Total)\\% загруженности процессора",
         "\\\\SRV-1C\\Память\\Доступно МБ",
         "\\\\SRV-1C\\Физический диск(_Total)\\Средняя длина очереди диска"]
cols = [fmt(busy(n, 40, 20), True), [str(int(v)) for v in 2000 + rng.normal(0, 30, n)], fmt(np.abs(rng.normal(0.4, 0.2, n)), True)]
(PERFMON / "ru-cp1251.csv").write_bytes(pdh_lines(names, times, cols).encode("cp1251"))

# 4. French Windows, UTF-16 LE with a byte-order mark, zone name with parentheses (-120), 20 samples at 60 s
n = 20
t0 = pd.Timestamp("2024-07-01 10:00:00.031")
times = [mdy(t0 + pd.Timedelta(seconds=60 * i)) for i in range(n)]
names = ["(PDH-CSV 4.0) (Paris, Madrid (heure d’été))(-120)",
         "\\\\SERVEUR-FR\\Processeur(_Total)\\% temps processeur",
         "\\\\SERVEUR-FR\\Mémoire\\Octets validés",
         "\\\\SERVEUR-FR\\Mémoire\\Mégaoctets disponibles"]
cols = [fmt(busy(n, 25, 10), True), [str(int(v)) for v in (5.0 + rng.normal(0, 0.1, n)) * 1024**3], [str(int(v)) for v in 9000 + rng.normal(0, 50, n)]]
(PERFMON / "fr-utf16.csv").write_bytes(pdh_lines(names, times, cols).encode("utf-16"))

# 5. typeperf to the console: blank first line, no zone, 6 decimals, status lines at the end, 20 samples at 5 s
n = 20
t0 = pd.Timestamp("2024-05-06 16:20:01.488")
times = [mdy(t0 + pd.Timedelta(seconds=5 * i, milliseconds=int(rng.integers(0, 9)))) for i in range(n)]
names = ["(PDH-CSV 4.0)", "\\\\APP07\\Processor(_Total)\\% Processor Time", "\\\\APP07\\Memory\\Committed Bytes"]
cols = [fmt(busy(n, 35, 20), False, 6), [f"{v:.6f}" for v in (2.5 + rng.normal(0, 0.02, n)) * 1024**3]]
text = "\r\n" + pdh_lines(names, times, cols) + "Exiting, please wait...\r\nThe command completed successfully.\r\n"
(PERFMON / "typeperf-console.csv").write_text(text, encoding="ascii", newline="")

# esxtop: esx01, 4 logical PCPUs (2 cores, hyper-threading on), 60 refreshes at 5 s
def esx_batch(host, n, t0, step_s, vms, pcpus, ht, vcpu_worlds, total=True):
    times = [mdy(t0 + pd.Timedelta(seconds=step_s * i), ms=False) for i in range(n)]
    H = f"\\\\{host}"
    names = ["(PDH-CSV 4.0) (UTC)(0)"]; cols = []
    def add(name, values, digits=2):
        names.append(H + "\\" + name); cols.append([f"{v:.{digits}f}" for v in values])
    for m in (1, 5, 15):
        add(f"Memory\\Memory Overcommit ({m} Minute Avg)", np.zeros(n))
    used = {name: busy(n, base, base / 3) / 100 * vcpus * 100 for name, gid, vcpus, base, size in vms}
    system = busy(n, 3, 1)
    host_busy = np.clip((sum(used.values()) + system) / pcpus, 0, 100)
    for m in (1, 5, 15):
        add(f"Physical Cpu Load\\Cpu Load ({m} Minute Avg)", np.full(n, host_busy.mean() / 100))
    per = [np.clip(host_busy + rng.normal(0, 4, n), 0, 100) for _ in range(pcpus)]
    for counter, scale in (("% Processor Time", 1.08), ("% Util Time", 1.0)) + ((("% Core Util Time", 1.3),) if ht else ()):
        for k in range(pcpus):
            add(f"Physical Cpu({k})\\{counter}", np.clip(per[k] * scale, 0, 100))
        if total:
            add(f"Physical Cpu(_Total)\\{counter}", np.clip(np.mean(per, axis=0) * scale, 0, 100))
    machine = 65536
    vm_consumed = {name: size * 0.6 + rng.normal(0, 20, n) for name, gid, vcpus, base, size in vms}
    free = machine - 4096 - sum(vm_consumed.values())
    add("Memory\\Machine MBytes", np.full(n, machine), 0)
    add("Memory\\Kernel MBytes", np.full(n, 1900), 0)
    add("Memory\\NonKernel MBytes", machine - 1900 - free, 0)
    add("Memory\\Free MBytes", free, 0)
    groups = [("1", "system", 12, system), ("2", "helper", 140, busy(n, 0.3, 0.1)), ("2098123", "hostd.2098123", 30, busy(n, 1, 0.5))]
    groups += [(gid, name, 8 + vcpus, used[name]) for name, gid, vcpus, base, size in vms]
    for gid, name, members, u in groups:
        add(f"Group Cpu({gid}:{name})\\Members", np.full(n, members), 0)
        add(f"Group Cpu({gid}:{name})\\% Used", u)
        add(f"Group Cpu({gid}:{name})\\% Run", u * 0.97)
        add(f"Group Cpu({gid}:{name})\\% Ready", np.abs(rng.normal(0.5, 0.2, n)))
    if vcpu_worlds:
        for name, gid, vcpus, base, size in vms:
            wid = int(gid) + 1
            add(f"Vcpu({gid}:{name}:{wid}:vmx)\\% Used", np.abs(rng.normal(0.2, 0.05, n)))
            for v in range(vcpus):
                add(f"Vcpu({gid}:{name}:{wid + 4 + v}:vmx-vcpu-{v}:{name})\\% Used", used[name] / vcpus)
            add(f"Vcpu({gid}:{name}:{wid + 2}:vmx-mks:{name})\\% Used", np.abs(rng.normal(0.1, 0.05, n)))
    for name, gid, vcpus, base, size in vms:
        add(f"Group Memory({gid}:{name})\\Memory Size MBytes", np.full(n, size), 0)
        add(f"Group Memory({gid}:{name})\\Memory Granted Size MBytes", np.full(n, size * 0.8), 0)
        add(f"Group Memory({gid}:{name})\\Memory Consumed Size MBytes", vm_consumed[name])
        add(f"Group Memory({gid}:{name})\\Touched MBytes", vm_consumed[name] * 0.4)
        add(f"Network Port(vSwitch0:3355443{gid[-1]}:{gid}:{name})\\MBits Transmitted/sec", np.abs(rng.normal(2, 1, n)))
        add(f"Virtual Disk({name})\\Reads/sec", np.abs(rng.normal(30, 10, n)))
    return names, times, cols

VMS = [("web01", "4000", 2, 35, 8192), ("db01", "4100", 4, 50, 32768)]
names, times, cols = esx_batch("esx01.example.com", 60, pd.Timestamp("2024-04-02 07:15:03"), 5, VMS, 4, True, True)
(ESXTOP / "esx01-batch.csv").write_text(pdh_lines(names, times, cols), encoding="utf-8", newline="")

# the same refreshes re-saved by a spreadsheet: no quotes, M/D/YYYY H:MM (seconds lost), values as numbers
frame = pd.DataFrame({n_: c for n_, c in zip(names[1:], cols)})
stamps = [pd.Timestamp(pd.to_datetime(t, format="%m/%d/%Y %H:%M:%S")) for t in times]
sheet = [f"{s.month}/{s.day}/{s.year} {s.hour}:{s.minute:02d}" for s in stamps]
out = io.StringIO()
w = csv.writer(out, lineterminator="\r\n")
w.writerow(names)
for i, s in enumerate(sheet):
    w.writerow([s] + [f"{float(c[i]):g}" for c in cols])
(ESXTOP / "esx01-spreadsheet.csv").write_text(out.getvalue(), encoding="utf-8", newline="")

# esx02: 8 logical PCPUs, no hyper-threading, per-CPU columns only, no vCPU worlds, 48 refreshes at 10 s
names, times, cols = esx_batch("esx02", 48, pd.Timestamp("2024-04-02 07:15:00"), 10, [("mail01", "5200", 2, 40, 16384)], 8, False, False, total=False)
(ESXTOP / "esx02-no-vcpu-worlds.csv").write_text(pdh_lines(names, times, cols), encoding="utf-8", newline="")
