"""Estates of many sites: each site planned on its own, in-process or one Dask task per site.

A site's VMs go onto that site's hosts, so an estate of several data centres is several
independent packing problems. :func:`find_sites` splits the estate (an inventory column, or a
folder with one entry per site: hive ``site=ams/`` folders, plain sub-folders or long files);
:func:`plan_site` reads one site's traces, plans them and writes the site's plan folder, and
returns only its summary and placement; :func:`plan_estate` runs every site (on a Dask cluster
when asked) and :mod:`consolidate.report.estate` sums the sites into the estate's figures.
"""

from __future__ import annotations

import re
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote

import pandas as pd

from consolidate.errors import InputError
from consolidate.report.business import BusinessInputs
from consolidate.report.estate import SITES_FOLDER, estate_summary, write_estate
from consolidate.settings import Settings

#: A hive partition folder: ``site=ams``.
_HIVE = re.compile(r"^(?P<key>[^=/]+)=(?P<value>[^/]*)$")

#: File endings of a per-site trace file (its site is the name without them).
_TRACE_SUFFIXES = (".csv.gz", ".parquet", ".csv", ".tsv", ".txt")


@dataclass(frozen=True)
class Site:
    """One site of an estate: its ``name``, the ``traces`` its worker reads (a path or fsspec URL)
    and, where the traces are shared by every site, the site's ``servers`` (None: all of ``traces``)."""

    name: str
    traces: str
    servers: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Split:
    """How an estate splits: its ``sites``, the column it splits by and where that came from."""

    sites: tuple[Site, ...]
    by: str
    source: str  # "inventory" or "folder"


@dataclass(frozen=True)
class SiteJob:
    """What one site's task needs: the site, how to read it, the settings and where to write."""

    site: Site
    read: dict
    inventory: pd.DataFrame | None
    settings: Settings
    business: BusinessInputs
    out_dir: str


@dataclass(frozen=True)
class SiteResult:
    """What a site's task returns: its summary and placement, or the one-line reason it failed.

    ``user_error`` is True when the failure is the input's (an :class:`InputError`), False for a
    fault of the tool; ``wall_s`` is the site's time in its worker, in seconds.
    """

    site: str
    summary: dict | None = None
    placement: pd.DataFrame | None = None
    error: str | None = None
    user_error: bool = True
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class EstatePlan:
    """The plans of an estate's sites: every site's result, in site order, and the estate's summary."""

    split: Split
    results: tuple[SiteResult, ...]
    summary: dict = field(repr=False)

    @property
    def failed(self) -> tuple[SiteResult, ...]:
        return tuple(r for r in self.results if not r.ok)


def _fs(url: str):
    """The fsspec file system of ``url`` and the path on it (a plain path is the local file system)."""
    from fsspec.core import url_to_fs

    return url_to_fs(url)


def _join(url: str, name: str) -> str:
    return url.rstrip("/") + "/" + name


def _site_name(text: str, where: str) -> str:
    name = str(text).strip()
    if not name or name in (".", "..") or any(c in name for c in '/\\\0') or any(ord(c) < 32 for c in name):
        raise InputError(f"{where}: the site {text!r} cannot name a folder; give sites names without '/', "
                         "'\\' or control characters")
    return name


def _folder_sites(traces: str, by: str) -> tuple[Site, ...] | None:
    """One site per entry of the folder ``traces``: ``BY=value`` folders (hive partitions), else plain
    sub-folders, else long trace files; None when ``traces`` is no folder or holds none of these."""
    try:
        fs, root = _fs(traces)
        if not fs.isdir(root):
            return None
        entries = sorted(fs.ls(root, detail=True), key=lambda e: e["name"])
    except (OSError, ValueError, ImportError):
        return None
    visible = [(e["name"].rstrip("/").rsplit("/", 1)[-1], e["type"] == "directory") for e in entries]
    visible = [(name, is_dir) for name, is_dir in visible if not name.startswith((".", "_"))]
    folders = [name for name, is_dir in visible if is_dir]
    hive = [(m.group("value"), name) for name in folders if (m := _HIVE.match(name)) and m.group("key") == by]
    if hive:
        return tuple(Site(_site_name(unquote(value), _join(traces, name)), _join(traces, name)) for value, name in hive)
    if folders:
        return tuple(Site(_site_name(name, traces), _join(traces, name)) for name in folders)
    files = [name for name, _ in visible if name.lower().endswith(_TRACE_SUFFIXES)]
    if not files or not all(_is_long_file(_join(traces, name)) for name in files):
        return None
    return tuple(Site(_site_name(_stem(name), traces), _join(traces, name)) for name in files)


