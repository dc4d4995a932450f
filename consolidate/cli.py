"""The `consolidate` command: argument parsing and printing only; the work is in the public API."""

from __future__ import annotations

import argparse
import json
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


def _add_model_options(p: argparse.ArgumentParser) -> None:
    from consolidate.models.catalog import DEFAULT_HOST
    from consolidate.models.hardware import DEFAULT_SMT_GAIN
    from consolidate.plan import DEFAULT_CPU_TARGET, DEFAULT_HYPERVISOR, DEFAULT_MEM_TARGET

    host = p.add_mutually_exclusive_group()
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
    _add_model_options(p)
    p.add_argument("--sizing", default=DEFAULT_SIZING, help=f"CPU sizing: timeseries, peak or pNN such as p95 (default: {DEFAULT_SIZING})")
    p.add_argument("--mem-sizing", default="allocated", help="memory sizing: allocated, used-peak or used-pNN (default: allocated)")
    p.add_argument("--mem-margin", type=_fraction, default=DEFAULT_MEM_MARGIN, help=f"head-room on observed memory use (default: {DEFAULT_MEM_MARGIN})")
    p.add_argument("--retire-idle", action="store_true", help="leave idle servers (retire candidates) out of the plan")
    p.add_argument("--pue", type=_fraction, default=constants.DEFAULT_PUE, help=f"power usage effectiveness (default: {constants.DEFAULT_PUE}, Uptime Institute 2024)")
    p.add_argument("--price", type=_fraction, default=constants.DEFAULT_PRICE_PER_KWH, help=f"electricity price per kWh (default: {constants.DEFAULT_PRICE_PER_KWH})")
    p.add_argument("--carbon", type=_fraction, default=constants.DEFAULT_CARBON_G_PER_KWH, help=f"grid carbon intensity, g CO2/kWh (default: {constants.DEFAULT_CARBON_G_PER_KWH})")
    p.add_argument("--time-limit", type=_fraction, default=DEFAULT_TIME_LIMIT_S, help=f"wall-clock cap on the solver, seconds (default: {DEFAULT_TIME_LIMIT_S:g})")
    p.add_argument("--seed", type=int, default=0, help="seed of the solver's search (default: 0)")
    p.add_argument("--out", default="plan-out", help="output folder (default: ./plan-out)")
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

    p = sub.add_parser("catalog", help="list the host models")
    p.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    p.set_defaults(run=_cmd_catalog)
    return parser


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
    from consolidate.models.catalog import DEFAULT_HOST, get_host
    from consolidate.models.hardware import parse_host_spec

    if args.host_spec:
        return parse_host_spec(args.host_spec)
    return get_host(args.host or DEFAULT_HOST)


def _cmd_plan(args) -> None:
    from consolidate.plan import plan
    from consolidate.report.outputs import summary_json, write_plan
    from consolidate.report.summary import print_summary

    host = _host(args)
    traces = _read(args)
    result = plan(
        traces, host=host, hypervisor_name=args.hypervisor, smt_gain=args.smt_gain, cpu_target=args.cpu_target,
        mem_target=args.mem_target, sizing=args.sizing, mem_sizing=args.mem_sizing, mem_margin=args.mem_margin,
        retire_idle=args.retire_idle, pue=args.pue, price_per_kwh=args.price, carbon_g_per_kwh=args.carbon,
        time_limit_s=args.time_limit, seed=args.seed,
    )
    out = write_plan(result, args.out)
    for server_id in result.summary["unplaceable"]:
        print(f"consolidate: unplaceable: {server_id} fits no {result.settings.host.name} host", file=sys.stderr)
    if args.json:
        print(summary_json(result.summary))
    elif not args.quiet:
        print_summary(result.summary, out)


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
