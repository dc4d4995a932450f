import numpy as np
import pytest

from consolidate.errors import InputError
from consolidate.models import catalog, constants
from consolidate.options import DEFAULT_HOST
from consolidate.models.catalog import (
    catalog_frame,
    find_model,
    get_host,
    load_catalog,
    source_power_curves,
)
from consolidate.models.trace import Inventory

# The SPECpower_ssj2008 table of the project's reference notes, copied by hand: name -> curve (W).
REFERENCE_CURVES_W = {
    "hp-ml110-g4": (86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117),
    "hp-ml110-g5": (93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135),
    "ibm-x3250-m3": (41.6, 46.7, 52.3, 57.9, 65.4, 73, 80.7, 89.5, 99.6, 105, 113),
    "ibm-x3550-m3-x5670": (66, 107, 120, 131, 143, 156, 173, 191, 211, 229, 247),
    "ibm-x3550-m3-x5675": (58.4, 98, 109, 118, 128, 140, 153, 170, 189, 205, 222),
    "dell-r710": (64, 104, 116, 126, 137, 148, 158, 173, 190, 210, 232),
    "dell-r620": (54.1, 78.4, 88.5, 99.5, 115, 126, 143, 165, 196, 226, 243),
    "dell-r740": (49.8, 114, 137, 159, 182, 208, 240, 277, 319, 376, 432),
    "hpe-dl380-gen10plus": (127, 198, 226, 253, 281, 314, 354, 405, 464, 576, 619),
    "dell-r7525": (72, 181, 207, 229, 250, 270, 294, 321, 347, 370, 393),
    "dell-r6515": (54, 123, 139, 150, 161, 169, 181, 194, 207, 218, 231),
    "hpe-dl345-gen10plus": (58, 104, 120, 134, 150, 169, 197, 217, 236, 255, 272),
    "epyc-9654-2s": (128, 257, 300, 340, 378, 410, 442, 498, 577, 697, 817),
}
REFERENCE_RESULTS = {
    "hp-ml110-g4": "power_ssj2008-20110127-00342",
    "dell-r740": "power_ssj2008-20190409-00952",
    "hpe-dl380-gen10plus": "power_ssj2008-20210601-01103",
    "epyc-9654-2s": "power_ssj2008-20221204-01203",
}


def test_catalogue_holds_every_reference_model_with_its_curve():
    models = load_catalog()
    assert len(models) >= 12
    for name, curve in REFERENCE_CURVES_W.items():
        assert models[name].power_curve_w == pytest.approx(curve, abs=1e-9), name
    for name, result in REFERENCE_RESULTS.items():
        assert models[name].notes["spec_result"] == result
        assert result in models[name].source


def test_unverified_result_is_marked():
    r7525 = get_host("dell-r7525")
    assert r7525.notes["spec_result"] == "unverified"
    assert "UNVERIFIED" in r7525.notes["notes"]


def test_both_roles_and_one_and_two_socket_hosts():
    models = load_catalog().values()
    roles = {m.notes["role"] for m in models}
    assert roles == {"source", "host"}
    host_sockets = {m.sockets for m in models if m.notes["role"] == "host"}
    assert {1, 2} <= host_sockets
    assert all(m.threads >= m.cores and m.cores % m.sockets == 0 for m in models)


def test_every_row_says_what_it_assumes():
    for model in load_catalog().values():
        notes = model.notes["notes"]
        assert "RAM" in notes and "assumed" in notes and "unverified" in notes, model.name
        assert "perf" in notes and "estimate" in notes, model.name
        assert model.source and model.price_usd > 0 and model.ram_gb > 0


def test_perf_is_the_chained_uarch_figure():
    # Westmere is the reference (1.0); Cascade Lake = 1.10 * 1.05 * 1.10 * 1.05 * 1.10 by hand.
    assert constants.uarch_perf("Westmere") == 1.0
    assert constants.uarch_perf("Cascade Lake") == pytest.approx(1.10 * 1.05 * 1.10 * 1.05 * 1.10)
    assert constants.uarch_perf("Core") == pytest.approx(1 / (1.05 * 1.15))
    for model in load_catalog().values():
        assert model.perf == round(constants.uarch_perf(model.notes["uarch"]), 2), model.name
    assert get_host("dell-r710").perf == 1.0
    with pytest.raises(KeyError, match="unknown micro-architecture"):
        constants.uarch_perf("Pentium 4")


def test_default_host_is_a_modern_two_socket_host():
    host = get_host(DEFAULT_HOST)
    assert host.notes["role"] == "host" and host.sockets == 2 and host.ram_gb >= 512


