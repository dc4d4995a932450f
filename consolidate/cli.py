"""The `consolidate` command: argument parsing and printing only; the work is in the public API.

Every flag is made from a row of the option table (:mod:`consolidate.options`), and every
value is checked by the same code a Python caller goes through (:func:`consolidate.make_settings`),
which names the flag in its one-line error. Nothing heavy is imported before a command runs, so
``consolidate --help`` answers at once.
"""

from __future__ import annotations

import argparse
import os
import sys

from consolidate import options as opt
from consolidate.errors import EXIT_INTERRUPTED, InputError

EXIT_USER_ERROR = 2
#: A site of an estate failed by a fault of the tool (not of its input): the other sites were planned.
EXIT_FAILED = 1

#: A custom host on the command line (a Python caller passes a HostModel as ``host``).
HOST_SPEC = opt.Option("host_spec", None, 'custom host, e.g. "cores=64,threads=128,ghz=2.6,ram_gb=768,idle_w=200,max_w=600"',
                       metavar="SPEC")
OUT_PLAN = opt.Option("out", "plan-out", "output folder", metavar="DIR")
#: Plans of different estates are not alternatives of one decision: `report` compares them only when told to.
REPORT_FORCE = opt.Option("force", False, "compare plans of different estates (other servers or trace windows) anyway; "
                                          "the report says so", bool)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as the tool's one line (not a usage dump) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"consolidate: error: {message} (see `{self.prog} --help`)\n")


def _text_type(o: opt.Option):
    def parse(text: str):
        try:
            return o.from_text(text)
        except opt.OptionError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} {exc}") from None
    parse.__name__ = o.kind.__name__  # argparse names the type in its message
    return parse


def add_option(parser, o: opt.Option, default_text: str | None = None) -> None:
    """The flag of option ``o``; it stays None (or False) unless given, so that the defaults are the table's."""
    help_text = o.help_text(default_text)
    if o.kind is bool:
        parser.add_argument(o.cli_flag, dest=o.name, action="store_true", help=help_text)
        return
    parser.add_argument(
        o.cli_flag, dest=o.name, default=None, type=_text_type(o), choices=o.choices or None,
        metavar=o.cli_metavar, help=help_text,
    )


def _add_rows(parser, rows, skip: tuple[str, ...] = (), default_text: str | None = None) -> None:
    for o in rows:
        if o.name not in skip:
            add_option(parser, o, default_text)


def _given(args, rows, skip: tuple[str, ...] = ()) -> dict:
    """The options of ``rows`` the command line gave."""
    values = {o.name: getattr(args, o.name) for o in rows if o.name not in skip}
    # A switch left off and a flag not given both mean "the table's default" (0 is a value).
    return {k: v for k, v in values.items() if v is not None and v is not False}


def _add_trace_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("traces", metavar="TRACES", help="trace file (CSV, .csv.gz, Parquet), folder of per-server or long part files, or an fsspec URL")
    _add_rows(p, opt.READ)


def _add_model_options(p: argparse.ArgumentParser) -> None:
    host = p.add_mutually_exclusive_group()
    add_option(host, opt.MODEL[0], f"default: {opt.DEFAULT_HOST}")
    add_option(host, HOST_SPEC)
    _add_rows(p, opt.MODEL, skip=("host",))


def _add_output_options(p: argparse.ArgumentParser, json_help: str) -> None:
    out = p.add_mutually_exclusive_group()
    quiet, as_json = opt.OUTPUT
    add_option(out, quiet)
    out.add_argument(as_json.cli_flag, dest=as_json.name, action="store_true", help=json_help)


