"""Hypervisor overhead profiles: host memory reserve, per-VM memory overhead, CPU overhead.

Memory figures in the hypervisor documentation are binary (MiB, GiB); they are converted with
1 GB = 1024 MB, the way the rest of the tool counts RAM.

A host offers ``ram_gb x mem_target - host_reserve_gb(ram_gb)`` to VMs, each of which takes its
own RAM plus ``vm_overhead_gb(vcpus, ram_gb)``; its CPU capacity is scaled by
``1 - cpu_overhead`` (see :func:`consolidate.models.hardware.host_cpu_ghz`).

References
----------
.. [1] Citrix XenServer, "Memory usage" (control-domain memory by host memory).
.. [2] Xen Project, tools/libs/light/libxl_utils.c: shadow/p2m memory of about 1 MiB per vCPU
   plus 8 KiB per MiB of guest RAM.
.. [3] Red Hat OpenShift Virtualization documentation, 2024: virt-launcher memory overhead
   ~0.002 x guest RAM + 218 MiB + 8 MiB per vCPU; Red Hat OpenStack Platform 13 sizing guidance:
   about 4 GB for the host (Nova's reserved_host_memory_mb default is 512).
.. [4] VMware, "vSphere Resource Management" 6.5, table 6-1, "Sample Overhead Memory on Virtual
   Machines".
.. [5] Microsoft, "Performance Tuning Guidelines for Windows Server 2008 R2", Hyper-V section
   (secondary source): root reserve and per-VM overhead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from consolidate.errors import InputError
from consolidate.models.constants import HYPERVISOR_CPU_OVERHEAD

MB_PER_GB = 1024.0

#: Xen dom0 memory by host memory, ref [1]: (host GB from, dom0 GB). The table starts at 20 GB;
#: smaller hosts get its first row. It ends at 1 TB; larger hosts keep its last row (assumption).
XEN_DOM0_TABLE_GB = ((0.0, 752.0 / MB_PER_GB), (24.0, 2.0), (48.0, 3.0), (64.0, 4.0))

#: ESXi per-VM overhead, ref [4]: MB for 1, 2, 4, 8 vCPUs at 1 GB and 16 GB of guest RAM.
ESXI_VCPUS = np.array([1.0, 2.0, 4.0, 8.0])
ESXI_RAM_GB = (1.0, 16.0)
ESXI_OVERHEAD_MB = (np.array([25.9, 29.9, 37.9, 53.8]), np.array([139.6, 144.0, 151.9, 168.6]))

KVM_HOST_RESERVE_GB = 4.0  # ref [3], OpenStack guidance for the host itself
# No sourced figure for ESXi's own memory; taken equal to KVM's host figure (assumption).
ESXI_HOST_RESERVE_GB = 4.0


def xen_dom0_gb(host_ram_gb: float) -> float:
    """Memory Xen's control domain (dom0) keeps on a host, GB, ref [1].

    752 MB below 24 GB, 2 GB from 24 GB, 3 GB from 48 GB, 4 GB from 64 GB (the table's last row,
    "64 GB - 1 TB", also used above 1 TB).
    """
    reserve_gb = XEN_DOM0_TABLE_GB[0][1]
    for from_gb, dom0_gb in XEN_DOM0_TABLE_GB:
        if host_ram_gb >= from_gb:
            reserve_gb = dom0_gb
    return reserve_gb


def xen_vm_overhead_gb(vcpus: np.ndarray, ram_gb: np.ndarray) -> np.ndarray:
    """Xen shadow/p2m memory of a guest, GB: 1 MiB per vCPU + 8 KiB per MiB of guest RAM, ref [2]."""
    vcpus, ram_gb = _arrays(vcpus, ram_gb)
    return vcpus / MB_PER_GB + ram_gb * 8.0 / 1024.0


def kvm_host_reserve_gb(host_ram_gb: float) -> float:
    """Memory a KVM host keeps for itself, GB: a flat 4 GB, ref [3]."""
    return KVM_HOST_RESERVE_GB


def kvm_vm_overhead_gb(vcpus: np.ndarray, ram_gb: np.ndarray) -> np.ndarray:
    """QEMU/KVM per-VM overhead, GB: 0.002 x guest RAM + 218 MiB + 8 MiB per vCPU, ref [3]."""
    vcpus, ram_gb = _arrays(vcpus, ram_gb)
    return 0.002 * ram_gb + (218.0 + 8.0 * vcpus) / MB_PER_GB


def esxi_host_reserve_gb(host_ram_gb: float) -> float:
    """Memory an ESXi host keeps for itself, GB: 4 GB, an assumption (no sourced figure)."""
    return ESXI_HOST_RESERVE_GB


def esxi_vm_overhead_gb(vcpus: np.ndarray, ram_gb: np.ndarray) -> np.ndarray:
    """ESXi per-VM overhead memory, GB, ref [4].

    Bilinear in vCPUs and guest RAM between the table's points (1, 2, 4, 8 vCPUs; 1 and 16 GB),
    extended linearly beyond them (more than 8 vCPUs: the 4-to-8 slope; RAM outside 1-16 GB:
    the 1-to-16 GB slope).
    """
    vcpus, ram_gb = _arrays(vcpus, ram_gb)
    at_1gb = _lerp_extended(vcpus, ESXI_VCPUS, ESXI_OVERHEAD_MB[0])
    at_16gb = _lerp_extended(vcpus, ESXI_VCPUS, ESXI_OVERHEAD_MB[1])
    share = (ram_gb - ESXI_RAM_GB[0]) / (ESXI_RAM_GB[1] - ESXI_RAM_GB[0])
    return (at_1gb + share * (at_16gb - at_1gb)) / MB_PER_GB


def hyperv_root_reserve_gb(host_ram_gb: float) -> float:
    """Memory Hyper-V's root partition keeps, GB: 384 MB + 64 MB per host GB, at least 512 MB, ref [5]."""
    return max(512.0, 384.0 + 64.0 * host_ram_gb) / MB_PER_GB


