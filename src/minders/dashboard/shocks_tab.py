"""The Shocks tab: the scenario's shocks as an editable table over the timeline that draws them.

Every edit hands the whole list of shocks to the page, which validates it
like ``minders run`` (:meth:`~minders.dashboard.state.DashboardState.set_shocks`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

import panel as pn

from minders.dashboard.charts import ShockTimeline
from minders.dashboard.views import PAGE_CSS
from minders.dashboard.widgets import (
    SHOCK_COLUMNS,
    frame_to_shocks,
    label,
    shock_help,
    shocks_to_frame,
)
from minders.scenario import ShockKind

INTRO = ('<div class="minders-box minders-info">Timed events (docs/model.md, "5. Shocks"). Edit a '
         "cell and press Enter; every edit is validated like <code>minders run</code>. "
         "Shock windows are shaded on the charts.</div>")


class ShockEditor:
    """The table, its Add/Remove buttons and the timeline.

    Parameters
    ----------
    on_change : callable
        Called as ``on_change(shocks)`` with the edited list after each edit.
    guard : callable
        Wraps the callbacks (the page shows their errors).

    Examples
    --------
    >>> edits = []
    >>> editor = ShockEditor(edits.append, lambda f: f)
    >>> editor.show([{"kind": "pull", "start": 3, "value": 0.2}], steps=10)
    >>> editor.add()
    >>> [s["label"] for s in edits[-1]]
    ['', 'new shock']
    """

    def __init__(self, on_change: Callable[[list[dict[str, Any]]], None],
                 guard: Callable[[Callable[..., Any]], Any]) -> None:
        self.on_change = on_change
        self.steps = 1
        self.timeline = ShockTimeline()
        self.table = pn.widgets.Tabulator(
            shocks_to_frame([]), show_index=False,
            editors={"kind": {"type": "list", "values": list(get_args(ShockKind))},
                     "start": {"type": "number", "step": 1},
                     "end": {"type": "number", "step": 1},
                     "value": {"type": "number", "step": 0.01},
                     "tiers": {"type": "input"}, "ramp": {"type": "number", "step": 1},
                     "label": {"type": "input"}},
            selectable="checkbox", sizing_mode="stretch_width", layout="fit_columns",
            header_tooltips={name: line.split(": ", 1)[1] for name, line in
                             zip(SHOCK_COLUMNS, shock_help().splitlines(), strict=True)},
            css_classes=["mf-shocks"],
        )
        self._showing = False
        self.table.param.watch(guard(self._on_table), "value")
        add = pn.widgets.Button(**label("Add shock", "light"), width=110)
        remove = pn.widgets.Button(**label("Remove selected", "light"), width=140)
        add.on_click(guard(lambda _event: self.add()))
        remove.on_click(guard(lambda _event: self.remove_selected()))
        help_text = pn.pane.Markdown(shock_help(), styles={"font-size": "12px",
                                                           "color": "#4b5563"})
        self.panel = pn.Column(
            pn.pane.HTML(INTRO, stylesheets=[PAGE_CSS], sizing_mode="stretch_width"),
            self.table, pn.Row(add, remove),
            pn.pane.Bokeh(self.timeline.figure, sizing_mode="stretch_width"),
            pn.Card(help_text, title="What the columns mean", collapsed=True,
                    sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def show(self, shocks: list[dict[str, Any]], steps: int) -> None:
        """Show a scenario's shocks (a new scenario: no edit is reported)."""
        self.steps = steps
        self._showing = True
        try:
            self.table.value = shocks_to_frame(shocks)
        finally:
            self._showing = False
        self.timeline.update(shocks, steps)

    def redraw(self, shocks: list[dict[str, Any]], steps: int) -> None:
        """Redraw the timeline (the horizon or the shocks changed elsewhere)."""
        self.steps = steps
        self.timeline.update(shocks, steps)

    def _on_table(self, event: Any) -> None:
        if self._showing:
            return
        shocks = frame_to_shocks(event.new)
        self.timeline.update(shocks, self.steps)
        self.on_change(shocks)

    def add(self) -> None:
        """Add a legitimacy shock a quarter into the run."""
        shocks = frame_to_shocks(self.table.value)
        start = min(self.steps - 1, self.steps // 4)
        shocks.append({"kind": "legitimacy", "start": start, "end": None, "value": 0.5,
                       "tiers": None, "ramp": 0, "label": "new shock"})
        self.table.value = shocks_to_frame(shocks)  # reported by _on_table

    def remove_selected(self) -> None:
        """Remove the shocks whose rows are ticked."""
        keep = [k for k in range(len(self.table.value)) if k not in set(self.table.selection)]
        self.table.selection = []
        self.table.value = self.table.value.iloc[keep].reset_index(drop=True)
