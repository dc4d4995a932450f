"""An estate of sites: its figures summed from the sites' summaries, its folder, its report and terminal table.

Each figure of the estate is the sum of the sites' (hosts, energy, money), or the sites' shares
weighted by what they are shares of (the replay's over-target share by host-intervals); nothing
is recomputed from traces, so the estate says exactly what its sites say.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd

from consolidate.errors import InputError
from consolidate.report.business import npv, payback_months
from consolidate.report.outputs import summary_json, write_files
from consolidate.report.plandata import MANIFEST_FILE, manifest_name, read_manifest

#: The folder of each site's plan inside the estate's folder.
SITES_FOLDER = "sites"

#: Figures of a site's summary that the estate sums.
SUMMED = (
    "servers", "hosts_before", "hosts_after", "lower_bound", "placed",
    "energy_kwh_per_year_before", "energy_kwh_per_year_after", "it_energy_kwh_per_year_before",
    "it_energy_kwh_per_year_after", "cost_per_year_before", "cost_per_year_after",
    "co2_t_per_year_before", "co2_t_per_year_after", "unmet_cpu_ghz_h",
)
#: Money of a site's business case that the estate sums (NPVs add: every site has the same rate).
SUMMED_MONEY = ("capital_cost", "yearly_saving", "tco_3y_before", "tco_3y_after", "npv_3y", "tco_5y_before",
                "tco_5y_after", "npv_5y")
YEARS_OF_NPV = (3, 5)


def _total(values) -> float:
    return float(sum(values))


def _weighted(summaries: list[dict], key: str) -> float:
    """The estate's share ``key`` of the replay: each site's share weighted by its host-intervals."""
    weights = [s["replay"]["host_intervals"] for s in summaries]
    if not sum(weights):
        return 0.0
    return sum(s["replay"][key] * w for s, w in zip(summaries, weights)) / sum(weights)


def _business(summaries: list[dict], discount_rate: float) -> dict | None:
    cases = [s["business_case"] for s in summaries if s.get("business_case")]
    if not cases:
        return None
    out = {"currency": cases[0]["currency"]}
    out.update({k: _total(c[k] for c in cases) for k in SUMMED_MONEY})
    for side in ("yearly_cost_before", "yearly_cost_after"):
        out[side] = {k: _total(c[side][k] for c in cases) for k in cases[0][side]}
    out["saving_by_category"] = {k: _total(c["saving_by_category"][k] for c in cases) for k in cases[0]["saving_by_category"]}
    capital = out["capital_cost"]
    out["payback_months"] = payback_months(capital, out["yearly_saving"]) if math.isfinite(capital) else None
    spares = [c.get("n_plus_1") or {} for c in cases]
    out["n_plus_1"] = {
        "spare_hosts": int(sum(n.get("spare_hosts") or 0 for n in spares)),
        "capital_cost": _total(n.get("capital_cost") or 0.0 for n in spares),
        "yearly_cost": _total(n.get("yearly_cost") or 0.0 for n in spares),
    }
    n = out["n_plus_1"]
    out["n_plus_1"]["npv_5y_with"] = npv(capital + n["capital_cost"], out["yearly_saving"] - n["yearly_cost"],
                                         discount_rate, 5)
    out["discount_rate"] = discount_rate
    return out


def estate_summary(split, results, settings) -> dict:
    """summary.json of an estate: the sites' totals, the failed sites, and ``sites`` (each site's summary)."""
    done = [r for r in results if r.ok]
    summaries = [r.summary for r in done]
    out: dict = {
        "estate": {
            "by": split.by,
            "split_from": split.source,
            "sites": len(results),
            "sites_planned": len(done),
            "sites_failed": len(results) - len(done),
            "complete": len(done) == len(results),
        },
    }
    out.update({k: _total(s[k] for s in summaries) for k in SUMMED})
    for k in ("servers", "hosts_before", "hosts_after", "lower_bound", "placed"):
        out[k] = int(out[k])
    out["gap_hosts"] = int(sum(s["solver"]["gap_hosts"] for s in summaries))
    out["solver_status"] = "optimal" if summaries and all(s["solver"]["status"] == "optimal" for s in summaries) else (
        "feasible" if summaries else "none")
    out["unplaceable"] = [{"site": r.site, "server_id": i} for r in done for i in r.summary["unplaceable"]]
    out["retire_candidates"] = int(sum(len(s["retire_candidates"]) for s in summaries))
    samples = [s["servers"] * s["trace"]["days"] * 86400.0 / s["trace"]["interval_s"] for s in summaries]
    out["cpu_util_mean_before_pct"] = (sum(s["cpu_util_mean_before_pct"] * w for s, w in zip(summaries, samples))
                                       / sum(samples)) if sum(samples) else 0.0
    out["over_target_pct"] = _weighted(summaries, "over_target_pct") if summaries else 0.0
    out["over_capacity_pct"] = _weighted(summaries, "over_capacity_pct") if summaries else 0.0
    out["n_plus_1_holds"] = bool(summaries) and all(s["failover"]["n_plus_1_holds"] for s in summaries)
    out["spare_hosts_n_plus_1"] = int(sum(s["failover"].get("spare_hosts_n_plus_1") or 0 for s in summaries))
    binding = [s.get("binding_resource_hosts") or {} for s in summaries]
    out["binding_resource_hosts"] = {k: int(sum(b.get(k, 0) for b in binding)) for k in ("cpu", "memory")}
    out["business_case"] = _business(summaries, settings_discount(summaries))
    out["caveats"] = [f"site {r.site} failed ({r.error}): the totals cover {len(done)} of {len(results)} sites"
                      for r in results if not r.ok]
    out["servers_without_site"] = _without_site(split, summaries)
    if out["servers_without_site"]:
        out["caveats"].append(
            f"{out['servers_without_site']:,} server(s) of the traces are in no site of the inventory's {split.by!r} "
            "column: they are not planned and not in the totals (give them a site in the inventory)")
    out["caveats"] += [f"site {r.site}: {c}" for r in done for c in _site_caveats(r.summary)]
    out["failed"] = [{"site": r.site, "error": r.error, "user_error": r.user_error} for r in results if not r.ok]
    out["assumptions"] = {**settings.assumptions(), "by": split.by}
    out["sites"] = {r.site: {**r.summary, "wall_s": r.wall_s} if r.ok else {"error": r.error, "wall_s": r.wall_s}
                    for r in results}
    return out


def _without_site(split, summaries: list[dict]) -> int | None:
    """How many servers of traces that every site reads (an inventory split) no site took: each
    site's read counts the servers in the files and its own among them (None: not known)."""
    quality = [s.get("data_quality", {}) for s in summaries]
    if split.source != "inventory" or not quality or any("servers_in_files" not in q for q in quality):
        return None
    return max(q["servers_in_files"] for q in quality) - sum(q["servers_selected"] for q in quality)


