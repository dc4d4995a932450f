"""The option table: every option of every command, declared once.

Each :class:`Option` row holds the name (the keyword of :func:`consolidate.make_settings` and
the field of :class:`consolidate.Settings`), the default, the unit, the help text, the source of
the default and how a value is checked. :mod:`consolidate.settings` builds ``Settings`` and
``summary.json["assumptions"]`` from the rows of :data:`SETTINGS_GROUPS`; :mod:`consolidate.cli`
builds every flag from the table. To add an option, add a row here (ARCHITECTURE.md).

A check turns a value into its normalised form or raises :class:`OptionError` with the reason;
a share (a target, a margin, a rate, a percentage: :class:`Share`) takes ``80%`` and a bare
number alike, from the command line and from Python, and is normalised to the option's unit;
the caller names the option the way its user named it (``cpu_target`` in Python,
``--cpu-target`` on the command line). This module imports nothing heavy: ``consolidate --help``
reads it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consolidate.models import constants

#: Host model of a plan that names none: a current two-socket virtualisation server (1 TB RAM
#: assumed; ``consolidate catalog``).
DEFAULT_HOST = "hpe-dl380-gen10plus"
#: The ``format`` choices of :func:`consolidate.read_traces`.
TRACE_FORMATS = ("auto", "sar", "perfmon", "esxtop", "prometheus", "nmon", "collectd", "vsphere", "bitbrains", "planetlab",
                 "long", "wide", "rvtools", "azure-migrate")
HYPERVISORS = ("none", "xen", "kvm", "esxi", "hyperv")
#: What picks a mix of host models (consolidate.solvers.mix).
OBJECTIVES = ("hosts", "cost", "energy")
LICENCES = ("none", "vsphere", "windows")
EXPORT_FORMATS = ("xlsx", "xen", "libvirt", "json")
#: The sizing that picks the host count holding on held-out days (consolidate.solvers.validated).
VALIDATED = "validated"


class OptionError(ValueError):
    """A value an option does not take; the message says why and what to give instead."""


@dataclass(frozen=True)
class Option:
    """One option: its keyword ``name``, its command-line ``flag`` and how a value is checked.

    ``kind`` is ``float``, ``int``, ``str`` or ``bool`` (a bool is a switch on the command
    line); ``check`` normalises a value of that kind or raises :class:`OptionError`;
    ``choices`` lists the values a ``str`` takes. ``unit`` and ``source`` go into
    ``summary.json["assumptions"]`` and ``--help``.
    """

    name: str
    default: Any
    help: str
    kind: type = str
    unit: str = ""
    choices: tuple[str, ...] = ()
    check: Callable[[Any], Any] | None = None
    flag: str = ""
    metavar: str | None = None
    source: str = ""
    #: The type of the checked value where ``check`` changes it (a duration in s, a rate, ...).
    value_type: Any = None

    @property
    def annotation(self) -> Any:
        """The type of the option's checked value (``| None`` where it may be left out)."""
        base = self.value_type or self.kind
        return base | None if self.default is None else base

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def from_text(self, text: str) -> Any:
        """The value of a command-line word (not yet checked); a share's ``80%`` is left to its check."""
        if self.kind is float:
            try:
                return float(text)
            except ValueError:
                if isinstance(self.check, Share):
                    return text
                raise OptionError("is not a number") from None
        if self.kind is int:
            try:
                return int(text)
            except ValueError:
                raise OptionError("is not a whole number") from None
        return text

    def validate(self, value: Any) -> Any:
        """``value`` checked and normalised (None stays None where the default is None)."""
        if value is None and self.default is None:
            return None
        if self.kind is bool:
            if not isinstance(value, bool):
                raise OptionError("must be True or False")
            return value
        if self.kind in (int, float) and isinstance(value, str):
            value = self.from_text(value)  # a Python caller's text reads as the command line's
        if self.kind in (int, float) and not isinstance(value, str):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (self.kind is int and value != int(value)):
                raise OptionError(f"must be a {'whole number' if self.kind is int else 'number'}")
            if not math.isfinite(value):
                raise OptionError("must be a finite number")
            value = self.kind(value)
        if self.choices and value not in self.choices:
            raise OptionError(f"is unknown; use one of {', '.join(self.choices)}")
        return self.check(value) if self.check else value

    def help_text(self, default_text: str | None = None) -> str:
        shown = default_text if default_text is not None else _shown_default(self)
        forms = self.check.forms() if isinstance(self.check, Share) else ""
        parts = "; ".join(p for p in (self.unit if self.kind in (int, float) else "", forms, shown) if p)
        return f"{self.help}{f' ({parts})' if parts else ''}".replace("%", "%%")

    @property
    def cli_metavar(self) -> str | None:
        """The placeholder ``--help`` shows for the value (None: argparse shows the choices)."""
        if self.metavar or self.choices:
            return self.metavar
        return {float: "NUMBER", int: "N"}.get(self.kind, "TEXT")


