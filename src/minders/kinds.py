"""Scenario kinds: the minders model and the classic models run by the same interfaces.

A kind bundles a scenario class (pydantic, with a ``kind`` literal, a
``name`` and a ``run`` section holding ``steps`` and ``seed``), a
``simulate`` function returning a :class:`~minders.result.Result`, and the
``summary`` table and ``figure`` of its results. ``minders run``, the Python
API and the experiment layer look kinds up here, so a reference model is a
scenario kind, not a separate program.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from minders.errors import ScenarioError

#: Built-in kinds and the module that registers each (imported on first use).
BUILTIN: dict[str, str] = {
    "minders": "minders.engine",
    "epstein": "minders.classic.epstein",
    "granovetter": "minders.classic.granovetter",
    "watts": "minders.classic.watts",
    "kuran": "minders.classic.kuran",
}


@dataclass(frozen=True)
class Kind:
    """What the interfaces need to know about one scenario kind.

    Attributes
    ----------
    name : str
        The value of ``kind`` in a scenario file.
    scenario_class : type
        Pydantic model validating scenarios of this kind.
    simulate : callable
        ``simulate(scenario, seed=None, steps=None, progress=None) -> Result``.
    summary : callable
        ``summary(result) -> pandas.DataFrame``: the table ``minders run`` prints.
    figure : callable
        ``figure(result) -> matplotlib.figure.Figure``: ``summary.png``.
    description : str
        One line for help texts.
    """

    name: str
    scenario_class: type
    simulate: Callable[..., Any]
    summary: Callable[[Any], Any]
    figure: Callable[[Any], Any]
    description: str = ""


_REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add (or replace) a kind in the registry."""
    _REGISTRY[kind.name] = kind
    return kind


def available() -> list[str]:
    """Names of the kinds that can be loaded here."""
    names = []
    for name in BUILTIN:
        try:
            get(name)
        except ScenarioError:
            continue
        names.append(name)
    return names + [n for n in _REGISTRY if n not in BUILTIN]


def get(name: str) -> Kind:
    """The kind called ``name``, importing its module on first use.

    Raises
    ------
    ScenarioError
        If no such kind exists.
    """
    if name not in _REGISTRY and name in BUILTIN:
        try:
            importlib.import_module(BUILTIN[name])
        except ModuleNotFoundError as exc:
            if not BUILTIN[name].startswith(exc.name or "\0"):
                raise
    if name not in _REGISTRY:
        known = [n for n in BUILTIN if n in _REGISTRY or _importable(BUILTIN[n])]
        raise ScenarioError("kind", name, f"one of {', '.join(known)}")
    return _REGISTRY[name]


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def simulate(scenario: Any, seed: int | None = None, steps: int | None = None,
             progress: Callable[[int, int], None] | None = None) -> Any:
    """Run a scenario of any kind once and return its :class:`~minders.result.Result`.

    Parameters
    ----------
    scenario : pydantic model
        From :func:`minders.load_scenario` (the minders model or a classic kind).
    seed : int, optional
        Base seed (default: the scenario's ``run.seed``).
    steps : int, optional
        Horizon (default: the scenario's ``run.steps``).
    progress : callable, optional
        Called as ``progress(done, total)`` after each step.

    Examples
    --------
    >>> import minders
    >>> riot = minders.load_scenario("scenarios/granovetter_riot.toml")  # doctest: +SKIP
    >>> minders.simulate(riot).records.tail(1)  # doctest: +SKIP
    """
    return get(scenario.kind).simulate(scenario, seed=seed, steps=steps, progress=progress)
