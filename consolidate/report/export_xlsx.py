"""The workbook export, ``plan.xlsx``: the tables an operations or finance team works in.

Sheets, each a table with a frozen header row, a filter, number formats and column widths:

- **Servers**: one row per source server in migration order: its host, migration wave (the
  run-book's, :func:`~consolidate.report.export_ops.with_waves`), status, size (vCPUs, RAM, the
  source's allocated RAM), CPU peak and mean, affinity group and what to check (RAM reduced,
  defaulted inventory, unplaceable), then the other columns of placement.csv;
- **Hosts**: hosts.csv: model, VMs, CPU and memory load, and the binding resource where the plan
  gives it;
- **Business case**: the inputs as cells (blue: change them), the plan's quantities (energy,
  rack units, licensed cores, hardware, hosts), and the yearly costs, capital cost, saving,
  payback, TCO and NPV as Excel formulas over those cells, so that a price changed in Excel
  recomputes the case; beside each result, the plan's own figure (summary.json) at the inputs it
  was made with;
- **Assumptions**: every setting, business input and sourced default with its unit and source;
- **Data quality**: the reading's repairs and warnings; **Failover**, **Sensitivity** and
  **Frontier** when the plan has them.

The business case's formulas follow :mod:`consolidate.report.business`: energy = IT kWh x PUE x
price per kWh; licences = licensed cores x price per core a year (a Windows pack price / 16 /
licence years); maintenance = hardware price x maintenance %; rack = rack units x price per U;
capital = hosts x host price; payback = capital / saving x 12; NPV = -capital + saving x
(1 - (1 + r)^-n) / r.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.models import constants
from consolidate.options import BUSINESS, SETTINGS_GROUPS, by_name
from consolidate.report.business import HORIZONS_YEARS, WINDOWS_PACK_CORES
from consolidate.report.export_ops import flags, planned_guests
from consolidate.report.plandata import PlanData

#: The longest text an Excel cell holds (Excel specifications and limits); longer is cut by Excel.
XLSX_CELL_MAX_CHARS = 32_767
#: Control characters a workbook cannot hold (the XML of the sheets cannot), as openpyxl refuses them.
_NOT_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_COLUMN_WIDTH = 50
#: Input cells: blue on pale yellow, the spreadsheet convention for what the user may change.
INPUT_FONT_RGB, INPUT_FILL_RGB, HEADER_FILL_RGB = "0000FF", "FFF2CC", "D9E1F2"

#: Number formats by a column's unit suffix, what its values are divided by (% as Excel's
#: fractions), and the header's unit.
_SUFFIXES = {
    "_pct": ("0.0%", 100.0, ""),
    "_ghz_h": ("#,##0.0", 1.0, " (GHz h)"),
    "_gb": ("#,##0.00", 1.0, " (GB)"),
    "_ghz": ("#,##0.00", 1.0, " (GHz)"),
    "_mib": ("#,##0", 1.0, " (MiB)"),
    "_days": ("#,##0.0", 1.0, " (days)"),
    "_kwh": ("#,##0", 1.0, " (kWh)"),
    "_usd": ("#,##0", 1.0, ""),
}
#: Headers of the known columns (their units added from the suffix).
_HEADERS = {
    "server_id": "Server", "name": "Guest name", "host_id": "Host", "host_model": "Host model", "wave": "Migration wave",
    "status": "Status", "vcpus": "vCPUs", "ram_gb": "VM RAM", "source_ram_gb": "Allocated RAM at source",
    "mem_packed_gb": "Memory packed, with hypervisor overhead", "cpu_peak_ghz": "CPU peak", "cpu_mean_ghz": "CPU mean",
    "source_cores": "Source cores", "source_threads": "Source threads", "source_ghz": "Source clock",
    "source_host": "Runs today on",
    "inventory_defaulted": "Inventory defaulted", "measured_days": "Measured", "affinity_group": "Affinity group",
    "check": "Check before migrating", "vms": "VMs", "cpu_capacity_ghz": "CPU capacity", "cpu_target_ghz": "CPU at target",
    "mem_usable_gb": "Memory usable", "cpu_planned_peak_pct": "CPU planned peak", "cpu_replay_peak_pct": "CPU replayed peak",
    "cpu_replay_mean_pct": "CPU replayed mean", "cpu_over_target_pct": "Time over CPU target",
    "mem_planned_gb": "Memory planned", "mem_planned_pct": "Memory planned, of the RAM after the hypervisor's reserve",
    "binding_resource": "Binding resource", "over_target_pct": "Time over CPU target",
    "over_capacity_pct": "Time over CPU capacity", "unmet_cpu_ghz_h": "Unmet CPU demand", "mem_short_gb": "Memory short",
    "overloads": "Overloads a survivor", "measured_pct": "Samples measured, not filled", "confidence": "Confidence (1-5)",
    "headroom_pct": "Headroom of the binding resource", "cpu_short_ghz": "CPU short",
    "growth_factor": "Demand, times today's", "hosts_needed_p50": "Hosts needed (median)",
    "hosts_needed_p90": "Hosts needed (90th percentile)", "hosts_needed_memory": "Hosts needed for memory",
    "p_overload": "Probability of overload", "holds": "Today's hosts hold",
    "over_target_pct_p50": "Time over CPU target, median", "over_target_pct_p90": "Time over CPU target, 90th percentile",
    "over_capacity_pct_p50": "Time over CPU capacity, median",
    "over_capacity_pct_p90": "Time over CPU capacity, 90th percentile",
    "saving_low": "Yearly saving at low", "saving_high": "Yearly saving at high", "npv_low": "NPV at low",
    "npv_high": "NPV at high", "hosts_low": "Hosts at low", "hosts_high": "Hosts at high",
    "saving_at_rate": "Yearly saving at the rate", "npv_at_rate": "NPV at the rate", "hosts_at_rate": "Hosts at the rate",
}
#: Columns that are fractions (shown as %) without a ``_pct`` name.
_FRACTIONS = {"p_overload"}
_COUNT_COLUMNS = {"vcpus", "vms", "wave", "source_cores", "source_threads", "hosts", "quarter", "hosts_needed_p50",
                  "hosts_needed_p90", "hosts_needed_memory", "confidence"}
#: The Servers sheet's first columns, in this order; the rest of placement.csv follows.
_SERVER_FIRST = ("server_id", "name", "host_id", "host_model", "wave", "status", "vcpus", "ram_gb", "source_ram_gb",
                 "cpu_peak_ghz", "cpu_mean_ghz")


@dataclass(frozen=True)
class Column:
    """A sheet column: its header, number format and what its values are divided by when written."""

    header: str
    number_format: str = "General"
    divisor: float = 1.0


def column_for(key: str) -> Column:
    """The header and format of a table column from its name: ``cpu_peak_ghz`` -> ``CPU peak (GHz)``, 0.00."""
    for suffix, (fmt, divisor, unit) in _SUFFIXES.items():
        if key.endswith(suffix) or (suffix == "_pct" and "_pct_" in key):  # over_target_pct_p50: a % too
            base = _HEADERS.get(key, key[: -len(suffix)].replace("_", " ").capitalize())
            return Column(base + unit, fmt, divisor)
    base = _HEADERS.get(key, key.replace("_", " ").capitalize())
    if key.startswith(("saving", "npv")):
        return Column(base, "#,##0")
    return Column(base, "0" if key in _COUNT_COLUMNS or key.startswith("hosts") else "0%" if key in _FRACTIONS else "General")


def _cell_value(value, divisor: float = 1.0):
    """A value as openpyxl writes it: numbers divided by ``divisor``, NaN and None empty, bools
    yes/no, numpy scalars as Python's."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (np.integer, int)):
        return int(value) / divisor if divisor != 1.0 else int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) / divisor
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def servers_table(data: PlanData, wave_size: int) -> pd.DataFrame:
    """The Servers sheet: every server in migration order, with the run-book's wave and checks."""
    frame, _ = planned_guests(data, wave_size)
    placement = data.placement.set_index("server_id")
    rest = [c for c in placement.columns if c not in _SERVER_FIRST]
    table = frame[["server_id", "name", "host_id", "host_model", "wave", "status", "vcpus", "ram_gb", "source_ram_gb",
                   "cpu_peak_ghz", "cpu_mean_ghz"]].copy()
    table["wave"] = table["wave"].where(table["wave"] > 0)  # blank: not migrated
    table = table.join(placement[rest], on="server_id")
    table["affinity_group"] = frame["affinity_group"]
    table["check"] = ["; ".join(flags(row) + _status_note(row.status, row.host_id)) for row in frame.itertuples(index=False)]
    return table