def _stem(name: str) -> str:
    lower = name.lower()
    return next(name[: -len(s)] for s in _TRACE_SUFFIXES if lower.endswith(s))


def _is_long_file(url: str) -> bool:
    """True when ``url`` is a long trace file (many servers in one file), as a per-site file is."""
    from consolidate.io.formats import detect_format

    if "://" in url:
        return url.lower().endswith((".parquet", ".csv", ".csv.gz"))
    try:
        return detect_format(Path(url), None).name == "long"
    except InputError:
        return False


def _inventory_sites(inventory, by: str, powered_off: bool) -> dict[str, str] | None:
    """Server id -> site from the inventory's column ``by`` (names match ignoring case); None when it has none."""
    from consolidate.io.inventory import HOST, inventory_format, planned_servers, read_inventory, read_inventory_export
    from consolidate.io.tabular import read_text_table

    if inventory is None:
        return None
    if isinstance(inventory, pd.DataFrame):
        frame, label = inventory, "inventory"
    else:
        path = Path(inventory)
        read_inventory(path, powered_off=True)  # a file that is no inventory: its own clear error first
        if inventory_format(path) is not None:
            frame, label = planned_servers(read_inventory_export(path), powered_off=True), str(path)
        else:
            frame, label = read_text_table(path, "inventory", "give a CSV with server_id,cores,ghz,ram_gb")[0], str(path)
    names = {str(c).strip().lower(): c for c in frame.columns}
    column, id_column = names.get(by.lower()), names.get("server_id")
    if column is None or id_column is None:
        return None
    ids = frame[id_column].astype(str).str.strip()
    values = frame[column]
    empty = values.isna() | (values.astype(str).str.strip() == "")
    if HOST in names:  # a row describing a host the VMs run on is no server: it needs no site
        hosts = set(frame[names[HOST]].fillna("").astype(str).str.strip()) - {""}
        keep = ~(empty & ids.isin(hosts)).to_numpy()
        ids, values, empty = ids[keep], values[keep], empty[keep]
    if empty.any():
        server = ids[empty.to_numpy()].iloc[0]
        raise InputError(f"{label}: server {server!r} has no {column!r}; give every server its site "
                         f"({int(empty.sum())} have none)")
    return {i: _site_name(v, label) for i, v in zip(ids, values.astype(str).str.strip())}


def find_sites(traces: str | Path, by: str, *, inventory=None, powered_off: bool = False) -> Split:
    """How the estate ``traces`` splits into sites by ``by``.

    The inventory's column ``by`` (matched ignoring case; an RVTools export has ``cluster`` and
    ``datacenter``) gives each server its site, every site reading ``traces`` for its own servers;
    without one, ``traces`` must be a folder with one entry per site: ``BY=value`` folders (hive
    partitions, e.g. ``traces/site=ams/part-0.parquet``), plain sub-folders, or long trace files
    (``ams.parquet``, ``fra.csv``), each read as that site's traces. Raises :class:`InputError` when
    neither is there.
    """
    traces = str(traces)
    if inventory is None and _is_export(traces):
        inventory = traces  # an RVTools or Azure Migrate export planned alone splits by its own column
    column = _inventory_sites(inventory, by, powered_off)
    if column is not None:
        servers: dict[str, list[str]] = {}
        for server, site in column.items():
            servers.setdefault(site, []).append(server)
        sites = tuple(Site(name, traces, tuple(sorted(ids))) for name, ids in sorted(servers.items()))
        return Split(sites, by, "inventory")
    sites = _folder_sites(traces, by)
    if sites is None:
        where = f"the inventory has no {by!r} column and " if inventory is not None else "no --inventory with a " \
                f"{by!r} column is given and "
        raise InputError(f"--by {by}: {where}{traces} is not a folder of sites; give an inventory with a {by!r} column, "
                         f"or a folder of {by}=NAME sub-folders (hive partitions), site sub-folders or per-site files")
    names = [s.name for s in sites]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"{traces}: two entries name the site {twice[0]!r}; keep one per site")
    return Split(sites, by, "folder")


