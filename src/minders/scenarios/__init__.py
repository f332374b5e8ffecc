"""The bundled scenarios and experiments, shipped as package data.

The same files are found from a wheel and from a checkout (where
``scenarios/`` and ``experiments/`` at the repository root link here). A
command that takes a scenario or experiment file also takes the name of a
bundled one: ``minders run pyongyang`` runs ``pyongyang.toml`` from here when
no file of that name exists.

Examples
--------
>>> "pyongyang" in names()
True
>>> path("pyongyang").name
'pyongyang.toml'
>>> "span_sweep" in names("experiments")
True
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

from minders.errors import ScenarioError

Collection = Literal["scenarios", "experiments", "calibrations"]
_SUFFIXES = (".toml", ".yaml", ".yml")


def folder(collection: Collection = "scenarios") -> Path:
    """The folder that holds the bundled files of ``collection``."""
    root = Path(str(files(__name__)))
    return root if collection == "scenarios" else root / collection


def names(collection: Collection = "scenarios") -> list[str]:
    """Names (file stems) of the bundled scenarios or experiments, sorted."""
    return sorted(p.stem for p in folder(collection).iterdir() if p.suffix in _SUFFIXES)


def path(name: str, collection: Collection = "scenarios") -> Path:
    """The file of the bundled scenario (or experiment) called ``name``.

    Raises
    ------
    ScenarioError
        If there is no bundled file of that name.
    """
    stem = Path(name).stem if Path(name).suffix in _SUFFIXES else name
    for suffix in _SUFFIXES:
        candidate = folder(collection) / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    what = collection[:-1]
    raise ScenarioError(
        what, name, f"an existing {what} file or the name of a bundled one "
        f"({', '.join(names(collection))})",
    )


def resolve(reference: str | Path, collection: Collection = "scenarios",
            relative_to: Path | None = None) -> Path:
    """A file path for ``reference``: an existing file, else a bundled name.

    Parameters
    ----------
    reference : str or Path
        A path (absolute, or relative to ``relative_to`` or the working folder)
        or the name of a bundled file, with or without its suffix.
    collection : {"scenarios", "experiments", "calibrations"}
        Where bundled names are looked up.
    relative_to : Path, optional
        Folder that relative paths start from (an experiment file's folder).

    Examples
    --------
    >>> resolve("overseas_workers").name
    'overseas_workers.toml'
    """
    candidate = Path(reference)
    if relative_to is not None and not candidate.is_absolute():
        candidate = relative_to / candidate
    if candidate.is_file():
        return candidate
    name = str(reference)  # a Path too: the command line hands its arguments over as paths
    if "/" not in name and "\\" not in name:
        return path(name, collection)
    what = collection[:-1]
    raise ScenarioError(what, str(reference), f"an existing {what} file")


#: What a scenario file's comments say of a value: ``[data...]`` or ``[assumption...]``.
BASIS = {"[data": "sourced", "[assumption": "assumed"}


def markers(source: str | Path) -> dict[str, str]:
    """The basis of each value a TOML scenario file marks in its comments.

    The bundled scenarios mark a value ``[data: ...]`` (sourced: see
    ``minders.data``) or ``[assumption]``, in a comment on its line or in the
    comment lines right above it. Returns ``{dotted path: "sourced" or
    "assumed"}`` (arrays of tables numbered from 0, as in ``--set``); values
    without a marker are left out.

    Examples
    --------
    >>> marks = markers(path("pyongyang"))
    >>> marks["model.watch_capacity"], marks["tiers.residents.border_chance"]
    ('assumed', 'sourced')
    """
    text = Path(source).read_text(encoding="utf-8")
    found: dict[str, str] = {}
    table, arrays, above = "", {}, []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            above = []
            continue
        if line.startswith("#"):
            above.append(line)
            continue
        if line.startswith("[[") and line.endswith("]]"):
            name = line[2:-2].strip()
            arrays[name] = arrays.get(name, -1) + 1
            table, above = f"{name}.{arrays[name]}", []
            continue
        if line.startswith("[") and line.endswith("]"):
            table, above = line[1:-1].strip().strip('"'), []
            continue
        key, sep, rest = line.partition("=")
        if not sep:
            above = []
            continue
        comment = rest.split("#", 1)[1] if "#" in rest else ""
        basis = _basis(comment) or _basis(" ".join(above))
        if basis:
            dotted = key.strip().strip('"')
            found[f"{table}.{dotted}" if table else dotted] = basis
        above = []
    return found


def _basis(comment: str) -> str | None:
    """The basis a comment names, or None when it names none or both."""
    named = {basis for mark, basis in BASIS.items() if mark in comment}
    return named.pop() if len(named) == 1 else None