def _status_note(status: str, host_id: str) -> list[str]:
    if host_id:
        return ["retire candidate (idle): confirm it is still needed"] if status == "retire-candidate" else []
    return [f"not migrated ({status}): stays on its own machine"]


def assumptions_table(data: PlanData) -> pd.DataFrame:
    """Every setting, business input and sourced default: name, option, value, unit, source."""
    a = data.summary["assumptions"]
    options = {o.name: o for group in SETTINGS_GROUPS.values() for o in group}
    units, sources = a.get("units", {}), a.get("option_sources", {})
    rows = []
    for name, option in options.items():
        if name in a:
            value = a["host_mix"] if name == "host" else a[name]  # the host models' specifications are rows below
            rows.append(("plan setting", option.help, option.cli_flag, value, units.get(name, option.unit),
                         sources.get(name, option.source)))
    business = by_name(BUSINESS)
    inputs = data.business.get("inputs", {})
    for name, value in inputs.items():
        option = business.get(name)
        if option is not None:
            rows.append(("business input", option.help, option.cli_flag, value, option.unit, option.source))
    for name, spec in (a.get("models") or {a["host_model"]: a["host"]}).items():
        hardware = ", ".join(f"{spec[k]:g} {unit}" for k, unit in (("cores", "cores"), ("threads", "threads"), ("ghz", "GHz"), ("ram_gb", "GB RAM")) if k in spec)
        rows.append(("host model", f"target host {name}", "--host", hardware, "", spec.get("source", "")))
    for name, fact in a.get("sources", {}).items():
        rows.append(("sourced default", name.replace("_", " "), "", fact["value"], fact.get("unit", ""), fact.get("source", "")))
    table = pd.DataFrame(rows, columns=["kind", "what", "option", "value", "unit", "source"])
    table["value"] = [("not set" if v is None else json.dumps(v) if isinstance(v, (list, tuple, dict)) else v) for v in table["value"]]
    return table


