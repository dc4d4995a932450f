"""The workbook: real tables (servers, hosts, assumptions) and a business case whose results are
Excel formulas over its input cells, checked against a hand computation at the plan's inputs and
at changed ones (by a small evaluator of the formulas)."""

import json
import math
import re

import pandas as pd
import pytest
from openpyxl import load_workbook

from consolidate.cli import main

pytestmark = pytest.mark.slow

REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")


def run(*args):
    return main([str(a) for a in args])


# --- a small evaluator of the formulas the business case uses ---

_TOKEN = re.compile(r'\s*(?:(?P<range>[A-Z]+\d+:[A-Z]+\d+)|(?P<ref>[A-Z]+\d+)|(?P<func>[A-Z]+)\(|(?P<num>\d+(?:\.\d+)?)'
                    r'|(?P<str>"[^"]*")|(?P<op><>|<=|>=|[-+*/^(),=<>]))')
_FUNCTIONS = {"SUM", "IF", "ISNUMBER", "NA"}


class NotAvailable:
    """Excel's #N/A: every operation on it gives #N/A."""

    def _na(self, *args):
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _na
    __pow__ = __rpow__ = __neg__ = __gt__ = __lt__ = __ge__ = __le__ = __eq__ = __ne__ = _na
    __hash__ = object.__hash__

    def __repr__(self):
        return "#N/A"


NA = NotAvailable()


def to_python(formula: str) -> str:
    """An Excel formula of + - * / ^, comparisons, SUM, IF, ISNUMBER and NA() as a Python expression;
    IF's branches become lambdas, so that only the branch taken is computed (as in Excel)."""
    out, position, text = [], 0, formula.lstrip("=")
    depth, if_depths = 0, []  # the paren depth of each open IF(
    while position < len(text):
        match = _TOKEN.match(text, position)
        assert match and match.end() > position, f"cannot read {text[position:]!r}"
        kind, word = match.lastgroup, match.group(match.lastgroup)
        if kind == "range":
            out.append(f"cells({word.split(':')[0]!r}, {word.split(':')[1]!r})")
        elif kind == "ref":
            out.append(f"cell({word!r})")
        elif kind == "func":
            assert word in _FUNCTIONS, f"{word} is not a function this evaluator knows"
            depth += 1
            out.append(f"{word}_(")
            if word == "IF":
                if_depths.append([depth, 0])
        elif word == "(":
            depth += 1
            out.append(word)
        elif word == ")":
            if if_depths and if_depths[-1][0] == depth:
                if if_depths.pop()[1]:
                    out.append(")")  # closes the last branch's lambda
            depth -= 1
            out.append(")")
        elif word == "," and if_depths and if_depths[-1][0] == depth:
            out.append("), (lambda: " if if_depths[-1][1] else ", (lambda: ")
            if_depths[-1][1] += 1
        elif kind == "op":
            out.append({"^": "**", "=": "==", "<>": "!="}.get(word, word))
        else:
            out.append(word)
        position = match.end()
    return "".join(out)


def evaluate(sheet_values: dict[str, object], changes: dict[str, float] | None = None) -> dict[str, object]:
    """Every cell of one sheet (``A1`` -> value or formula) computed; ``changes`` overrides input cells."""
    values = {**sheet_values, **(changes or {})}
    done: dict[str, object] = {}

    def cell(ref: str):
        if ref not in done:
            value = values.get(ref)
            if isinstance(value, str) and value.startswith("="):
                value = eval(to_python(value), {"cell": cell, "cells": cells, **functions})
            done[ref] = value
        return done[ref]

    def cells(first: str, last: str):
        (c1, r1), (c2, r2) = REF.match(first).groups(), REF.match(last).groups()
        assert c1 == c2
        return [cell(f"{c1}{r}") for r in range(int(r1), int(r2) + 1)]

    def if_(condition, yes, no=lambda: False):
        if condition is NA:
            return NA
        return yes() if condition else no()

    functions = {
        "SUM_": lambda values: sum(v or 0 for v in values), "IF_": if_, "NA_": lambda: NA,
        "ISNUMBER_": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    }
    return {ref: cell(ref) for ref in values}


