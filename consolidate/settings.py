"""A plan's settings, made from the option table (:mod:`consolidate.options`) and checked once.

:class:`Settings` has one field per row of the table's settings groups, each holding the
checked, normalised value (``host`` the tuple of host models, ``holdout`` seconds, ``growth`` a
fraction a year, ``horizon`` quarters). :func:`make_settings` is the one way in: it checks every
value, names a bad one by its keyword (the CLI, by its flag) and checks the options against each
other, all before a trace is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import make_dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from consolidate import options as opt
from consolidate.errors import InputError
from consolidate.models.hardware import HostModel


def _label_keyword(o: opt.Option) -> str:
    return f"{o.name}="


def label_flag(o: opt.Option) -> str:
    """How the command line names an option in an error: its flag."""
    return o.cli_flag + " "


class _SettingsBase:
    """Properties of :class:`Settings` derived from its fields."""

    @property
    def models(self) -> tuple[HostModel, ...]:
        """The host models the plan may use, in the order given."""
        return self.host

    @property
    def host_model(self) -> HostModel:
        """The first (for one model: the) target host model."""
        return self.host[0]

    @property
    def is_mix(self) -> bool:
        return len(self.host) > 1

    @property
    def validated(self) -> bool:
        return self.sizing == opt.VALIDATED

    @cached_property
    def rules(self):
        """The placement rules (:class:`~consolidate.solvers.constraints.Constraints`): the file's, with
        ``max_vms_per_host``, ``vcpu_ratio`` and ``n_plus_1`` added."""
        from consolidate.solvers.constraints import Constraints, read_constraints

        rules = self.constraints if self.constraints is not None else Constraints()
        if isinstance(rules, (str, Path)):
            rules = read_constraints(rules)
        return replace(
            rules, max_vms_per_host=self.max_vms_per_host or rules.max_vms_per_host,
            vcpu_ratio=self.vcpu_ratio or rules.vcpu_ratio, n_plus_1=self.n_plus_1 or rules.n_plus_1,
        )

    def assumptions(self) -> dict:
        """Every setting as summary.json reports it: numbers and names (host models by name)."""
        out: dict[str, Any] = {}
        for o in opt.settings_options():
            value = getattr(self, o.name)
            if o.name == "host":
                value = [m.name for m in value]
            elif o.name == "constraints":
                value = None if value is None else str(value) if isinstance(value, (str, Path)) else (value.source or "given")
            elif o.name == "train_until" and value is not None:
                value = value.isoformat()
            out[o.name] = value
        return out


Settings = make_dataclass(
    "Settings",
    [(o.name, o.annotation) for o in opt.settings_options()],
    bases=(_SettingsBase,),
    frozen=True,
)
Settings.__module__ = __name__
Settings.__doc__ = "Every assumption a plan is made under (summary.json's ``assumptions``).\n\nFields, one per option:\n\n" + "\n".join(
    f"- ``{o.name}``{f' ({o.unit})' if o.unit else ''}: {o.help}" for o in opt.settings_options()
)


def host_models(host: HostModel | str | Sequence[HostModel | str] | None) -> tuple[HostModel, ...]:
    """The models ``host`` names: None (the default), a model, a catalogue name, several comma-separated, or a list."""
    from consolidate.models.catalog import get_host

    if host is None:
        host = opt.DEFAULT_HOST
    items = host.split(",") if isinstance(host, str) else [host] if isinstance(host, HostModel) else list(host)
    if any(isinstance(h, str) and not h.strip() for h in items) or not items:
        raise opt.OptionError("has an empty name; separate catalogue names with single commas (see `consolidate catalog`)")
    models = tuple(get_host(h.strip()) if isinstance(h, str) else h for h in items)
    names = [m.name for m in models]
    if len(set(names)) < len(names):
        raise opt.OptionError("names a model twice; name each model once")
    return models


def check_values(rows: tuple[opt.Option, ...], values: dict, label: Callable[[opt.Option], str] = _label_keyword) -> dict:
    """``values`` (a subset of the rows' names) checked and normalised, defaults filled in.

    An unknown name is a ``TypeError`` (a programming mistake); a bad value an :class:`InputError`
    naming the option as ``label`` does.
    """
    known = {o.name: o for o in rows}
    unknown = set(values) - set(known)
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(known)}")
    out = {}
    for name, o in known.items():
        value = values.get(name, o.default)
        try:
            out[name] = host_models(value) if name == "host" else o.validate(value)
        except opt.OptionError as exc:
            raise InputError(f"{label(o)}{_shown(value)} {exc}") from None
    return out


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def make_settings(*, _label: Callable[[opt.Option], str] = _label_keyword, **values) -> Settings:
    """The :class:`Settings` of a plan: ``values`` are option names (``host``, ``cpu_target``,
    ``sizing``, ...: ``consolidate.options``, or ``help(consolidate.Settings)``), the rest defaults.

    Every value is checked, then the options against each other; a bad one is an
    :class:`InputError` that names it, raised before any trace is read.
    """
    settings = Settings(**check_values(opt.settings_options(), values, _label))
    _check_together(settings, _label)
    return settings


def _check_together(s: Settings, label: Callable[[opt.Option], str]) -> None:
    """The checks that involve several options (each alone is valid)."""
    flag = {o.name: label(o).strip().rstrip("=") for o in opt.settings_options()}
    if s.holdout is not None and s.train_until is not None:
        raise InputError(f"give either {flag['holdout']} (e.g. 7d) or {flag['train_until']} (e.g. 2013-07-15), not both")
    if s.constraints is not None and not isinstance(s.constraints, (str, Path)):
        from consolidate.solvers.constraints import Constraints

        if not isinstance(s.constraints, Constraints):
            raise InputError(f"{flag['constraints']} must be a file path or a Constraints")
    rules = s.rules  # a constraints file is read, and checked, before the traces
    if s.is_mix:
        if rules.active:
            raise InputError(
                f"placement rules ({flag['constraints']}, {flag['max_vms_per_host']}, {flag['vcpu_ratio']}, "
                f"{flag['n_plus_1']}) need a single {flag['host']} model; give one model or drop the rules"
            )
        if s.frontier:
            raise InputError(
                f"{flag['frontier']} needs a single {flag['host']} model (the hosts-against-risk table is per model); "
                "drop one or the other"
            )
        if s.objective == "cost":
            import math

            unpriced = [m.name for m in s.host if not math.isfinite(m.price_usd)]
            if unpriced:
                raise InputError(
                    f"{flag['objective']} cost: host model(s) {', '.join(unpriced)} have no price; give priced catalogue models"
                )