def _shown_default(option: Option) -> str:
    if option.kind is bool or option.default is None:
        return ""
    return f"default: {option.default:g}" if isinstance(option.default, float) else f"default: {option.default}"


def between(low: float, high: float = math.inf, *, low_open: bool = False, high_open: bool = False,
            hint: str = "") -> Callable[[float], float]:
    """A check that a number lies in the interval from ``low`` to ``high``."""
    def check(value: float) -> float:
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        if not (above and below):
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            raise OptionError(f"is outside {interval}{'; ' + hint if hint else ''}")
        return value
    return check


_SHARE = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(%?)\s*$")
_PER_YEAR = re.compile(r"\s*/\s*(?:yr|y|year)\s*$")


@dataclass(frozen=True)
class Share:
    """The check of an option that is a share of something: ``80%`` or a bare number.

    ``NN%`` means NN percent for every such option. A bare number is in the option's own unit:
    a fraction (``0.8``) where ``percent`` is False, percent (``0.5``) where it is True (the
    options that were always given in percent, ``--risk`` and ``--maintenance-pct``). The check
    returns the value in the option's unit, so summary.json's names and units stay as they were.
    A bare fraction above 1 is refused where the interval would take it (``--growth 20`` reads
    as 2000 %/yr, surely meant as 20 %): such a share is written as a percentage. ``example``
    is a typical value in the option's unit, for messages; ``per_year`` takes a ``/yr`` suffix.
    """

    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    percent: bool = False
    example: float = 0.8
    per_year: bool = False
    hint: str = ""

    def forms(self, spelled: bool = False) -> str:
        """The two ways to write a value: ``0.8 or 80%`` for ``--help``, ``spelled`` out for a message."""
        bare = f"{self.example:g}"
        written = f"{self.example * (1.0 if self.percent else 100.0):g}%{'/yr' if self.per_year else ''}"
        if self.percent:
            return f"{'a percentage such as ' if spelled else ''}{bare} or {written}: a bare number is percent"
        return f"a fraction such as {bare} or a percentage such as {written}" if spelled else f"{bare} or {written}"

    def __call__(self, value: str | float) -> float:
        number, given_percent = self._read(value)
        # a division, not * 0.01: for a whole NN, NN / 100 is the very double that "0.NN" reads as
        share = number / 100.0 if given_percent and not self.percent else number
        if not math.isfinite(share):
            raise OptionError(f"must be a finite number; give {self.forms(spelled=True)}")
        if not (given_percent or self.percent) and share > 1.0 and self.high > 1.0:
            raise OptionError(f"reads as a fraction, {share * 100:g} %; a share above 100 % is written with "
                              f"its %: give {self.forms(spelled=True)}")
        above = share > self.low if self.low_open else share >= self.low
        below = share < self.high if self.high_open else share <= self.high
        if not (above and below):
            raise OptionError(f"{self._bounds()}; give {self.forms(spelled=True)}{'; ' + self.hint if self.hint else ''}")
        return share

    def _read(self, value: str | float) -> tuple[float, bool]:
        """The number written and whether it carried a ``%``."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value), False
        text = _PER_YEAR.sub("", str(value)) if self.per_year else str(value)
        match = _SHARE.match(text)
        if not match:
            raise OptionError(f"is not a {'yearly rate' if self.per_year else 'share'}; give {self.forms(spelled=True)}")
        return float(match.group(1)), bool(match.group(2))

    def _bounds(self) -> str:
        """Where a value must lie, in the option's unit (and in percent for a fraction)."""
        if math.isinf(self.high):
            where = "above" if self.low_open else "at least"
            if self.percent:
                return f"must be {where} {self.low:g} %"
            return f"must be {where} {self.low:g} ({self.low * 100:g} %)"
        def interval(scale: float, unit: str) -> str:
            return (f"{'(' if self.low_open else '['}{self.low * scale:g}{unit}, "
                    f"{self.high * scale:g}{unit}{')' if self.high_open else ']'}")
        if self.percent:
            return f"must lie in {interval(1.0, ' %')}"
        return f"must lie in {interval(1.0, '')}, i.e. {interval(100.0, ' %')}"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|min|h|d|w)\s*$")
