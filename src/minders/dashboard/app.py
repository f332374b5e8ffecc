"""The page: scenario form in the sidebar, run controls, tabs of live charts.

Everything the page does goes through a
:class:`~minders.dashboard.state.DashboardState`, one per browser session; this
module only lays out widgets and figures and wires their events to it. The
server binds to 127.0.0.1 unless told otherwise and serves Bokeh's and
Panel's JavaScript and CSS itself (``BOKEH_RESOURCES=server``, a template
without web fonts), so the page makes no request beyond the server: it works
on an air-gapped machine.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

# Before Panel and Bokeh are imported: their JS/CSS from this server, never a CDN.
os.environ["BOKEH_RESOURCES"] = "server"

import panel as pn  # noqa: E402

from minders.dashboard.charts import (  # noqa: E402
    STATUS_COLORS,
    CompareCharts,
    HeatmapView,
    HierarchyView,
    NetworkView,
    ShockTimeline,
    TimeCharts,
)
from minders.dashboard.export import figure_png, records_parquet  # noqa: E402
from minders.dashboard.results import ExperimentResults, heatmap_table, load_results  # noqa: E402
from minders.dashboard.state import (  # noqa: E402
    EAGER_BUILD_LIMIT,
    MAX_UPLOAD_BYTES,
    DashboardState,
    parse_upload,
)
from minders.dashboard.widgets import (  # noqa: E402
    SHOCK_COLUMNS,
    build_form,
    field_spec,
    frame_to_shocks,
    label,
    make_widget,
    shock_help,
    shocks_to_frame,
)
from minders.errors import ScenarioError  # noqa: E402
from minders.kinds import load_scenario
from minders.population import STATUS_NAMES  # noqa: E402
from minders.scenario import RunParams, Scenario, ShockKind  # noqa: E402

log = logging.getLogger("minders.dashboard")

ACCENT = "#1f3a5f"
#: Steps a periodic tick may run before the page gets a chance to update (ms).
MIN_PERIOD_MS = 50
#: How often the hierarchy and network views are redrawn while running (s).
VIEW_INTERVAL_S = 0.3

PAGE_CSS = """
.minders-box { border-radius: 6px; padding: 8px 12px; font-size: 13px; line-height: 1.4;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.minders-error { background: #fdecec; border: 1px solid #f3b4b4; color: #8a1c1c; }
.minders-info { background: #eef4fb; border: 1px solid #c9dbef; color: #1f3a5f; }
.minders-box code, .minders-box .msg { font-family: ui-monospace, SFMono-Regular, Menlo,
  Consolas, monospace; font-size: 12px; white-space: pre-wrap; word-break: break-word; }
.minders-status { font-family: system-ui, sans-serif; font-size: 13px; color: #374151;
  padding: 6px 4px; white-space: nowrap; }
.minders-status .badge { display: inline-block; padding: 2px 8px; border-radius: 10px;
  font-weight: 600; font-size: 12px; margin-right: 6px; color: white; }
table.minders-numbers { border-collapse: collapse; width: 100%; font-size: 12px;
  font-family: system-ui, sans-serif; font-variant-numeric: tabular-nums; }
table.minders-numbers th, table.minders-numbers td { padding: 4px 8px; text-align: right;
  border-bottom: 1px solid #e5e7eb; }
table.minders-numbers th { color: #4b5563; font-weight: 600; background: #f9fafb; }
table.minders-numbers td:first-child, table.minders-numbers th:first-child { text-align: left; }
details.minders-json summary { cursor: pointer; color: #4b5563; font-size: 12px; margin-top: 8px; }
details.minders-json pre { font-size: 11px; max-height: 260px; overflow: auto;
  background: #f9fafb; padding: 8px; border-radius: 4px; }
.minders-legend { font: 12px system-ui, sans-serif; color: #374151; }
.minders-legend .minders-swatch { margin-left: 10px; }
.minders-swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 4px; vertical-align: middle; }
"""

STATUS_BADGES = {"ready": "#6b7280", "running": "#2f9e6e", "paused": "#b7791f",
                 "done": "#1f3a5f", "invalid": "#b91c1c", "failed": "#b91c1c"}


def _html(text: str, **options: Any) -> pn.pane.HTML:
    return pn.pane.HTML(text, stylesheets=[PAGE_CSS], **options)


class DashboardApp:
    """One session's page.

    Parameters
    ----------
    scenario : Scenario
        The scenario the page opens with.
    source : str
        Its label (a file name).
    catalog : dict of str to Path
        Scenario files the user may open by name (read on the server; the
        browser only sends a name from this list).
    results_dir : Path, optional
        An experiment results folder for the Experiments tab (hidden if None).

    Examples
    --------
    >>> page = DashboardApp(scenario, "pyongyang", {"pyongyang": path})  # doctest: +SKIP
    >>> page.template.servable()  # doctest: +SKIP
    """

    def __init__(self, scenario: Scenario, source: str, catalog: dict[str, Path],
                 results_dir: Path | None = None) -> None:
        self.state = DashboardState(scenario, source)
        self.catalog = dict(catalog)
        self.results_dir = results_dir
        self._last_views = 0.0
        self._chart_key: tuple[Any, ...] = ()
        self._ticker: Any = None
        self._build()
        self._after_load()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        state = self.state
        self.picker = pn.widgets.Select(
            **label("Open a bundled scenario"), options=list(self.catalog),
            value=state.source if state.source in self.catalog else None,
            css_classes=["mf-picker"], sizing_mode="stretch_width",
            description="Scenario files of the minders kind in ./scenarios and the "
            "package's scenarios folder.",
        )
        self.picker.param.watch(self._guard(self._on_pick), "value")
        self.upload = pn.widgets.FileInput(
            accept=".toml,.yaml,.yml", multiple=False,
            css_classes=["mf-upload"], sizing_mode="stretch_width",
        )
        self.upload.param.watch(self._guard(self._on_upload), "value")
        self.upload_note = _html("", sizing_mode="stretch_width", visible=False)
        self.error_box = _html("", sizing_mode="stretch_width", visible=False)
        self.form_column = pn.Column(sizing_mode="stretch_width", margin=0)

        self.run_button = pn.widgets.Button(**label("Run", "primary"), width=90,
                                            css_classes=["mf-run"])
        self.step_button = pn.widgets.Button(**label("Step", "default"), width=70,
                                             css_classes=["mf-step"])
        self.reset_button = pn.widgets.Button(**label("Reset", "default"), width=70,
                                              css_classes=["mf-reset"])
        self.run_button.on_click(self._guard(self._on_run))
        self.step_button.on_click(self._guard(self._on_step))
        self.reset_button.on_click(self._guard(self._on_reset))
        self.seed = make_widget(field_spec(RunParams, "seed", "run.seed"),
                                state.scenario.run.seed, self._guard(self._on_edit))
        self.seed.param.update(sizing_mode=None, width=130)
        self.speed = pn.widgets.IntSlider(**label("Speed (steps/s)"), start=1, end=200, value=25,
                                          width=180, css_classes=["mf-speed"])
        self.speed.param.watch(self._guard(self._on_speed), "value_throttled")
        self.pin_button = pn.widgets.Button(**label("Pin as baseline", "light"),
                                            width=140, css_classes=["mf-pin"],
                                            description="Freeze this scenario as the baseline; "
                                            "your next edits make the variant, run beside it "
                                            "with the same seed (common random numbers).")
        self.pin_button.on_click(self._guard(self._on_pin))
        self.status_pane = _html("", css_classes=["mf-status"], margin=(12, 10, 0, 10))
        self.failure_box = _html("", sizing_mode="stretch_width", visible=False)
        self.downloads = self._make_downloads()

        self.charts_column = pn.Column(sizing_mode="stretch_width", margin=0)
        self.shocks_column = pn.Column(sizing_mode="stretch_width")
        self.timeline = ShockTimeline()
        self.numbers = _html("", sizing_mode="stretch_width")
        self.hierarchy = HierarchyView()
        self.network = NetworkView()
        self.compare_charts = CompareCharts(state.steps)
        self.compare_note = _html("", sizing_mode="stretch_width")
        self.compare_table = _html("", sizing_mode="stretch_width")

        self.compare_body = pn.Column(
            pn.Row(*(pn.pane.Bokeh(f, sizing_mode="stretch_width")
                     for f in self.compare_charts.figures[:2]), sizing_mode="stretch_width"),
            pn.pane.Bokeh(self.compare_charts.discontent, sizing_mode="stretch_width"),
            self.compare_table, sizing_mode="stretch_width", visible=False)
        toolbar = pn.Row(
            self.run_button, self.step_button, self.reset_button, self.seed, self.speed,
            self.pin_button, self.status_pane, sizing_mode="stretch_width",
            styles={"align-items": "flex-end", "flex-wrap": "wrap"},
        )
        tabs = [
            ("Cascade", pn.Column(self.charts_column, self.numbers, sizing_mode="stretch_width")),
            ("Shocks", self.shocks_column),
            ("Hierarchy & network", pn.Row(
                pn.pane.Bokeh(self.hierarchy.figure, sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.network.figure, sizing_mode="stretch_width"),
                sizing_mode="stretch_width")),
            ("Compare", pn.Column(self.compare_note, self.compare_body,
                                  sizing_mode="stretch_width")),
        ]
        experiments = self._experiments_tab()
        if experiments is not None:
            tabs.append(("Experiments", experiments))
        self.tab_names = [name for name, _ in tabs]
        # Dynamic: only the open tab is rendered, so hidden charts cost the browser nothing.
        self.tabs = pn.Tabs(*tabs, dynamic=True, sizing_mode="stretch_width")
        self.ticker = pn.state.add_periodic_callback(self._guard(self._tick), period=100,
                                                     start=False)

        sidebar = [
            pn.pane.Markdown("#### Scenario", margin=(0, 10)),
            self.picker,
            pn.pane.Markdown(f"or upload your own (.toml, .yaml; at most "
                             f"{MAX_UPLOAD_BYTES // 2**20} MiB):", margin=(0, 10),
                             styles={"font-size": "12px", "color": "#4b5563"}),
            self.upload, self.upload_note, self.error_box, self.form_column,
        ]
        self.template = pn.template.BootstrapTemplate(
            title="minders dashboard", sidebar=sidebar, sidebar_width=420,
            header_background=ACCENT,
            main=[pn.Column(toolbar, self.downloads, self.failure_box, self.tabs,
                            sizing_mode="stretch_width")],
        )

    def _make_downloads(self) -> pn.Row:
        self.toml_download = pn.widgets.FileDownload(
            callback=self._guard(self._toml_file, default=None), filename="scenario.toml",
            **label("Scenario (TOML)", "light"), width=150, css_classes=["mf-dl-toml"],
        )
        self.parquet_download = pn.widgets.FileDownload(
            callback=self._guard(self._parquet_file, default=None), filename="records.parquet",
            **label("Records (Parquet)", "light"), width=150,
            css_classes=["mf-dl-parquet"],
        )
        self.png_download = pn.widgets.FileDownload(
            callback=self._guard(self._png_file, default=None), filename="summary.png",
            **label("Figure (PNG)", "light"), width=130, css_classes=["mf-dl-png"],
        )
        self.baseline_download = pn.widgets.FileDownload(
            callback=self._guard(self._baseline_file, default=None),
            filename="baseline-records.parquet", **label("Baseline records", "light"),
            width=150, visible=False,
        )
        return pn.Row(pn.pane.HTML("<span style='font:12px system-ui;color:#4b5563'>Export:"
                                   "</span>", margin=(14, 4, 0, 10)),
                      self.toml_download, self.parquet_download, self.png_download,
                      self.baseline_download, sizing_mode="stretch_width")

    def _form_sections(self) -> list[Any]:
        """The scenario form: one card per section and tier, the shock timeline last."""
        form = build_form(self.state.data, self._guard(self._on_edit), exclude=("run.seed",))
        cards = []
        first_tier = True
        for title, widgets in form.sections:
            is_tier = title.startswith("Tier: ")
            collapsed = not (title == "Run" or (is_tier and first_tier))
            first_tier = first_tier and not is_tier
            cards.append(pn.Card(*widgets, title=title, collapsed=collapsed,
                                 sizing_mode="stretch_width", margin=(4, 0),
                                 css_classes=[card_class(title)]))
        return cards

    def _shock_editor(self) -> list[Any]:
        """The shocks as an editable table over the timeline that draws them."""
        kinds = list(get_args(ShockKind))
        self.shock_table = pn.widgets.Tabulator(
            shocks_to_frame(self.state.data.get("shocks", [])), show_index=False,
            editors={"kind": {"type": "list", "values": kinds},
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
        self.shock_table.param.watch(self._guard(self._on_shocks), "value")
        add = pn.widgets.Button(**label("Add shock", "light"), width=110)
        remove = pn.widgets.Button(**label("Remove selected", "light"), width=140)
        add.on_click(self._guard(self._on_add_shock))
        remove.on_click(self._guard(self._on_remove_shocks))
        self.timeline.update(self.state.data.get("shocks", []), self.state.steps)
        intro = _html(
            '<div class="minders-box minders-info">Timed events (MODEL.md, "Shocks"). Edit a '
            "cell and press Enter; every edit is validated like <code>minders run</code>. "
            "Shock windows are shaded on the charts.</div>", sizing_mode="stretch_width")
        help_text = pn.pane.Markdown(shock_help(), styles={"font-size": "12px",
                                                           "color": "#4b5563"})
        return [intro, self.shock_table, pn.Row(add, remove),
                pn.pane.Bokeh(self.timeline.figure, sizing_mode="stretch_width"),
                pn.Card(help_text, title="What the columns mean", collapsed=True,
                        sizing_mode="stretch_width")]

    def _experiments_tab(self) -> pn.Column | None:
        if self.results_dir is None:
            return None
        self.experiment: ExperimentResults | None = None
        self.heatmap = HeatmapView()
        self.exp_x = pn.widgets.Select(**label("x: parameter"), width=240)
        self.exp_y = pn.widgets.Select(**label("y: parameter"), width=240)
        self.exp_outcome = pn.widgets.Select(**label("Outcome"), width=240)
        self.exp_stat = pn.widgets.Select(**label("Statistic over replicates"),
                                          options=["mean", "median", "min", "max", "std"],
                                          width=180)
        self.exp_note = _html("", sizing_mode="stretch_width")
        reload_button = pn.widgets.Button(**label("Reload", "light"), width=90,
                                          align="end")
        reload_button.on_click(self._guard(lambda _e: self._load_experiment()))
        for widget in (self.exp_x, self.exp_y, self.exp_outcome, self.exp_stat):
            widget.param.watch(self._guard(lambda _e: self._draw_heatmap()), "value")
        self._load_experiment()
        return pn.Column(
            pn.Row(self.exp_x, self.exp_y, self.exp_outcome, self.exp_stat, reload_button),
            self.exp_note, pn.pane.Bokeh(self.heatmap.figure, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    # ------------------------------------------------------------------ guards
    def _guard(self, callback: Callable[..., Any], default: Any = None) -> Callable[..., Any]:
        """Run a callback; an unexpected error is shown in the page, the server goes on."""

        @functools.wraps(callback)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            doc = pn.state.curdoc
            if _outside_lock(doc):
                # Panel runs some events (a Tabulator edit) as coroutines without Bokeh's
                # document lock; changing the charts there breaks the session. Run the
                # callback on the next tick, which takes the lock.
                doc.add_next_tick_callback(functools.partial(guarded, *args, **kwargs))
                return default
            try:
                return callback(*args, **kwargs)
            except Exception as exc:
                log.exception("dashboard callback %s failed", getattr(callback, "__name__", ""))
                self.state.failure = (str(exc) if isinstance(exc, ScenarioError)
                                      else f"{type(exc).__name__}: {exc}")
                self.state.pause()
                self._stop_ticker()
                self._show_status()
                return default

        return guarded

    # ------------------------------------------------------------------ scenario events
    def _on_pick(self, event: Any) -> None:
        path = self.catalog.get(event.new)
        if path is None:  # only names from the server's own list are opened
            return
        try:
            scenario = load_scenario(path)
            self.state.load(scenario, source=event.new)
        except ScenarioError as exc:
            self._note(f"Could not open {html.escape(event.new)}", str(exc))
            return
        self._note()
        self._after_load()

    def _on_upload(self, event: Any) -> None:
        content = event.new
        if not content:
            return
        name = Path(self.upload.filename or "upload.toml").name
        try:
            scenario = parse_upload(name, content)
            self.state.load(scenario, source=f"{name} (uploaded)")
        except ScenarioError as exc:
            self._note(f"Upload of {html.escape(name)} refused", str(exc))
            return
        self._note(info=f"Opened {html.escape(name)}.")
        self._after_load()

    def _note(self, title: str = "", message: str = "", info: str = "") -> None:
        """The message under the upload button (an error, a confirmation, or nothing)."""
        if title:
            self.upload_note.object = (
                f'<div class="minders-box minders-error" id="minders-upload-error" role="alert">'
                f"<b>{title}.</b><div class='msg'>{html.escape(message)}</div></div>")
        elif info:
            self.upload_note.object = f'<div class="minders-box minders-info">{info}</div>'
        self.upload_note.visible = bool(title or info)

    def _after_load(self) -> None:
        """A new scenario: rebuild the form and charts, build the world if it is small."""
        state = self.state
        if state.source not in self.catalog:
            self.picker.param.update(value=None)
        self.form_column.objects = self._form_sections()
        self.shocks_column.objects = self._shock_editor()
        self.seed.value = state.scenario.run.seed
        self._chart_key = ()
        if state.positions <= EAGER_BUILD_LIMIT:
            state.reset()
        self._refresh(force=True)

    def _on_edit(self, path: str, value: Any) -> None:
        state = self.state
        was_playing = state.playing
        state.set(path, value)
        if path == "run.steps" or path.startswith("shocks"):
            self.timeline.update(state.data.get("shocks", []), state.steps if state.valid
                                 else int(state.data["run"].get("steps") or 1))
        if state.sim is None and state.valid and state.positions <= EAGER_BUILD_LIMIT:
            state.reset()
        if was_playing and not state.playing:
            self._stop_ticker()
        self._refresh(force=True)

    def _on_shocks(self, event: Any) -> None:
        self._on_edit_shocks(frame_to_shocks(event.new))

    def _on_edit_shocks(self, shocks: list[dict[str, Any]]) -> None:
        state = self.state
        state.set_shocks(shocks)
        self.timeline.update(shocks, state.steps)
        if state.sim is None and state.valid and state.positions <= EAGER_BUILD_LIMIT:
            state.reset()
        self._refresh(force=True)

    def _on_add_shock(self, _event: Any) -> None:
        shocks = frame_to_shocks(self.shock_table.value)
        start = min(self.state.steps - 1, self.state.steps // 4)
        shocks.append({"kind": "legitimacy", "start": start, "end": None, "value": 0.5,
                       "tiers": None, "ramp": 0, "label": "new shock"})
        self.shock_table.value = shocks_to_frame(shocks)  # fires _on_shocks

    def _on_remove_shocks(self, _event: Any) -> None:
        keep = [k for k in range(len(self.shock_table.value))
                if k not in set(self.shock_table.selection)]
        self.shock_table.selection = []
        self.shock_table.value = self.shock_table.value.iloc[keep].reset_index(drop=True)

    # ------------------------------------------------------------------ run events
    def _on_run(self, _event: Any) -> None:
        state = self.state
        if state.playing:
            state.pause()
            self._stop_ticker()
        elif state.play():
            self._on_speed(None)
            self.ticker.start()
        self._refresh(force=True)

    def _on_step(self, _event: Any) -> None:
        if self.state.playing:
            return
        self.state.step(1)
        self._refresh(force=True)

    def _on_reset(self, _event: Any) -> None:
        self._stop_ticker()
        self.state.reset()
        self._refresh(force=True)

    def _on_speed(self, _event: Any) -> None:
        speed = max(1, int(self.speed.value))
        period = max(MIN_PERIOD_MS, round(1000 / speed))
        self._steps_per_tick = max(1, round(speed * period / 1000))
        if self.ticker.period != period:
            self.ticker.period = period

    def _on_pin(self, _event: Any) -> None:
        state = self.state
        self._stop_ticker()
        if state.comparing:
            state.unpin_baseline()
        else:
            state.pin_baseline()
        if state.positions <= EAGER_BUILD_LIMIT:
            state.reset()
        self._refresh(force=True)

    def _tick(self) -> None:
        state = self.state
        if not state.playing:
            self._stop_ticker()
        else:
            state.step(getattr(self, "_steps_per_tick", 1))
            if not state.playing:
                self._stop_ticker()
        self._refresh(force=not state.playing)

    def _stop_ticker(self) -> None:
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()

    # ------------------------------------------------------------------ drawing
    def _refresh(self, force: bool = False) -> None:
        """Stream what is new into the charts and update the status, numbers and views."""
        state = self.state
        update = state.poll()
        if update.reset:
            self._new_world()
        if len(update.rows):
            self.charts.stream(update.rows)
        if update.baseline is not None and len(update.rows):
            self.compare_charts.stream(update.baseline, update.rows)
        now = time.monotonic()
        if force or now - self._last_views >= VIEW_INTERVAL_S:
            self._last_views = now
            self.hierarchy.update(state.hierarchy())
            self.network.update(state.network_status())
            self._show_numbers()
            self._show_compare()
        self._show_status()

    def _new_world(self) -> None:
        """Clear or rebuild the charts for a new world; draw the network sample."""
        state = self.state
        spec = state.scenario
        tiers = list(spec.tiers)
        supervised = [spec.tiers[t].minded_by is not None for t in tiers]
        shocks = [s.model_dump() for s in spec.shocks]
        key = (tuple(tiers), tuple(supervised))
        if key != self._chart_key:
            self.charts = TimeCharts(tiers, supervised, state.steps, shocks)
            self._chart_key = key
            panes = [pn.pane.Bokeh(f, sizing_mode="stretch_width") for f in self.charts.figures]
            n_status = len(self.charts.status_figures)
            legend = " ".join(
                f'<span class="minders-swatch" style="background:{STATUS_COLORS[s]}"></span>{s}'
                for s in STATUS_NAMES if s != "loyal")
            self.charts_column.objects = [
                _html(f'<div class="minders-legend">Statuses as a share of each tier\'s '
                      f"positions (loyal: the rest) &nbsp; {legend}</div>",
                      sizing_mode="stretch_width", margin=(6, 10, 0, 10)),
                pn.GridBox(*panes[:n_status], ncols=min(2, n_status),
                           sizing_mode="stretch_width"),
                panes[n_status + 1],  # discontent: the surprise gap, full width
                pn.GridBox(panes[n_status], panes[n_status + 2], ncols=2,
                           sizing_mode="stretch_width"),
            ]
        else:
            self.charts.clear()
            self.charts.set_shocks(shocks, state.steps)
        self.compare_charts.clear(state.steps)
        self.network.set_sample(state.network_sample(), state.positions)
        name = spec.name
        self.toml_download.filename = f"{name}.toml"
        self.parquet_download.filename = f"{name}-seed{spec.run.seed}-records.parquet"
        self.png_download.filename = f"{name}-seed{spec.run.seed}.png"
        self.baseline_download.filename = f"{name}-seed{spec.run.seed}-baseline-records.parquet"

    def _show_status(self) -> None:
        state = self.state
        status = state.status
        colour = STATUS_BADGES.get(status, "#6b7280")
        extra = " · comparing with the pinned baseline" if state.comparing else ""
        built = "" if state.sim is not None or not state.valid else (
            " · press Run or Step to build the world")
        self.status_pane.object = (
            f'<div class="minders-status" id="minders-status" data-status="{status}" '
            f'data-step="{state.t}"><span class="badge" style="background:{colour}">{status}'
            f"</span>step <b>{state.t:,}</b> of {state.steps:,} · seed "
            f"{state.scenario.run.seed} · {state.positions:,} positions{extra}{built}</div>"
        )
        self.run_button.param.update(**label("Pause" if state.playing else "Run"))
        runnable = state.valid and state.failure is None
        self.run_button.disabled = not runnable
        self.step_button.disabled = not runnable or state.playing or state.done
        self.pin_button.param.update(
            **label("Unpin baseline" if state.comparing else "Pin as baseline"))
        self.pin_button.disabled = not state.valid and not state.comparing
        has_run = state.t > 0
        self.parquet_download.disabled = not has_run
        self.png_download.disabled = not has_run
        self.toml_download.disabled = not state.valid
        self.baseline_download.visible = state.comparing
        self.baseline_download.disabled = not has_run
        if state.error:
            self.error_box.object = (
                '<div class="minders-box minders-error" id="minders-error" role="alert">'
                "<b>Not valid, not run:</b> "
                f'<div class="msg" id="minders-error-message">{html.escape(state.error)}</div>'
                "</div>")
        self.error_box.visible = bool(state.error)
        if state.failure:
            self.failure_box.object = (
                '<div class="minders-box minders-error" id="minders-failure" role="alert">'
                "<b>The run failed</b> (the dashboard is still running; change the scenario "
                f'or press Reset): <div class="msg">{html.escape(state.failure)}</div></div>')
        self.failure_box.visible = bool(state.failure)

    def _show_numbers(self) -> None:
        """A plain table of the run so far and its JSON: what a reader (or a test) checks."""
        state = self.state
        snapshot = state.snapshot()
        sizes = state.scenario.tier_sizes()
        header = ["tier", "positions", *STATUS_NAMES, "defections", "purges", "measured",
                  "true", "gap"]
        rows = []
        for tier in state.scenario.tiers:
            numbers = snapshot["tiers"].get(tier)
            cells = [f"<td>{html.escape(tier)}</td>", f"<td>{sizes[tier]:,}</td>"]
            for column in header[2:]:
                key = {"measured": "measured_discontent", "true": "true_discontent",
                       "gap": "surprise_gap"}.get(column, column)
                value = None if numbers is None else numbers[key]
                text = ("–" if value is None else f"{value:.1%}" if isinstance(value, float)
                        else f"{value:,}")
                cells.append(f'<td data-testid="{html.escape(column)}-{html.escape(tier)}">'
                             f"{text}</td>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        swatches = "".join(
            f'<th><span class="minders-swatch" style="background:{STATUS_COLORS[c]}"></span>'
            f"{c}</th>" if c in STATUS_COLORS else f"<th>{c}</th>" for c in header)
        self.numbers.object = (
            f'<div style="margin-top:8px"><div style="font:600 13px system-ui;color:#1f2933;'
            f'margin:6px 0">Numbers at step {state.t:,} (stocks now; defections and purges '
            f'summed over the run; discontent now)</div><table class="minders-numbers" '
            f'id="minders-numbers"><thead><tr>{swatches}</tr></thead><tbody>{"".join(rows)}'
            f'</tbody></table><details class="minders-json"><summary>Run data (JSON)</summary>'
            f'<pre id="minders-state">{html.escape(json.dumps(snapshot, indent=1))}</pre>'
            "</details></div>"
        )

    def _show_compare(self) -> None:
        state = self.state
        self.compare_body.visible = state.comparing
        if not state.comparing:
            self.compare_note.object = (
                '<div class="minders-box minders-info">Press <b>Pin as baseline</b> to freeze '
                "the current scenario, then change parameters in the sidebar: the variant runs "
                "beside the baseline with the same seed. Both runs draw the same random numbers "
                "wherever the change does not reach (common random numbers), so the "
                "difference is the effect of the change alone.</div>")
            self.compare_table.object = ""
            return
        overrides = state.overrides()
        items = "".join(f"<li><code>{html.escape(o)}</code></li>" for o in overrides) or (
            "<li>no change yet: edit a parameter in the sidebar</li>")
        self.compare_note.object = (
            '<div class="minders-box minders-info" id="minders-compare">Variant = baseline '
            f'plus <ul id="minders-overrides" style="margin:4px 0">{items}</ul>'
            f"Same seed ({state.scenario.run.seed}) and horizon ({state.steps} steps) for "
            "both.</div>")
        table = state.comparison()
        if table.empty:
            self.compare_table.object = ""
            return
        body = "".join(
            f"<tr><td>{html.escape(str(r.tier))}</td><td>{r.outcome.replace('_', ' ')}</td>"
            + "".join(f"<td>{_fmt(v)}</td>" for v in (r.baseline, r.variant, r.difference))
            + "</tr>" for r in table.itertuples())
        self.compare_table.object = (
            '<table class="minders-numbers" id="minders-comparison"><thead><tr><th>tier</th>'
            "<th>outcome (so far)</th><th>baseline</th><th>variant</th><th>difference</th>"
            f"</tr></thead><tbody>{body}</tbody></table>")

    # ------------------------------------------------------------------ experiments
    def _load_experiment(self) -> None:
        assert self.results_dir is not None
        self.experiment = load_results(self.results_dir)
        exp = self.experiment
        params, outcomes = exp.parameters, exp.outcomes
        self.exp_x.options = params
        self.exp_y.options = params
        self.exp_outcome.options = outcomes
        if len(params) >= 2:
            self.exp_x.value, self.exp_y.value = params[0], params[1]
        if outcomes:
            preferred = [o for o in outcomes if "defection" in o]
            self.exp_outcome.value = (preferred or outcomes)[0]
        skipped = (f" Skipped {len(exp.skipped)} unreadable: "
                   f"{html.escape(', '.join(exp.skipped[:3]))}." if exp.skipped else "")
        if exp.runs.empty:
            message = (f"No per-run outcomes found in <code>{html.escape(str(exp.directory))}"
                       "</code> (expected Parquet parts such as runs/part-*.parquet).")
        elif len(params) < 2:
            message = ("A heatmap needs two varied parameters; this experiment varies "
                       f"{len(params)} ({html.escape(', '.join(params)) or 'none'}).")
        else:
            message = (f"{len(exp.runs):,} runs from {exp.files} files in "
                       f"<code>{html.escape(str(exp.directory))}</code>.")
        self.exp_note.object = f'<div class="minders-box minders-info">{message}{skipped}</div>'
        self._draw_heatmap()

    def _draw_heatmap(self) -> None:
        exp = self.experiment
        if exp is None or exp.runs.empty:
            return
        x, y, outcome = self.exp_x.value, self.exp_y.value, self.exp_outcome.value
        if not x or not y or not outcome:
            return
        table = heatmap_table(exp.runs, x, y, outcome, self.exp_stat.value)
        self.heatmap.update(table, x, y, outcome, self.exp_stat.value)

    # ------------------------------------------------------------------ downloads
    def _toml_file(self) -> Any:
        import io

        if not self.state.valid:
            return None
        return io.StringIO(self.state.to_toml())

    def _parquet_file(self) -> Any:
        import io

        return io.BytesIO(records_parquet(self.state.records()))

    def _baseline_file(self) -> Any:
        import io

        return io.BytesIO(records_parquet(self.state.baseline_records()))

    def _png_file(self) -> Any:
        import io

        return io.BytesIO(figure_png(self.state.result()))


def _outside_lock(doc: Any) -> bool:
    """True inside a served session whose document lock is not held right now.

    Bokeh keeps ``_pending_writes`` a list exactly while the lock is held;
    anything unexpected (no session, another Bokeh) counts as locked.
    """
    session = getattr(getattr(doc, "session_context", None), "_session", None)
    return session is not None and getattr(session, "_pending_writes", []) is None


def card_class(title: str) -> str:
    """The CSS class of a form card (``Tier: residents`` -> ``mf-card-tier-residents``).

    Examples
    --------
    >>> card_class("Tier: residents"), card_class("Model")
    ('mf-card-tier-residents', 'mf-card-model')
    """
    return "mf-card-" + re.sub(r"[^a-z0-9_]+", "-", title.lower()).strip("-")


def _fmt(value: Any) -> str:
    if isinstance(value, float) and not float(value).is_integer():
        return f"{value:.4f}"
    return f"{value:,.0f}"


# --------------------------------------------------------------------------- serving
def free_port(host: str) -> int:
    """A port that is free on ``host`` now (the OS picks it).

    Examples
    --------
    >>> 0 < free_port("127.0.0.1") < 65536
    True
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def make_server(scenario: Scenario, source: str, catalog: dict[str, Path], *,
                host: str = "127.0.0.1", port: int = 0, results_dir: Path | None = None) -> Any:
    """A Bokeh server (not started) that gives each browser session its own page.

    Parameters
    ----------
    scenario : Scenario
        The scenario every new session opens with.
    source : str
        Its label.
    catalog : dict of str to Path
        Scenario files the page offers by name.
    host : str
        Address to bind (default loopback only).
    port : int
        Port; 0 picks a free one (read it back from ``server.port``).
    results_dir : Path, optional
        Experiment results folder for the Experiments tab.

    Returns
    -------
    bokeh.server.server.Server

    Examples
    --------
    >>> server = make_server(scenario, "pyongyang", {})  # doctest: +SKIP
    >>> server.start(); server.io_loop.start()  # doctest: +SKIP
    """
    pn.extension("tabulator", notifications=False)
    if port == 0:
        port = free_port(host)
    origins = [f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    if host in ("0.0.0.0", "::", ""):
        origins = ["*"]  # reachable under any name: the caller warned the user

    def session() -> Any:
        return DashboardApp(scenario, source, catalog, results_dir).template

    return pn.serve(
        {"/": session}, address=host, port=port, show=False, start=False,
        title="minders dashboard", websocket_origin=origins, threaded=False,
        # An upload is at most 1 MiB; base64 and framing stay far below this.
        websocket_max_message_size=4 * MAX_UPLOAD_BYTES,
    )
