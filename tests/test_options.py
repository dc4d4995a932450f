"""The option table: values checked and normalised once, named as their user named them."""

import math

import pytest

from consolidate import options as opt
from consolidate.errors import InputError
from consolidate.settings import Settings, check_values, label_flag, make_settings


def test_growth_and_horizon_parse():
    assert opt.growth_rate("20%/yr") == pytest.approx(0.2)
    assert opt.growth_rate("20%") == pytest.approx(0.2)
    assert opt.growth_rate("5 %/year") == pytest.approx(0.05)
    assert opt.growth_rate("-10%/y") == pytest.approx(-0.1)
    for bad in ("20", "abc", "-100%", "20%/month"):
        with pytest.raises(opt.OptionError):
            opt.growth_rate(bad)
    assert opt.quarters("3y") == 12
    assert opt.quarters("6q") == 6
    assert opt.quarters("18mo") == 6
    assert opt.quarters("1mo") == 1
    for bad in ("3", "0y", "2d"):
        with pytest.raises(opt.OptionError):
            opt.quarters(bad)


def test_durations_parse():
    assert opt.duration_s("7d") == 7 * 86400
    assert opt.duration_s("36h") == 36 * 3600
    assert opt.duration_s("90min") == 5400
    assert opt.duration_s("2w") == 14 * 86400
    for bad in ("7x", "", "-1d", "0d", "d"):
        with pytest.raises(opt.OptionError):
            opt.duration_s(bad)


def test_every_setting_is_a_field_and_every_default_is_valid():
    names = [o.name for o in opt.settings_options()]
    assert len(set(names)) == len(names)
    s = make_settings()
    for o in opt.settings_options():
        assert hasattr(s, o.name)
    assert s.horizon == 12 and s.host[0].name == opt.DEFAULT_HOST and s.sizing == opt.VALIDATED
    assert set(s.assumptions()) == set(names)
    assert isinstance(s, Settings)


@pytest.mark.parametrize("values, keyword, flag", [
    ({"cpu_target": 1.5}, "cpu_target=1.5", "--cpu-target 1.5"),
    ({"cpu_target": math.nan}, "cpu_target=nan", "--cpu-target nan"),
    ({"pue": math.inf}, "pue=inf", "--pue inf"),
    ({"price_per_kwh": -1.0}, "price_per_kwh=-1.0", "--price -1.0"),
    ({"time_limit_s": 0.0}, "time_limit_s=0.0", "--time-limit 0.0"),
    ({"holdout": "7x"}, "holdout='7x'", "--holdout '7x'"),
    ({"hypervisor": "vbox"}, "hypervisor='vbox'", "--hypervisor 'vbox'"),
    ({"sizing": "p100"}, "sizing='p100'", "--sizing 'p100'"),
    ({"risk_pct": 100.0}, "risk_pct=100.0", "--risk 100.0"),
    ({"seed": 1.5}, "seed=1.5", "--seed 1.5"),
    ({"host": "a,,b"}, "host='a,,b'", "--host 'a,,b'"),
])
def test_a_bad_value_is_one_error_naming_the_keyword_or_the_flag(values, keyword, flag):
    with pytest.raises(InputError) as by_keyword:
        make_settings(**values)
    assert str(by_keyword.value).startswith(keyword)
    with pytest.raises(InputError) as by_flag:
        make_settings(_label=label_flag, **values)
    assert str(by_flag.value).startswith(flag)


def test_options_are_checked_together_before_any_trace():
    with pytest.raises(InputError, match="not both"):
        make_settings(holdout="1d", train_until="2024-01-02")
    with pytest.raises(InputError, match="single host"):
        make_settings(host="dell-r6515,hpe-dl380-gen10plus", n_plus_1=True)
    with pytest.raises(InputError, match="frontier"):
        make_settings(host="dell-r6515,hpe-dl380-gen10plus", frontier=True)
    with pytest.raises(TypeError, match="unknown option"):
        make_settings(cpu_targte=0.7)


def test_values_are_normalised():
    s = make_settings(holdout="36h", growth="20%/yr", horizon="6q", train_until=None, risk_pct=1)
    assert s.holdout == 36 * 3600 and s.growth == pytest.approx(0.2) and s.horizon == 6 and s.risk_pct == 1.0
    business = check_values(opt.BUSINESS, {"licence": "windows"})
    assert business["licence"] == "windows" and business["licence_price_usd"] is None
