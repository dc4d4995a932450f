"""report.html as a reader sees it, drawn from a hand-made plan: the first screen, the tables, the
page's words and units, and the comparison of plans (same estate, different estates)."""

import html as htmllib
import re

import pytest

from consolidate.errors import InputError
from consolidate.report.html import render_report
from consolidate.report.plandata import check_same_estate, estate_differences

TAGS = re.compile(r"<[^>]+>")
INLINE_TAGS = re.compile(r"</?(strong|code|em|a|span)\b[^>]*>")
STYLE_AND_HEAD = re.compile(r"<(style|head)\b.*?</\1>", re.DOTALL)


def visible(page: str) -> str:
    """The page's text as a browser shows it (no tags, no style sheet, no embedded images)."""
    return " ".join(htmllib.unescape(TAGS.sub(" ", INLINE_TAGS.sub("", STYLE_AND_HEAD.sub(" ", page)))).split())


@pytest.fixture(scope="module")
def page(crafted_plan) -> str:
    """The hand-made plan's page, drawn once (its charts take most of the time)."""
    return render_report([crafted_plan()])


def first_screen(page: str) -> str:
    """What comes before the page's first section heading."""
    body = page[page.index("<body>"):]
    return visible(body[: body.index("<h2")])


def test_the_first_screen_answers_before_the_first_heading(page):
    first = first_screen(page)
    for said in ("4 → 2", "what binds them: memory",
                 "0.25 % of host-intervals over the CPU target", "predicted: 0.10 % to 0.90 %",
                 "N+1", "fails: +1 host", "N+1 needs 1 more host, 10,000 EUR to buy and 1,800 EUR a year to run",
                 "3,500 EUR saved a year; the largest parts of it: maintenance +1,700 EUR",
                 "1 server fits no host and stays on its own machine",
                 "the traces cover 1 day, less than a week", "29 % of the yearly saving rests on"):
        assert said in first, said