def quality_table(data: PlanData) -> pd.DataFrame:
    """The reading's repairs (counts) and warnings."""
    s = data.summary
    rows = [("repair or count", key.replace("_pct", " (%)").replace("_", " "), value)
            for key, value in s.get("data_quality", {}).items()]
    rows += [("warning", text, None) for text in s.get("warnings", [])]
    return pd.DataFrame(rows, columns=["kind", "what", "count"])


def tables(data: PlanData, wave_size: int) -> dict[str, pd.DataFrame | None]:
    """The workbook's sheets in order, by name: each a table, but the business case (None here),
    which :func:`business_sheet` lays out."""
    s = data.summary
    sheets = {"Servers": servers_table(data, wave_size), "Hosts": data.hosts, "Business case": None}
    if s.get("failover", {}).get("per_host"):
        sheets["Failover"] = pd.DataFrame(s["failover"]["per_host"])
    if (s.get("growth") or {}).get("quarters"):
        sheets["Growth"] = pd.DataFrame(s["growth"]["quarters"])
    if s.get("sensitivity"):
        sheets["Sensitivity"] = pd.DataFrame(s["sensitivity"])
    if s.get("frontier"):
        sheets["Frontier"] = pd.DataFrame(s["frontier"])
    sheets["Assumptions"] = assumptions_table(data)
    sheets["Data quality"] = quality_table(data)
    return sheets


def check_cells(sheets: dict[str, pd.DataFrame], folder: Path | None = None) -> None:
    """Refuse (InputError naming file, line and column) a text an Excel cell cannot hold whole:
    a control character, or more than :data:`XLSX_CELL_MAX_CHARS` characters. ``sheets`` named
    ``placement.csv`` or ``hosts.csv`` are those files as read, their rows in the files' order."""
    for sheet, frame in sheets.items():
        if frame is None:
            continue
        source = sheet if sheet.endswith(".csv") else None
        source = str(folder / source) if source and folder is not None else source
        columns = [str(c) for c in frame.columns]
        for column, values in [("(header)", pd.Series(columns))] + [(c, frame.iloc[:, i]) for i, c in enumerate(columns)]:
            if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
                continue
            text = values.map(lambda v: v if isinstance(v, str) else "")
            for mask, rule in (
                (text.str.contains(_NOT_XLSX), "holds a control character, which an Excel workbook cannot hold"),
                (text.str.len() > XLSX_CELL_MAX_CHARS,
                 f"is longer than the {XLSX_CELL_MAX_CHARS:,} characters an Excel cell holds (Excel would cut it)"),
            ):
                if mask.any():
                    row = int(np.flatnonzero(mask.to_numpy())[0])
                    value = text.iloc[row]
                    where = (f"{source} line {row + 2}, column {column}" if source and column != "(header)"
                             else f"sheet {sheet!r}, row {row + 2}, column {column}")
                    raise InputError(
                        f"{where}: {json.dumps(value[:40])}{'...' if len(value) > 40 else ''} ({len(value):,} characters) "
                        f"{rule}; shorten or clean it, or export --format json"
                    )


