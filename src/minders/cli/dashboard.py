"""``minders dashboard``: serve the dashboard on this machine.

Importing this module is cheap (``minders --help`` imports it): Panel, Bokeh
and the engine are imported only when the command runs.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from minders.cli._console import fail, say
from minders.errors import ScenarioError

#: Addresses that only this machine can reach.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


_fail = fail


def dashboard(
    scenario: Annotated[
        Path | None,
        typer.Argument(help="Scenario to open (default: a bundled one; others can be picked "
                       "or uploaded in the page)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a value of SCENARIO: dotted.path=value "
                     "(repeatable).", metavar="PATH=VALUE"),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on. Anything but 127.0.0.1 lets other "
                          "machines use the dashboard (it has no login).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: pick a free one).", min=0, max=65535)] = 0,
    results: Annotated[
        Path | None,
        typer.Option(help="Experiment results folder (from 'minders sweep') to show as "
                     "heatmaps; the page reads nothing else from disk."),
    ] = None,
    show: Annotated[
        bool, typer.Option("--show/--no-browser", help="Open the page in a web browser.")
    ] = True,
) -> None:
    """Explore a scenario in the browser: edit, run, watch the cascade, compare two worlds."""
    if importlib.util.find_spec("panel") is None or importlib.util.find_spec("bokeh") is None:
        _fail("the dashboard needs the optional 'dashboard' extra: "
              "pip install 'minders[dashboard]'")
    # OpenMP threads that spin between the engine's short parallel regions steal the CPU
    # the web server and the browser need; a passive wait made a small world's step ~100x
    # faster on a busy 2-core machine (24 ms -> 0.24 ms) and a million agents' no slower.
    # Read when Numba starts its thread pool, i.e. at the first step.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from minders import kinds, scenarios
    from minders.dashboard.catalog import bundled_scenarios
    from minders.kinds import load_scenario

    catalog = bundled_scenarios()
    try:
        if scenario is not None:
            # A bundled scenario's name works as well as a path (as for 'minders run').
            path = scenario if scenario.is_file() else scenarios.resolve(str(scenario))
            spec = load_scenario(path, set_ or [])
            source = path.stem
            if catalog.get(source, Path()).resolve() != path.resolve():
                source = f"{path.name} (command line)"
            catalog = {source: path, **{k: v for k, v in catalog.items() if k != source}}
        elif catalog:
            source = "pyongyang" if "pyongyang" in catalog else next(iter(catalog))
            spec = load_scenario(catalog[source], set_ or [])
        else:
            _fail("no scenario: pass a SCENARIO file (no bundled scenarios/*.toml found here)")
            return
        kinds.require(spec, "dashboard")
    except ScenarioError as exc:
        _fail(str(exc))
        return
    if results is not None and not results.is_dir():
        _fail(f"--results: expected an existing folder, got {str(results)!r}")
    if host not in LOOPBACK:
        say("warning", f"listening on {host}: anyone who can reach this address can use the "
            "dashboard (run simulations, upload scenarios); it has no login. Use the default "
            "127.0.0.1 unless you mean it.", style="bold yellow")
    try:
        from minders.dashboard.server import make_server
    except ImportError as exc:  # an extra installed only in part
        _fail(f"the dashboard could not load ({exc}): pip install 'minders[dashboard]'")
        return
    try:
        server = make_server(spec, source, catalog, host=host, port=port,
                             results_dir=results.resolve() if results is not None else None)
    except OSError as exc:  # the port is taken, the address is not ours
        _fail(f"--port: cannot listen on {host}:{port} ({exc.strerror or exc}); "
              "try --port 0 for a free port")
        return
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else (
        f"[{host}]" if ":" in host else host)
    url = f"http://{shown_host}:{server.port}/"
    sys.stdout.write(f"minders dashboard: {url}  (Ctrl+C to stop)\n")
    sys.stdout.flush()
    server.start()
    if show:
        import webbrowser

        server.io_loop.add_callback(webbrowser.open, url)
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def register(app: typer.Typer) -> None:
    """Add ``minders dashboard`` to the command line.

    Examples
    --------
    >>> import typer
    >>> cli = typer.Typer()
    >>> register(cli)
    >>> [c.name for c in cli.registered_commands]
    ['dashboard']
    """
    app.command(name="dashboard")(dashboard)