def test_default_source_curve_is_the_catalogue_r710():
    model = get_host(str(constants.SOURCE_DEFAULT_MODEL.value))
    assert model.power_curve_w == constants.DEFAULT_SOURCE_CURVE_W


def test_get_host_ignores_case_and_accepts_a_label():
    assert get_host("DELL-R740").name == "dell-r740"
    assert get_host("Dell PowerEdge R740").name == "dell-r740"


def test_close_name_suggests_the_right_model():
    with pytest.raises(InputError, match="did you mean 'dell-r740'"):
        get_host("dell-r470")


def test_unknown_name_lists_some_hosts():
    with pytest.raises(InputError, match="known hosts include dell-r740"):
        get_host("mainframe")


@pytest.mark.parametrize(
    "text, name",
    [
        ("Dell PowerEdge R710", "dell-r710"),
        ("PowerEdge R710", "dell-r710"),
        ("r710", "dell-r710"),
        ("HP ProLiant ML110 G5", "hp-ml110-g5"),
        ("IBM x3550 M3 X5675", "ibm-x3550-m3-x5675"),
        ("HPE ProLiant DL380 Gen10 Plus", "hpe-dl380-gen10plus"),
        ("ibm-x3250-m3", "ibm-x3250-m3"),
        ("x3550 M3", None),  # two models share the label
        ("DL380 Gen10", None),  # Gen10 is not Gen10 Plus
        ("HP ProLiant ML110", None),  # no generation: G4 or G5
        ("IBM x3250 (1x Xeon X3470)", "ibm-x3250-m3"),
        ("IBM x3550 (2x Xeon X5670)", "ibm-x3550-m3-x5670"),
        ("Hewlett-Packard ProLiant ML110 G4", "hp-ml110-g4"),
        ("Dell Inc. PowerEdge R710", "dell-r710"),
        ("AMD EPYC 9654", "epyc-9654-2s"),
        ("PowerEdge", None),  # no model number
        ("Dell PowerEdge R730", None),
        ("", None),
    ],
)
def test_find_model_by_inventory_text(text, name):
    model = find_model(text)
    assert (model.name if model else None) == name


def _inventory(models, idle_w, max_w):
    n = len(models)
    return Inventory(
        server_ids=np.array([f"s{i}" for i in range(n)], dtype=object),
        cores=np.full(n, 4.0), threads=np.full(n, 4.0), ghz=np.full(n, 2.0), perf=np.ones(n),
        ram_gb=np.full(n, 8.0), model=np.array(models, dtype=object),
        power_idle_w=np.array(idle_w, dtype=float), power_max_w=np.array(max_w, dtype=float),
        defaulted=np.zeros(n, dtype=bool),
        host=np.full(n, "", dtype=object),
    )


def test_source_curves_prefer_inventory_watts_then_model_then_default():
    nan = np.nan
    inv = _inventory(
        ["Dell PowerEdge R620", "Dell PowerEdge R620", "unknown box", None, "r620"],
        [100.0, nan, nan, nan, 300.0],
        [200.0, 250.0, nan, nan, 200.0],  # last: max below idle, so not usable
    )
    curves, origin = source_power_curves(inv)
    np.testing.assert_allclose(curves[0], np.linspace(100, 200, 11))
    np.testing.assert_allclose(curves[1], REFERENCE_CURVES_W["dell-r620"])
    np.testing.assert_allclose(curves[2], constants.DEFAULT_SOURCE_CURVE_W)
    np.testing.assert_allclose(curves[3], constants.DEFAULT_SOURCE_CURVE_W)
    np.testing.assert_allclose(curves[4], REFERENCE_CURVES_W["dell-r620"])
    assert list(origin) == [
        "inventory watts", "catalogue dell-r620", "default dell-r710", "default dell-r710", "catalogue dell-r620",
    ]


def test_catalog_frame_for_the_cli():
    frame = catalog_frame()
    assert list(frame["name"]) == list(load_catalog())
    for column in ("cpu", "role", "cores", "threads", "ghz", "perf", "ram_gb", "capacity_ghz", "idle_w", "max_w", "spec_result"):
        assert column in frame.columns
    r740 = frame.set_index("name").loc["dell-r740"]
    assert r740["capacity_ghz"] == pytest.approx(round(56 * 2.7 * 1.47 * 1.25, 1))
    assert r740["idle_w"] == 49.8 and r740["max_w"] == 432
    assert r740["spec_result"] == "20190409-00952"
    detailed = catalog_frame(details=True)
    assert {"label", "p0", "p50", "p100", "source", "notes"} <= set(detailed.columns)
    assert detailed.set_index("name").loc["dell-r740", "p30"] == 159


def test_catalogue_is_cached():
    assert catalog._models() is catalog._models()