def _add_business_options(p: argparse.ArgumentParser, default_text: str | None) -> None:
    g = p.add_argument_group("business case (money in USD, like the catalogue's prices)")
    _add_rows(g, opt.BUSINESS, default_text=default_text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="consolidate", description="Server-consolidation capacity planner.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("plan", help="right-size, pack and replay an estate; write the plan",
                       description="Plan the consolidation of TRACES onto virtualisation hosts.")
    _add_trace_options(p)
    _add_model_options(p)
    _add_rows(p, opt.PLAN)
    add_option(p, OUT_PLAN)
    g = p.add_argument_group(
        "estates of several sites",
        "With --by each site is planned on its own and written to OUT/sites/SITE/; OUT holds the estate's totals.",
    )
    _add_rows(g, opt.ESTATE)
    g = p.add_argument_group(
        "placement rules",
        "With any of these the plan is the constrained time-series plan (the validated sizing's count search is skipped).",
    )
    _add_rows(g, opt.RULES)
    g = p.add_argument_group("risk and validation")
    split = g.add_mutually_exclusive_group()
    rows = opt.by_name(opt.RISK)
    for name in ("holdout", "train_until"):
        add_option(split, rows[name])
    _add_rows(g, opt.RISK, skip=("holdout", "train_until"))
    _add_business_options(p, None)
    _add_output_options(p, "print summary.json to stdout")
    p.set_defaults(run=_cmd_plan)

    p = sub.add_parser("inspect", help="data-quality report of a trace file or folder")
    _add_trace_options(p)
    add_option(p, opt.OUTPUT[1], "")
    p.set_defaults(run=_cmd_inspect)

    p = sub.add_parser("sample", help="write a synthetic sprawl estate (traces.csv, inventory.csv)")
    _add_rows(p, opt.SAMPLE)
    add_option(p, opt.Option("out", "sample", "output folder", metavar="DIR"))
    p.set_defaults(run=_cmd_sample)

    p = sub.add_parser("simulate", help="replay a placement on traces")
    _add_trace_options(p)
    p.add_argument("--placement", required=True, metavar="FILE", help="placement.csv with server_id,host_id[,host_model]")
    _add_model_options(p)
    add_option(p, opt.OUTPUT[1], "")
    p.set_defaults(run=_cmd_simulate)

    p = sub.add_parser("report", help="draw report.html of one plan folder, or compare several",
                       description="Draw report.html from plan folders (written by `consolidate plan`); "
                                   "several folders are compared side by side.")
    p.add_argument("plan_dirs", nargs="+", metavar="PLAN_DIR", help="folder written by `consolidate plan --out`")
    add_option(p, opt.Option("out", None, "where to write the report (default: PLAN_DIR/report.html for one "
                                          "folder, ./report.html for several)", metavar="FILE"))
    add_option(p, REPORT_FORCE)
    _add_business_options(p, "default: as the plan was made")
    add_option(p, opt.OUTPUT[0])
    p.set_defaults(run=_cmd_report)

    p = sub.add_parser("export", help="export a plan for operations: xlsx, xen, libvirt or json",
                       description="Export a plan folder: an Excel workbook, Xen xl guest configs or libvirt domain "
                                   "XML with a migration run-book, or JSON.")
    p.add_argument("plan_dir", metavar="PLAN_DIR", help="folder written by `consolidate plan --out`")
    fmt, wave = opt.EXPORT
    p.add_argument(fmt.cli_flag, dest=fmt.name, required=True, choices=fmt.choices, help=fmt.help)
    add_option(p, opt.Option("out", None, "output folder (default: PLAN_DIR/export-FORMAT)", metavar="DIR"))
    add_option(p, wave)
    add_option(p, opt.OUTPUT[0])
    p.set_defaults(run=_cmd_export)

    p = sub.add_parser("catalog", help="list the host models")
    add_option(p, opt.OUTPUT[1], "")
    p.set_defaults(run=_cmd_catalog)
    return parser


def _checked(rows, args, skip: tuple[str, ...] = ()) -> dict:
    """The given options of ``rows``, checked, each error naming its flag; defaults filled in."""
    from consolidate.settings import check_values, label_flag

    return check_values(tuple(o for o in rows if o.name not in skip), _given(args, rows, skip), label_flag)


def _read(args):
    from consolidate.io import parse_columns, read_traces

    read = _checked(opt.READ, args)
    columns = read.pop("columns")
    return read_traces(args.traces, columns=parse_columns(columns) if columns else None, **read)


def _settings(args, rows):
    """The plan's settings from the command line (every value checked, before the traces are read)."""
    from consolidate.models.hardware import parse_host_spec
    from consolidate.settings import label_flag, make_settings

    given = _given(args, rows)
    if args.host_spec:
        given["host"] = parse_host_spec(args.host_spec)
    return make_settings(_label=label_flag, **given)


def _business(args):
    from consolidate.report.business import BusinessInputs

    given = _given(args, opt.BUSINESS)
    _checked(opt.BUSINESS, args)
    return BusinessInputs.from_dict(None, **given)


def _cmd_plan(args) -> int:
    from pathlib import Path

    estate = _checked(opt.ESTATE, args)
    if estate["cluster"] and not estate["by"]:
        raise InputError("--cluster plans the sites of an estate: give --by COLUMN too (e.g. --by site)")
    if estate["by"]:
        return _plan_estate(args, estate)

    from consolidate.planner import plan
    from consolidate.report.outputs import summary_json, write_plan_data
    from consolidate.report.plandata import from_plan
    from consolidate.report.summary import print_summary, progress_step

    settings = _settings(args, opt.settings_options())
    business = _business(args)
    show = _show_progress(args)
    with progress_step("reading traces", show):
        traces = _read(args)
    with progress_step(f"sizing, packing and replaying (search capped at {settings.time_limit_s:g} s)", show):
        result = plan(traces, settings)
    out = Path(args.out or OUT_PLAN.default)
    with progress_step("writing the plan and report.html", show):
        data = from_plan(result, business, name=out.resolve().name)
        written = write_plan_data(data, out)
    for server_id in result.summary["unplaceable"]:
        models = " or ".join(m.name for m in settings.models)
        print(f"consolidate: unplaceable: {server_id} fits no {models} host", file=sys.stderr)
    if args.json:
        print(summary_json(data.summary))
    elif not args.quiet:
        print_summary(data.summary, written)
    return 0