def test_the_page_shows_no_backticks_and_no_field_names(page):
    text = visible(page)
    assert "`" not in text
    assert "<code>consolidate plan --holdout 1d</code>" in page  # the caveat's command, set as code
    fields = {w for w in re.findall(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", text)}
    assert not fields, fields


def test_one_unit_per_quantity_and_the_plans_currency(page):
    text = visible(page)
    assert "12.0 MWh → 3.0 MWh a year" in text and "energy, MWh a year (facility) 12.0 3.0 -75 %" in text
    # kWh only as the unit of a price or of the grid's carbon intensity, never of energy itself
    assert all(m in ("EUR/kWh", "per kWh", "CO₂/kWh") for m in re.findall(r"\S+[ /]kWh", text)), re.findall(r"\S+[ /]kWh", text)
    assert "USD" not in text and "EUR a year" in text
    assert "traces of 1 day from 2024-01-01 00:00 UTC" in text and "1 days" not in text and "1.0 days" not in text


def test_a_fall_of_1052_to_5_is_not_minus_100(crafted_plan):
    text = visible(render_report([crafted_plan(hosts_before=1052, servers=1052, hosts_after=5)]))
    assert "physical machines → hosts 1,052 5 -99.5 %" in text


def test_hosts_and_servers_tables(page):
    text = visible(page)
    assert "host VMs binds headroom % CPU peak %, replayed (planned)" in text
    assert "host-1 2 memory 57.6 39.0 (30.0)" in text and "host-2 1 CPU 92.5" in text
    servers = text[text.index("server host vCPUs"):]
    # the unplaceable server first, with why it stays where it is
    assert servers.index("srv-4") < servers.index("srv-1")
    assert ("srv-4 — 32 512.0 515.0 30.00 6.00 100 ★★★★★ not placed, stays on its own machine: "
            "needs 515.0 GB of memory; a big-host offers 456.8 GB usable") in servers
    assert "srv-3 host-2 2 16.0 16.1 5.00 1.00 55 ★★★☆☆ no hardware in the inventory: costed as dell-r710" in servers


def test_failover_section(page):
    text = visible(page)
    assert "N+1 fails — losing either host" in text
    assert "host-1 2 12.50 % 0.00 % 100.0 overloads" in text


def test_charts_of_the_new_figures_are_drawn_when_present(page, crafted_plan):
    assert 'id="s0-sensitivity"' not in page and 'id="s0-growth"' not in page
    sensitivity = [{"input": "PUE", "unit": "ratio", "base": 1.5, "low": 1.2, "high": 2.0, "range": "1.2 to 2",
                    "saving_low": 3400.0, "saving_high": 3600.0, "npv_low": -6500.0, "npv_high": -5500.0},
                   {"input": "rack cost", "unit": "USD/U/yr", "base": 300.0, "low": 0.0, "high": 600.0, "range": "x 0 to x 2",
                    "saving_low": 2000.0, "saving_high": 5000.0, "npv_low": -12000.0, "npv_high": 0.0}]
    growth = {"rate_per_year": 0.2, "hosts_now": 2, "samples": 10, "days_per_quarter": 91, "source_days": 1,
              "quarters": [{"quarter": 1, "growth_factor": 1.05, "hosts_needed_p50": 2, "hosts_needed_p90": 3, "p_overload": 0.5,
                            "over_target_pct_p50": 0.1, "over_target_pct_p90": 0.7}]}
    page = render_report([crafted_plan(sensitivity=sensitivity, growth=growth)])
    assert 'id="s0-sensitivity"' in page and 'id="s0-growth"' in page
    text = visible(page)
    assert "high end rack cost x 0 to x 2 0 to 600 EUR/U/yr (the plan: 300) 2,000 5,000 -12,000 0 PUE" in text  # largest swing first
    assert "Q1 ×1.05 2 3 50 % 0.10 % to 0.70 %" in text


def test_plans_of_one_estate_are_compared_with_their_deltas_and_the_assumptions_once(crafted_plan):
    base = crafted_plan("base")
    other = crafted_plan("three-hosts", hosts_after=3, binding_resource="cpu",
                         failover={"hosts": 3, "failures_overloading": [], "spare_hosts_n_plus_1": 0, "n_plus_1_holds": True})
    other.summary["assumptions"]["cpu_target"] = 0.6
    other.summary["business_case"]["yearly_saving"] = 3000.0
    assert estate_differences([base, other]) == []
    page = render_report([base, other])
    text = visible(page)
    first = first_screen(page)
    assert "2 plans of the same estate" in text
    for said in ("machines → hosts 4 → 2 4 → 3 (+1)", "what binds memory CPU", "N+1 (any one host down) fails, needs 1 more host (10,000 EUR) holds",
                 "memory sizing allocated allocated", "unplaceable servers 1 1", "yearly saving 3,500 EUR 3,000 EUR (-500 EUR)"):
        assert said in first, said
    assert page.count('id="comparison-assumptions"') == 1 and 'id="s0-assumptions"' not in page
    assert "CPU and memory targets CPU target 0.8, memory target 0.9 CPU target 0.6, memory target 0.9" in text
    assert text.count("Sourced defaults") == 0 and text.count("Data quality") == 2  # the link and the section, once


def test_plans_of_different_estates_are_refused_unless_forced(crafted_plan):
    base = crafted_plan("base")
    fewer = crafted_plan("fewer", placement=base.placement.iloc[:3])
    later = crafted_plan("later", trace={**base.summary["trace"], "start": "2024-02-01T00:00:00+00:00", "end": "2024-02-02T00:00:00+00:00"})
    found = estate_differences([base, fewer, later])
    assert found == ["fewer lacks 1 server of base (srv-4)",
                     "later's traces cover 2024-02-01 00:00 UTC to 2024-02-02 00:00 UTC at 300 s intervals, "
                     "base's 2024-01-01 00:00 UTC to 2024-01-02 00:00 UTC at 300 s intervals"]
    with pytest.raises(InputError, match="not of one estate: fewer lacks 1 server of base .*--force"):
        check_same_estate([base, fewer, later], force=False)
    assert check_same_estate([base, fewer], force=True) == found[:1]
    text = visible(render_report([base, fewer]))
    assert "plans of different estates, compared anyway (--force)" in text and "fewer lacks 1 server of base (srv-4)" in text


def test_a_summary_written_before_these_figures_still_draws(crafted_plan):
    old = crafted_plan(binding_resource=None, caveats=None, unplaceable_reasons=None,
                       failover={"hosts": 2, "failures_overloading": ["host-1"], "spare_hosts_n_plus_1": 1, "per_host": []})
    for key in ("n_plus_1", "largest_drivers", "defaulted", "caveats", "licence_before", "licence_after"):
        del old.summary["business_case"][key]
    old = type(old)(old.name, old.summary, old.placement.drop(columns=["measured_pct", "confidence"]).assign(measured_days=1.0),
                    old.hosts.drop(columns=["binding_resource", "headroom_pct"]))
    text = visible(render_report([old]))
    first = text[: text.index("Before and after")]
    assert "fails: +1 host" in first and "N+1 needs 1 more host." in first and "to buy" not in first  # no price: none invented
    assert "what binds" not in first
    assert "1 server(s) fit no host and stay on their own machines: srv-4" in first  # the page's own note
    assert "not placed, stays on its own machine: it fits no host" in text
    assert "measured days" in text and "headroom %" not in text
