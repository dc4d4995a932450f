"""The `consolidate` command: argument parsing and printing only; the work is in the public API."""

from __future__ import annotations

import argparse
import os
import sys

from consolidate.errors import InputError

EXIT_USER_ERROR = 2


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    return value


def _add_trace_options(p: argparse.ArgumentParser) -> None:
    from consolidate.io import FORMATS

    p.add_argument("traces", metavar="TRACES", help="trace file (CSV, .csv.gz, Parquet) or folder of per-server files")
    p.add_argument("--format", default="auto", help=f"input format: auto (default), {', '.join(f for f in FORMATS if f != 'auto')}")
    p.add_argument("--inventory", metavar="INV.csv", help="source servers: server_id,cores,threads,ghz,ram_gb[,perf,model,power_idle_w,power_max_w]")
    p.add_argument("--columns", metavar="MAP", help="column names of the file, e.g. timestamp=Time,server_id=Host,cpu_pct=CPU")
    p.add_argument("--timezone", metavar="TZ", help="IANA zone of naive local timestamps (default: UTC)")
    p.add_argument("--interval", type=int, metavar="SECONDS", help="grid spacing (default: detected median spacing)")


def _add_model_options(p: argparse.ArgumentParser, mix: bool = False) -> None:
    from consolidate.models.catalog import DEFAULT_HOST
    from consolidate.models.hardware import DEFAULT_SMT_GAIN
    from consolidate.plan import DEFAULT_CPU_TARGET, DEFAULT_HYPERVISOR, DEFAULT_MEM_TARGET, DEFAULT_OBJECTIVE
    from consolidate.solvers.mix import OBJECTIVES

    host = p.add_mutually_exclusive_group()
    if mix:
        host.add_argument("--host", metavar="NAME[,NAME...]",
                          help="target host model(s) from `consolidate catalog`; several, comma-separated, let --objective "
                               f"pick the mix (default: {DEFAULT_HOST})")
        p.add_argument("--objective", default=DEFAULT_OBJECTIVE, choices=OBJECTIVES,
                       help="what picks the mix of several --host models: hosts (fewest, then lowest capital cost), "
                            f"cost (lowest capital cost) or energy (lowest IT energy a year) (default: {DEFAULT_OBJECTIVE})")
    else:
        host.add_argument("--host", metavar="NAME", help=f"target host model from `consolidate catalog` (default: {DEFAULT_HOST})")
    host.add_argument("--host-spec", metavar="SPEC", help='custom host, e.g. "cores=64,threads=128,ghz=2.6,ram_gb=768,idle_w=200,max_w=600"')
    p.add_argument("--hypervisor", default=DEFAULT_HYPERVISOR, choices=["none", "xen", "kvm", "esxi", "hyperv"],
                   help=f"hypervisor overhead profile (default: {DEFAULT_HYPERVISOR})")
    p.add_argument("--smt-gain", type=_fraction, default=DEFAULT_SMT_GAIN, help=f"throughput of an extra hardware thread, share of a core (default: {DEFAULT_SMT_GAIN})")
    p.add_argument("--cpu-target", type=_fraction, default=DEFAULT_CPU_TARGET, help=f"share of host CPU a plan may use (default: {DEFAULT_CPU_TARGET})")
    p.add_argument("--mem-target", type=_fraction, default=DEFAULT_MEM_TARGET, help=f"share of host RAM a plan may use (default: {DEFAULT_MEM_TARGET})")


