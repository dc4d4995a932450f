"""The option table: values checked and normalised once, named as their user named them."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


#: Every option that is a share, and what a bare number means for it (its unit, as summary.json reports it).
SHARES = {
    "smt_gain": ("fraction of a core", "fraction"), "cpu_target": ("fraction", "fraction"),
    "mem_target": ("fraction", "fraction"), "mem_margin": ("fraction", "fraction"),
    "growth": ("fraction a year", "fraction"), "discount_rate": ("fraction a year", "fraction"),
    "risk_pct": ("%", "percent"), "maintenance_pct": ("% a year", "percent"),
}


def _all_options():
    return {o.name: o for o in (*opt.settings_options(), *opt.BUSINESS)}


def test_the_shares_are_these_options_with_their_units_unchanged():
    options = _all_options()
    assert {name for name, o in options.items() if isinstance(o.check, opt.Share)} == set(SHARES)
    for name, (unit, bare) in SHARES.items():
        assert options[name].unit == unit
        assert options[name].check.percent == (bare == "percent")


@pytest.mark.parametrize("name, texts, value", [
    ("cpu_target", ("80%", "0.8", " 80 % ", 0.8), 0.8),
    ("mem_target", ("95%", ".95", 0.95), 0.95),
    ("smt_gain", ("25%", "0.25", 0.25), 0.25),
    ("mem_margin", ("10%", "0.1", "10.0%", 0.1), 0.1),
    ("mem_margin", ("150%",), 1.5),
    ("growth", ("20%/yr", "20%", "0.2", "0.2/yr", "+20 %/year", 0.2), 0.2),
    ("growth", ("-10%/y", "-0.1"), -0.1),
    ("discount_rate", ("8%", "0.08", 0.08), 0.08),
    # these two are in percent: a bare number is percent, and NN% means NN percent as everywhere
    ("risk_pct", ("0.5%", "0.5", 0.5), 0.5),
    ("risk_pct", ("2%", "2", 2), 2.0),
    ("maintenance_pct", ("15%", "15", 15.0), 15.0),
])
def test_a_share_takes_a_percentage_and_a_bare_number_alike(name, texts, value):
    option = _all_options()[name]
    for text in texts:
        assert option.validate(text) == pytest.approx(value), text
        # the command line's word goes the same way
        word = str(text)
        assert option.validate(option.from_text(word)) == pytest.approx(value), word


@given(st.integers(min_value=1, max_value=10_000), st.sampled_from(sorted(SHARES)))
def test_nn_percent_is_nn_hundredths_of_a_fraction_or_nn_of_a_percentage(hundredths, name):
    option = _all_options()[name]
    nn = hundredths / 100
    expected = nn if option.check.percent else nn / 100  # the value in the option's unit
    try:
        checked = option.validate(f"{nn:.2f}%")  # 0.01% .. 100.00%
    except opt.OptionError:
        return  # outside the option's interval (such as 100% for --risk): refused, never misread
    assert checked == pytest.approx(expected)
    assert option.validate(expected) == pytest.approx(checked)


def test_python_keywords_take_the_same_text_and_summary_reports_the_unit_values():
    text = make_settings(cpu_target="70%", mem_target="85%", mem_margin="20%", smt_gain="20%", growth="15%/yr",
                         risk_pct="1%", holdout="1d")
    number = make_settings(cpu_target=0.7, mem_target=0.85, mem_margin=0.2, smt_gain=0.2, growth=0.15, risk_pct=1.0,
                           holdout="1d")
    assert text == number  # NN/100 is the double nearest 0.NN, as the literal is
    a = text.assumptions()
    assert (a["cpu_target"], a["mem_target"], a["risk_pct"]) == pytest.approx((0.7, 0.85, 1.0))
    assert isinstance(a["cpu_target"], float) and isinstance(a["growth"], float)
    from consolidate.report.business import BusinessInputs

    assert BusinessInputs(maintenance_pct="12%", discount_rate="6%") == BusinessInputs(maintenance_pct=12, discount_rate=0.06)


@pytest.mark.parametrize("values, label", [
    ({"cpu_target": "80"}, "cpu_target='80'"),
    ({"cpu_target": 80.0}, "cpu_target=80.0"),
    ({"cpu_target": "150%"}, "cpu_target='150%'"),
    ({"cpu_target": "lots"}, "cpu_target='lots'"),
    ({"mem_target": "0%"}, "mem_target='0%'"),
    ({"growth": "20"}, "growth='20'"),
    ({"mem_margin": 2.0}, "mem_margin=2.0"),
    ({"smt_gain": "25"}, "smt_gain='25'"),
])
def test_a_bad_share_names_the_option_and_both_forms(values, label):
    with pytest.raises(InputError) as error:
        make_settings(**values)
    message = str(error.value)
    assert message.startswith(label) and "\n" not in message
    assert "a fraction such as" in message and "a percentage such as" in message
    option = _all_options()[next(iter(values))]
    example = option.check.example
    assert f"{example:g} " in message and f"{example * 100:g}%" in message


@pytest.mark.parametrize("values, label, shown", [
    ({"risk_pct": "100%"}, "risk_pct='100%'", "0.5 or 0.5%"),
    ({"risk_pct": -1}, "risk_pct=-1", "0.5 or 0.5%"),
    ({"risk_pct": "half"}, "risk_pct='half'", "0.5 or 0.5%"),
])
def test_a_bad_percentage_names_the_option_and_says_a_bare_number_is_percent(values, label, shown):
    with pytest.raises(InputError) as error:
        make_settings(**values)
    message = str(error.value)
    assert message.startswith(label) and shown in message and "a bare number is percent" in message


def test_a_bad_maintenance_share_names_it_and_both_forms():
    with pytest.raises(InputError, match=r"^maintenance_pct='-5%' must be at least 0 %; .*10 or 10%: a bare number is percent"):
        check_values(opt.BUSINESS, {"maintenance_pct": "-5%"})


def test_a_growth_above_100_percent_a_year_is_written_as_a_percentage():
    # a bare 1.5 would be 150 %/yr, so likely 1.5 % meant: refused; the percentage is taken
    with pytest.raises(opt.OptionError, match="150 %"):
        opt.growth_rate(1.5)
    assert opt.growth_rate("150%/yr") == pytest.approx(1.5)
    assert opt.growth_rate("1.5%") == pytest.approx(0.015)


def test_help_says_what_a_bare_number_means(capsys):
    from consolidate.cli import main

    assert main(["plan", "--help"]) == 0
    plan_help = " ".join(capsys.readouterr().out.split())
    for flag, forms in (("--cpu-target", "0.8 or 80%"), ("--mem-target", "0.9 or 90%"), ("--smt-gain", "0.25 or 25%"),
                        ("--mem-margin", "0.1 or 10%"), ("--growth", "0.2 or 20%/yr"), ("--discount-rate", "0.08 or 8%"),
                        ("--risk", "0.5 or 0.5%: a bare number is percent"),
                        ("--maintenance-pct", "10 or 10%: a bare number is percent")):
        start = plan_help.index(flag + " ", plan_help.index("options:"))
        assert forms in plan_help[start:start + 300], flag


def test_the_command_line_reads_a_percentage_as_python_does():
    from consolidate import cli

    args = cli.build_parser().parse_args(["plan", "x.csv", "--cpu-target", "75%", "--mem-target", "0.9", "--risk", "1%",
                                          "--growth", "0.25", "--mem-margin", "5%", "--smt-gain", "0.2"])
    settings = cli._settings(args, opt.settings_options())
    assert settings == make_settings(cpu_target=0.75, mem_target=0.9, risk_pct=1.0, growth=0.25, mem_margin=0.05,
                                     smt_gain=0.2)
