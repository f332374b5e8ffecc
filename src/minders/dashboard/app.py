"""The page: scenario form in the sidebar, run controls, tabs of live charts.

Everything the page does goes through a
:class:`~minders.dashboard.state.DashboardState`, one per browser session; this
module only lays out widgets and figures and wires their events to it. The
HTML it shows is built by :mod:`~minders.dashboard.views`, the server by
:mod:`~minders.dashboard.server` (which serves Bokeh's and Panel's JavaScript
and CSS itself, so the page works on an air-gapped machine).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Before Panel and Bokeh are imported: their JS/CSS from this server, never a CDN.
os.environ["BOKEH_RESOURCES"] = "server"

import panel as pn  # noqa: E402

from minders.dashboard import views  # noqa: E402
from minders.dashboard.catalog import MAX_UPLOAD_BYTES, parse_upload  # noqa: E402
from minders.dashboard.charts import (  # noqa: E402
    CompareCharts,
    HierarchyView,
    NetworkView,
    TimeCharts,
)
from minders.dashboard.compare import MAX_PAIRS  # noqa: E402
from minders.dashboard.experiments_tab import ExperimentsTab  # noqa: E402
from minders.dashboard.export import figure_png, records_parquet  # noqa: E402
from minders.dashboard.server import (  # noqa: E402, F401 (free_port, make_server: old home)
    free_port,
    make_server,
    open_address,
    scenario_query,
)
from minders.dashboard.shocks_tab import ShockEditor  # noqa: E402
from minders.dashboard.state import EAGER_BUILD_LIMIT, DashboardState  # noqa: E402
from minders.dashboard.views import PAGE_CSS, card_class  # noqa: E402, F401
from minders.dashboard.widgets import (  # noqa: E402
    build_form,
    field_spec,
    label,
    make_widget,
)
from minders.errors import ScenarioError  # noqa: E402
from minders.kinds import load_scenario  # noqa: E402
from minders.scenario import RunParams  # noqa: E402

log = logging.getLogger("minders.dashboard")

#: Steps a periodic tick may run before the page gets a chance to update (ms).
MIN_PERIOD_MS = 50
#: How often the hierarchy and network views are redrawn while running (s).
VIEW_INTERVAL_S = 0.3

def _html(text: str, **options: Any) -> pn.pane.HTML:
    return pn.pane.HTML(text, stylesheets=[PAGE_CSS], **options)


class DashboardApp:
    """One session's page.

    Parameters
    ----------
    scenario : ScenarioBase
        The scenario the page opens with (a kind with the ``dashboard`` feature).
    source : str
        Its label (a file name).
    catalog : dict of str to Path
        Scenario files the user may open by name (read on the server; the
        browser only sends a name from this list).
    results_dir : Path, optional
        An experiment results folder for the Experiments tab (hidden if None).
    sessions : Sessions, optional
        The server's :class:`~minders.dashboard.server.Sessions`: switching
        scenarios then opens a fresh page (see there why); without it (a page
        driven from Python) the scenario is replaced in place.

    Examples
    --------
    >>> import minders
    >>> page = DashboardApp(minders.load_scenario("pyongyang", ["tiers.residents.size=500"]),
    ...                     "pyongyang", {})
    >>> page.state.status, page.tab_names[0]
    ('ready', 'Cascade')
    """

    def __init__(self, scenario: Any, source: str, catalog: dict[str, Path],
                 results_dir: Path | None = None, sessions: Any = None) -> None:
        self.state = DashboardState(scenario, source)
        self.sessions = sessions
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
            **label("Upload a scenario file"), accept=".toml,.yaml,.yml", multiple=False,
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
        self.shocks = ShockEditor(self._on_edit_shocks, self._guard)
        self.numbers = _html("", sizing_mode="stretch_width")
        self.hierarchy = HierarchyView()
        self.network = NetworkView()
        self.compare_charts = CompareCharts(state.steps)
        self.compare_note = _html("", sizing_mode="stretch_width")
        self.compare_table = _html("", sizing_mode="stretch_width")

        self.pairs_input = pn.widgets.IntInput(label="replicate pairs", value=10, start=2,
                                               end=MAX_PAIRS, width=130)
        self.pairs_button = pn.widgets.Button(
            **label("Run replicates", "light"), width=140, css_classes=["mf-pairs"],
            description="Run baseline and variant with this many seeds each (pair r shares "
            "its seed) and show the mean paired difference with its 95% interval.")
        self.pairs_button.on_click(self._guard(self._on_pairs))
        self.pairs_table = _html("", sizing_mode="stretch_width")
        self.compare_body = pn.Column(
            pn.Row(*(pn.pane.Bokeh(f, sizing_mode="stretch_width")
                     for f in self.compare_charts.figures[:2]), sizing_mode="stretch_width"),
            pn.pane.Bokeh(self.compare_charts.discontent, sizing_mode="stretch_width"),
            self.compare_table,
            pn.Row(self.pairs_input, self.pairs_button, styles={"align-items": "flex-end"}),
            self.pairs_table, sizing_mode="stretch_width", visible=False)
        toolbar = pn.Row(
            self.run_button, self.step_button, self.reset_button, self.seed, self.speed,
            self.pin_button, self.status_pane, sizing_mode="stretch_width",
            styles={"align-items": "flex-end", "flex-wrap": "wrap"},
        )
        tabs = [
            ("Cascade", pn.Column(self.charts_column, self.numbers, sizing_mode="stretch_width")),
            ("Shocks", self.shocks.panel),
            ("Hierarchy & network", pn.Row(
                pn.pane.Bokeh(self.hierarchy.figure, sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.network.figure, sizing_mode="stretch_width"),
                sizing_mode="stretch_width")),
            ("Compare", pn.Column(self.compare_note, self.compare_body,
                                  sizing_mode="stretch_width")),
        ]
        self.experiments: ExperimentsTab | None = None
        if self.results_dir is not None:
            self.experiments = ExperimentsTab(self.results_dir, self._guard)
            tabs.append(("Experiments", self.experiments.panel))
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
            header_background=views.ACCENT,
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
        name = event.new
        path = self.catalog.get(name)
        if path is None or name == self.state.source:  # only names from the server's list
            return
        if self.sessions is not None and pn.state.location is not None:
            open_address(scenario_query(name))  # a fresh page: see minders.dashboard.server
            return
        try:
            scenario = load_scenario(path)
            self.state.load(scenario, source=name)
        except ScenarioError as exc:
            self.show_note(f"Could not open {name}", str(exc))
            return
        self.show_note()
        self._after_load()

    def _on_upload(self, event: Any) -> None:
        content = event.new
        if content is None:  # the chooser was cleared
            return
        name = Path(self.upload.filename or "upload.toml").name
        # The chooser forgets the file (its name in the page too), so that the note below
        # is the only word on it and choosing the same file again is an upload again.
        self.upload.param.update(value=None, filename=None)
        self.upload.clear()
        try:
            scenario = parse_upload(name, content)
        except ScenarioError as exc:
            self.show_note(f"Upload of {name} refused", str(exc))
            return
        if self.sessions is not None and pn.state.location is not None:
            open_address(f"upload={self.sessions.keep(scenario, name)}")
            return
        self.state.load(scenario, source=f"{name} (uploaded)")
        self.show_note(info=f"Opened {name}.")
        self._after_load()

    def show_note(self, title: str = "", message: str = "", info: str = "") -> None:
        """The note under the upload button: an error, a confirmation, or nothing (plain text)."""
        self.upload_note.object = views.note_html(title, message, info)
        self.upload_note.visible = bool(title or info)

    def _after_load(self) -> None:
        """A new scenario: rebuild the form and charts, build the world if it is small."""
        state = self.state
        if state.source not in self.catalog:
            self.picker.param.update(value=None)
        self.form_column.objects = self._form_sections()
        self.shocks.show(self.state.data.get("shocks", []), self.state.steps)
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
            self.shocks.redraw(state.data.get("shocks", []), state.steps if state.valid
                               else int(state.data["run"].get("steps") or 1))
        if state.sim is None and state.valid and state.positions <= EAGER_BUILD_LIMIT:
            state.reset()
        if was_playing and not state.playing:
            self._stop_ticker()
        self._refresh(force=True)

    def _on_edit_shocks(self, shocks: list[dict[str, Any]]) -> None:
        state = self.state
        state.set_shocks(shocks)
        self.shocks.steps = state.steps
        if state.sim is None and state.valid and state.positions <= EAGER_BUILD_LIMIT:
            state.reset()
        self._refresh(force=True)

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

    def _on_pairs(self, _event: Any) -> None:
        """K replicate pairs of baseline and variant: the paired difference with its interval."""
        from minders.dashboard.compare import paired_replicates

        state = self.state
        if not state.comparing or not state.valid:
            return
        self.pairs_table.object = views.pairs_html(None)  # "running" while it works
        table = paired_replicates(state.baseline, state.scenario, int(self.pairs_input.value),
                                  seed=state.scenario.run.seed, steps=state.steps)
        self.pairs_table.object = views.pairs_html(table)

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
            self.charts_column.objects = [
                _html(views.legend_html(), sizing_mode="stretch_width", margin=(6, 10, 0, 10)),
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
        snapshot = {"status": status, "step": state.t, "steps": state.steps,
                    "seed": state.scenario.run.seed, "positions": state.positions}
        self.status_pane.object = views.status_html(snapshot, state.comparing,
                                                    built=state.sim is not None)
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
            self.error_box.object = views.error_html(state.error)
        self.error_box.visible = bool(state.error)
        if state.failure:
            self.failure_box.object = views.failure_html(state.failure)
        self.failure_box.visible = bool(state.failure)

    def _show_numbers(self) -> None:
        """A plain table of the run so far and its JSON: what a reader (or a test) checks."""
        self.numbers.object = views.numbers_html(self.state.snapshot(),
                                                 self.state.scenario.tier_sizes())

    def _show_compare(self) -> None:
        state = self.state
        self.compare_body.visible = state.comparing
        if not state.comparing:
            self.compare_note.object = views.COMPARE_INTRO
            self.compare_table.object = ""
            self.pairs_table.object = ""
            return
        self.compare_note.object = views.compare_note_html(
            state.overrides(), state.scenario.run.seed, state.steps)
        self.compare_table.object = views.comparison_html(state.comparison())

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