def build_parser() -> argparse.ArgumentParser:
    from consolidate.models import constants
    from consolidate.models.sizing import DEFAULT_MEM_MARGIN
    from consolidate.plan import DEFAULT_SIZING, DEFAULT_TIME_LIMIT_S

    parser = argparse.ArgumentParser(prog="consolidate", description="Server-consolidation capacity planner.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("plan", help="right-size, pack and replay an estate; write the plan", description="Plan the consolidation of TRACES onto virtualisation hosts.")
    _add_trace_options(p)
    _add_model_options(p, mix=True)
    p.add_argument("--sizing", default=DEFAULT_SIZING,
                   help=f"CPU sizing: validated (the host count that holds on held-out days within --risk, load spread), "
                        f"timeseries, peak or pNN such as p95 (default: {DEFAULT_SIZING})")
    p.add_argument("--mem-sizing", default="allocated", help="memory sizing: allocated, used-peak or used-pNN (default: allocated)")
    p.add_argument("--mem-margin", type=_fraction, default=DEFAULT_MEM_MARGIN, help=f"head-room on observed memory use (default: {DEFAULT_MEM_MARGIN})")
    p.add_argument("--retire-idle", action="store_true", help="leave idle servers (retire candidates) out of the plan")
    p.add_argument("--pue", type=_fraction, default=constants.DEFAULT_PUE, help=f"power usage effectiveness (default: {constants.DEFAULT_PUE}, Uptime Institute 2024)")
    p.add_argument("--price", type=_fraction, default=constants.DEFAULT_PRICE_PER_KWH, help=f"electricity price per kWh (default: {constants.DEFAULT_PRICE_PER_KWH})")
    p.add_argument("--carbon", type=_fraction, default=constants.DEFAULT_CARBON_G_PER_KWH, help=f"grid carbon intensity, g CO2/kWh (default: {constants.DEFAULT_CARBON_G_PER_KWH})")
    p.add_argument("--time-limit", type=_fraction, default=DEFAULT_TIME_LIMIT_S, help=f"wall-clock cap on the solver, seconds (default: {DEFAULT_TIME_LIMIT_S:g})")
    p.add_argument("--seed", type=int, default=0, help="seed of the solver's search (default: 0)")
    p.add_argument("--out", default="plan-out", help="output folder (default: ./plan-out)")
    _add_constraint_options(p)
    _add_risk_options(p)
    _add_business_options(p, "")
    _add_output_options(p)
    p.set_defaults(run=_cmd_plan)

    p = sub.add_parser("inspect", help="data-quality report of a trace file or folder")
    _add_trace_options(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=_cmd_inspect)

    p = sub.add_parser("sample", help="write a synthetic sprawl estate (traces.csv, inventory.csv)")
    p.add_argument("--servers", type=int, default=100, help="number of servers (default: 100)")
    p.add_argument("--days", type=float, default=14, help="days of 5-minute samples (default: 14)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--out", default="sample", help="output folder (default: ./sample)")
    p.set_defaults(run=_cmd_sample)

    p = sub.add_parser("simulate", help="replay a placement on traces")
    _add_trace_options(p)
    p.add_argument("--placement", required=True, metavar="FILE", help="placement.csv with server_id,host_id")
    _add_model_options(p)
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(run=_cmd_simulate)

    p = sub.add_parser("report", help="draw report.html of one plan folder, or compare several",
                       description="Draw report.html from plan folders (written by `consolidate plan`); several folders are compared side by side.")
    p.add_argument("plan_dirs", nargs="+", metavar="PLAN_DIR", help="folder written by `consolidate plan --out`")
    p.add_argument("--out", metavar="FILE", help="where to write the report (default: PLAN_DIR/report.html for one folder, ./report.html for several)")
    _add_business_options(p, " (default: as the plan was made)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=_cmd_report)

    from consolidate.report.export import DEFAULT_WAVE_SIZE, FORMATS

    p = sub.add_parser("export", help="export a plan for operations: xlsx, xen, libvirt or json",
                       description="Export a plan folder: an Excel workbook, Xen xl guest configs or libvirt domain XML with a migration run-book, or JSON.")
    p.add_argument("plan_dir", metavar="PLAN_DIR", help="folder written by `consolidate plan --out`")
    p.add_argument("--format", required=True, choices=FORMATS, help="xlsx (workbook), xen (xl configs + RUNBOOK.md), libvirt (domain XML + RUNBOOK.md), json")
    p.add_argument("--out", metavar="DIR", help="output folder (default: PLAN_DIR/export-FORMAT)")
    p.add_argument("--wave-size", type=int, default=DEFAULT_WAVE_SIZE, help=f"servers per migration wave in the run-book (default: {DEFAULT_WAVE_SIZE})")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=_cmd_export)

    p = sub.add_parser("catalog", help="list the host models")
    p.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    p.set_defaults(run=_cmd_catalog)
    return parser


def _risk(text: str) -> float:
    try:
        return float(text.strip().rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage such as 0.5") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _add_constraint_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "placement rules",
        "With any of these the plan is the constrained time-series plan (the validated sizing's count search is skipped).",
    )
    g.add_argument("--constraints", metavar="FILE",
                   help="YAML or CSV rules: anti-affinity groups (different hosts), affinity groups (one host) and pins "
                        "(server -> host-001, host-002, ...). YAML keys anti_affinity: [[a, b], {name: db, servers: [c, d]}], "
                        "affinity: [...], pin: {server: host-001}; CSV columns rule,group,server_id,host_id with rule "
                        "anti-affinity, affinity or pin (README, Constraints)")
    g.add_argument("--max-vms-per-host", type=_positive_int, metavar="N", help="at most N VMs on a host")
    g.add_argument("--vcpu-ratio", type=_fraction, metavar="R",
                   help="vCPU:pCPU cap: the source servers' threads on a host (as vCPUs) at most R x its physical cores")
    g.add_argument("--n-plus-1", action="store_true",
                   help="keep enough spare capacity that the VMs of any one failed host fit on the others (checked by the failover replay)")


def _add_risk_options(p: argparse.ArgumentParser) -> None:
    from consolidate.growth import DEFAULT_HORIZON
    from consolidate.validation import DEFAULT_RISK_PCT

    g = p.add_argument_group("risk and validation")
    g.add_argument("--risk", type=_risk, default=DEFAULT_RISK_PCT, metavar="PCT",
                   help=f"validated sizing: most share of host-intervals over the CPU target, in sample and on held-out days, %% (default: {DEFAULT_RISK_PCT:g})")
    split = g.add_mutually_exclusive_group()
    split.add_argument("--holdout", metavar="DURATION", help="plan on all but the last DURATION (e.g. 7d, 36h, 2w) and replay that too")
    split.add_argument("--train-until", metavar="DATE", help="plan on the traces before DATE (UTC, e.g. 2013-07-15) and replay the rest too")
    g.add_argument("--frontier", action="store_true", help="add the hosts-against-risk table (in-sample and validated overload per host count)")
    g.add_argument("--growth", metavar="RATE", help="growth what-if, e.g. 20%%/yr: hosts needed per quarter and probability of overload")
    g.add_argument("--horizon", default=DEFAULT_HORIZON, metavar="SPAN", help=f"span of the growth what-if, e.g. 3y, 6q, 18mo (default: {DEFAULT_HORIZON})")


def _add_business_options(p: argparse.ArgumentParser, unset: str) -> None:
    """The business case's inputs; ``unset`` says what an option left out means (plan: the default)."""
    from consolidate.models import constants as c
    from consolidate.report.business import LICENCES

    def default(text: str) -> str:
        return unset or f" (default: {text})"

    g = p.add_argument_group("business case (money in USD, like the catalogue's prices)")
    g.add_argument("--licence", choices=LICENCES, help="per-core licence counted on every physical machine, before and after" + default("none"))
    g.add_argument("--licence-price", type=_fraction, metavar="USD",
                   help=f"licence price: per core per year for vsphere ({c.VSPHERE_USD_PER_CORE_YEAR.value:g}), per 16-core pack for windows ({c.WINDOWS_DC_USD_PER_16_CORES.value:g})" + default("those"))
    g.add_argument("--licence-years", type=_fraction, metavar="YEARS", help="years a perpetual (windows) licence is spread over" + default(f"{c.LICENCE_YEARS.value:g}"))
    g.add_argument("--maintenance-pct", type=_fraction, metavar="PCT", help="hardware support a year, %% of the hardware price" + default(f"{c.MAINTENANCE_PCT.value:g}"))
    g.add_argument("--rack-u-cost", type=_fraction, metavar="USD", help="rack space per rack unit a year" + default(f"{c.RACK_USD_PER_U_YEAR.value:g}"))
    g.add_argument("--discount-rate", type=_fraction, metavar="FRACTION", help="yearly discount rate of the NPV" + default(f"{c.DISCOUNT_RATE.value:g}"))
    g.add_argument("--host-price", type=_fraction, metavar="USD", help="price of one target host" + default("the catalogue's"))


def _business_overrides(args) -> dict:
    return {
        "licence": args.licence, "licence_price_usd": args.licence_price, "licence_years": args.licence_years,
        "maintenance_pct": args.maintenance_pct, "rack_usd_per_u_year": args.rack_u_cost,
        "discount_rate": args.discount_rate, "host_price_usd": args.host_price,
    }


def _add_output_options(p: argparse.ArgumentParser) -> None:
    out = p.add_mutually_exclusive_group()
    out.add_argument("--quiet", action="store_true", help="print nothing but errors")
    out.add_argument("--json", action="store_true", help="print summary.json to stdout")


def _read(args):
    from consolidate.io import parse_columns, read_traces

    return read_traces(
        args.traces,
        format=args.format,
        inventory=args.inventory,
        columns=parse_columns(args.columns) if args.columns else None,
        timezone=args.timezone,
        interval_s=args.interval,
    )


def _host(args):
    """The host model of --host-spec or --host (a list of models for several comma-separated names)."""
    from consolidate.models.catalog import DEFAULT_HOST, get_host
    from consolidate.models.hardware import parse_host_spec

    if args.host_spec:
        return parse_host_spec(args.host_spec)
    names = [n.strip() for n in (args.host or DEFAULT_HOST).split(",")]
    if "" in names:
        raise InputError(f"--host {args.host!r} has an empty name; separate catalogue names with single commas")
    models = [get_host(n) for n in names]
    return models if len(models) > 1 else models[0]


def _cmd_plan(args) -> None:
    from pathlib import Path

    from consolidate.plan import check_plan_options, make_settings, plan
    from consolidate.report.business import BusinessInputs
    from consolidate.report.outputs import summary_json, write_plan_data
    from consolidate.report.plandata import from_plan
    from consolidate.report.summary import print_summary, progress_step

    # Every option is checked before the traces are read (a large read takes a while).
    settings = make_settings(
        host=_host(args), hypervisor_name=args.hypervisor, smt_gain=args.smt_gain, cpu_target=args.cpu_target,
        mem_target=args.mem_target, sizing=args.sizing, mem_sizing=args.mem_sizing, mem_margin=args.mem_margin,
        retire_idle=args.retire_idle, pue=args.pue, price_per_kwh=args.price, carbon_g_per_kwh=args.carbon,
        time_limit_s=args.time_limit, seed=args.seed, risk_pct=args.risk, constraints=args.constraints,
        max_vms_per_host=args.max_vms_per_host, vcpu_ratio=args.vcpu_ratio, n_plus_1=args.n_plus_1,
        objective=args.objective,
    )
    check_plan_options(settings, frontier=args.frontier, growth=args.growth, horizon=args.horizon)
    business = BusinessInputs.from_dict(None, **_business_overrides(args))
    show = _show_progress(args)
    with progress_step("reading traces", show):
        traces = _read(args)
    with progress_step(f"sizing, packing and replaying (solver capped at {args.time_limit:g} s)", show):
        result = plan(
            traces, settings=settings, holdout=args.holdout, train_until=args.train_until, frontier=args.frontier,
            growth=args.growth, horizon=args.horizon,
        )
    with progress_step("writing the plan and report.html", show):
        data = from_plan(result, business, name=Path(args.out).resolve().name)
        out = write_plan_data(data, args.out)
    for server_id in result.summary["unplaceable"]:
        models = " or ".join(m.name for m in result.settings.models)
        print(f"consolidate: unplaceable: {server_id} fits no {models} host", file=sys.stderr)
    if args.json:
        print(summary_json(data.summary))
    elif not args.quiet:
        print_summary(data.summary, out)


def _show_progress(args) -> bool:
    """Progress bars go to stderr, and only when it is a terminal (never under --quiet)."""
    return sys.stderr.isatty() and not getattr(args, "quiet", False)


def _cmd_report(args) -> None:
    from dataclasses import replace
    from pathlib import Path

    from consolidate.report.outputs import write_report
    from consolidate.report.plandata import read_plan_dir
    from consolidate.report.summary import progress_step

    show = _show_progress(args)
    with progress_step("reading plan folders", show):
        scenarios = [read_plan_dir(d, _business_overrides(args)) for d in args.plan_dirs]
    names = [d.name for d in scenarios]
    if len(set(names)) < len(names):  # folders of the same name in different places: tell them apart by path
        scenarios = [replace(d, name=str(path)) for d, path in zip(scenarios, args.plan_dirs)]
    target = Path(args.out) if args.out else (Path(args.plan_dirs[0]) / "report.html" if len(scenarios) == 1 else Path("report.html"))
    with progress_step("drawing report.html", show):
        written = write_report(scenarios, target)
    if not args.quiet:
        print(f"wrote {written}")


def _cmd_export(args) -> None:
    from pathlib import Path

    from consolidate.report.export import export_plan

    out = Path(args.out) if args.out else Path(args.plan_dir) / f"export-{args.format}"
    files = export_plan(args.plan_dir, args.format, out, wave_size=args.wave_size)
    if not args.quiet:
        print(f"wrote {len(files)} file(s) into {out}")


def _cmd_inspect(args) -> None:
    from consolidate.io import inspect_traces
    from consolidate.report.outputs import summary_json
    from consolidate.report.summary import print_inspect

    report = inspect_traces(_read(args))
    if args.json:
        print(summary_json(report))
    else:
        print_inspect(report)


def _cmd_sample(args) -> None:
    from consolidate.samples import write_sample

    traces_path, inventory_path = write_sample(args.out, servers=args.servers, days=args.days, seed=args.seed)
    print(f"wrote {traces_path} and {inventory_path}")


def _cmd_simulate(args) -> None:
    from consolidate.plan import simulate_placement
    from consolidate.report.outputs import summary_json
    from consolidate.report.summary import print_simulation

    figures = simulate_placement(
        _read(args), args.placement, host=_host(args), hypervisor_name=args.hypervisor,
        smt_gain=args.smt_gain, cpu_target=args.cpu_target, mem_target=args.mem_target,
    )
    if args.json:
        print(summary_json(figures))
    else:
        print_simulation(figures)


def _cmd_catalog(args) -> None:
    from consolidate.models.catalog import catalog_frame
    from consolidate.report.summary import print_frame

    frame = catalog_frame()
    if args.json:
        print(frame.to_json(orient="records", indent=2))
    else:
        print_frame(frame, title="Host catalogue")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except InputError as exc:
        print(f"consolidate: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("consolidate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) left: stop quietly; point stdout at devnull so the final flush cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
