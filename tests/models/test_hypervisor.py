import numpy as np
import pytest

from consolidate.errors import InputError
from consolidate.models.hypervisor import PROFILES, get_profile


@pytest.mark.parametrize(
    "host_gb, dom0_gb",
    [(16, 752 / 1024), (20, 752 / 1024), (24, 2.0), (32, 2.0), (48, 3.0), (63.9, 3.0), (64, 4.0), (256, 4.0), (1024, 4.0), (2048, 4.0)],
)
def test_xen_dom0_table(host_gb, dom0_gb):
    assert get_profile("xen").host_reserve_gb(host_gb) == pytest.approx(dom0_gb)


def test_xen_vm_overhead_by_hand():
    # 4 vCPUs x 1 MiB + 16 GiB = 16384 MiB x 8 KiB = 128 MiB -> 132 MiB.
    assert float(get_profile("xen").vm_overhead_gb(4, 16.0)) == pytest.approx(132 / 1024)
    # 1 vCPU, 1 GiB: 1 MiB + 8 MiB.
    assert float(get_profile("xen").vm_overhead_gb(1, 1.0)) == pytest.approx(9 / 1024)


def test_kvm_by_hand():
    kvm = get_profile("kvm")
    assert kvm.host_reserve_gb(512) == 4.0
    # 0.002 x 16 GB + (218 + 4 x 8) MiB = 0.032 GB + 250 MiB.
    assert float(kvm.vm_overhead_gb(4, 16.0)) == pytest.approx(0.032 + 250 / 1024)


@pytest.mark.parametrize(
    "vcpus, ram_gb, overhead_mb",
    [
        (1, 1, 25.9), (2, 1, 29.9), (4, 1, 37.9), (8, 1, 53.8),
        (1, 16, 139.6), (2, 16, 144.0), (4, 16, 151.9), (8, 16, 168.6),
        # Between points: 3 vCPUs is half way from 2 to 4; 8.5 GB half way from 1 to 16 GB.
        (3, 1, 33.9), (3, 8.5, (33.9 + 147.95) / 2),
        # Beyond: 16 vCPUs continue the 4-to-8 slope (53.8 + 8 x 15.9 / 4) at 1 GB.
        (16, 1, 53.8 + 8 * 15.9 / 4),
        # 31 GB continues the 1-to-16 GB slope (one more 15 GB step) at 1 vCPU.
        (1, 31, 139.6 + (139.6 - 25.9)),
    ],
)
def test_esxi_table_and_interpolation(vcpus, ram_gb, overhead_mb):
    assert float(get_profile("esxi").vm_overhead_gb(vcpus, ram_gb)) * 1024 == pytest.approx(overhead_mb)


def test_hyperv_by_hand():
    hyperv = get_profile("hyperv")
    # 384 MB + 64 MB x 256 = 16768 MB.
    assert hyperv.host_reserve_gb(256) == pytest.approx(16768 / 1024)
    # A 1 GB host would get 448 MB, under the 512 MB floor.
    assert hyperv.host_reserve_gb(1) == pytest.approx(0.5)
    # 32 MB + 15 x 8 MB for a 16 GB VM; 32 MB for a VM of 1 GB or less.
    assert float(hyperv.vm_overhead_gb(2, 16.0)) == pytest.approx(152 / 1024)
    assert float(hyperv.vm_overhead_gb(1, 0.5)) == pytest.approx(32 / 1024)


def test_none_takes_nothing():
    none = get_profile("none")
    assert none.cpu_overhead == 0 and none.host_reserve_gb(256) == 0
    np.testing.assert_array_equal(none.vm_overhead_gb(np.array([1, 8]), np.array([4.0, 64.0])), [0.0, 0.0])


def test_virtualising_profiles_assume_five_percent_cpu():
    for name in ("xen", "kvm", "esxi", "hyperv"):
        assert PROFILES[name].cpu_overhead == 0.05
        assert "assumption" in PROFILES[name].source


def test_overheads_are_vectorised_and_grow_with_the_vm():
    vcpus = np.array([1, 2, 4, 8, 16])
    ram = np.array([1.0, 4.0, 16.0, 64.0, 256.0])
    for name, profile in PROFILES.items():
        overhead = profile.vm_overhead_gb(vcpus, ram)
        assert overhead.shape == (5,)
        assert (np.diff(overhead) >= 0).all(), name


def test_unknown_hypervisor_is_an_input_error():
    assert get_profile("KVM").name == "kvm"
    with pytest.raises(InputError, match="use one of none, xen, kvm, esxi, hyperv"):
        get_profile("vmware")