def settings_discount(summaries: list[dict]) -> float:
    """The business case's discount rate (the same for every site: one set of inputs)."""
    for s in summaries:
        rate = ((s.get("business_case") or {}).get("inputs") or {}).get("discount_rate")
        if rate is not None:
            return float(rate)
    return 0.0


def _site_caveats(summary: dict) -> list[str]:
    from consolidate.report.plandata import caveats

    return caveats(summary)


def combined_placement(results) -> pd.DataFrame:
    """Every planned site's placement, a ``site`` column first, in site order."""
    frames = [r.placement.assign(site=r.site) for r in results if r.ok]
    if not frames:
        return pd.DataFrame(columns=["site", "server_id", "host_id"])
    frame = pd.concat(frames, ignore_index=True)
    return frame[["site", *[c for c in frame.columns if c != "site"]]]


def write_estate(out_dir: str | Path, summary: dict, results) -> Path:
    """The estate's placement.csv, summary.json and report.html into ``out_dir``, all or nothing
    (the sites' folders are each written, all or nothing, by their own task)."""
    placement = combined_placement(results)
    previous = _previous_sites(Path(out_dir))
    written = write_files(
        out_dir,
        {
            "placement.csv": lambda p: placement.to_csv(p, index=False),
            "summary.json": lambda p: p.write_text(summary_json(summary) + "\n", encoding="utf-8"),
            "report.html": lambda p: p.write_text(render_estate(summary), encoding="utf-8"),
        },
        kind="estate",
        about={"by": summary["estate"]["by"], "sites": list(summary["sites"]), "servers": summary["servers"],
               "hosts_after": summary["hosts_after"]},
    )
    # A site of an earlier run into this folder that this run did not plan (gone, or failed now)
    # would sit beside the new plans as if it were one of them.
    planned = {r.site for r in results if r.ok}
    for site in previous - planned:
        folder = written / SITES_FOLDER / site
        if (folder / MANIFEST_FILE).is_file():
            shutil.rmtree(folder, ignore_errors=True)
    return written