def hyperv_vm_overhead_gb(vcpus: np.ndarray, ram_gb: np.ndarray) -> np.ndarray:
    """Hyper-V per-VM overhead, GB: 32 MB for the first GB + 8 MB per further GB, ref [5]."""
    vcpus, ram_gb = _arrays(vcpus, ram_gb)
    return (32.0 + 8.0 * np.maximum(ram_gb - 1.0, 0.0)) / MB_PER_GB


def _no_reserve_gb(host_ram_gb: float) -> float:
    return 0.0


def _no_overhead_gb(vcpus: np.ndarray, ram_gb: np.ndarray) -> np.ndarray:
    vcpus, ram_gb = _arrays(vcpus, ram_gb)
    return np.zeros(np.broadcast(vcpus, ram_gb).shape)


def _arrays(vcpus, ram_gb) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(vcpus, dtype=np.float64), np.asarray(ram_gb, dtype=np.float64)


def _lerp_extended(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Piecewise-linear through (xp, fp), continued with the end segments' slopes."""
    inside = np.interp(x, xp, fp)
    low_slope = (fp[1] - fp[0]) / (xp[1] - xp[0])
    high_slope = (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    below = fp[0] + (x - xp[0]) * low_slope
    above = fp[-1] + (x - xp[-1]) * high_slope
    return np.where(x < xp[0], below, np.where(x > xp[-1], above, inside))


@dataclass(frozen=True)
class HypervisorProfile:
    """What a hypervisor takes from a host: memory reserve, per-VM memory, a share of CPU.

    ``reserve`` maps host RAM (GB) to the host's reserve (GB); ``overhead`` maps (vCPUs, guest
    RAM GB) arrays to per-VM overhead (GB); ``cpu_overhead`` is a fraction of host CPU.
    """

    name: str
    cpu_overhead: float
    reserve: Callable[[float], float]
    overhead: Callable[[np.ndarray, np.ndarray], np.ndarray]
    source: str

    def host_reserve_gb(self, host_ram_gb: float) -> float:
        """Memory the hypervisor keeps on a host of ``host_ram_gb``, GB."""
        return float(self.reserve(float(host_ram_gb)))

    def vm_overhead_gb(self, vcpus: np.ndarray, ram_gb: np.ndarray) -> np.ndarray:
        """Memory the hypervisor adds to each VM, GB, float64 array shaped like the inputs."""
        return self.overhead(vcpus, ram_gb)


_VIRTUAL_CPU = float(HYPERVISOR_CPU_OVERHEAD.value)
_CPU_NOTE = f"CPU overhead {_VIRTUAL_CPU:.0%} ({HYPERVISOR_CPU_OVERHEAD.source})"

PROFILES: dict[str, HypervisorProfile] = {
    "none": HypervisorProfile(
        "none", 0.0, _no_reserve_gb, _no_overhead_gb,
        "bare metal: no host reserve, no per-VM overhead, no CPU overhead",
    ),
    "xen": HypervisorProfile(
        "xen", _VIRTUAL_CPU, xen_dom0_gb, xen_vm_overhead_gb,
        "dom0 memory by host RAM: 752 MB (< 24 GB), 2 GB (24-48), 3 GB (48-64), 4 GB (64 GB - 1 TB, "
        "and above) - Citrix XenServer memory-usage docs; per VM 1 MiB per vCPU + 8 KiB per MiB of RAM "
        "(shadow/p2m) - Xen libxl (libxl_utils.c); dom0 should keep more than 1 vCPU; " + _CPU_NOTE,
    ),
    "kvm": HypervisorProfile(
        "kvm", _VIRTUAL_CPU, kvm_host_reserve_gb, kvm_vm_overhead_gb,
        "host 4 GB - Red Hat OpenStack Platform 13 guidance (Nova reserved_host_memory_mb default 512); "
        "per VM 0.002 x RAM + 218 MiB + 8 MiB per vCPU - OpenShift Virtualization docs 2024; " + _CPU_NOTE,
    ),
    "esxi": HypervisorProfile(
        "esxi", _VIRTUAL_CPU, esxi_host_reserve_gb, esxi_vm_overhead_gb,
        "per VM: vSphere 6.5 Resource Management table 6-1 (1 GB VM 25.9/29.9/37.9/53.8 MB, 16 GB VM "
        "139.6/144.0/151.9/168.6 MB for 1/2/4/8 vCPUs), interpolated bilinearly; host 4 GB is an "
        "assumption (no sourced figure); " + _CPU_NOTE,
    ),
    "hyperv": HypervisorProfile(
        "hyperv", _VIRTUAL_CPU, hyperv_root_reserve_gb, hyperv_vm_overhead_gb,
        "root reserve 384 MB + 64 MB per host GB, at least 512 MB; per VM 32 MB for the first GB + 8 MB "
        "per further GB - Windows Server 2008 R2 performance tuning guide (secondary source); " + _CPU_NOTE,
    ),
}


def get_profile(name: str) -> HypervisorProfile:
    """The overhead profile of hypervisor ``name`` (none, xen, kvm, esxi, hyperv; any case)."""
    profile = PROFILES.get(str(name).strip().lower())
    if profile is None:
        raise InputError(f"--hypervisor {name!r} is unknown; use one of {', '.join(PROFILES)}")
    return profile