def _plan_estate(args, estate: dict) -> int:
    """``plan --by``: each site planned on its own; the exit status is 0 when every site was planned."""
    from pathlib import Path

    from consolidate.report.estate import print_estate
    from consolidate.report.outputs import summary_json
    from consolidate.sites import plan_estate

    settings = _settings(args, opt.settings_options())
    business = _business(args)
    read = _checked(opt.READ, args)
    inventory, columns = read.pop("inventory"), read.pop("columns")
    if columns:
        from consolidate.io import parse_columns

        read["columns"] = parse_columns(columns)
    out = Path(args.out or OUT_PLAN.default)

    def progress(site: str, result) -> None:
        if result is None:
            line = f"site {site}: running"
        elif result.ok:
            line = f"site {site}: done, {result.summary['hosts_after']} hosts ({result.wall_s:.1f} s)"
        else:
            line = f"site {site}: failed: {result.error}"
        if not args.quiet or (result is not None and not result.ok):
            print(f"consolidate: {line}", file=sys.stderr)

    planned = plan_estate(args.traces, estate["by"], settings=settings, business=business, out_dir=out,
                          inventory=inventory, read=read, cluster=estate["cluster"], on_event=progress)
    if args.json:
        print(summary_json(planned.summary))
    elif not args.quiet:
        print_estate(planned.summary, out)
    if not planned.failed:
        return 0
    names = ", ".join(r.site for r in planned.failed)
    print(f"consolidate: error: {len(planned.failed)} of {len(planned.results)} sites failed ({names}); the others' "
          f"plans are in {out}", file=sys.stderr)
    return EXIT_USER_ERROR if all(r.user_error for r in planned.failed) else EXIT_FAILED


def _show_progress(args) -> bool:
    """Progress bars go to stderr, and only when it is a terminal (never under --quiet)."""
    return sys.stderr.isatty() and not getattr(args, "quiet", False)


def _cmd_report(args) -> None:
    from dataclasses import replace
    from pathlib import Path

    from consolidate.report.outputs import write_report
    from consolidate.report.plandata import check_same_estate, read_plan_dir
    from consolidate.report.summary import progress_step

    _checked(opt.BUSINESS, args)
    overrides = _given(args, opt.BUSINESS)
    show = _show_progress(args)
    with progress_step("reading plan folders", show):
        scenarios = [read_plan_dir(d, overrides) for d in args.plan_dirs]
    check_same_estate(scenarios, args.force)
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

    wave_size = _checked(opt.EXPORT, args, skip=("format",))["wave_size"]
    out = Path(args.out) if args.out else Path(args.plan_dir) / f"export-{args.format}"
    files = export_plan(args.plan_dir, args.format, out, wave_size=wave_size)
    if not args.quiet:
        print(f"wrote {len(files)} file(s) into {out}")


def _cmd_inspect(args) -> None:
    from consolidate.io import inspect_traces
    from consolidate.report.outputs import summary_json
    from consolidate.report.summary import print_inspect

    report = _inventory_report(args) or inspect_traces(_read(args))
    if args.json:
        print(summary_json(report))
    else:
        print_inspect(report)


def _inventory_report(args) -> dict | None:
    """``inspect``'s report of an inventory export given as the traces (None for traces)."""
    from consolidate.io.detect import existing
    from consolidate.io.inventory import EXPORT_FORMATS, inventory_format, inventory_report, read_inventory_export

    from consolidate.io import not_for_inventory

    fmt = args.format or "auto"
    if fmt not in EXPORT_FORMATS and not (fmt == "auto" and inventory_format(existing(args.traces))):
        return None
    if set(_given(args, opt.READ)) - {"format", "powered_off"}:
        raise InputError(not_for_inventory(args.traces))
    return inventory_report(read_inventory_export(args.traces), powered_off=args.powered_off)


def _cmd_sample(args) -> None:
    from consolidate.samples import write_sample

    values = _checked(opt.SAMPLE, args)
    traces_path, inventory_path = write_sample(args.out or "sample", **values)
    print(f"wrote {traces_path} and {inventory_path}")


def _cmd_simulate(args) -> None:
    from consolidate.report.outputs import summary_json
    from consolidate.report.summary import print_simulation
    from consolidate.simulate import simulate_placement

    settings = _settings(args, opt.MODEL)  # checked before the traces are read
    model = {o.name: getattr(settings, o.name) for o in opt.MODEL}
    figures = simulate_placement(_read(args), args.placement, **model)
    if args.json:
        print(summary_json(figures))
    else:
        print_simulation(figures)


def _cmd_catalog(args) -> None:
    import json
    import math

    from consolidate.models.catalog import catalog_rows
    from consolidate.report.summary import print_rows

    rows = catalog_rows()
    if args.json:
        print(json.dumps([{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in rows],
                         indent=2))
    else:
        print_rows(rows, title="Host catalogue")


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        code = args.run(args)
    except InputError as exc:
        print(f"consolidate: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("consolidate: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (e.g. `| head`) left: stop quietly; point stdout at devnull so the final flush cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2, already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