def _previous_sites(out: Path) -> set[str]:
    """The sites an earlier estate written into ``out`` listed (none when there is none)."""
    try:
        about = (read_manifest(out / manifest_name("estate")) or {}).get("about") or {}
    except InputError:
        return set()
    return {str(s) for s in about.get("sites") or [] if isinstance(s, str) and "/" not in s and s not in ("", ".", "..")}


def site_rows(summary: dict) -> list[dict]:
    """One row per site for the report and the terminal: its figures, or why it failed."""
    from consolidate.report.plandata import fmt_money, fmt_pct

    rows = []
    for name, s in summary["sites"].items():
        if "error" in s:
            rows.append({"site": name, "failed": s["error"]})
            continue
        bc = s.get("business_case") or {}
        rows.append({
            "site": name, "failed": None, "servers": f"{s['servers']:,}", "before": f"{s['hosts_before']:,}",
            "after": f"{s['hosts_after']:,}", "bound": f"{s['lower_bound']:,}", "over_target": fmt_pct(s["over_target_pct"]),
            "n_plus_1": "holds" if s["failover"]["n_plus_1_holds"] else f"needs {s['failover'].get('spare_hosts_n_plus_1') or '?'} more",
            "saving": fmt_money(bc["yearly_saving"], bc["currency"]) if bc else "n/a",
            "folder": f"{SITES_FOLDER}/{name}/report.html",
        })
    return rows


def total_row(summary: dict) -> dict:
    from consolidate.report.plandata import fmt_money, fmt_pct

    bc = summary.get("business_case") or {}
    return {
        "site": "estate", "servers": f"{summary['servers']:,}", "before": f"{summary['hosts_before']:,}",
        "after": f"{summary['hosts_after']:,}", "bound": f"{summary['lower_bound']:,}",
        "over_target": fmt_pct(summary["over_target_pct"]),
        "n_plus_1": "holds" if summary["n_plus_1_holds"] else f"needs {summary['spare_hosts_n_plus_1']} more",
        "saving": fmt_money(bc["yearly_saving"], bc["currency"]) if bc else "n/a",
    }


def render_estate(summary: dict) -> str:
    """report.html of an estate: the totals, a row per site (linking to its own report), the caveats."""
    from consolidate.report.html import environment

    return environment().get_template("estate.html.j2").render(
        s=summary, rows=site_rows(summary), total=total_row(summary),
    )


def print_estate(summary: dict, out_dir: Path) -> None:
    """The estate's table in the terminal: a row per site and the total, then the caveats."""
    from consolidate.report.summary import print_rows

    rows = []
    for r in [*site_rows(summary), total_row(summary)]:
        if r.get("failed"):
            rows.append({"site": r["site"], "servers": "", "hosts before": "", "hosts after": "", "lower bound": "",
                         "over target": "", "N+1": "", "saving / yr": f"failed: {r['failed']}"})
            continue
        rows.append({"site": r["site"], "servers": r["servers"], "hosts before": r["before"], "hosts after": r["after"],
                     "lower bound": r["bound"], "over target": r["over_target"], "N+1": r["n_plus_1"],
                     "saving / yr": r["saving"]})
    e = summary["estate"]
    print_rows(rows, title=f"Estate by {e['by']}: {e['sites_planned']} of {e['sites']} sites planned")
    for caveat in summary["caveats"]:
        print(f"caveat: {caveat}")
    print(f"wrote {out_dir}/ (summary.json, placement.csv, report.html, and sites/<site>/ for each site)")
