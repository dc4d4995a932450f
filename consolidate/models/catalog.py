"""The host catalogue: server models with SPECpower curves, read from ``hosts.csv``.

``hosts.csv`` (shipped in the package) has one row per model and these columns:

- ``name``: short id used by ``--host`` (``dell-r740``); ``label``: the vendor's model name;
  ``cpu``: sockets x processor; ``year``: the processor's launch year.
- ``role``: ``source`` (sprawl-era server, 2006-2012) or ``host`` (modern virtualisation host).
- ``uarch``, ``sockets``, ``cores``, ``threads``, ``ghz`` (base clock): from the vendor's
  processor specification.
- ``perf``: per-clock throughput of one core relative to a Westmere core (Xeon X5670) =
  :func:`consolidate.models.constants.uarch_perf` of ``uarch`` rounded to 2 decimals, from
  chained per-generation IPC figures (an estimate; turbo is not counted).
- ``ram_gb``, ``rack_units``, ``price_usd``: assumed (the SPEC results' configurations are not
  recorded here; prices are rough and unverified); ``notes`` says what each row assumes.
- ``p0`` ... ``p100``: SPECpower_ssj2008 watts at active idle, 10 %, ..., 100 % load;
  ``spec_result``: the SPEC result id (``unverified`` where the id is not confirmed);
  ``source``: where the curve and the CPU figures come from.

References
----------
.. [1] SPEC, SPECpower_ssj2008 results, spec.org/power_ssj2008/results/ (result ids per row).
.. [2] CloudSim (Cloudslab/cloudsim), ``org.cloudbus.cloudsim.power.models.PowerModelSpecPower*``.
.. [3] OpenDC (atlarge-research/opendc), ``MachineSpecs``.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from consolidate.errors import InputError
from consolidate.models.constants import SOURCE_DEFAULT_MODEL
from consolidate.models.hardware import (
    DEFAULT_SMT_GAIN,
    POWER_POINTS,
    HostModel,
    host_cpu_ghz,
)

if TYPE_CHECKING:
    from consolidate.models.trace import Inventory


CURVE_COLUMNS = tuple(f"p{10 * i}" for i in range(POWER_POINTS))
COLUMNS = (
    "name", "label", "cpu", "year", "role", "uarch", "sockets", "cores", "threads", "ghz", "perf",
    "ram_gb", "rack_units", "price_usd", *CURVE_COLUMNS, "spec_result", "source", "notes",
)
NOTE_KEYS = ("label", "cpu", "year", "role", "uarch", "spec_result", "notes")


_TEXT_COLUMNS = ("name", "label", "cpu", "role", "uarch", "spec_result", "source", "notes")
_INT_COLUMNS = ("year", "sockets", "cores", "threads")


@cache
def _catalog_table() -> tuple[dict, ...]:
    """hosts.csv's rows, typed (read with the csv module: ``consolidate catalog`` needs no pandas)."""
    text = resources.files("consolidate.models").joinpath("hosts.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise ValueError(f"hosts.csv lacks column(s) {', '.join(missing)}")
    rows = []
    for raw in reader:
        row = {}
        for column in COLUMNS:
            value = raw[column]
            row[column] = value if column in _TEXT_COLUMNS else int(value) if column in _INT_COLUMNS else (
                float(value) if value.strip() else math.nan)
        rows.append(row)
    names = [r["name"].lower() for r in rows]
    if len(set(names)) < len(names):
        raise ValueError("hosts.csv: model names must be unique")
    for r in rows:
        curve = [r[c] for c in CURVE_COLUMNS]
        if any(b < a for a, b in zip(curve, curve[1:])) or min(curve) <= 0:
            raise ValueError("hosts.csv: every power curve must be positive and non-decreasing")
        if r["threads"] < r["cores"]:
            raise ValueError("hosts.csv: threads must be at least cores")
    return tuple(rows)


@cache
def _models() -> tuple[HostModel, ...]:
    table = _catalog_table()
    return tuple(
        HostModel(
            name=row["name"],
            cores=int(row["cores"]),
            threads=int(row["threads"]),
            ghz=float(row["ghz"]),
            ram_gb=float(row["ram_gb"]),
            power_curve_w=tuple(float(row[c]) for c in CURVE_COLUMNS),
            perf=float(row["perf"]),
            sockets=int(row["sockets"]),
            rack_units=float(row["rack_units"]),
            price_usd=float(row["price_usd"]),
            source=row["source"],
            notes={key: str(row[key]) for key in NOTE_KEYS},
        )
        for row in table
    )


def load_catalog() -> dict[str, HostModel]:
    """Every catalogue model by name, in file order (source servers first, then hosts)."""
    return {model.name: model for model in _models()}


def get_host(name: str) -> HostModel:
    """The catalogue model called ``name`` (any case), or the one its label names uniquely.

    Raises :class:`InputError` for an unknown name, suggesting the closest name.
    """
    catalog = load_catalog()
    key = str(name).strip().lower()
    if key in catalog:
        return catalog[key]
    model = find_model(name)
    if model is not None:
        return model
    close = difflib.get_close_matches(key, list(catalog), n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {close[0]!r}?"
    else:
        hosts = [n for n, m in catalog.items() if m.notes["role"] == "host"]
        hint = f"known hosts include {', '.join(hosts[:5])}"
    raise InputError(f"host model {name!r} is not in the catalogue; {hint} (`consolidate catalog` lists them all)")


# Words of vendors' legal names that never tell two models apart ("Dell Inc.", "Hewlett-Packard").
_NOISE_WORDS = frozenset(
    {"inc", "corp", "corporation", "ltd", "co", "company", "hewlett", "packard", "enterprise", "international", "business", "machines"}
)


def _tokens(text: str) -> list[str]:
    # "Gen10 Plus" is one generation, not Gen10 plus something else.
    text = re.sub(r"(gen\d+)\s+plus\b", r"\1plus", str(text).lower())
    return [t for t in re.findall(r"[a-z0-9]+", text) if t not in _NOISE_WORDS]


@cache
def _model_keys() -> tuple[tuple[str, frozenset[str], str], ...]:
    keys = []
    for model in _models():
        words = frozenset(_tokens(model.name) + _tokens(model.notes["label"]) + _tokens(model.notes["cpu"]))
        model_number = next(t for t in _tokens(model.notes["label"]) if re.search(r"\d", t))
        keys.append((model.name, words, model_number))
    return tuple(keys)


@cache
def find_model(text: str) -> HostModel | None:
    """The catalogue model an inventory's ``model`` text names, or None if none or several match.

    A model matches when ``text`` is its name, or when ``text`` carries the label's model number
    (R710, ML110, x3550, DL380, 9654) and every other word of it belongs to the model's name,
    label or CPU (words of vendors' legal names aside). "Dell Inc. PowerEdge R710" and "r710"
    match ``dell-r710``; "IBM x3550 (2x Xeon X5670)" matches ``ibm-x3550-m3-x5670``; "x3550 M3"
    and "ML110" match two models each, so none; "DL380 Gen10" matches nothing (Gen10 is not
    Gen10 Plus).
    """
    catalog = load_catalog()
    key = str(text).strip().lower()
    if key in catalog:
        return catalog[key]
    given = set(_tokens(text))
    hits = [name for name, vocabulary, number in _model_keys() if number in given and given <= vocabulary]
    return catalog[hits[0]] if len(hits) == 1 else None


def source_power_curves(inventory: Inventory) -> tuple[np.ndarray, np.ndarray]:
    """Each source server's 11-point power curve (W, float64 (n, 11)) and where it came from.

    In order: the inventory's ``power_idle_w`` and ``power_max_w`` (both given, max >= idle:
    the straight line between them); else the catalogue model its ``model`` text names
    (:func:`find_model`); else the sprawl-era default (:data:`SOURCE_DEFAULT_MODEL`). The second
    array (object) says which, per server: ``inventory watts``, ``catalogue NAME`` or ``default NAME``.
    """
    n = len(inventory.server_ids)
    default = get_host(str(SOURCE_DEFAULT_MODEL.value))
    curves = np.tile(np.asarray(default.power_curve_w, dtype=np.float64), (n, 1))
    origin = np.full(n, f"default {default.name}", dtype=object)
    models = np.asarray(inventory.model, dtype=object)
    for text in dict.fromkeys(m for m in models if isinstance(m, str)):
        model = find_model(str(text))
        if model is not None:
            rows = models == text
            curves[rows] = model.power_curve_w
            origin[rows] = f"catalogue {model.name}"
    idle_w = np.asarray(inventory.power_idle_w, dtype=np.float64)
    max_w = np.asarray(inventory.power_max_w, dtype=np.float64)
    measured = np.isfinite(idle_w) & np.isfinite(max_w) & (idle_w >= 0) & (max_w >= idle_w)
    steps = np.linspace(0.0, 1.0, POWER_POINTS)
    curves[measured] = idle_w[measured, None] + steps * (max_w - idle_w)[measured, None]
    origin[measured] = "inventory watts"
    return curves, origin


def catalog_rows(details: bool = False) -> list[dict]:
    """The catalogue as rows for ``consolidate catalog``.

    One row per model with its CPU, effective capacity (``capacity_ghz`` at the default SMT gain,
    no hypervisor), RAM, idle and full-load watts, assumed price and SPEC result (the id without
    its ``power_ssj2008-`` prefix, or ``unverified``). ``details`` adds the label, the whole curve
    (``p0`` ... ``p100``), the sources and what each row assumes.
    """
    out = []
    for row, model in zip(_catalog_table(), _models()):
        entry = {k: row[k] for k in ("name", "cpu", "role", "year", "cores", "threads", "ghz", "perf", "ram_gb")}
        entry.update({
            "capacity_ghz": round(host_cpu_ghz(model, DEFAULT_SMT_GAIN), 1), "idle_w": row["p0"], "max_w": row["p100"],
            "price_usd": row["price_usd"], "spec_result": row["spec_result"].removeprefix("power_ssj2008-"),
        })
        if details:
            entry.update({k: row[k] for k in ("label", "sockets", "rack_units", "uarch", *CURVE_COLUMNS, "source", "notes")})
        out.append(entry)
    return out


def catalog_frame(details: bool = False):
    """:func:`catalog_rows` as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(catalog_rows(details))
