"""Figures of a sweep's summary: metric against parameter, heatmaps for a grid of two."""

from __future__ import annotations

import numpy as np
import pandas as pd

from minders.experiments.result_figures import results_figure


def table(parameters):
    rng = np.random.default_rng(0)
    grid = pd.MultiIndex.from_product([[5, 10, 20], [0.1, 0.9]][: len(parameters)],
                                      names=parameters).to_frame(index=False)
    rate = rng.random(len(grid))
    return grid.assign(n=5, rate=rate, rate_low=rate * 0.5, rate_high=rate * 1.5,
                       time=np.r_[np.inf, rate[1:] * 100], time_low=0.0, time_high=np.inf)


def manifest(parameters, method="grid"):
    return {"name": "t", "parameters": {p: [p] for p in parameters},
            "metrics": ["rate", "time"], "method": method}


def test_one_parameter_draws_each_metric_with_its_interval_and_notes_what_is_not_reached():
    fig = results_figure(table(["span"]), manifest(["span"]))
    rate_axes, time_axes = fig.axes
    bars = rate_axes.containers[0]
    assert len(bars.lines[0].get_xdata()) == 3  # every point, with error bars
    assert any("not reached" in t.get_text() for t in time_axes.texts)


def test_a_grid_of_two_parameters_is_a_heatmap_per_metric():
    fig = results_figure(table(["span", "purge"]), manifest(["span", "purge"]))
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 2 and images[0].images[0].get_array().shape == (2, 3)
    assert any("[" in t.get_text() for t in images[0].texts)  # intervals written in the cells


def test_other_designs_get_a_panel_per_metric_and_parameter():
    fig = results_figure(table(["span", "purge"]), manifest(["span", "purge"], "lhs"))
    assert len(fig.axes) == 4 and not any(ax.images for ax in fig.axes)
