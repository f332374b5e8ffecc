"""The dashboard: explore a scenario in the browser, watch the cascade, compare two worlds.

``minders dashboard [SCENARIO]`` serves a Panel (HoloViz) app on 127.0.0.1.
The package is split so that the logic is testable without a browser:

- :mod:`~minders.dashboard.state`: the controller, pure Python. It holds the
  edited scenario, validates every edit with the CLI's rules, owns the
  simulation (and its baseline twin in compare mode), steps it and hands out
  the record rows that are new since the last poll.
- :mod:`~minders.dashboard.export`: scenario as TOML, records as Parquet, PNG.
- :mod:`~minders.dashboard.results`: outcome tables of ``minders sweep``.
- :mod:`~minders.dashboard.widgets`: Panel widgets generated from the typed
  scenario schema (bounds, help texts).
- :mod:`~minders.dashboard.charts`: Bokeh figures fed by streaming.
- :mod:`~minders.dashboard.app`: the page layout and its callbacks; its HTML in
  :mod:`~minders.dashboard.views`, its tabs in :mod:`~minders.dashboard.shocks_tab` and
  :mod:`~minders.dashboard.experiments_tab`, the server in :mod:`~minders.dashboard.server`.
- :mod:`~minders.dashboard.catalog`: the scenarios the page may open (bundled, uploaded).
- :mod:`minders.cli.dashboard`: the ``minders dashboard`` command.

The controller and its helpers (``state``, ``catalog``, ``compare``,
``tables``, ``network_sample``, ``results``, ``views``) import neither Panel
nor Bokeh; the rest needs the ``dashboard`` extra.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DashboardState"]


def __getattr__(name: str) -> Any:
    # Lazy, so that ``minders --help`` (which imports the command module of
    # this package) does not pay for the engine, Numba or Panel.
    if name == "DashboardState":
        from minders.dashboard.state import DashboardState

        return DashboardState
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
