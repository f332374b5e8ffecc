"""Serving the page: one :class:`~minders.dashboard.app.DashboardApp` per browser session.

A session opens the default scenario, or the one its address names:
``/?scenario=NAME`` (a name from the catalog, read on the server) or
``/?upload=TOKEN`` (a file the browser uploaded, parsed and kept here under
a random token). Switching scenarios loads a fresh page at such an address
rather than rebuilding the page in place: Bokeh's browser side keeps every
model it was ever sent, so after a rebuild in place each streamed step cost
the browser the old form and charts as well (a run of ``overseas_workers``
took 78 s instead of 23 s after one switch; the page blocked for seconds).
"""

from __future__ import annotations

import os
import secrets
import socket
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import quote

# Before Panel and Bokeh are imported: their JS/CSS from this server, never a CDN.
os.environ["BOKEH_RESOURCES"] = "server"

import panel as pn  # noqa: E402

from minders.dashboard.catalog import MAX_UPLOAD_BYTES  # noqa: E402
from minders.errors import ScenarioError  # noqa: E402
from minders.kinds import load_scenario  # noqa: E402

#: Uploaded scenarios kept for the page that opens them (the oldest are forgotten).
KEPT_UPLOADS = 32


class Sessions:
    """What each new browser session opens, and where a switch sends the browser.

    Parameters
    ----------
    scenario : ScenarioBase
        The scenario a session opens by default.
    source : str
        Its label.
    catalog : dict of str to Path
        Scenario files the page offers by name.
    results_dir : Path, optional
        Experiment results folder for the Experiments tab.

    Examples
    --------
    >>> import minders
    >>> sessions = Sessions(minders.load_scenario("pyongyang"), "pyongyang", {})
    >>> token = sessions.keep(minders.load_scenario("overseas_workers"), "ow.toml")
    >>> sessions.scenario_for({"upload": [token.encode()]})[1:]
    ('ow.toml (uploaded)', 'Opened ow.toml.')
    >>> sessions.scenario_for({"scenario": [b"../../etc/passwd"]})[1:]
    ('pyongyang', '')
    """

    def __init__(self, scenario: Any, source: str, catalog: dict[str, Path],
                 results_dir: Path | None = None) -> None:
        self.scenario, self.source = scenario, source
        self.catalog = dict(catalog)
        self.results_dir = results_dir
        self.uploads: OrderedDict[str, tuple[Any, str]] = OrderedDict()

    def keep(self, scenario: Any, filename: str) -> str:
        """Keep an uploaded scenario for the next session; returns its token."""
        token = secrets.token_urlsafe(12)
        self.uploads[token] = (scenario, filename)
        while len(self.uploads) > KEPT_UPLOADS:
            self.uploads.popitem(last=False)
        return token

    def scenario_for(self, args: dict[str, list[bytes]]) -> tuple[Any, str, str]:
        """The scenario, its label and a confirmation for a session's address arguments."""
        token = _first(args, "upload")
        if token in self.uploads:
            scenario, filename = self.uploads[token]
            return scenario, f"{filename} (uploaded)", f"Opened {filename}."
        name = _first(args, "scenario")
        if name in self.catalog:  # only names from the server's own list are opened
            try:
                return load_scenario(self.catalog[name]), name, ""
            except ScenarioError:
                pass  # the default page is shown; the catalog was checked at start
        return self.scenario, self.source, ""

    def page(self, args: dict[str, list[bytes]]) -> Any:
        """A new session's page."""
        from minders.dashboard.app import DashboardApp

        scenario, source, note = self.scenario_for(args)
        page = DashboardApp(scenario, source, self.catalog, self.results_dir, sessions=self)
        if note:
            page.show_note(info=note)
        return page


def _first(args: dict[str, list[bytes]], key: str) -> str:
    values = args.get(key) or [b""]
    value = values[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def open_address(query: str) -> None:
    """Send this session's browser to ``/?QUERY`` (a fresh session and page)."""
    location = pn.state.location
    location.reload = True
    location.search = "?" + query


def scenario_query(name: str) -> str:
    """The address arguments that open the catalog's scenario ``name``.

    Examples
    --------
    >>> scenario_query("my world")
    'scenario=my%20world'
    """
    return f"scenario={quote(name)}"


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


def make_server(scenario: Any, source: str, catalog: dict[str, Path], *,
                host: str = "127.0.0.1", port: int = 0, results_dir: Path | None = None) -> Any:
    """A Bokeh server (not started) that gives each browser session its own page.

    Parameters
    ----------
    scenario : ScenarioBase
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
    >>> import minders
    >>> server = make_server(minders.load_scenario("pyongyang"), "pyongyang", {})
    ... # doctest: +ELLIPSIS
    Launching server at http://127.0.0.1:...
    >>> 0 < server.port < 65536
    True
    """
    pn.extension("tabulator", notifications=False)
    if port == 0:
        port = free_port(host)
    origins = [f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    if host in ("0.0.0.0", "::", ""):
        origins = ["*"]  # reachable under any name: the caller warned the user
    sessions = Sessions(scenario, source, catalog, results_dir)

    def session() -> Any:
        return sessions.page(pn.state.session_args).template

    return pn.serve(
        {"/": session}, address=host, port=port, show=False, start=False,
        title="minders dashboard", websocket_origin=origins, threaded=False,
        # An upload is at most 1 MiB; base64 and framing stay far below this.
        websocket_max_message_size=4 * MAX_UPLOAD_BYTES,
    )
