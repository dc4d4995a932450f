"""The report's view of a plan, as methods of :class:`~consolidate.planner.Plan`: summary.json's
full content, the business case, the charts as matplotlib figures and the HTML Jupyter shows.

Each method draws on :mod:`consolidate.report` when called, so that importing a plan loads
neither matplotlib nor the templates.
"""

from __future__ import annotations

from functools import cached_property

#: Plan methods that return a chart, by the name of their function in consolidate.report.plots.
CHARTS = ("utilisation_chart", "heatmap_chart", "peaks_chart", "energy_cost_chart", "cashflow_chart", "frontier_chart",
          "sensitivity_chart", "growth_chart")


class PlanViews:
    """Report methods of a plan (mixed into :class:`~consolidate.planner.Plan`)."""

    @cached_property
    def report_facts(self) -> dict:
        """The report's figures that follow from the plan alone (utilisation histograms, estate facts), computed once."""
        from consolidate.report.plandata import report_facts

        return report_facts(self)

    @cached_property
    def sensitivity_replans(self) -> dict:
        """summary.json's ``sensitivity_replans``: the plan made again at either end of the CPU target's
        (and the growth rate's) range, computed once (see :func:`consolidate.report.sensitivity.replans`)."""
        from consolidate.report.sensitivity import replans

        return replans(self)

    def report_data(self, business=None, name: str | None = None):
        """The plan as report.html sees it: a :class:`consolidate.report.plandata.PlanData` with the
        business case for ``business`` (a :class:`~consolidate.report.business.BusinessInputs`, None = defaults)."""
        from consolidate.report.plandata import from_plan

        return from_plan(self, business, name)

    def report_summary(self, business=None) -> dict:
        """summary.json's content: :attr:`summary`, utilisation histograms, the estate's facts, the business case."""
        return self.report_data(business).summary

    def business_case(self, **inputs) -> dict:
        """The business case (capital cost, yearly costs, payback, TCO, NPV) for ``inputs``, fields of
        :class:`~consolidate.report.business.BusinessInputs` such as ``licence="windows"``, ``discount_rate=0.1``."""
        from consolidate.report.business import BusinessInputs

        return self.report_data(BusinessInputs(**inputs)).business

    def chart(self, name: str, **inputs):
        """The chart ``name`` (one of :data:`CHARTS`) as a matplotlib Figure, for business-case
        ``inputs``; None where the plan has nothing to draw (no host price, no frontier)."""
        from consolidate.report import plots
        from consolidate.report.business import BusinessInputs

        if name not in CHARTS:
            raise ValueError(f"unknown chart {name!r}; use one of {', '.join(CHARTS)}")
        return getattr(plots, name)(self.report_data(BusinessInputs(**inputs)))

    def utilisation_chart(self):
        """CPU utilisation before and after (matplotlib Figure)."""
        return self.chart("utilisation_chart")

    def heatmap_chart(self):
        """Replayed host CPU load, hosts x time (matplotlib Figure)."""
        return self.chart("heatmap_chart")

    def peaks_chart(self):
        """Planned against replayed peak per host (matplotlib Figure)."""
        return self.chart("peaks_chart")

    def energy_cost_chart(self, **inputs):
        """Energy and yearly running cost before and after, for business-case ``inputs`` (matplotlib Figure)."""
        return self.chart("energy_cost_chart", **inputs)

    def cashflow_chart(self, **inputs):
        """Cumulative net cash flow over five years, for business-case ``inputs`` (Figure, None without a host price)."""
        return self.chart("cashflow_chart", **inputs)

    def frontier_chart(self):
        """Hosts against risk (Figure), None when the summary has no frontier."""
        return self.chart("frontier_chart")

    def sensitivity_chart(self, **inputs):
        """Tornado chart of the yearly saving and the 5-year NPV against each input moved over its range,
        for business-case ``inputs`` (matplotlib Figure)."""
        return self.chart("sensitivity_chart", **inputs)

    def growth_chart(self):
        """Hosts needed per quarter under ``growth`` and the chance the plan runs over the risk target
        (Figure), None for a plan made without ``growth``."""
        return self.chart("growth_chart")

    def _repr_html_(self) -> str:
        from consolidate.report.html import plan_summary_html

        return plan_summary_html(self.report_data())
