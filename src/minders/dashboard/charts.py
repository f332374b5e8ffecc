"""Bokeh figures of the dashboard, fed by streaming rather than redrawn.

Time series keep one :class:`~bokeh.models.ColumnDataSource` in wide form
(one row per step, columns ``t{k}_{field}`` per tier ``k``) and receive each
poll's new steps through ``source.stream``, so the browser appends points
instead of receiving the whole history again. The hierarchy and the network
sample are small (a few dozen quads, a few hundred nodes); only their
changing columns are replaced.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from bokeh.models import (
    BoxAnnotation,
    ColorBar,
    ColumnDataSource,
    HoverTool,
    LinearColorMapper,
    Range1d,
)
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from minders.codes import STATUS_NAMES
from minders.dashboard.views import STATUS_COLORS
from minders.formatting import TIER_COLOURS, format_number, tier_colour

#: Tier colours: the same palette as the command line's figures.
TIER_COLORS = TIER_COLOURS
#: Shock kinds' colours on the timeline.
SHOCK_COLORS = {"legitimacy": "#e15759", "detection": "#4e79a7", "opportunity": "#59a14f",
                "pull": "#f28e2b", "info_ops": "#b07aa1"}
CHART_HEIGHT = 250


def tier_color(k: int) -> str:
    """Colour of the ``k``-th tier (:func:`minders.formatting.tier_colour`)."""
    return tier_colour(k)


def _style(fig: Any, title: str | None = None) -> Any:
    """The house style: quiet axes, light grid, toolbar shown on hover."""
    if title is not None:
        fig.title.text = title
    fig.title.text_font_size = "13px"
    fig.title.text_font_style = "bold"
    fig.title.text_color = "#1f2933"
    fig.outline_line_color = None
    fig.toolbar.autohide = True
    fig.toolbar.logo = None
    fig.xgrid.grid_line_color = None
    fig.ygrid.grid_line_color = "#e5e7eb"
    for axis in (*fig.xaxis, *fig.yaxis):
        axis.axis_line_color = "#9ca3af"
        axis.major_tick_line_color = "#9ca3af"
        axis.minor_tick_line_color = None
        axis.major_label_text_color = "#4b5563"
        axis.axis_label_text_color = "#4b5563"
        axis.axis_label_text_font_style = "normal"
        axis.axis_label_text_font_size = "11px"
    fig.background_fill_color = "#ffffff"
    fig.border_fill_color = "#ffffff"
    fig.min_border_left = 45
    return fig


def _anchor(fig: Any) -> Any:
    """Add an invisible point at the origin, so an empty chart still has axes.

    A new world at step 0 has no records; without data Bokeh cannot set the
    ranges and draws a blank box.
    """
    fig.scatter([0], [0], alpha=0, size=0)
    return fig


def _legend(fig: Any, location: str = "top_left") -> None:
    if not fig.legend:
        return
    fig.legend.location = location
    fig.legend.click_policy = "hide"  # click a tier to hide it: comparing without redrawing
    fig.legend.label_text_font_size = "10px"
    fig.legend.spacing = 0
    fig.legend.padding = 4
    fig.legend.background_fill_alpha = 0.75
    fig.legend.border_line_color = None


def wide_rows(rows: pd.DataFrame, tiers: list[str]) -> dict[str, list[float]]:
    """Tidy record rows (step x tier) as wide columns ``t{k}_{field}``, one row per step.

    Fields: each status as a share of the tier's positions, ``defections``,
    ``cum_defections``, ``measured``, ``true``, ``mpw`` (minders per ward).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"step": [0], "tier": ["a"], "loyal": [3], "falsifying": [1],
    ...     "active": [0], "jailed": [0], "purged": [0], "repatriated": [0], "defected": [0],
    ...     "defections": [0],
    ...     "cum_defections": [0], "measured_discontent": [0.0], "true_discontent": [0.25],
    ...     "minders_per_ward": [0.1]})
    >>> wide_rows(rows, ["a"])["t0_falsifying"]
    [0.25]
    """
    step_values = rows["step"].to_numpy(dtype=np.int64) if len(rows) else np.zeros(0, np.int64)
    steps = np.unique(step_values)
    index = {name: k for k, name in enumerate(tiers)}
    tier_index = np.array([index.get(str(t), -1) for t in rows["tier"]], dtype=np.int64)
    keep = tier_index >= 0
    at_step = np.searchsorted(steps, step_values[keep])
    at_tier = tier_index[keep]

    def grid(column: str) -> np.ndarray:
        """A (step, tier) array of one record column (zeros where a tier has no row)."""
        values = np.zeros((steps.size, len(tiers)))
        values[at_step, at_tier] = rows[column].to_numpy(dtype=float)[keep]
        return values

    stocks = {status: grid(status) for status in STATUS_NAMES}
    positions = sum(stocks.values())
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = {s: np.where(positions > 0, v / positions, 0.0) for s, v in stocks.items()}
    fields = {"defections": grid("defections"), "cum_defections": grid("cum_defections"),
              "measured": grid("measured_discontent"), "true": grid("true_discontent"),
              "mpw": grid("minders_per_ward")}
    data: dict[str, list[float]] = {"step": steps.tolist()}
    for k in range(len(tiers)):
        for status in STATUS_NAMES:
            data[f"t{k}_{status}"] = shares[status][:, k].tolist()
        for name, values in fields.items():
            data[f"t{k}_{name}"] = values[:, k].tolist()
    return data


def aggregate_rows(rows: pd.DataFrame | None) -> dict[str, list[float]]:
    """All tiers together, per step: cumulative defections, true and measured discontent.

    Discontent is weighted by the agents in post, as a share of everyone in post.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"step": [0, 0], "cum_defections": [1, 2], "in_post": [10, 30],
    ...     "active": [1, 0], "aggrieved": [2, 6]})
    >>> aggregate_rows(rows)
    {'step': [0], 'cum_defections': [3.0], 'true': [0.2], 'measured': [0.025]}
    """
    if rows is None or rows.empty:
        return {"step": [], "cum_defections": [], "true": [], "measured": []}
    by_step = rows.groupby("step", sort=True)[["cum_defections", "in_post", "active",
                                                "aggrieved"]].sum()
    in_post = by_step["in_post"].replace(0, np.nan)
    return {
        "step": [int(s) for s in by_step.index],
        "cum_defections": by_step["cum_defections"].astype(float).tolist(),
        "true": (by_step["aggrieved"] / in_post).fillna(0.0).tolist(),
        "measured": (by_step["active"] / in_post).fillna(0.0).tolist(),
    }


class TimeCharts:
    """Statuses per tier, defections per step, measured vs true discontent, minders per ward.

    Parameters
    ----------
    tiers : list of str
        Tier names, in scenario order.
    supervised : list of bool
        Whether each tier has minders (for the minders-per-ward chart).
    steps : int
        Horizon (the x range, fixed so the charts do not rescale as they grow).
    shocks : list of dict
        Shock windows, shaded on every chart.
    """

    def __init__(self, tiers: list[str], supervised: list[bool], steps: int,
                 shocks: list[dict[str, Any]]) -> None:
        self.tiers = list(tiers)
        self.x_range = Range1d(0, max(steps - 1, 1))
        self.source = ColumnDataSource(wide_rows(_empty_rows(), self.tiers))
        self._boxes: list[tuple[Any, list[Any]]] = []
        self.status_figures = [self._status_figure(k, tier) for k, tier in enumerate(tiers)]
        self.defections = self._lines("Defections per step", "defections", "defections",
                                      range(len(tiers)))
        self.discontent = self._discontent()
        watched = [k for k, flag in enumerate(supervised) if flag]
        self.minders = self._lines("Minders per ward (in post)", "mpw", "minders per ward",
                                   watched)
        self.set_shocks(shocks, steps)

    # ------------------------------------------------------------------ figures
    def _figure(self, title: str, y_label: str, height: int = CHART_HEIGHT) -> Any:
        fig = figure(height=height, sizing_mode="stretch_width", x_range=self.x_range,
                     tools="pan,xwheel_zoom,box_zoom,reset,save", active_scroll=None,
                     x_axis_label="step", y_axis_label=y_label)
        fig.y_range.start = 0
        return _style(_anchor(fig), title)

    def _status_figure(self, k: int, tier: str) -> Any:
        fig = self._figure(f"{tier}: statuses", "share of positions", height=190)
        # Loyal is left out of the stack: it is most of the tier and would flatten the rest.
        statuses = [s for s in STATUS_NAMES if s != "loyal"]
        fig.varea_stack(stackers=[f"t{k}_{s}" for s in statuses], x="step",
                        color=[STATUS_COLORS[s] for s in statuses], source=self.source,
                        alpha=0.85)
        fig.add_tools(HoverTool(tooltips=[("step", "@step")] + [
            (s, f"@t{k}_{s}{{0.0%}}") for s in statuses], mode="vline"))
        fig.yaxis.formatter.use_scientific = False
        return fig  # no legend: one HTML legend above the grid explains them all

    def _lines(self, title: str, field: str, y_label: str, tiers: Any) -> Any:
        fig = self._figure(title, y_label)
        renderers = []
        for k in tiers:
            renderers.append(fig.line("step", f"t{k}_{field}", source=self.source,
                                      color=tier_color(k), line_width=2,
                                      legend_label=self.tiers[k]))
        fig.add_tools(HoverTool(renderers=renderers[:1], mode="vline", tooltips=[
            ("step", "@step"), *((self.tiers[k], f"@t{k}_{field}{{0.[000]}}") for k in tiers)]))
        _legend(fig)
        return fig

    def _discontent(self) -> Any:
        fig = self._figure("Discontent: true (solid) vs measured by the regime (dashed); "
                           "surprise gap shaded", "share in post")
        first = None
        for k, tier in enumerate(self.tiers):
            colour = tier_color(k)
            fig.varea(x="step", y1=f"t{k}_measured", y2=f"t{k}_true", source=self.source,
                      color=colour, alpha=0.18, legend_label=tier)
            line = fig.line("step", f"t{k}_true", source=self.source, color=colour,
                            line_width=2, legend_label=tier)
            fig.line("step", f"t{k}_measured", source=self.source, color=colour,
                     line_width=1.5, line_dash="dashed", legend_label=tier)
            first = first or line
        fig.add_tools(HoverTool(renderers=[first] if first else [], mode="vline", tooltips=[
            ("step", "@step"),
            *((f"{tier} true / measured", f"@t{k}_true{{0.0%}} / @t{k}_measured{{0.0%}}")
              for k, tier in enumerate(self.tiers))]))
        _legend(fig)
        return fig

    @property
    def figures(self) -> list[Any]:
        """Every figure, status small multiples first."""
        return [*self.status_figures, self.defections, self.discontent, self.minders]

    # ------------------------------------------------------------------ updates
    def set_shocks(self, shocks: list[dict[str, Any]], steps: int) -> None:
        """Shade the shock windows (and fix the x range to the horizon)."""
        self.x_range.start, self.x_range.end = 0, max(steps - 1, 1)
        for fig, boxes in self._boxes:
            fig.center = [r for r in fig.center if r not in boxes]
        self._boxes = []
        for fig in self.figures:
            boxes = [
                BoxAnnotation(left=s["start"], right=s["end"] if s.get("end") is not None
                              else steps, fill_color=SHOCK_COLORS.get(s["kind"], "#999999"),
                              fill_alpha=0.07, line_alpha=0, level="underlay")
                for s in shocks
            ]
            fig.center = [*fig.center, *boxes]
            self._boxes.append((fig, boxes))

    def clear(self) -> None:
        """Forget the streamed points (a new world)."""
        self.source.data = wide_rows(_empty_rows(), self.tiers)

    def stream(self, rows: pd.DataFrame) -> None:
        """Append the new rows of a poll."""
        if len(rows):
            self.source.stream(wide_rows(rows, self.tiers))


def _empty_rows() -> pd.DataFrame:
    columns = ["step", "tier", *STATUS_NAMES, "defections", "cum_defections",
               "measured_discontent", "true_discontent", "minders_per_ward"]
    return pd.DataFrame({c: [] for c in columns})


class CompareCharts:
    """Baseline against variant, all tiers together: cumulative defections and discontent."""

    def __init__(self, steps: int) -> None:
        self.x_range = Range1d(0, max(steps - 1, 1))
        self.source = ColumnDataSource(self._columns(aggregate_rows(None), aggregate_rows(None)))
        self.defections = _style(figure(
            height=CHART_HEIGHT, sizing_mode="stretch_width", x_range=self.x_range,
            tools="pan,box_zoom,reset,save", x_axis_label="step",
            y_axis_label="cumulative defections"), "Cumulative defections: baseline vs variant")
        self.defections.line("step", "base_cum", source=self.source, color="#6b7280",
                             line_width=2, legend_label="baseline")
        self.defections.line("step", "var_cum", source=self.source, color="#e15759",
                             line_width=2, legend_label="variant")
        self.difference = _style(figure(
            height=CHART_HEIGHT, sizing_mode="stretch_width", x_range=self.x_range,
            tools="pan,box_zoom,reset,save", x_axis_label="step",
            y_axis_label="variant - baseline"),
            "Effect of the change: difference in cumulative defections")
        self.difference.varea(x="step", y1=0, y2="diff_cum", source=self.source,
                              color="#e15759", alpha=0.25)
        self.difference.line("step", "diff_cum", source=self.source, color="#e15759",
                             line_width=2)
        self.discontent = _style(figure(
            height=CHART_HEIGHT, sizing_mode="stretch_width", x_range=self.x_range,
            tools="pan,box_zoom,reset,save", x_axis_label="step",
            y_axis_label="share in post"),
            "Discontent, all tiers: true (solid) vs measured (dashed)")
        for prefix, colour, label in (("base", "#6b7280", "baseline"),
                                      ("var", "#e15759", "variant")):
            self.discontent.line("step", f"{prefix}_true", source=self.source, color=colour,
                                 line_width=2, legend_label=label)
            self.discontent.line("step", f"{prefix}_measured", source=self.source,
                                 color=colour, line_width=1.5, line_dash="dashed",
                                 legend_label=label)
        for fig in self.figures:
            _anchor(fig)
        for fig in (self.defections, self.discontent):
            fig.y_range.start = 0
            _legend(fig)
            fig.add_tools(HoverTool(mode="vline", renderers=fig.renderers[:1], tooltips=[
                ("step", "@step"), ("baseline", "@base_cum"), ("variant", "@var_cum"),
                ("difference", "@diff_cum")]))

    @staticmethod
    def _columns(base: dict[str, list[float]], variant: dict[str, list[float]]
                 ) -> dict[str, list[float]]:
        n = min(len(base["step"]), len(variant["step"]))
        return {
            "step": variant["step"][:n],
            "base_cum": base["cum_defections"][:n], "var_cum": variant["cum_defections"][:n],
            "diff_cum": [v - b for v, b in zip(variant["cum_defections"][:n],
                                               base["cum_defections"][:n], strict=True)],
            "base_true": base["true"][:n], "var_true": variant["true"][:n],
            "base_measured": base["measured"][:n], "var_measured": variant["measured"][:n],
        }

    @property
    def figures(self) -> list[Any]:
        """The three figures."""
        return [self.defections, self.difference, self.discontent]

    def clear(self, steps: int) -> None:
        """Forget the streamed points (a new pair of worlds)."""
        self.x_range.start, self.x_range.end = 0, max(steps - 1, 1)
        self.source.data = self._columns(aggregate_rows(None), aggregate_rows(None))

    def stream(self, baseline: pd.DataFrame | None, variant: pd.DataFrame) -> None:
        """Append the new steps of both runs."""
        if baseline is None or baseline.empty or variant.empty:
            return
        self.source.stream(self._columns(aggregate_rows(baseline), aggregate_rows(variant)))


class HierarchyView:
    """Tiers as layers, top of the hierarchy up: bar width grows with log(positions).

    Each bar is split by status; under it, the unwatched wards (their minder
    is not in post), purges and defections so far, in red once there are any;
    dotted links say who watches whom at which span.
    """

    def __init__(self) -> None:
        self.bars = ColumnDataSource({k: [] for k in (
            "left", "right", "bottom", "top", "color", "tier", "status", "count", "share")})
        self.labels = ColumnDataSource({k: [] for k in (
            "x", "y_name", "y_detail", "name", "detail", "alert")})
        self.links = ColumnDataSource({k: [] for k in ("x0", "y0", "x1", "y1", "xm", "ym",
                                                       "text")})
        fig = figure(height=430, sizing_mode="stretch_width", tools="save",
                     x_range=Range1d(0, 1), y_range=Range1d(-0.8, 0.8))
        _style(fig, "Hierarchy now: tiers as layers, split by status")
        fig.axis.visible = False
        fig.grid.visible = False
        fig.segment("x0", "y0", "x1", "y1", source=self.links, color="#9ca3af", line_width=1.5,
                    line_dash="dotted")
        fig.text("xm", "ym", text="text", source=self.links, text_font_size="10px",
                 text_color="#6b7280", text_align="left", text_baseline="middle", x_offset=4)
        quads = fig.quad(left="left", right="right", bottom="bottom", top="top", color="color",
                         source=self.bars, line_color="white", line_width=0.5)
        fig.add_tools(HoverTool(renderers=[quads], tooltips=[
            ("tier", "@tier"), ("status", "@status"), ("agents", "@count{0,0}"),
            ("share", "@share{0.0%}")]))
        fig.text("x", "y_name", text="name", source=self.labels, text_font_size="12px",
                 text_font_style="bold", text_color="#1f2933", text_align="center",
                 text_baseline="bottom")
        fig.text("x", "y_detail", text="detail", source=self.labels, text_font_size="10px",
                 text_color="alert", text_align="center", text_baseline="top")
        for status, colour in STATUS_COLORS.items():  # a legend without data
            fig.scatter([math.nan], [math.nan], color=colour, marker="square", size=9,
                        legend_label=status)
        _legend(fig, "top_right")
        fig.legend.click_policy = "none"
        self.figure = fig

    def update(self, table: pd.DataFrame) -> None:
        """Redraw the layers from :meth:`DashboardState.hierarchy` (a few dozen quads)."""
        if table.empty:
            return
        levels = sorted(table["level"].unique())
        biggest = math.log10(max(int(table["positions"].max()), 10) + 1)
        bars: dict[str, list[Any]] = {k: [] for k in self.bars.data}
        labels: dict[str, list[Any]] = {k: [] for k in self.labels.data}
        place: dict[str, tuple[float, float]] = {}  # tier -> (x centre, y centre)
        half = 0.16
        for row_index, level in enumerate(levels):
            rows = table[table["level"] == level]
            y = float(len(levels) - 1 - row_index)  # the top of the hierarchy on top
            slot = 0.8 / len(rows)  # leave the right fifth for the legend
            for j, (_, row) in enumerate(rows.iterrows()):
                share_of_slot = 0.25 + 0.75 * math.log10(int(row["positions"]) + 1) / biggest
                width = slot * 0.85 * share_of_slot
                x_mid = slot * (j + 0.5)
                left = x_mid - width / 2
                total = max(int(row["positions"]), 1)
                for status in STATUS_NAMES:
                    share = int(row[status]) / total
                    bars["left"].append(left)
                    bars["right"].append(left + share * width)
                    bars["bottom"].append(y - half)
                    bars["top"].append(y + half)
                    bars["color"].append(STATUS_COLORS[status])
                    bars["tier"].append(row["tier"])
                    bars["status"].append(status)
                    bars["count"].append(int(row[status]))
                    bars["share"].append(share)
                    left += share * width
                labels["x"].append(x_mid)
                labels["y_name"].append(y + half + 0.03)
                labels["y_detail"].append(y - half - 0.03)
                labels["name"].append(f"{row['tier']} · {int(row['positions']):,} positions")
                labels["detail"].append(
                    f"unwatched {int(row['unwatched']):,} · purges {int(row['purges']):,} · "
                    f"defections {int(row['defections']):,}")
                labels["alert"].append("#b91c1c" if row["unwatched"] or row["purges"]
                                       else "#6b7280")
                place[str(row["tier"])] = (x_mid, y)
        links: dict[str, list[Any]] = {k: [] for k in self.links.data}
        for _, row in table.iterrows():
            boss = row["minded_by"]
            if not boss or boss not in place:
                continue
            (x0, y0), (x1, y1) = place[str(row["tier"])], place[boss]
            start, end = y0 + half + 0.2, y1 - half - 0.2  # clear of the labels
            links["x0"].append(x0)
            links["y0"].append(start)
            links["x1"].append(x1)
            links["y1"].append(end)
            links["xm"].append((x0 + x1) / 2)
            links["ym"].append((start + end) / 2)
            links["text"].append(f"span {int(row['span'])}")
        self.figure.y_range.start = -0.6
        self.figure.y_range.end = len(levels) - 1 + 0.6
        self.bars.data = bars
        self.links.data = links
        self.labels.data = labels


class NetworkView:
    """A sample of the social graph, coloured by status, laid out once per world."""

    def __init__(self) -> None:
        self.nodes = ColumnDataSource({k: [] for k in ("x", "y", "status", "color", "tier",
                                                       "size")})
        self.edges = ColumnDataSource({k: [] for k in ("x0", "y0", "x1", "y1")})
        fig = figure(height=430, sizing_mode="stretch_width", tools="pan,wheel_zoom,reset,save",
                     match_aspect=True)
        _style(fig, "Social network (a sample), coloured by status")
        fig.axis.visible = False
        fig.grid.visible = False
        fig.segment("x0", "y0", "x1", "y1", source=self.edges, color="#cbd5e1", line_width=0.7,
                    alpha=0.8)
        nodes = fig.scatter("x", "y", source=self.nodes, size="size", color="color",
                            line_color="white", line_width=0.5)
        fig.add_tools(HoverTool(renderers=[nodes], tooltips=[("tier", "@tier"),
                                                             ("status", "@status")]))
        for status, colour in STATUS_COLORS.items():
            fig.scatter([math.nan], [math.nan], color=colour, size=8, legend_label=status)
        _legend(fig)
        fig.legend.orientation = "horizontal"
        fig.legend.click_policy = "none"
        fig.add_layout(fig.legend[0], "below")  # under the graph, not over its nodes
        self.figure = fig
        self.count = 0

    def set_sample(self, sample: Any, total: int) -> None:
        """Lay out a new sample (:class:`~minders.dashboard.state.NetworkSample`)."""
        if sample is None:
            self.nodes.data = {k: [] for k in self.nodes.data}
            self.edges.data = {k: [] for k in self.edges.data}
            self.count = 0
            return
        x, y = sample.x.tolist(), sample.y.tolist()
        self.count = len(x)
        self.figure.title.text = (f"Social network: a sample of {len(x):,} of {total:,} "
                                  "positions, by status")
        self.nodes.data = {
            "x": x, "y": y, "status": ["loyal"] * len(x),
            "color": [STATUS_COLORS["loyal"]] * len(x), "tier": sample.tier,
            "size": [10 if m else 6 for m in sample.is_minder],
        }
        a, b = sample.edges[:, 0], sample.edges[:, 1]
        self.edges.data = {"x0": sample.x[a].tolist(), "y0": sample.y[a].tolist(),
                           "x1": sample.x[b].tolist(), "y1": sample.y[b].tolist()}

    def update(self, status: np.ndarray) -> None:
        """Recolour the nodes (only the two changing columns are sent)."""
        if status.size != self.count or not self.count:
            return
        names = [STATUS_NAMES[s] for s in status]
        self.nodes.patch({"status": [(slice(0, self.count), names)],
                          "color": [(slice(0, self.count), [STATUS_COLORS[n] for n in names])]})


class ShockTimeline:
    """The shocks as bars over the horizon, under the table that edits them."""

    def __init__(self) -> None:
        self.source = ColumnDataSource({k: [] for k in ("y", "left", "right", "color", "text")})
        fig = figure(height=150, sizing_mode="stretch_width", tools="", toolbar_location=None,
                     x_axis_label="step", y_range=Range1d(-0.6, 0.6))
        _style(fig, "Shock timeline")
        fig.yaxis.visible = False
        fig.hbar(y="y", left="left", right="right", height=0.7, color="color", alpha=0.55,
                 source=self.source)
        fig.text(x="left", y="y", text="text", source=self.source, text_font_size="10px",
                 text_baseline="middle", x_offset=3, text_color="#1f2933")
        self.figure = fig

    def update(self, shocks: list[dict[str, Any]], steps: int) -> None:
        """Show ``shocks`` over ``[0, steps)`` (invalid rows are drawn as far as they go)."""
        data: dict[str, list[Any]] = {k: [] for k in self.source.data}
        for k, shock in enumerate(shocks):
            start = shock.get("start") if isinstance(shock.get("start"), int | float) else 0
            end = shock.get("end") if isinstance(shock.get("end"), int | float) else steps
            data["y"].append(-k)
            data["left"].append(start)
            data["right"].append(end)
            data["color"].append(SHOCK_COLORS.get(str(shock.get("kind")), "#999999"))
            data["text"].append(f"{shock.get('label') or shock.get('kind')} "
                                f"({shock.get('kind')} {shock.get('value')})")
        self.figure.x_range.start, self.figure.x_range.end = 0, steps
        self.figure.y_range.start = -max(len(shocks), 1) + 0.4
        self.figure.y_range.end = 0.6
        self.figure.height = 70 + 26 * max(len(shocks), 1)
        self.source.data = data


class HeatmapView:
    """An outcome over two varied parameters of an experiment."""

    def __init__(self) -> None:
        self.source = ColumnDataSource({k: [] for k in ("x", "y", "value", "n", "interval")})
        self.mapper = LinearColorMapper(palette=Viridis256, low=0, high=1)
        fig = figure(height=460, sizing_mode="stretch_width", x_range=[], y_range=[],
                     tools="hover,save", tooltips=[("x", "@x"), ("y", "@y"),
                                                   ("value", "@value{0.[0000]}"),
                                                   ("95% interval", "@interval"),
                                                   ("runs", "@n")])
        _style(fig, "Experiment")
        fig.rect("x", "y", width=1, height=1, source=self.source,
                 fill_color={"field": "value", "transform": self.mapper}, line_color="white")
        fig.add_layout(ColorBar(color_mapper=self.mapper, width=10, title=""), "right")
        self.figure = fig

    def update(self, table: pd.DataFrame, x: str, y: str, outcome: str, statistic: str) -> None:
        """Show a table from :func:`~minders.dashboard.results.heatmap_table`."""
        fig = self.figure
        xs = sorted(table[x].unique()) if len(table) else []
        ys = sorted(table[y].unique()) if len(table) else []
        fig.x_range.factors = [_fmt(v) for v in xs]
        fig.y_range.factors = [_fmt(v) for v in ys]
        fig.xaxis.axis_label, fig.yaxis.axis_label = x, y
        fig.title.text = f"{statistic} of {outcome} over {x} and {y}"
        values = table["value"].to_numpy(dtype=float) if len(table) else np.zeros(0)
        finite = values[np.isfinite(values)]
        if finite.size:
            low, high = float(finite.min()), float(finite.max())
            self.mapper.low, self.mapper.high = low, high if high > low else low + 1e-9
        self.source.data = {
            "x": [_fmt(v) for v in table[x]] if len(table) else [],
            "y": [_fmt(v) for v in table[y]] if len(table) else [],
            "value": values.tolist(), "n": table["n"].astype(int).tolist() if len(table) else [],
            "interval": [_interval(low, high) for low, high in
                         zip(table.get("low", []), table.get("high", []), strict=True)]
            if len(table) else [],
        }


def _interval(low: float, high: float) -> str:
    """A cell's interval for the hover text ('' where the statistic has none)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return f"{format_number(low)} to {format_number(high)}"


def _fmt(value: Any) -> str:
    """A factor label: integers without decimals, floats shortest.

    Not :func:`minders.formatting.format_number`: an axis factor must be one
    exact, short label per value (``6`` for 6.0, ``1500`` without a
    separator, six digits so that neighbouring values stay distinct).
    """
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return str(value)