def _is_export(traces: str) -> bool:
    """True when ``traces`` is an inventory export planned alone (an RVTools workbook, an Azure Migrate CSV)."""
    from consolidate.io.inventory import inventory_format

    path = Path(traces)
    return "://" not in traces and path.is_file() and inventory_format(path) is not None


def check_rules(split: Split, settings: Settings) -> None:
    """Raise :class:`InputError` for a placement rule whose servers lie in two sites (known before
    planning where the inventory gives the sites; a folder's sites are checked as they are read)."""
    rules = settings.rules
    if split.source != "inventory" or not rules.active:
        return
    site_of = {s: site.name for site in split.sites for s in site.servers}
    for group in rules.anti_affinity + rules.affinity:
        sites = sorted({site_of[s] for s in group.servers if s in site_of})
        if len(sites) > 1:
            raise InputError(_spans(group, sites))


def _spans(group, sites) -> str:
    return (f"{group.label} spans sites {', '.join(map(repr, sites))}; a site's VMs stay on that site's hosts, so a rule "
            "may name servers of one site only: split it into one rule per site")


def site_settings(settings: Settings, site: str, server_ids) -> Settings:
    """``settings`` with the placement rules restricted to the site's servers ``server_ids``; a
    rule naming servers both here and elsewhere is an :class:`InputError`."""
    rules = settings.rules
    if not rules.active:
        return settings
    here = set(server_ids)
    for group in rules.anti_affinity + rules.affinity:
        present = [s for s in group.servers if s in here]
        if present and len(present) < len(set(group.servers)):
            raise InputError(_spans(group, [site, "another"]))
    return replace(settings, constraints=rules.restricted(server_ids))


def plan_site(job: SiteJob) -> SiteResult:
    """Read, plan and write one site (in a worker or in-process); a failure is returned, not raised."""
    from consolidate.planner import plan
    from consolidate.report.outputs import write_plan_data
    from consolidate.report.plandata import from_plan

    started = time.perf_counter()
    name = job.site.name
    try:
        traces = _read_site(job)
        result = plan(traces, site_settings(job.settings, name, traces.server_ids))
        data = from_plan(result, job.business, name=name)
        write_plan_data(data, job.out_dir)
    except InputError as exc:
        return SiteResult(name, error=str(exc).splitlines()[0], wall_s=time.perf_counter() - started)
    except MemoryError:
        return SiteResult(name, error="out of memory", user_error=False, wall_s=time.perf_counter() - started)
    except Exception as exc:  # a fault of one site must not lose the others' plans
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return SiteResult(name, error=f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})",
                          user_error=False, wall_s=time.perf_counter() - started)
    return SiteResult(name, summary=data.summary, placement=data.placement, wall_s=time.perf_counter() - started)


def _read_site(job: SiteJob):
    """The site's traces: its servers of the traces (or of an export planned alone)."""
    from consolidate.io import not_for_inventory, read_traces
    from consolidate.io.allocation import inventory_traces

    if _is_export(job.site.traces):
        if set(job.read) - {"format", "powered_off"}:
            raise InputError(not_for_inventory(job.site.traces))
        return inventory_traces(job.site.traces, powered_off=bool(job.read.get("powered_off")), servers=job.site.servers)
    return read_traces(job.site.traces, inventory=job.inventory, servers=job.site.servers, **job.read)


def _site_inventory(inventory, site: Site) -> pd.DataFrame | None:
    """The inventory rows of ``site``'s servers, of the hosts they run on as VMs and of the other VMs
    of those hosts (all rows for a site read from its own files)."""
    from consolidate.io.inventory import HOST, read_inventory

    if inventory is None:
        return None
    table = read_inventory(inventory, powered_off=True)
    if site.servers is None:
        return table
    servers = table["server_id"].isin(set(site.servers))
    hosts = set(table.loc[servers, HOST]) - {""}
    return table[servers | table["server_id"].isin(hosts) | table[HOST].isin(hosts)].reset_index(drop=True)


def site_jobs(split: Split, *, read: dict, inventory, settings: Settings, business: BusinessInputs,
              out_dir: str | Path) -> list[SiteJob]:
    """One :class:`SiteJob` per site, writing into ``out_dir/sites/<site>``."""
    from consolidate.io.inventory import read_inventory

    table = None if inventory is None else read_inventory(inventory, powered_off=True)
    return [
        SiteJob(site, read, _site_inventory(table, site), settings, business, str(Path(out_dir) / SITES_FOLDER / site.name))
        for site in split.sites
    ]


