import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from consolidate.models import power
from consolidate.models.catalog import load_catalog
from consolidate.models.hardware import linear_curve_w

R740_W = (49.8, 114, 137, 159, 182, 208, 240, 277, 319, 376, 432)


def reference_energy_wh(curves_w, util, interval_s):
    """Plain numpy: np.interp on each machine's curve, rectangle rule."""
    loads = np.linspace(0.0, 1.0, 11)
    clipped = np.clip(np.asarray(util, dtype=np.float64), 0.0, 1.0)
    return np.array([np.interp(clipped[i], loads, curves_w[i]).sum() * interval_s / 3600.0 for i in range(len(curves_w))])


def watts(curve_w, util):
    """Power at each value of ``util`` (on one curve, or one curve per row), read off the package's
    energy kernel: one hour at a constant load is its power in Wh."""
    u = np.asarray(util, dtype=np.float64)
    curve_w = np.asarray(curve_w, dtype=np.float64)
    curves = np.broadcast_to(curve_w if curve_w.ndim == 1 else curve_w.reshape(-1, *(1,) * (u.ndim - 1), 11),
                             u.shape + (11,))
    flat = power.energy_wh(curves.reshape(-1, 11), u.reshape(-1, 1), 3600.0)
    return flat.reshape(u.shape)


def test_curve_at_35_percent_by_hand():
    # Between 30 % (159 W) and 40 % (182 W): 159 + 0.5 x 23 = 170.5 W.
    assert float(watts(R740_W, 0.35)) == pytest.approx(170.5)
    assert float(watts(R740_W, 0.0)) == 49.8
    assert float(watts(R740_W, 1.0)) == 432.0
    assert float(watts(R740_W, 0.9)) == pytest.approx(376.0)


def test_load_is_clipped_for_power():
    np.testing.assert_allclose(watts(R740_W, np.array([-0.2, 1.7])), [49.8, 432.0])


def test_two_point_model_is_the_straight_line():
    curve = linear_curve_w(100.0, 200.0)
    np.testing.assert_allclose(watts(curve, np.array([0.0, 0.25, 0.5, 0.77, 1.0])), [100, 125, 150, 177, 200])


def test_one_curve_per_row():
    curves = np.array([R740_W, linear_curve_w(100, 200)])
    util = np.array([[0.35, 1.0], [0.5, 0.0]])
    np.testing.assert_allclose(watts(curves, util), [[170.5, 432.0], [150.0, 100.0]])
    np.testing.assert_allclose(watts(curves, np.array([0.35, 0.5])), [170.5, 150.0])


@pytest.mark.parametrize("name", sorted(load_catalog()))
def test_power_is_monotone_in_load_for_every_catalogue_curve(name):
    curve = load_catalog()[name].power_curve_w
    w = watts(curve, np.linspace(0.0, 1.0, 1001))
    assert (np.diff(w) >= 0).all()
    assert w[0] == curve[0] and w[-1] == curve[-1]


@settings(max_examples=50, deadline=None)
@given(a=st.floats(0, 1), b=st.floats(0, 1), name=st.sampled_from(sorted(load_catalog())))
def test_power_monotone_property(a, b, name):
    curve = load_catalog()[name].power_curve_w
    lo, hi = sorted((a, b))
    assert watts(curve, lo) <= watts(curve, hi)


def test_kernel_matches_numpy_reference():
    rng = np.random.default_rng(7)
    models = list(load_catalog().values())
    curves = np.array([models[i % len(models)].power_curve_w for i in range(40)])
    util = rng.uniform(-0.1, 1.3, size=(40, 500)).astype(np.float32)
    got = power.energy_wh(curves, util, 300)
    np.testing.assert_allclose(got, reference_energy_wh(curves, util, 300), rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 5),
    steps=st.integers(1, 50),
    seed=st.integers(0, 2**32 - 1),
    interval_s=st.sampled_from([60, 300, 3600]),
)
def test_kernel_matches_numpy_reference_property(n, steps, seed, interval_s):
    rng = np.random.default_rng(seed)
    idle = rng.uniform(20, 200, n)
    curves = np.sort(np.column_stack([idle, idle[:, None] + rng.uniform(0, 400, (n, 10))]), axis=1)
    util = rng.uniform(0, 1, (n, steps)).astype(np.float32)
    np.testing.assert_allclose(power.energy_wh(curves, util, interval_s), reference_energy_wh(curves, util, interval_s), rtol=1e-9)


def test_energy_accepts_one_shared_curve_and_checks_shapes():
    util = np.full((3, 4), 0.5, dtype=np.float32)
    np.testing.assert_allclose(power.energy_wh(linear_curve_w(100, 200), util, 3600), [600.0] * 3)
    with pytest.raises(ValueError, match="curves_w must be"):
        power.energy_wh(np.ones((2, 11)), util, 3600)
    with pytest.raises(ValueError, match="NaN"):
        power.energy_wh(linear_curve_w(100, 200), np.full((3, 4), np.nan), 3600)


def test_hand_worked_estate_energy_cost_and_co2():
    # Two servers at a constant 50 % on linear 100-200 W models: 150 W each, 300 W in all.
    # A week at 5-minute samples, annualised: 300 W x 8760 h = 2628 kWh/yr; PUE 1.
    # Cost at 0.10 USD/kWh = 262.80 USD; CO2 at 390 g/kWh = 1.02492 t.
    steps = 7 * 24 * 12
    util = np.full((2, steps), 0.5, dtype=np.float32)
    curves = np.array([linear_curve_w(100, 200)] * 2)
    week_wh = power.energy_wh(curves, util, 300).sum()
    assert week_wh == pytest.approx(300 * 7 * 24)
    it_kwh = power.annualise(week_wh / 1000, steps * 300 / 3600)
    kwh = power.facility_kwh(it_kwh, 1.0)
    assert kwh == pytest.approx(2628.0, rel=1e-9)
    assert power.cost(kwh, 0.10) == pytest.approx(262.80, rel=1e-9)
    assert power.co2_tonnes(kwh, 390) == pytest.approx(1.02492, rel=1e-9)
    assert power.facility_kwh(it_kwh, 1.56) == pytest.approx(2628.0 * 1.56)


def test_annualise_needs_a_duration():
    assert power.annualise(1.0, 8760.0) == 1.0
    with pytest.raises(ValueError):
        power.annualise(1.0, 0.0)


def test_source_load_without_smt_is_cpu_pct():
    cpu_pct = np.array([[0.0, 30.0, 100.0, 120.0]])
    load = power.source_load_fraction(cpu_pct, np.array([4.0]), np.array([4.0]), 0.25)
    np.testing.assert_allclose(load, [[0.0, 0.3, 1.0, 1.2]], rtol=1e-6)


def test_source_load_with_smt_is_a_share_of_smt_throughput():
    # 8 cores / 16 threads, gain 0.25: 50 % fills the 8 cores = 8 / 10 of full throughput.
    load = power.source_load_fraction(np.array([[25.0, 50.0, 100.0]]), np.array([8.0]), np.array([16.0]), 0.25)
    np.testing.assert_allclose(load, [[0.4, 0.8, 1.0]], rtol=1e-6)


def test_host_load_fraction():
    load = power.host_load_fraction(np.array([[10.0, 40.0], [0.0, 20.0]]), np.array([40.0, 20.0]))
    assert load.dtype == np.float32
    np.testing.assert_allclose(load, [[0.25, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(power.host_load_fraction(np.array([[10.0]]), 40.0), [[0.25]])
