"""The Experiments tab: heatmaps of an outcome over two varied parameters of a sweep.

The folder is read by :mod:`~minders.dashboard.results` (pandas only); this
module lays out the selectors and the heatmap and redraws it on a change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import panel as pn

from minders.dashboard.charts import HeatmapView
from minders.dashboard.results import ExperimentResults, heatmap_table, load_results
from minders.dashboard.views import PAGE_CSS, experiment_note_html
from minders.dashboard.widgets import label

#: How the replicates of a cell can be summarised.
STATISTICS = ["mean", "median", "min", "max", "std"]


class ExperimentsTab:
    """Selectors, a note and a heatmap for one results folder.

    Parameters
    ----------
    directory : Path
        A folder written by ``minders sweep``.
    guard : callable
        Wraps the tab's callbacks (the page shows their errors).

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"a.x": [1, 1, 2, 2], "b.y": [0, 1, 0, 1], "out": [1., 2., 3., 4.]}
    ...              ).to_parquet(folder / "runs.parquet")
    >>> tab = ExperimentsTab(folder, lambda f: f)
    >>> tab.x.value, tab.y.value, len(tab.heatmap.source.data["value"])
    ('a.x', 'b.y', 4)
    """

    def __init__(self, directory: Path, guard: Callable[[Callable[..., Any]], Any]) -> None:
        self.directory = directory
        self.experiment: ExperimentResults | None = None
        self.heatmap = HeatmapView()
        self.x = pn.widgets.Select(**label("x: parameter"), width=240)
        self.y = pn.widgets.Select(**label("y: parameter"), width=240)
        self.outcome = pn.widgets.Select(**label("Outcome"), width=240)
        self.statistic = pn.widgets.Select(**label("Statistic over replicates"),
                                           options=STATISTICS, width=180)
        self.note = pn.pane.HTML("", stylesheets=[PAGE_CSS], sizing_mode="stretch_width")
        reload_button = pn.widgets.Button(**label("Reload", "light"), width=90, align="end")
        reload_button.on_click(guard(lambda _event: self.load()))
        for widget in (self.x, self.y, self.outcome, self.statistic):
            widget.param.watch(guard(lambda _event: self.draw()), "value")
        self.load()
        self.panel = pn.Column(
            pn.Row(self.x, self.y, self.outcome, self.statistic, reload_button),
            self.note, pn.pane.Bokeh(self.heatmap.figure, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def load(self) -> None:
        """(Re)read the folder and offer its parameters and outcomes."""
        self.experiment = exp = load_results(self.directory)
        params, outcomes = exp.parameters, exp.outcomes
        self.x.options = params
        self.y.options = params
        self.outcome.options = outcomes
        if len(params) >= 2:
            self.x.value, self.y.value = params[0], params[1]
        if outcomes:
            preferred = [o for o in outcomes if "defection" in o]
            self.outcome.value = (preferred or outcomes)[0]
        self.note.object = experiment_note_html(str(exp.directory), len(exp.runs), exp.files,
                                                params, exp.skipped)
        self.draw()

    def draw(self) -> None:
        """Redraw the heatmap for the chosen axes, outcome and statistic."""
        exp = self.experiment
        if exp is None or exp.runs.empty:
            return
        x, y, outcome = self.x.value, self.y.value, self.outcome.value
        if not x or not y or not outcome:
            return
        table = heatmap_table(exp.runs, x, y, outcome, self.statistic.value,
                              exp.quantities.get(outcome, "continuous"))
        self.heatmap.update(table, x, y, outcome, self.statistic.value)