def run_sites(jobs: list[SiteJob], cluster: str | None = None,
              on_event: Callable[[str, SiteResult | None], None] | None = None) -> list[SiteResult]:
    """Every job's result, in job order: in this process one after the other, or one Dask task per
    site on ``cluster`` (``local:N``: a LocalCluster of N worker processes; ``tcp://host:port``: an
    existing scheduler). ``on_event(site, result)`` is called as each site starts (result None) and ends."""
    notify = on_event or (lambda site, result: None)
    if cluster is None:
        results = []
        for job in jobs:
            notify(job.site.name, None)
            results.append(plan_site(job))
            notify(job.site.name, results[-1])
        return results
    with _client(cluster) as client:
        return list(_gathered(client, jobs, notify))


def _gathered(client, jobs: list[SiteJob], notify) -> Iterator[SiteResult]:
    from distributed import as_completed

    futures = {client.submit(plan_site, job, key=f"site-{i}-{job.site.name}", pure=False): i for i, job in enumerate(jobs)}
    for job in jobs:
        notify(job.site.name, None)
    results: dict[int, SiteResult] = {}
    for future in as_completed(futures):
        i = futures[future]
        try:
            results[i] = future.result()
        except Exception as exc:  # the worker died (killed, out of memory): that site alone fails
            results[i] = SiteResult(jobs[i].site.name, error=f"its worker failed: {type(exc).__name__}: {exc}",
                                    user_error=False)
        notify(jobs[i].site.name, results[i])
    yield from (results[i] for i in range(len(jobs)))


class _client:
    """A Dask ``distributed`` client of ``cluster``, closed (with the LocalCluster it started) on exit."""

    def __init__(self, cluster: str):
        self.cluster = cluster
        self.local = None
        self.client = None

    def __enter__(self):
        import logging

        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("--cluster needs Dask's distributed package; install it with "
                             "`pip install distributed`") from None
        try:
            if self.cluster.startswith("local:"):
                self.local = LocalCluster(n_workers=int(self.cluster.split(":", 1)[1]), threads_per_worker=1,
                                          processes=True, dashboard_address=None, silence_logs=logging.ERROR)
                self.client = Client(self.local)
            else:
                self.client = Client(self.cluster, timeout="10s")
        except (OSError, TimeoutError) as exc:
            self.__exit__(None, None, None)
            raise InputError(f"--cluster {self.cluster}: cannot reach the cluster ({exc}); start its scheduler or give "
                             "local:N") from None
        return self.client

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self.local is not None:
            self.local.close()


def plan_estate(
    traces: str | Path, by: str, *, settings: Settings, business: BusinessInputs | None = None,
    out_dir: str | Path, inventory=None, read: dict | None = None, cluster: str | None = None,
    on_event: Callable[[str, SiteResult | None], None] | None = None,
) -> EstatePlan:
    """Plan each site of the estate ``traces`` (split by ``by``: :func:`find_sites`) on its own and
    write the estate's folder ``out_dir``: ``sites/<site>/`` (each a plan folder), the combined
    placement.csv with a ``site`` column, the estate's summary.json (the sites' totals and ``sites``)
    and report.html. A site that fails is reported in the summary and the others are kept; when
    every site fails, :class:`InputError` (nothing is written).

    ``read`` holds the :func:`consolidate.read_traces` options (``format``, ``start``, ...);
    ``cluster`` is None (in this process), ``local:N`` or a scheduler address.
    """
    read = dict(read or {})
    business = business or BusinessInputs()
    split = find_sites(traces, by, inventory=inventory, powered_off=bool(read.get("powered_off")))
    check_rules(split, settings)
    jobs = site_jobs(split, read=read, inventory=inventory, settings=settings, business=business, out_dir=out_dir)
    results = tuple(run_sites(jobs, cluster, on_event))
    if not any(r.ok for r in results):
        first = results[0]
        raise InputError(f"every site failed, nothing was written (site {first.site}: {first.error})")
    summary = estate_summary(split, results, settings)
    write_estate(out_dir, summary, results)
    return EstatePlan(split, results, summary)
