"""Figures a scientist can publish: legends off the data, years on the axis, one palette."""

from __future__ import annotations

import matplotlib

import minders
from minders.formatting import TIER_COLOURS
from minders.plotting import summary_figure

matplotlib.use("Agg")


def test_summary_figure_keeps_legends_off_the_data_and_time_in_years():
    # A shock after the horizon of a shortened run must not stretch the time axis.
    scenario = minders.load_scenario("overseas_workers", [
        "shocks=[{kind='legitimacy', start=200, value=0.1, label='late'}]"])
    result = minders.simulate(scenario, steps=20)
    fig = summary_figure(result)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend().get_window_extent(renderer)
        plot = ax.get_window_extent(renderer)
        assert legend.x0 >= plot.x1  # beside the panel, never over a curve
    top, bottom = fig.axes
    assert bottom.get_xlabel() == "years"
    assert top.get_xlim()[1] <= 20 / scenario.run.steps_per_year * 1.1
    # Tier colours come from the one palette (the dashboard's too), and lines that may lie
    # on each other (no defections) differ by their dashes.
    lines = top.get_lines()
    assert [matplotlib.colors.to_hex(line.get_color()) for line in lines] == list(
        TIER_COLOURS[: len(lines)])
    assert len({line.get_linestyle() for line in lines}) == len(lines)


def test_the_dashboard_uses_the_same_tier_palette():
    import pytest

    pytest.importorskip("bokeh")
    from minders.dashboard.charts import tier_color

    assert [tier_color(k) for k in range(3)] == list(TIER_COLOURS[:3])