_UNIT_S = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_HORIZON = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(y|q|mo)\s*$")
_QUARTERS_PER = {"y": 4.0, "q": 1.0, "mo": 1.0 / 3.0}
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


def duration_s(text: str | float) -> float:
    """Seconds in ``"7d"``, ``"36h"``, ``"2w"``, ``"90min"`` or ``"600s"`` (a number is seconds)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match:
            raise OptionError("is not a duration; give e.g. 7d, 36h, 2w or 90min")
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if not (math.isfinite(seconds) and seconds > 0):
        raise OptionError("must be a positive duration such as 7d, 36h, 2w or 90min")
    return seconds


#: Yearly growth as a fraction: ``"20%/yr"``, ``"20%"``, ``0.2`` or ``"0.2/yr"``, above -100 %.
growth_rate = Share(-1.0, low_open=True, example=0.2, per_year=True)


def quarters(text: str | int) -> int:
    """Quarters in ``"3y"``, ``"6q"`` or ``"18mo"`` (rounded up), at least one; a number is quarters."""
    if isinstance(text, int) and not isinstance(text, bool):
        count = text
    else:
        match = _HORIZON.match(str(text))
        if not match or float(match.group(1)) <= 0:
            raise OptionError("is not a span; give e.g. 3y, 6q or 18mo")
        count = math.ceil(float(match.group(1)) * _QUARTERS_PER[match.group(2)] - 1e-9)
    if count < 1:
        raise OptionError("must be at least one quarter")
    return int(count)


def percentile_of(policy: str) -> float | None:
    """NN of a ``pNN`` policy (0 < NN < 100), None when ``policy`` is not of that form."""
    match = _PERCENTILE.match(policy)
    if not match:
        return None
    q = float(match.group(1))
    if not 0 < q < 100:
        raise OptionError("needs a percentile between 0 and 100, e.g. p95")
    return q


def cpu_policy(policy: str) -> str:
    """A CPU sizing policy: validated, timeseries, peak or pNN."""
    if policy in (VALIDATED, "timeseries", "peak") or percentile_of(policy) is not None:
        return policy
    raise OptionError("is unknown; use validated, timeseries, peak or pNN (e.g. p95)")


def mem_policy(policy: str) -> str:
    """A memory sizing policy: allocated, used-peak or used-pNN."""
    if policy in ("allocated", "used-peak") or (policy.startswith("used-") and percentile_of(policy[5:]) is not None):
        return policy
    raise OptionError("is unknown; use allocated, used-peak or used-pNN (e.g. used-p95)")


def utc_time(text):
    """A date or time as a UTC ``pandas.Timestamp`` (UTC unless it carries a zone)."""
    import pandas as pd

    try:
        when = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        raise OptionError("is not a date; give e.g. 2013-07-15 or 2013-07-15T12:00Z") from None
    if when is pd.NaT:
        raise OptionError("is not a date; give e.g. 2013-07-15 or 2013-07-15T12:00Z")
    return when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")


def currency_code(text):
    """A currency code such as USD, EUR or GBP (three letters, upper case)."""
    code = str(text).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise OptionError("is not a currency code; give three letters such as USD, EUR or GBP")
    return code


def _target(example: float) -> Share:
    """The check of a share of a host's CPU or RAM a plan may use: more than none, at most all."""
    return Share(0.0, 1.0, low_open=True, example=example)


