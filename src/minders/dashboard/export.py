"""What the dashboard hands out: the scenario as TOML, records as Parquet, the figure as PNG.

The TOML writer is small and local because the standard library reads TOML
but cannot write it. It writes the layout of the bundled scenarios: top-level
keys, then one ``[section]`` per mapping, ``[tiers.NAME]`` tables, inline
tables for distributions and ``[[shocks]]`` arrays of tables; ``None`` means
"unset" and is left out (TOML has no null). :func:`to_toml` output read back
with :mod:`tomllib` gives the same data.
"""

from __future__ import annotations

import io
import json
import math
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from minders.result import Result

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(key: str) -> str:
    """A TOML key: bare when it can be, quoted otherwise.

    Examples
    --------
    >>> toml_key("residents"), toml_key("two words")
    ('residents', '"two words"')
    """
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_string(text: str) -> str:
    r"""A TOML basic string.

    JSON escapes are valid TOML escapes; ``ensure_ascii=False`` keeps
    characters outside the BMP whole (TOML has no surrogate escapes), and DEL
    is the one control character JSON leaves alone but TOML does not.

    Examples
    --------
    >>> print(toml_string('say "hi"\n'))
    "say \"hi\"\n"
    """
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _multiline(text: str) -> str | None:
    """A multi-line basic string for prose with line breaks (None if it needs escapes)."""
    if "\n" not in text or any(ord(c) < 32 and c not in "\n\t" or c == "\x7f" for c in text):
        return None
    body = text.replace("\\", "\\\\").replace('"""', '""\\"')
    return '"""\n' + body + '"""'  # the newline after the opening quotes is not part of it


def toml_value(value: Any) -> str:
    """One TOML value (also the right-hand side of a ``--set`` override).

    Examples
    --------
    >>> toml_value(0.002), toml_value(True), toml_value("auto"), toml_value([1, "a"])
    ('0.002', 'true', '"auto"', '[1, "a"]')
    >>> toml_value({"kind": "beta", "a": 2, "b": 5})
    '{ kind = "beta", a = 2, b = 5 }'
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # shortest text that reads back to the same double
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = [f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML: {value!r}")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _has_tables(value: dict[str, Any]) -> bool:
    return any(isinstance(v, dict) or _is_table_array(v) for v in value.values())


def to_toml(data: dict[str, Any], header: str = "") -> str:
    """Write a scenario dict as TOML in the layout of the bundled scenarios.

    Parameters
    ----------
    data : dict
        Plain data (``Scenario.model_dump(mode="json")``): dicts, lists,
        strings, numbers, booleans and ``None`` (left out).
    header : str, optional
        Comment lines put first (each prefixed with ``# ``).

    Returns
    -------
    str

    Examples
    --------
    >>> text = to_toml({"name": "x", "run": {"steps": 10, "max_memory_gb": None},
    ...                 "tiers": {"a": {"size": 5, "hardship": {"kind": "constant", "value": 0.5}}},
    ...                 "shocks": [{"kind": "pull", "start": 1, "value": 0.1}]})
    >>> print(text)
    name = "x"
    <BLANKLINE>
    [run]
    steps = 10
    <BLANKLINE>
    [tiers.a]
    size = 5
    hardship = { kind = "constant", value = 0.5 }
    <BLANKLINE>
    [[shocks]]
    kind = "pull"
    start = 1
    value = 0.1
    <BLANKLINE>
    >>> import tomllib
    >>> tomllib.loads(text)["tiers"]["a"]["hardship"]["value"]
    0.5
    """
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    _emit(lines, [], data, top=True)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def _emit(lines: list[str], path: list[str], table: dict[str, Any], top: bool = False) -> None:
    """Write ``table``: its ``[header]`` and plain keys, then its sub-tables and table arrays.

    A mapping becomes a ``[section]`` at the top level, inside a pure
    container of mappings (``tiers``) or when it holds mappings itself;
    otherwise it is an inline table (a distribution). A pure container gets
    no header of its own: ``[tiers.residents]`` says it all.
    """
    present = {k: v for k, v in table.items() if v is not None}
    container = bool(present) and all(isinstance(v, dict) for v in present.values())
    plain: list[tuple[str, Any]] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    arrays: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in present.items():
        if _is_table_array(value):
            arrays.append((key, value))
        elif isinstance(value, dict) and (top or container or _has_tables(value)):
            tables.append((key, value))
        else:
            plain.append((key, value))
    if plain or (path and not tables and not arrays):
        if path:
            lines.append(f"[{'.'.join(path)}]")
        for key, value in plain:
            text = _multiline(value) if isinstance(value, str) else None
            lines.append(f"{toml_key(key)} = {text or toml_value(value)}")
        lines.append("")
    for key, value in tables:
        _emit(lines, [*path, toml_key(key)], value)
    for key, items in arrays:
        for item in items:
            lines.append(f"[[{'.'.join([*path, toml_key(key)])}]]")
            lines.extend(f"{toml_key(k)} = {toml_value(v)}" for k, v in item.items()
                         if v is not None)
            lines.append("")


def records_parquet(records: pd.DataFrame) -> bytes:
    """The records as Parquet bytes (what ``minders run`` writes to ``records.parquet``).

    Examples
    --------
    >>> import pandas as pd
    >>> records_parquet(pd.DataFrame({"step": [0]}))[:4]
    b'PAR1'
    """
    buffer = io.BytesIO()
    records.to_parquet(buffer, index=False)
    return buffer.getvalue()


def figure_png(result: Result) -> bytes:
    r"""The run's summary figure (``summary.png`` of ``minders run``) as PNG bytes.

    Examples
    --------
    >>> import minders
    >>> png = figure_png(minders.simulate(
    ...     minders.load_scenario("pyongyang", ["tiers.residents.size=300"]), steps=3))
    >>> png[:8] == b"\x89PNG\r\n\x1a\n"
    True
    """
    import matplotlib.pyplot as plt

    fig = result.plot()
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, dpi=120, format="png")
    finally:
        plt.close(fig)
    return buffer.getvalue()