def _styles():
    from openpyxl.styles import Alignment, Font, PatternFill

    return {
        "header": (Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL_RGB), Alignment(wrap_text=True, vertical="top")),
        "input": (Font(color=INPUT_FONT_RGB), PatternFill("solid", fgColor=INPUT_FILL_RGB)),
        "bold": Font(bold=True),
        "title": Font(bold=True, size=14),
    }


def _write_table(sheet, frame: pd.DataFrame) -> None:
    """A table: a styled header row, frozen, with a filter; each column formatted by its unit."""
    from openpyxl.utils import get_column_letter

    font, fill, align = _styles()["header"]
    columns = [column_for(str(c)) for c in frame.columns]
    sheet.append([c.header for c in columns])
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment = font, fill, align
    for values in frame.itertuples(index=False):
        sheet.append([_cell_value(v, c.divisor) for v, c in zip(values, columns)])
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # a text such as a server id "=1+2" is data, never a formula Excel would run
                cell.data_type = "s"
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = column.number_format
        longest = max([len(column.header) // 2 + 1] + [len(str(v)) for v in frame.iloc[:200, index - 1] if v is not None])
        sheet.column_dimensions[letter].width = min(MAX_COLUMN_WIDTH, max(8, longest + 2))
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(columns), 1))}{max(len(frame) + 1, 1)}"


class _Form:
    """The business-case sheet, written a row at a time; ``at[key]`` is the cell of each value."""

    def __init__(self, sheet, currency: str) -> None:
        self.sheet, self.currency, self.at = sheet, currency, {}
        self.styles = _styles()

    def heading(self, text: str, *columns: str) -> None:
        self.sheet.append([text, *columns])
        row = self.sheet.max_row
        font, fill, align = self.styles["header"]
        for cell in self.sheet[row]:
            cell.font, cell.fill, cell.alignment = font, fill, align

    def line(self, key: str, label: str, value, unit: str, fmt: str, *, plan=None, note: str = "", is_input: bool = False) -> str:
        """A row: label, value (a number, or a formula starting with ``=``), unit, the plan's figure, a note."""
        self.sheet.append([label, value, unit, plan, note])
        row = self.sheet.max_row
        cell = self.sheet.cell(row=row, column=2)
        cell.number_format = fmt
        self.sheet.cell(row=row, column=4).number_format = fmt
        if is_input:
            cell.font, cell.fill = self.styles["input"]
        self.at[key] = f"B{row}"
        return self.at[key]

    def cost_row(self, key: str, label: str, before: str, after: str, plan_before, plan_after) -> None:
        """A yearly-cost row: before, after and saving as formulas, then the plan's before and after."""
        row = self.sheet.max_row + 1
        self.sheet.append([label, before, after, f"=B{row}-C{row}", plan_before, plan_after])
        for column in range(2, 7):
            self.sheet.cell(row=row, column=column).number_format = "#,##0"
        self.at[f"{key}_before"], self.at[f"{key}_after"], self.at[f"{key}_saving"] = f"B{row}", f"C{row}", f"D{row}"

    def blank(self) -> None:
        self.sheet.append([])


