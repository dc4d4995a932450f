"""Capacity is monotone in cores, clock and SMT gain, for catalogue hosts and arbitrary ones."""

import dataclasses

import pytest
from hypothesis import given, strategies as st

from consolidate.models.catalog import load_catalog
from consolidate.models.hardware import HostModel, host_cpu_ghz, linear_curve_w

hosts = st.builds(
    lambda cores, k, ghz, perf: HostModel(
        "h", cores=cores, threads=cores * k, ghz=ghz, ram_gb=256, power_curve_w=linear_curve_w(100, 400), perf=perf
    ),
    cores=st.integers(1, 256),
    k=st.integers(1, 2),
    ghz=st.floats(0.5, 5.0),
    perf=st.floats(0.5, 3.0),
)
gains = st.floats(0.0, 1.0)
overheads = st.floats(0.0, 0.2)


@given(host=hosts, more=st.integers(1, 64), gain=gains, overhead=overheads)
def test_capacity_grows_with_cores(host, more, gain, overhead):
    bigger = dataclasses.replace(host, cores=host.cores + more, threads=host.threads + more * (host.threads // host.cores))
    assert host_cpu_ghz(bigger, gain, overhead) > host_cpu_ghz(host, gain, overhead)


@given(host=hosts, faster=st.floats(0.01, 2.0), gain=gains, overhead=overheads)
def test_capacity_grows_with_clock(host, faster, gain, overhead):
    quicker = dataclasses.replace(host, ghz=host.ghz + faster)
    assert host_cpu_ghz(quicker, gain, overhead) > host_cpu_ghz(host, gain, overhead)


@given(host=hosts, a=gains, b=gains, overhead=overheads)
def test_capacity_is_monotone_in_smt_gain(host, a, b, overhead):
    lo, hi = sorted((a, b))
    assert host_cpu_ghz(host, lo, overhead) <= host_cpu_ghz(host, hi, overhead)
    if host.threads > host.cores and hi - lo > 1e-9:
        assert host_cpu_ghz(host, lo, overhead) < host_cpu_ghz(host, hi, overhead)


def test_catalogue_capacity_by_hand():
    # R740: 56 cores x 2.7 GHz x perf 1.47 x (1 + 0.25 SMT) x (1 - 0.05) = 263.9385 GHz.
    assert host_cpu_ghz(load_catalog()["dell-r740"], 0.25, 0.05) == pytest.approx(263.9385)
    # ML110 G4 has no SMT: 2 x 1.86 x 0.83 = 3.0876 GHz whatever the gain.
    assert host_cpu_ghz(load_catalog()["hp-ml110-g4"], 0.25) == pytest.approx(3.0876)