_A = "assumption"

#: The options of a plan's model: the target hosts and what runs on them.
MODEL = (
    Option("host", None, "target host model(s) from `consolidate catalog`; several, comma-separated, let "
           "--objective pick the mix", metavar="NAME[,NAME...]", source=f"default {DEFAULT_HOST}", value_type=tuple),
    Option("hypervisor", "xen", "hypervisor overhead profile (host memory reserve, per-VM memory, CPU)",
           choices=HYPERVISORS, source="REFERENCE.md, consolidate/models/hypervisor.py"),
    Option("smt_gain", 0.25, "throughput of an extra hardware thread, share of a core", float, "fraction of a core",
           check=Share(0.0, 1.0, example=0.25, hint="the usual figure is 0.15-0.30"), metavar="SHARE",
           source="VMware vSphere 8 Resource Management; Ruan et al., SIGMETRICS 2005"),
    Option("cpu_target", 0.8, "share of host CPU a plan may use", float, "fraction", check=_target(0.8),
           metavar="SHARE", source=_A),
    Option("mem_target", 0.9, "share of host RAM a plan may use", float, "fraction", check=_target(0.9),
           metavar="SHARE", source=_A),
)

#: The options of the sizing and packing, and of the energy figures.
PLAN = (
    Option("objective", "hosts", "what picks the mix of several --host models: hosts (fewest, then lowest "
           "capital cost), cost (lowest capital cost) or energy (lowest IT energy a year)", choices=OBJECTIVES),
    Option("sizing", VALIDATED, "CPU sizing: validated (the host count that holds on held-out days within "
           "--risk, load spread), timeseries, peak or pNN such as p95", check=cpu_policy, metavar="POLICY"),
    Option("mem_sizing", "allocated", "memory sizing: allocated, used-peak or used-pNN", check=mem_policy,
           metavar="POLICY"),
    Option("mem_margin", 0.10, "head-room on observed memory use (used-* sizing)", float, "fraction",
           check=Share(0.0, example=0.1), metavar="SHARE", source=_A),
    Option("retire_idle", False, "leave idle servers (retire candidates) out of the plan", bool),
    Option("pue", constants.DEFAULT_PUE, "power usage effectiveness of the data centre", float, "ratio",
           check=between(1.0, hint="a data centre's PUE is 1 or more (average 1.56)"), source=constants.PUE.source),
    Option("price_per_kwh", constants.DEFAULT_PRICE_PER_KWH, "electricity price", float, "USD/kWh",
           check=between(0.0), flag="--price", source=constants.PRICE_PER_KWH.source),
    Option("carbon_g_per_kwh", constants.DEFAULT_CARBON_G_PER_KWH, "grid carbon intensity", float, "g CO2/kWh",
           check=between(0.0), flag="--carbon", source=constants.CARBON_G_PER_KWH.source),
    Option("time_limit_s", 60.0, "wall-clock cap on the solver's search (compilation not counted)", float, "s",
           check=between(0.0, low_open=True, hint="give a positive number of seconds"), flag="--time-limit",
           metavar="SECONDS"),
    Option("seed", 0, "seed of the solver's search", int),
)