def _num(value):
    """A figure of summary.json as a cell value: None for a missing or not-finite one."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


_LICENCE_NAMES = {"vsphere": "VMware vSphere", "windows": "Windows Server Datacenter"}


def _licence_inputs(form: _Form, case: dict, years: float) -> dict[str, str]:
    """The input cells of each licence the case uses (one per scheme: a price given for it holds on
    both sides) and the cell of its price per core a year, by side (``before``, ``after``)."""
    cur, per_core = form.currency, {}
    for scheme in dict.fromkeys((case["licence_before"], case["licence_after"])):
        side = "before" if case["licence_before"] == scheme else "after"
        price = case[f"licence_price_{side}"]
        if scheme == "none":
            cell = form.line(f"licence_{scheme}", "Licence: none", 0, f"{cur} per core a year", "#,##0.00")
        elif scheme == "windows":
            pack = form.line(f"licence_{scheme}_pack", f"Licence: {_LICENCE_NAMES[scheme]}, per {WINDOWS_PACK_CORES}-core pack",
                             price, f"{cur} per pack (perpetual)", "#,##0", is_input=True)
            spread = form.line("licence_years", "Licence: years the perpetual licence is spread over", years, "years", "0.0",
                               is_input=True)
            cell = form.line(f"licence_{scheme}", f"Licence: {_LICENCE_NAMES[scheme]}, per core a year",
                             f"={pack}/{WINDOWS_PACK_CORES}/{spread}", f"{cur} per core a year", "#,##0.00")
        else:
            cell = form.line(f"licence_{scheme}", f"Licence: {_LICENCE_NAMES.get(scheme, scheme)}, per core a year", price,
                             f"{cur} per core a year", "#,##0.00", is_input=True)
        per_core[scheme] = cell
    return {side: per_core[case[f"licence_{side}"]] for side in ("before", "after")}


def _host_models(est: dict, inputs: dict) -> list[dict]:
    """The hosts by model with their price: the catalogue's, or ``--host-price`` for every host."""
    models = est.get("hosts_by_model") or [{"model": est["host_model"], "hosts": est["hosts"], "price_usd": est["host_price_usd"]}]
    if inputs.get("host_price_usd") is not None:
        return [{"model": " + ".join(m["model"] for m in models), "hosts": est["hosts"], "price_usd": inputs["host_price_usd"],
                 "from": "--host-price"}]
    return [{**m, "from": "the catalogue's" if _num(m["price_usd"]) is not None else "unknown: enter the host's price"}
            for m in models]