def sheet_cells(sheet) -> dict[str, object]:
    return {c.coordinate: c.value for row in sheet.iter_rows() for c in row if c.value is not None}


def rows_by_label(sheet) -> dict[str, int]:
    return {row[0].value: row[0].row for row in sheet.iter_rows() if isinstance(row[0].value, str)}


# --- fixtures ---

@pytest.fixture(scope="module")
def sample_plan(samples_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("xlsx") / "sample"
    assert run("plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", "--out", out, "--quiet") == 0
    return out


@pytest.fixture(scope="module")
def workbook_path(sample_plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("xlsx-export")
    assert run("export", sample_plan, "--format", "xlsx", "--out", out, "--quiet") == 0
    return out / "plan.xlsx"


@pytest.fixture(scope="module")
def summary(sample_plan):
    return json.loads((sample_plan / "summary.json").read_text())


def hand_case(s: dict, price_per_kwh: float, host_price: float, rack: float, maintenance: float, rate: float) -> dict:
    """The business case by hand from the plan's quantities (business.py's docstring: energy = IT
    kWh x PUE x price; licences = licensed cores x price per core a year, the servers that stay
    at the sources' licence; maintenance = hardware x rate, the hosts' and the staying servers';
    rack = U x price; capital = hosts x host price)."""
    case, est, a = s["business_case"], s["estate"], s["assumptions"]
    per_core = {side: case[f"licence_per_core_year_{side}"] for side in ("before", "after")}
    on_hosts = est["licensed_cores_after"][case["licence_after"]]
    staying_cores = case["licensed_cores_after"] - on_hosts
    capital = est["hosts"] * host_price
    before = (s["it_energy_kwh_per_year_before"] * a["pue"] * price_per_kwh + case["licensed_cores_before"] * per_core["before"]
              + est["hardware_usd_before"] * maintenance + case["rack_units_before"] * rack)
    after = (s["it_energy_kwh_per_year_after"] * a["pue"] * price_per_kwh + on_hosts * per_core["after"]
             + staying_cores * per_core["before"] + (capital + est["staying"]["hardware_usd"]) * maintenance
             + case["rack_units_after"] * rack)
    saving = before - after
    annuity = {n: (1 - (1 + rate) ** -n) / rate for n in (3, 5)}
    return {
        "Capital cost of the hosts": capital, "Yearly saving": saving, "Payback": 12 * capital / saving,
        "TCO over 3 years, before": 3 * before, "TCO over 3 years, after": capital + 3 * after,
        "TCO over 5 years, before": 5 * before, "TCO over 5 years, after": capital + 5 * after,
        "NPV over 3 years": -capital + saving * annuity[3], "NPV over 5 years": -capital + saving * annuity[5],
    }


# --- the tables ---

def test_tables_are_tables(workbook_path, sample_plan):
    book = load_workbook(workbook_path)
    assert book.sheetnames[:2] == ["Servers", "Hosts"]
    assert {"Business case", "Assumptions", "Data quality"} <= set(book.sheetnames)
    placement = pd.read_csv(sample_plan / "placement.csv", keep_default_na=False)
    servers = pd.read_excel(workbook_path, sheet_name="Servers")
    assert len(servers) == len(placement) == 40
    for column in ("Server", "Host", "Migration wave", "vCPUs", "VM RAM (GB)", "CPU peak (GHz)", "CPU mean (GHz)", "Status",
                   "Check before migrating"):
        assert column in servers.columns
    by_id = servers.set_index("Server")
    for row in placement.itertuples():
        assert by_id.loc[row.server_id, "Host"] == row.host_id
        assert by_id.loc[row.server_id, "vCPUs"] == row.vcpus
        assert by_id.loc[row.server_id, "VM RAM (GB)"] == pytest.approx(row.ram_gb)
    # waves of 10 (the default), the quietest first; the same waves as the run-book's
    assert servers["Migration wave"].value_counts().to_dict() == {1: 10, 2: 10, 3: 10, 4: 7, 5: 3}
    busy = servers[servers["Status"] == "placed"]
    assert busy.groupby("Migration wave")["CPU peak (GHz)"].max().is_monotonic_increasing
    for name, sheet in (("Servers", book["Servers"]), ("Hosts", book["Hosts"])):
        assert sheet.freeze_panes == "B2", name
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}", name
        assert sheet["A1"].font.bold
    servers_sheet = book["Servers"]
    header = {c.value: c.column for c in servers_sheet[1]}
    assert servers_sheet.cell(2, header["CPU peak (GHz)"]).number_format == "#,##0.00"
    hosts = book["Hosts"]
    header = {c.value: c.column for c in hosts[1]}
    peak = hosts.cell(2, header["CPU replayed peak"])
    assert peak.number_format == "0.0%"
    hosts_csv = pd.read_csv(sample_plan / "hosts.csv")
    assert peak.value == pytest.approx(hosts_csv["cpu_replay_peak_pct"][0] / 100)
    if "binding_resource" in hosts_csv.columns:
        assert "Binding resource" in header
    assumptions = pd.read_excel(workbook_path, sheet_name="Assumptions")
    assert list(assumptions.columns) == ["Kind", "What", "Option", "Value", "Unit", "Source"]
    pue = assumptions[assumptions["Option"] == "--pue"].iloc[0]
    assert pue["Value"] == 1.56 and "Uptime Institute" in pue["Source"]
    assert not any(re.fullmatch(r"[a-z_]+\.[a-z_.]+", str(v)) for v in assumptions["What"])  # no dotted JSON paths


# --- the business case ---

def test_business_case_formulas_reference_the_input_cells(workbook_path):
    sheet = load_workbook(workbook_path)["Business case"]
    rows = rows_by_label(sheet)
    price, pue, rack = (f"B{rows[k]}" for k in ("Electricity price", "PUE of the data centre", "Rack space price"))
    maintenance, rate = f"B{rows['Hardware maintenance']}", f"B{rows['Discount rate']}"
    host_price = f"B{rows['Host price, hpe-dl380-gen10plus']}"
    for ref in (price, pue, rack, maintenance, rate, host_price):
        assert not str(sheet[ref].value).startswith("="), ref  # inputs are values ...
        assert sheet[ref].font.color.rgb.endswith("0000FF")  # ... in blue
    formula = {label: str(sheet[f"B{row}"].value) for label, row in rows.items()}
    energy = rows["Energy"]
    assert set(REF.findall(str(sheet[f"B{energy}"].value))) >= {tuple(REF.match(price).groups()), tuple(REF.match(pue).groups())}
    capital = f"B{rows['Capital cost of the hosts']}"
    assert host_price in formula["Capital cost of the hosts"]
    assert capital in str(sheet[f"C{rows['Maintenance']}"].value) and maintenance in str(sheet[f"C{rows['Maintenance']}"].value)
    assert rack in formula["Rack space"]  # the cost row
    for label in ("Yearly saving", "Payback", "NPV over 3 years", "NPV over 5 years", "TCO over 5 years, after"):
        assert formula[label].startswith("="), label
    assert rate in formula["NPV over 5 years"] and capital in formula["NPV over 5 years"]


def test_business_case_formulas_give_the_plan_and_the_hand_figures(workbook_path, summary):
    sheet = load_workbook(workbook_path)["Business case"]
    rows = rows_by_label(sheet)
    values = evaluate(sheet_cells(sheet))
    case = summary["business_case"]
    inputs = case["inputs"]
    at_plan = hand_case(summary, summary["assumptions"]["price_per_kwh"], case["host_price_usd"], inputs["rack_usd_per_u_year"],
                        inputs["maintenance_pct"] / 100, inputs["discount_rate"])
    for label, expected in at_plan.items():
        assert values[f"B{rows[label]}"] == pytest.approx(expected, rel=1e-9), label
        assert sheet[f"D{rows[label]}"].value == pytest.approx(expected, rel=1e-9), label  # the plan's own figure
    assert values[f"B{rows['Yearly saving']}"] == pytest.approx(case["yearly_saving"])
    assert values[f"B{rows['Total']}"] == pytest.approx(case["yearly_cost_before"]["total"])
    assert values[f"C{rows['Total']}"] == pytest.approx(case["yearly_cost_after"]["total"])
    # change the electricity price, the host price, the rack cost, maintenance and the rate in "Excel"
    changes = {f"B{rows['Electricity price']}": 0.25, f"B{rows['Host price, hpe-dl380-gen10plus']}": 40_000,
               f"B{rows['Rack space price']}": 0, f"B{rows['Hardware maintenance']}": 0.12, f"B{rows['Discount rate']}": 0.05}
    changed = evaluate(sheet_cells(sheet), changes)
    for label, expected in hand_case(summary, 0.25, 40_000, 0, 0.12, 0.05).items():
        assert changed[f"B{rows[label]}"] == pytest.approx(expected, rel=1e-9), label
    assert changed[f"B{rows['Yearly saving']}"] != pytest.approx(values[f"B{rows['Yearly saving']}"])


def test_an_unknown_host_price_is_not_available_not_zero(workbook_path):
    sheet = load_workbook(workbook_path)["Business case"]
    rows = rows_by_label(sheet)
    changed = evaluate(sheet_cells(sheet), {f"B{rows['Host price, hpe-dl380-gen10plus']}": None})
    for label in ("Capital cost of the hosts", "NPV over 3 years", "TCO over 5 years, after"):
        assert changed[f"B{rows[label]}"] is NA, label
    assert changed[f"B{rows['Payback']}"] == "n/a"


def test_a_mix_of_host_models_prices_each_model(samples_dir, tmp_path):
    plan = tmp_path / "mix"
    assert run("plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", "--out", plan, "--quiet",
               "--host", "dell-r6515,hpe-dl380-gen10plus", "--objective", "cost") == 0
    assert run("export", plan, "--format", "xlsx", "--out", tmp_path / "x", "--quiet") == 0
    s = json.loads((plan / "summary.json").read_text())
    sheet = load_workbook(tmp_path / "x" / "plan.xlsx")["Business case"]
    rows = rows_by_label(sheet)
    values = evaluate(sheet_cells(sheet))
    models = s["estate"]["hosts_by_model"]
    for m in models:
        assert sheet[f"B{rows['Host price, ' + m['model']]}"].value == m["price_usd"]
        assert sheet[f"B{rows['Hosts, ' + m['model']]}"].value == m["hosts"]
    assert values[f"B{rows['Capital cost of the hosts']}"] == pytest.approx(sum(m["hosts"] * m["price_usd"] for m in models))
    assert values[f"B{rows['Capital cost of the hosts']}"] == pytest.approx(s["business_case"]["capital_cost"])
    assert values[f"B{rows['NPV over 5 years']}"] == pytest.approx(s["business_case"]["npv_5y"])
    assert math.isfinite(values[f"B{rows['Payback']}"]) or values[f"B{rows['Payback']}"] == "never"


def test_the_spare_hosts_n_plus_1_needs_are_priced_by_formulas(workbook_path, summary):
    # the sample's 2 hosts fail N+1: one spare hpe-dl380-gen10plus (28,000 USD, 127 W at idle, 2 U)
    assert summary["failover"]["spare_hosts_n_plus_1"] == 1
    sheet = load_workbook(workbook_path)["Business case"]
    rows = rows_by_label(sheet)
    values = evaluate(sheet_cells(sheet))
    yearly = 127 / 1000 * 8760 * 1.56 * 0.10 + 0 + 28_000 * 0.10 + 2 * 300
    assert values[f"B{rows['Capital cost of the spare hosts']}"] == pytest.approx(28_000)
    assert values[f"B{rows['Yearly cost of the spare hosts']}"] == pytest.approx(yearly)
    saving = summary["business_case"]["yearly_saving"] - yearly
    assert values[f"B{rows['Yearly saving with the spare hosts']}"] == pytest.approx(saving)
    npv = -(56_000 + 28_000) + saving * (1 - 1.08 ** -5) / 0.08
    assert values[f"B{rows['NPV over 5 years with the spare hosts']}"] == pytest.approx(npv)
    for label in ("Yearly cost of the spare hosts", "NPV over 5 years with the spare hosts"):
        assert sheet[f"D{rows[label]}"].value == pytest.approx(values[f"B{rows[label]}"]), label
    changed = evaluate(sheet_cells(sheet), {f"B{rows['Electricity price']}": 0.30})
    assert changed[f"B{rows['Yearly cost of the spare hosts']}"] == pytest.approx(yearly + 127 / 1000 * 8760 * 1.56 * 0.20)


def test_an_estate_with_a_staying_server_defaulted_inventory_and_vsphere(tmp_path):
    """One server fits no dell-r6515 (600 GB: it stays on its box), one is not in the inventory,
    bare-metal sources under --licence vsphere: the formulas give the plan's figures and the hand's."""
    steps = 288
    stamps = pd.date_range("2024-01-01", periods=steps, freq="300s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    ghost = "=1+2"  # not in the inventory; an id Excel must not take for a formula
    ids = ["srv-a", "srv-b", "srv-big", ghost]
    pd.DataFrame({"timestamp": list(stamps) * len(ids), "server_id": [i for i in ids for _ in range(steps)],
                  "cpu_pct": 50.0, "mem_gb": 16.0}).to_csv(tmp_path / "traces.csv", index=False)
    pd.DataFrame([
        {"server_id": "srv-a", "cores": 12, "threads": 12, "ghz": 2.93, "ram_gb": 32, "model": "ibm-x3550-m3-x5670"},
        {"server_id": "srv-b", "cores": 16, "threads": 16, "ghz": 2.6, "ram_gb": 64, "model": "dell-r620"},
        {"server_id": "srv-big", "cores": 56, "threads": 56, "ghz": 2.7, "ram_gb": 600, "model": "dell-r740"},
    ]).to_csv(tmp_path / "inventory.csv", index=False)
    plan = tmp_path / "plan"
    assert run("plan", tmp_path / "traces.csv", "--inventory", tmp_path / "inventory.csv", "--out", plan, "--quiet",
               "--host", "dell-r6515", "--licence", "vsphere") == 0
    s = json.loads((plan / "summary.json").read_text())
    assert s["unplaceable"] == ["srv-big"]
    assert s["data_quality"]["inventory_defaulted"] == 1
    assert run("export", plan, "--format", "xlsx", "--out", tmp_path / "x", "--quiet") == 0
    book = load_workbook(tmp_path / "x" / "plan.xlsx")
    sheet = book["Business case"]
    rows = rows_by_label(sheet)
    values = evaluate(sheet_cells(sheet))
    case = s["business_case"]
    inputs = case["inputs"]
    hand = hand_case(s, s["assumptions"]["price_per_kwh"], case["host_price_usd"], inputs["rack_usd_per_u_year"],
                     inputs["maintenance_pct"] / 100, inputs["discount_rate"])
    for label, expected in hand.items():
        if label == "Payback" and case["payback_months"] is None:
            assert values[f"B{rows[label]}"] == "never"
            continue
        assert values[f"B{rows[label]}"] == pytest.approx(expected, rel=1e-9), label
        assert sheet[f"D{rows[label]}"].value == pytest.approx(expected, rel=1e-9), label
    for key, label in (("energy", "Energy"), ("licences", "Licences"), ("maintenance", "Maintenance"), ("rack", "Rack space")):
        assert values[f"B{rows[label]}"] == pytest.approx(case["yearly_cost_before"][key]), label
        assert values[f"C{rows[label]}"] == pytest.approx(case["yearly_cost_after"][key]), label
    # the staying server's hardware is maintained after too (a dell-r740's price, when the plan counts it as staying)
    assert sheet[f"B{rows['Hardware price of the servers that stay']}"].value == s["estate"]["staying"]["hardware_usd"]
    servers = pd.read_excel(tmp_path / "x" / "plan.xlsx", sheet_name="Servers").set_index("Server")
    assert "stays on its own machine" in servers.loc["srv-big", "Check before migrating"]
    assert pd.isna(servers.loc["srv-big", "Migration wave"])
    assert "defaulted inventory" in servers.loc[ghost, "Check before migrating"]
    cell = next(c for c in book["Servers"]["A"] if c.value == ghost)
    assert cell.data_type == "s"