#: Placement rules.
RULES = (
    Option("constraints", None, "YAML or CSV rules: anti-affinity groups (different hosts), affinity groups (one "
           "host) and pins (server -> host-001, host-002, ...) (README, Constraints)", metavar="FILE",
           value_type=object),
    Option("max_vms_per_host", None, "at most N VMs on a host", int, "VMs", check=between(1.0), metavar="N"),
    Option("vcpu_ratio", None, "vCPU:pCPU cap: the source servers' threads on a host (as vCPUs) at most R x its "
           "physical cores", float, "vCPUs per core", check=between(0.0, low_open=True), metavar="R"),
    Option("n_plus_1", False, "keep enough spare capacity that the VMs of any one failed host fit on the others "
           "(checked by the failover replay)", bool),
)

#: Risk, validation and what-if options.
RISK = (
    Option("risk_pct", 0.5, "validated sizing: most share of host-intervals over the CPU target, in sample and on "
           "held-out days", float, "%", check=Share(0.0, 100.0, high_open=True, percent=True, example=0.5), flag="--risk",
           metavar="PCT", source=_A + ": about 7 minutes a day per host above the target"),
    Option("holdout", None, "plan on all but the last DURATION (e.g. 7d, 36h, 2w) and replay that too", unit="s",
           check=duration_s, metavar="DURATION", value_type=float),
    Option("train_until", None, "plan on the traces before DATE (UTC, e.g. 2013-07-15) and replay the rest too",
           check=utc_time, metavar="DATE", value_type=object),
    Option("frontier", False, "add the hosts-against-risk table (in-sample and validated overload per host count)", bool),
    Option("growth", None, "growth what-if, e.g. 20%/yr: hosts needed per quarter and probability of overload",
           float, "fraction a year", check=growth_rate, metavar="RATE"),
    Option("horizon", "3y", "span of the growth what-if, e.g. 3y, 6q, 18mo", unit="quarters", check=quarters,
           metavar="SPAN", value_type=int),
)

#: The groups whose options make a plan's :class:`~consolidate.settings.Settings`.
SETTINGS_GROUPS = {"model": MODEL, "plan": PLAN, "placement rules": RULES, "risk and validation": RISK}

#: The business case's inputs (consolidate.report.business.BusinessInputs), money in USD.
BUSINESS = (
    Option("licence", "none", "per-core licence of the hosts after consolidation (their hypervisor's)",
           choices=LICENCES),
    Option("licence_before", "auto", "per-core licence the source machines run today; auto: vsphere when the "
           "sources are VMs on ESXi (an RVTools, vSphere or esxtop input), else none", choices=("auto", *LICENCES)),
    Option("currency", "USD", "currency of every price given and shown (prices are not converted)", metavar="CODE",
           check=currency_code),
    Option("licence_price_usd", None, "licence price: per core per year for vsphere "
           f"({constants.VSPHERE_USD_PER_CORE_YEAR.value:g}), per 16-core pack for windows "
           f"({constants.WINDOWS_DC_USD_PER_16_CORES.value:g})", float, "USD", check=between(0.0),
           flag="--licence-price", metavar="USD"),
    Option("licence_years", float(constants.LICENCE_YEARS.value), "years a perpetual (windows) licence is spread over",
           float, "years", check=between(0.0, low_open=True), metavar="YEARS", source=constants.LICENCE_YEARS.source),
    Option("maintenance_pct", float(constants.MAINTENANCE_PCT.value), "hardware support a year, % of the hardware price",
           float, "% a year", check=Share(0.0, percent=True, example=float(constants.MAINTENANCE_PCT.value)),
           metavar="PCT", source=constants.MAINTENANCE_PCT.source),
    Option("rack_usd_per_u_year", float(constants.RACK_USD_PER_U_YEAR.value), "rack space per rack unit a year",
           float, "USD/U/yr", check=between(0.0), flag="--rack-u-cost", metavar="USD",
           source=constants.RACK_USD_PER_U_YEAR.source),
    Option("discount_rate", float(constants.DISCOUNT_RATE.value), "yearly discount rate of the NPV", float,
           "fraction a year", check=Share(-1.0, 1.0, low_open=True, example=0.08), metavar="RATE",
           source=constants.DISCOUNT_RATE.source),
    Option("host_price_usd", None, "price of one target host", float, "USD", check=between(0.0), flag="--host-price",
           metavar="USD", source="the catalogue's"),
)

