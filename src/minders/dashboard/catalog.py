"""Scenarios the page may open: the bundled ones, by name, and files uploaded from the browser.

The browser only ever sends a name from the catalog (read on the server) or
the bytes of a file it uploads; it never names a path on the server. A file
belongs in the catalog when its ``kind`` has the ``dashboard`` feature
(:data:`minders.kinds.FEATURES`); the page asks the kind, not its name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from minders import kinds, scenarios
from minders.errors import ScenarioError
from minders.spec import parse_mapping

#: Largest scenario file accepted from the browser (bytes).
MAX_UPLOAD_BYTES = 1 << 20
_SUFFIXES = (".toml", ".yaml", ".yml")


def scenario_folders() -> list[Path]:
    """Folders searched for scenarios: ``./scenarios`` (if any), then the bundled ones.

    The bundled folder is package data (:func:`minders.scenarios.folder`), so
    it is found from a wheel as well as from a checkout (where ``./scenarios``
    links to it and is listed once).

    Examples
    --------
    >>> from minders import scenarios
    >>> bundled = scenarios.folder().resolve()
    >>> any(folder.resolve() == bundled for folder in scenario_folders())
    True
    """
    folders: list[Path] = []
    for folder in (Path.cwd() / "scenarios", scenarios.folder()):
        if folder.is_dir() and folder.resolve() not in [f.resolve() for f in folders]:
            folders.append(folder)
    return folders


def has_dashboard(kind_name: Any) -> bool:
    """The kind called ``kind_name`` exists and the dashboard explores it.

    Examples
    --------
    >>> has_dashboard("minders"), has_dashboard("epstein"), has_dashboard("nonsense")
    (True, False, False)
    """
    try:
        return "dashboard" in kinds.get(kind_name).features
    except ScenarioError:
        return False


def bundled_scenarios(folders: list[Path] | None = None) -> dict[str, Path]:
    """Scenario files the dashboard can open, by name (the file stem).

    Files whose kind lacks the ``dashboard`` feature (the classic models)
    and files that cannot be read are left out.

    Examples
    --------
    >>> catalog = bundled_scenarios()
    >>> "pyongyang" in catalog, "granovetter_riot" in catalog
    (True, False)
    """
    found: dict[str, Path] = {}
    for folder in scenario_folders() if folders is None else folders:
        for path in sorted(p for p in folder.iterdir() if p.suffix in _SUFFIXES):
            try:
                data = parse_mapping(path.read_bytes(), path.suffix, path.name)
            except (OSError, ScenarioError):
                continue
            if has_dashboard(data.get("kind", "minders")):
                found.setdefault(path.stem, path)
    return found


def parse_upload(filename: str, content: bytes) -> Any:
    r"""Read a scenario file sent by the browser, with the checks of ``minders run``.

    Parameters
    ----------
    filename : str
        The name the browser gave; only its suffix is used (.toml, .yaml, .yml).
    content : bytes
        The file, at most :data:`MAX_UPLOAD_BYTES`.

    Returns
    -------
    ScenarioBase
        A scenario of a kind with the ``dashboard`` feature.

    Raises
    ------
    ScenarioError
        Empty, too large, not UTF-8, not TOML/YAML, a kind the dashboard does
        not explore, a graph file (a path on the server, which the browser
        may not name), or anything ``minders validate`` refuses, with the
        same message.

    Examples
    --------
    >>> text = b'[tiers.residents]\nsize = 100\nminded_by = "minders"\nspan = 10\n'
    >>> text += b'[tiers.minders]\nsize = "auto"\n'
    >>> parse_upload("mine.toml", text).tier_sizes()
    {'residents': 100, 'minders': 10}
    >>> parse_upload("mine.toml", text + b"[model]\nshirk = 2\n")
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: model.shirk: expected a value less than or equal to 1, got 2
    >>> parse_upload("empty.toml", b"")
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: scenario: expected a non-empty file, got 'empty.toml'
    """
    name = Path(filename).name or "upload"
    if not content or not content.strip():
        raise ScenarioError("scenario", name, "a non-empty file")
    if len(content) > MAX_UPLOAD_BYTES:
        raise ScenarioError(
            "scenario", name, f"a file of at most {MAX_UPLOAD_BYTES // 1024} KiB "
            f"(this one has {len(content) // 1024:,} KiB)",
        )
    data = parse_mapping(content, Path(name).suffix, name)
    network = data.get("network")
    if isinstance(network, dict) and network.get("file") is not None:
        # A path chosen in the browser must not reach the server's file system.
        raise ScenarioError(
            "network.file", network["file"],
            "no graph file in an uploaded scenario (open it with "
            "'minders dashboard SCENARIO' on the machine that holds the graph)",
        )
    spec = kinds.validate_scenario(data)
    kinds.require(spec, "dashboard")
    return spec