def business_sheet(sheet, data: PlanData) -> dict[str, str]:
    """Lay out the business case on ``sheet``; returns the cell of each input, quantity and result."""
    s, case = data.summary, data.business
    est, a, inputs = s["estate"], s["assumptions"], case["inputs"]
    cur = case.get("currency", "USD")
    form = _Form(sheet, cur)
    line, at = form.line, form.at
    sheet.append([f"Business case: plan {data.name}"])
    sheet["A1"].font = form.styles["title"]
    sheet.append(["Blue cells are inputs: change one and every formula below recomputes. Column D is the plan's own "
                  f"figure, at the inputs it was made with. Money in {cur}."])
    form.blank()
    form.heading("Inputs", "value", "unit", "plan", "source")
    sources, business = a.get("option_sources", {}), by_name(BUSINESS)
    price = line("price_per_kwh", "Electricity price", a["price_per_kwh"], f"{cur}/kWh", "0.000", is_input=True,
                 note=sources.get("price_per_kwh", ""))
    pue = line("pue", "PUE of the data centre", a["pue"], "ratio", "0.00", is_input=True, note=sources.get("pue", ""))
    rack = line("rack", "Rack space price", inputs["rack_usd_per_u_year"], f"{cur} per rack unit a year", "#,##0",
                is_input=True, note=business["rack_usd_per_u_year"].source)
    maintenance = line("maintenance", "Hardware maintenance", inputs["maintenance_pct"] / 100.0, "of the hardware price a year",
                       "0.0%", is_input=True, note=business["maintenance_pct"].source)
    rate = line("discount_rate", "Discount rate", inputs["discount_rate"], "a year", "0.0%", is_input=True,
                note=business["discount_rate"].source)
    per_core = _licence_inputs(form, case, inputs.get("licence_years"))
    models = _host_models(est, inputs)
    prices = [line(f"host_price_{i}", f"Host price, {m['model']}", _num(m["price_usd"]), f"{cur} per host", "#,##0",
                   is_input=True, note=m["from"]) for i, m in enumerate(models)]
    form.blank()

    form.heading("Quantities of the plan", "value", "unit", "", "what changes them")
    replan = "a new plan"
    staying = est.get("staying", {})
    kwh = {side: line(f"it_kwh_{side}", f"IT energy {side}", s[f"it_energy_kwh_per_year_{side}"], "kWh a year", "#,##0",
                      note=replan + (" (after: the hosts and the servers that stay)" if side == "after" else ""))
           for side in ("before", "after")}
    units = {side: line(f"rack_units_{side}", f"Rack units {side}", case[f"rack_units_{side}"], "U", "#,##0.0", note=replan)
             for side in ("before", "after")}
    on_hosts = est["licensed_cores_after"][case["licence_after"]]
    cores = {
        "before": line("cores_before", f"Licensed cores before ({case['licence_before']})", case["licensed_cores_before"],
                       "cores", "#,##0", note=case.get("licence_counts", "")),
        "hosts": line("cores_hosts", f"Licensed cores after, on the hosts ({case['licence_after']})", on_hosts, "cores", "#,##0",
                      note=replan),
        "staying": line("cores_staying", f"Licensed cores after, on the servers that stay ({case['licence_before']})",
                        case["licensed_cores_after"] - on_hosts, "cores", "#,##0", note="the unplaceable servers"),
    }
    hardware = line("hardware_before", "Hardware price of the source servers", est["hardware_usd_before"], cur, "#,##0",
                    note="the catalogue's price of each source server's model")
    kept = line("hardware_staying", "Hardware price of the servers that stay", staying.get("hardware_usd", 0.0), cur, "#,##0",
                note="the unplaceable servers, on their own boxes")
    hosts = [line(f"hosts_{i}", f"Hosts, {m['model']}", m["hosts"], "hosts", "0", note=replan) for i, m in enumerate(models)]
    form.blank()

    form.heading("Capital", "value", "unit", "plan", "formula")
    capital = line("capital", "Capital cost of the hosts", "=" + "+".join(
        f"IF(ISNUMBER({p}),{h}*{p},NA())" for p, h in zip(prices, hosts)),  # #N/A for an unknown price, never 0
        cur, "#,##0", plan=_num(case["capital_cost"]), note="hosts x host price")
    form.blank()

    form.heading("Yearly cost", f"before ({cur})", f"after ({cur})", f"saving ({cur})", "plan: before", "plan: after")
    before, after = case["yearly_cost_before"], case["yearly_cost_after"]
    first = sheet.max_row + 1
    for key, label, formula_before, formula_after in (
        ("energy", "Energy", f"={kwh['before']}*{pue}*{price}", f"={kwh['after']}*{pue}*{price}"),
        ("licences", "Licences", f"={cores['before']}*{per_core['before']}",
         f"={cores['hosts']}*{per_core['after']}+{cores['staying']}*{per_core['before']}"),
        ("maintenance", "Maintenance", f"={hardware}*{maintenance}", f"=({capital}+{kept})*{maintenance}"),
        ("rack", "Rack space", f"={units['before']}*{rack}", f"={units['after']}*{rack}"),
    ):
        form.cost_row(key, label, formula_before, formula_after, _num(before[key]), _num(after[key]))
    last = sheet.max_row
    form.cost_row("total", "Total", f"=SUM(B{first}:B{last})", f"=SUM(C{first}:C{last})", _num(before["total"]), _num(after["total"]))
    for cell in sheet[sheet.max_row]:
        cell.font = form.styles["bold"]
    form.blank()

    form.heading("Results", "value", "unit", "plan", "formula")
    saving = line("saving", "Yearly saving", f"={at['total_saving']}", f"{cur} a year", "#,##0", plan=_num(case["yearly_saving"]),
                  note="yearly cost before - after")
    line("payback", "Payback", f'=IF(ISNUMBER({saving}),IF({saving}>0,{capital}/{saving}*12,"never"),"n/a")', "months", "#,##0.0",
         plan=_num(case["payback_months"]) if case["payback_months"] is not None else "never",
         note="capital / yearly saving x 12; never without a saving")
    for years in HORIZONS_YEARS:
        line(f"tco_{years}y_before", f"TCO over {years} years, before", f"={years}*{at['total_before']}", cur, "#,##0",
             plan=_num(case[f"tco_{years}y_before"]), note=f"{years} x yearly cost before")
        line(f"tco_{years}y_after", f"TCO over {years} years, after", f"={capital}+{years}*{at['total_after']}", cur, "#,##0",
             plan=_num(case[f"tco_{years}y_after"]), note=f"capital + {years} x yearly cost after")
        line(f"npv_{years}y", f"NPV over {years} years", f"=-{capital}+{saving}*{_annuity(rate, years)}", cur, "#,##0",
             plan=_num(case[f"npv_{years}y"]), note="-capital + saving x (1 - (1 + rate)^-years) / rate")
    if case.get("n_plus_1") and case["n_plus_1"]["spare_hosts"]:
        _n_plus_1_section(form, s, case, per_core["after"], hosts)
    notes = [*case.get("caveats", []), *s.get("caveats", [])]
    if notes:
        form.blank()
        form.heading("What the case rests on")
        for text in dict.fromkeys(notes):
            sheet.append([text])
            sheet.cell(sheet.max_row, 1).data_type = "s"  # a sentence, even one that starts with "="
    sheet.column_dimensions["A"].width = 52
    for letter, width in (("B", 16), ("C", 26), ("D", 16), ("E", 16), ("F", 16)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A3"
    return at


def _annuity(rate: str, years: int) -> str:
    """The Excel formula of the present value of 1 a year for ``years`` years at the rate in cell ``rate``."""
    return f"IF({rate}=0,{years},(1-(1+{rate})^-{years})/{rate})"


def _n_plus_1_section(form: _Form, s: dict, case: dict, per_core_after: str, hosts: list[str]) -> None:
    """The spare hosts N+1 needs (``failover.spare_hosts_n_plus_1``) and what they cost, as formulas:
    each at the hosts' mean price, a year of its maintenance, rack space, licences and energy at idle."""
    at, cur, spare = form.at, form.currency, case["n_plus_1"]
    est, a = s["estate"], s["assumptions"]
    form.blank()
    form.heading("With the spare hosts N+1 needs", "value", "unit", "plan", "formula")
    count = form.line("spare_hosts", "Spare hosts for N+1", spare["spare_hosts"], "hosts", "0",
                      note="the failover replay: hosts to add so that any one host can fail")
    idle = form.line("idle_w", "Power of a spare host at idle", float(a["host"]["power_curve_w"][0]), "W", "#,##0",
                     note="the load only moves between hosts: a spare adds its idle power")
    rack_u = form.line("host_rack_units", "Rack units of a host", est["host_rack_units"], "U", "0.0")
    total_hosts = "(" + "+".join(hosts) + ")"
    mean_price = f"IF({total_hosts}=0,0,{at['capital']}/{total_hosts})"
    cores = f"IF({total_hosts}=0,0,{at['cores_hosts']}/{total_hosts})"
    spare_capital = form.line("spare_capital", "Capital cost of the spare hosts", f"={count}*{mean_price}", cur, "#,##0",
                              plan=_num(spare["capital_cost"]), note="spare hosts x the hosts' mean price")
    hours = float(constants.HOURS_PER_YEAR.value)
    yearly = form.line("spare_yearly", "Yearly cost of the spare hosts",
                       f"={count}*({idle}/1000*{hours:g}*{at['pue']}*{at['price_per_kwh']}+{cores}*{per_core_after}"
                       f"+{mean_price}*{at['maintenance']}+{rack_u}*{at['rack']})",
                       f"{cur} a year", "#,##0", plan=_num(spare["yearly_cost"]),
                       note="energy at idle, licences, maintenance and rack space of each")
    saving = form.line("saving_with_spares", "Yearly saving with the spare hosts", f"={at['saving']}-{yearly}", f"{cur} a year",
                       "#,##0", plan=_num(spare["yearly_saving_with"]))
    form.line("npv_5y_with_spares", "NPV over 5 years with the spare hosts",
              f"=-({at['capital']}+{spare_capital})+{saving}*{_annuity(at['discount_rate'], 5)}", cur, "#,##0",
              plan=_num(spare["npv_5y_with"]))


def write_workbook(data: PlanData, sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """plan.xlsx: the sheets of :func:`tables`, each printed landscape, one page wide."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        if frame is None:
            business_sheet(sheet, data)
        else:
            _write_table(sheet, frame)
        sheet.page_setup.orientation = "landscape"
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    book.save(path)


def xlsx_files(data: PlanData, wave_size: int, source: str | Path | None = None) -> dict[str, callable]:
    """The xlsx export of ``data``: ``plan.xlsx``; a text a cell cannot hold is refused before anything is written."""
    folder = Path(source) if source is not None else None
    check_cells({"placement.csv": data.placement, "hosts.csv": data.hosts}, folder)  # named by the files' lines
    sheets = tables(data, wave_size)
    check_cells(sheets, folder)
    return {"plan.xlsx": lambda p: write_workbook(data, sheets, Path(p))}