#: How traces are read (consolidate.read_traces).
READ = (
    Option("format", "auto", "input format", choices=TRACE_FORMATS),
    Option("inventory", None, "source servers: server_id,cores,threads,ghz,ram_gb[,perf,model,power_idle_w,power_max_w]",
           metavar="INV.csv"),
    Option("columns", None, "column names of the file, e.g. timestamp=Time,server_id=Host,cpu_pct=CPU", metavar="MAP"),
    Option("timezone", None, "IANA zone of naive local timestamps (default: UTC)", metavar="TZ"),
    Option("interval_s", None, "grid spacing (default: detected median spacing)", int, "s",
           check=between(1.0, hint="give a positive number of seconds"), flag="--interval", metavar="SECONDS"),
    Option("start", None, "read the samples from this date or time (UTC unless it carries a zone)", metavar="DATE"),
    Option("end", None, "read the samples before this date or time; a date alone includes that day", metavar="DATE"),
    Option("exclude", None, "leave these servers out: ids, comma-separated, or a file of ids (one per line)",
           metavar="ID[,ID...]|FILE"),
    Option("powered_off", False, "an RVTools or Azure Migrate inventory planned alone: plan its powered-off VMs too "
           "(templates never)", bool, flag="--include-powered-off"),
)

_CLUSTER = re.compile(r"^(local:[1-9]\d{0,3}|(tcp|tls)://[^\s/]+:\d{1,5})$")


def cluster_address(text: str) -> str:
    """``local:N`` (a Dask LocalCluster of N worker processes) or a scheduler's ``tcp://HOST:PORT``."""
    if not _CLUSTER.match(text.strip()):
        raise OptionError("is not a cluster; give local:N (N worker processes) or a scheduler's tcp://HOST:PORT")
    return text.strip()


def column_name(text: str) -> str:
    if not text.strip():
        raise OptionError("is empty; give the inventory column that names each server's site, e.g. site")
    return text.strip()


#: `consolidate plan --by`: an estate of sites, each planned on its own (consolidate.sites).
ESTATE = (
    Option("by", None, "plan each site on its own: the inventory column naming each server's site (site, datacenter, "
           "cluster...), or the key of the traces folder's KEY=NAME sub-folders", check=column_name, metavar="COLUMN"),
    Option("cluster", None, "with --by: plan the sites on a Dask cluster, one task per site: local:N (N worker "
           "processes) or tcp://HOST:PORT (a running scheduler)", check=cluster_address, metavar="ADDRESS"),
)

#: `consolidate sample`: a synthetic estate.
SAMPLE = (
    Option("servers", 100, "number of servers", int, "servers", check=between(1.0)),
    Option("days", 14.0, "days of 5-minute samples", float, "days", check=between(0.0, 3660.0, low_open=True)),
    Option("seed", 0, "random seed", int),
)

#: `consolidate export`.
EXPORT = (
    Option("format", "xlsx", "xlsx (workbook), xen (xl configs + RUNBOOK.md), libvirt (domain XML + RUNBOOK.md), json",
           choices=EXPORT_FORMATS),
    Option("wave_size", 10, "servers per migration wave in the run-book", int, "servers", check=between(1.0)),
)

#: What a command prints.
OUTPUT = (
    Option("quiet", False, "print nothing but errors", bool),
    Option("json", False, "print the result as JSON", bool),
)


def by_name(rows: tuple[Option, ...]) -> dict[str, Option]:
    return {o.name: o for o in rows}


def settings_options() -> tuple[Option, ...]:
    """Every option that is a field of :class:`~consolidate.settings.Settings`, in table order."""
    return tuple(o for rows in SETTINGS_GROUPS.values() for o in rows)
