"""The golden plans: CLI runs whose placement.csv must not change when the code is reorganised.

``python tests/golden/cases.py`` (after ``pip install .``) rewrites ``tests/golden/<case>.csv``
from the installed tool; ``tests/test_golden.py`` replans each case and compares byte for byte.
Regenerate only when a change is meant to change plans, and say so in the commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
GOLDEN = Path(__file__).resolve().parent

RULES_YAML = """\
anti_affinity:
  - [srv-0001, srv-0002, srv-0003]
  - {name: db, servers: [srv-0010, srv-0011]}
affinity:
  - {name: app, servers: [srv-0004, srv-0005]}
pin:
  srv-0007: host-002
"""

_TRACES = [str(SAMPLES / "traces.csv"), "--inventory", str(SAMPLES / "inventory.csv")]
_PLANETLAB = [
    str(SAMPLES / "planetlab" / "20110303"), "--host-spec", "cores=16,ghz=2.5,ram_gb=256,idle_w=86,max_w=117",
    "--hypervisor", "none", "--smt-gain", "0", "--cpu-target", "0.8", "--mem-target", "0.95",
]
_BITBRAINS = [
    str(SAMPLES / "bitbrains" / "2013-7"), "--host-spec", "cores=8,ghz=2.6,ram_gb=64,idle_w=100,max_w=300",
    "--hypervisor", "none", "--smt-gain", "0",
]

#: case name -> the arguments of `consolidate plan` after TRACES (rules files are written beside the output).
CASES: dict[str, list[str]] = {
    "sample-default": _TRACES,
    "sample-p95": _TRACES + ["--sizing", "p95"],
    "sample-timeseries-kvm": _TRACES + ["--sizing", "timeseries", "--hypervisor", "kvm", "--host", "dell-r6515"],
    "sample-used-peak": _TRACES + ["--mem-sizing", "used-peak", "--host", "dell-r6515", "--retire-idle"],
    "sample-rules": _TRACES + ["--constraints", "{rules}", "--max-vms-per-host", "9", "--host", "dell-r6515"],
    "sample-n-plus-1": _TRACES + ["--n-plus-1", "--host", "dell-r6515"],
    "sample-mix-cost": _TRACES + ["--host", "dell-r6515,hpe-dl380-gen10plus", "--objective", "cost"],
    "sample-mix-energy": _TRACES + ["--host", "dell-r6515,hpe-dl380-gen10plus", "--objective", "energy"],
    "sample-holdout-frontier": _TRACES + ["--holdout", "4d", "--frontier", "--host", "dell-r6515"],
    "planetlab-default": _PLANETLAB,
    "planetlab-peak": _PLANETLAB + ["--sizing", "peak"],
    "bitbrains-default": _BITBRAINS,
    "bitbrains-p95": _BITBRAINS + ["--sizing", "p95"],
    "synthetic-300": ["{synthetic}/traces.csv", "--inventory", "{synthetic}/inventory.csv"],
    "synthetic-300-used-peak": ["{synthetic}/traces.csv", "--inventory", "{synthetic}/inventory.csv",
                                "--mem-sizing", "used-peak", "--sizing", "timeseries"],
}

#: The `consolidate sample` estate of the synthetic cases.
SYNTHETIC = {"servers": 300, "days": 7, "seed": 5}


def plan_args(case: str, out: Path) -> list[str]:
    """The full `consolidate` argument list of ``case``, writing into ``out``."""
    rules = out.parent / f"{case}-rules.yaml"
    synthetic = out.parent / "synthetic"
    joined = " ".join(CASES[case])
    if "{rules}" in joined:
        rules.write_text(RULES_YAML)
    if "{synthetic}" in joined and not synthetic.exists():
        from consolidate.samples import write_sample

        write_sample(synthetic, **SYNTHETIC)
    args = [a.replace("{rules}", str(rules)).replace("{synthetic}", str(synthetic)) for a in CASES[case]]
    return ["plan", *args, "--out", str(out), "--quiet"]


def placement_bytes(case: str, workdir: Path) -> bytes:
    from consolidate.cli import main

    out = workdir / case
    code = main(plan_args(case, out))
    if code != 0:
        raise RuntimeError(f"golden case {case} exited {code}")
    return (out / "placement.csv").read_bytes()


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name in sys.argv[1:] or CASES:
            (GOLDEN / f"{name}.csv").write_bytes(placement_bytes(name, Path(tmp)))
            print("wrote", GOLDEN / f"{name}.csv")
