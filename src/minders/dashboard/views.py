"""The page's HTML: pure functions of plain data (a snapshot, a table), no Panel.

Everything that comes from a user or a file (scenario and tier names, error
messages, overrides, file names) is escaped here, so an error message is
shown as text and never interpreted as HTML.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pandas as pd

from minders.codes import STATUS_NAMES
from minders.formatting import format_measure

#: The colour of the header bar and of informative boxes.
ACCENT = "#1f3a5f"
#: One colour per status, used in every view (also the charts' colours).
STATUS_COLORS = {
    "loyal": "#4e79a7", "falsifying": "#f2b134", "active": "#e15759",
    "jailed": "#8c8c8c", "purged": "#9c6ead", "repatriated": "#b07aa1", "defected": "#2f9e6e",
}

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


def card_class(title: str) -> str:
    """The CSS class of a form card (``Tier: residents`` -> ``mf-card-tier-residents``).

    Examples
    --------
    >>> card_class("Tier: residents"), card_class("Model")
    ('mf-card-tier-residents', 'mf-card-model')
    """
    return "mf-card-" + re.sub(r"[^a-z0-9_]+", "-", title.lower()).strip("-")


def status_html(snapshot: dict[str, Any], comparing: bool = False, built: bool = True) -> str:
    """The status line: a badge, the step, the seed and the size of the world.

    Examples
    --------
    >>> snap = {"status": "ready", "step": 0, "steps": 10, "seed": 1, "positions": 1200}
    >>> 'data-status="ready"' in status_html(snap)
    True
    """
    status = snapshot["status"]
    colour = STATUS_BADGES.get(status, "#6b7280")
    extra = " · comparing with the pinned baseline" if comparing else ""
    hint = "" if built or status == "invalid" else " · press Run or Step to build the world"
    return (
        f'<div class="minders-status" id="minders-status" data-status="{status}" '
        f'data-step="{snapshot["step"]}"><span class="badge" style="background:{colour}">'
        f'{status}</span>step <b>{snapshot["step"]:,}</b> of {snapshot["steps"]:,} · seed '
        f'{snapshot["seed"]} · {snapshot["positions"]:,} positions{extra}{hint}</div>'
    )


def error_html(message: str) -> str:
    """Why the edited scenario does not run (escaped).

    Examples
    --------
    >>> "&lt;b&gt;" in error_html("name: expected text, got '<b>'")
    True
    """
    return ('<div class="minders-box minders-error" id="minders-error" role="alert">'
            "<b>Not valid, not run:</b> "
            f'<div class="msg" id="minders-error-message">{html.escape(message)}</div></div>')


def failure_html(message: str) -> str:
    """Why building or stepping the world failed (escaped)."""
    return ('<div class="minders-box minders-error" id="minders-failure" role="alert">'
            "<b>The run failed</b> (the dashboard is still running; change the scenario "
            f'or press Reset): <div class="msg">{html.escape(message)}</div></div>')


def note_html(title: str = "", message: str = "", info: str = "") -> str:
    """The note under the upload button: an error (title and message) or a confirmation.

    All three are plain text and escaped.

    Examples
    --------
    >>> "Opened &lt;x&gt;.toml." in note_html(info="Opened <x>.toml.")
    True
    """
    if title:
        return ('<div class="minders-box minders-error" id="minders-upload-error" role="alert">'
                f"<b>{html.escape(title)}.</b><div class='msg'>{html.escape(message)}</div></div>")
    if info:
        return ('<div class="minders-box minders-info" id="minders-upload-note" role="status">'
                f"{html.escape(info)}</div>")
    return ""


def _cell(value: Any) -> str:
    """A number of the numbers table: shares as percentages, counts with separators."""
    if value is None:
        return "–"
    return f"{value:.1%}" if isinstance(value, float) else format_measure(value)


def numbers_html(snapshot: dict[str, Any], sizes: dict[str, int]) -> str:
    """A plain table of the run so far and its JSON: what a reader (or a test) checks.

    Parameters
    ----------
    snapshot : dict
        :meth:`~minders.dashboard.state.DashboardState.snapshot`.
    sizes : dict of str to int
        Positions per tier, in scenario order.
    """
    header = ["tier", "positions", *STATUS_NAMES, "defections", "purges", "measured",
              "true", "gap"]
    keys = {"measured": "measured_discontent", "true": "true_discontent",
            "gap": "surprise_gap"}
    rows = []
    for tier, size in sizes.items():
        numbers = snapshot["tiers"].get(tier)
        cells = [f"<td>{html.escape(tier)}</td>", f"<td>{size:,}</td>"]
        for column in header[2:]:
            value = None if numbers is None else numbers[keys.get(column, column)]
            cells.append(f'<td data-testid="{html.escape(column)}-{html.escape(tier)}">'
                         f"{_cell(value)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    swatches = "".join(
        f'<th><span class="minders-swatch" style="background:{STATUS_COLORS[c]}"></span>'
        f"{c}</th>" if c in STATUS_COLORS else f"<th>{c}</th>" for c in header)
    return (
        f'<div style="margin-top:8px"><div style="font:600 13px system-ui;color:#1f2933;'
        f'margin:6px 0">Numbers at step {snapshot["step"]:,} (stocks now; defections and '
        f'purges summed over the run; discontent now)</div><table class="minders-numbers" '
        f'id="minders-numbers"><thead><tr>{swatches}</tr></thead><tbody>{"".join(rows)}'
        f'</tbody></table><details class="minders-json"><summary>Run data (JSON)</summary>'
        f'<pre id="minders-state">{html.escape(json.dumps(snapshot, indent=1))}</pre>'
        "</details></div>"
    )


COMPARE_INTRO = (
    '<div class="minders-box minders-info">Press <b>Pin as baseline</b> to freeze '
    "the current scenario, then change parameters in the sidebar: the variant runs "
    "beside the baseline with the same seed. Both runs draw the same random numbers "
    "wherever the change does not reach (common random numbers), so the "
    "difference is the effect of the change alone.</div>")


def compare_note_html(overrides: list[str], seed: int, steps: int) -> str:
    """The variant as the baseline plus overrides (escaped).

    Examples
    --------
    >>> "<code>model.fear=0.05</code>" in compare_note_html(["model.fear=0.05"], 1, 10)
    True
    """
    items = "".join(f"<li><code>{html.escape(o)}</code></li>" for o in overrides) or (
        "<li>no change yet: edit a parameter in the sidebar</li>")
    return ('<div class="minders-box minders-info" id="minders-compare">Variant = baseline '
            f'plus <ul id="minders-overrides" style="margin:4px 0">{items}</ul>'
            f"Same seed ({seed}) and horizon ({steps} steps) for both.</div>")


def comparison_html(table: pd.DataFrame) -> str:
    """Baseline, variant and difference per tier and outcome (empty for no table)."""
    if table.empty:
        return ""
    body = "".join(
        f"<tr><td>{html.escape(str(r.tier))}</td><td>{r.outcome.replace('_', ' ')}</td>"
        + "".join(f"<td>{format_measure(v)}</td>" for v in (r.baseline, r.variant,
                                                            r.difference))
        + "</tr>" for r in table.itertuples())
    return ('<table class="minders-numbers" id="minders-comparison"><thead><tr><th>tier</th>'
            "<th>outcome (so far)</th><th>baseline</th><th>variant</th><th>difference</th>"
            f"</tr></thead><tbody>{body}</tbody></table>")


def pairs_html(table: pd.DataFrame | None) -> str:
    """The paired differences of K replicate pairs with their intervals (None: running).

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["cascade"], "baseline": [0.2], "variant": [0.5],
    ...                   "difference": [0.3], "low": [0.1], "high": [0.5], "pairs": [10]})
    >>> "[0.1, 0.5]" in pairs_html(t)
    True
    """
    if table is None:
        return '<div class="minders-box minders-info">Running the replicate pairs…</div>'
    if table.empty:
        return ""
    level = 95
    body = "".join(
        f"<tr><td>{html.escape(str(r.outcome)).replace('_', ' ')}</td>"
        + "".join(f"<td>{format_measure(v)}</td>" for v in (r.baseline, r.variant,
                                                            r.difference))
        + f"<td>[{format_measure(r.low)}, {format_measure(r.high)}]</td></tr>"
        for r in table.itertuples())
    pairs = int(table["pairs"].iloc[0])
    return ('<table class="minders-numbers" id="minders-pairs"><caption>'
            f"{pairs} replicate pairs with common random numbers: means and the mean paired "
            f"difference (variant - baseline) with its {level}% t interval</caption><thead><tr>"
            "<th>outcome</th><th>baseline</th><th>variant</th><th>difference</th>"
            f"<th>{level}% interval</th></tr></thead><tbody>{body}</tbody></table>")


def legend_html() -> str:
    """The one legend of the status charts (loyal is the rest of each bar)."""
    swatches = " ".join(
        f'<span class="minders-swatch" style="background:{STATUS_COLORS[s]}"></span>{s}'
        for s in STATUS_NAMES if s != "loyal")
    return (f'<div class="minders-legend">Statuses as a share of each tier\'s positions '
            f"(loyal: the rest) &nbsp; {swatches}</div>")


def experiment_note_html(directory: str, runs: int, files: int, parameters: list[str],
                         skipped: list[str]) -> str:
    """What was read from an experiment folder, or why no heatmap can be drawn."""
    where = html.escape(directory)
    extra = (f" Skipped {len(skipped)} unreadable: {html.escape(', '.join(skipped[:3]))}."
             if skipped else "")
    if runs == 0:
        message = (f"No per-run outcomes found in <code>{where}</code> (expected Parquet "
                   "parts such as runs/part-*.parquet).")
    elif len(parameters) < 2:
        message = ("A heatmap needs two varied parameters; this experiment varies "
                   f"{len(parameters)} ({html.escape(', '.join(parameters)) or 'none'}).")
    else:
        message = f"{runs:,} runs from {files} files in <code>{where}</code>."
    return f'<div class="minders-box minders-info">{message}{extra}</div>'
