"""Scenario kinds: the minders model and the classic models behind one interface.

A kind bundles a scenario class (extending :class:`~minders.spec.ScenarioBase`),
a ``simulate`` function returning a :class:`~minders.result.Result`, and the
hooks the interfaces need: the summary table and figure of a result, the
columns of its records, checks beyond the schema, extra metadata for
``run.json``, default metrics and the features it supports. ``minders run``,
the Python API, the experiment layer and the dashboard ask the kind; none of
them branches on a kind's name.

The kinds are listed in one static table, :data:`REGISTRY`, as
``"module:attribute"`` strings: a kind's module is imported the first time
the kind is used, so reading a classic scenario never loads the minders
engine, and nothing registers itself by import side effect.
"""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from minders.errors import ScenarioError
from minders.spec import (
    MAX_SEED,
    MAX_STEPS,
    ScenarioBase,
    apply_overrides,
    read_scenario_file,
    validate_as,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from minders.result import Result

#: Every kind, as ``name: "module:attribute"`` of its :class:`Kind`.
REGISTRY: dict[str, str] = {
    "minders": "minders.model:KIND",
    "epstein": "minders.classic.epstein:KIND",
    "epstein2": "minders.classic.epstein.model2:KIND",
    "granovetter": "minders.classic.granovetter:KIND",
    "watts": "minders.classic.watts:KIND",
    "kuran": "minders.classic.kuran:KIND",
}

#: Features a kind may support beyond running (see :func:`require`).
FEATURES = {
    "dashboard": "the dashboard explores the minders model; run classic models with "
                 "'minders run'",
    "plan": "planning searches the spans of a hierarchy",
}


def _no_checks(scenario: Any, steps: int | None = None) -> None:
    """No checks beyond the schema."""


def _no_metadata(scenario: Any) -> dict[str, Any]:
    """No metadata beyond the common fields."""
    return {}


def _no_metrics(scenario: Any) -> list[dict[str, Any]]:
    """No default metrics."""
    return []


@dataclass(frozen=True)
class Kind:
    """What the interfaces need to know about one scenario kind.

    Attributes
    ----------
    name : str
        The value of ``kind`` in a scenario file.
    scenario_class : type
        The pydantic model validating scenarios of this kind.
    simulate : callable
        ``simulate(scenario, seed=None, steps=None, progress=None) -> Result``.
    summary : callable
        ``summary(result) -> pandas.DataFrame``: the table ``minders run`` prints.
    figure : callable
        ``figure(result) -> matplotlib.figure.Figure``: ``summary.png``.
    description : str
        One line for help texts.
    columns : tuple of str
        Value columns of the records (what metrics may name).
    checks : callable
        ``checks(scenario, steps=None)`` raises :class:`~minders.errors.ScenarioError`
        for problems the schema cannot see (memory for a horizon of ``steps``,
        files); run by ``validate`` and before a run is built.
    metadata : callable
        ``metadata(scenario) -> dict``: extra entries of ``run.json``.
    default_metrics : callable
        ``default_metrics(scenario) -> list[dict]``: metric specs for an
        experiment that names none.
    features : frozenset of str
        Features of :data:`FEATURES` the kind supports.
    """

    name: str
    scenario_class: type[ScenarioBase]
    simulate: Callable[..., Result]
    summary: Callable[[Result], pd.DataFrame]
    figure: Callable[[Result], Figure]
    description: str = ""
    columns: tuple[str, ...] = ()
    checks: Callable[..., None] = _no_checks
    metadata: Callable[[Any], dict[str, Any]] = _no_metadata
    default_metrics: Callable[[Any], list[dict[str, Any]]] = _no_metrics
    features: frozenset[str] = field(default_factory=frozenset)


_LOADED: dict[str, Kind] = {}


def names() -> list[str]:
    """The names of every kind, in table order.

    Examples
    --------
    >>> names()
    ['minders', 'epstein', 'epstein2', 'granovetter', 'watts', 'kuran']
    """
    return list(REGISTRY)


def get(name: Any) -> Kind:
    """The kind called ``name``, importing its module on first use.

    Raises
    ------
    ScenarioError
        If no such kind exists.

    Examples
    --------
    >>> get("granovetter").scenario_class.__name__
    'GranovetterScenario'
    """
    if not isinstance(name, str) or name not in REGISTRY:
        raise ScenarioError("kind", name, f"one of {', '.join(REGISTRY)}")
    if name not in _LOADED:
        module, attribute = REGISTRY[name].split(":")
        _LOADED[name] = getattr(importlib.import_module(module), attribute)
    return _LOADED[name]


def of(scenario: ScenarioBase) -> Kind:
    """The kind of a validated scenario."""
    return get(scenario.kind)


def require(scenario: ScenarioBase, feature: str) -> None:
    """Raise :class:`ScenarioError` unless the scenario's kind supports ``feature``.

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> require(Scenario.model_validate({"tiers": {"w": {"size": 5}}}), "plan")
    """
    kind = of(scenario)
    if feature not in kind.features:
        supporting = [n for n in REGISTRY if feature in get(n).features]
        raise ScenarioError(
            "kind", kind.name, f"{' or '.join(repr(n) for n in supporting)} ({FEATURES[feature]})"
        )


def validate_scenario(data: Mapping[str, Any]) -> Any:
    """Validate a raw mapping as a scenario of the kind it names (default ``"minders"``).

    Raises
    ------
    ScenarioError
        Naming the field, the value and what was expected.
    """
    name = data.get("kind", "minders") if isinstance(data, Mapping) else "minders"
    return validate_as(get(name).scenario_class, data)


def load_scenario(
    path: str | Path, overrides: str | list[str] | dict[str, Any] | None = None
) -> Any:
    """Read, override and validate a scenario file (or a bundled scenario, by name).

    Parameters
    ----------
    path : str or Path
        A ``.toml`` (or ``.yaml``) scenario, or the name of a bundled one
        (see :mod:`minders.scenarios`).
    overrides : list of str or dict, optional
        ``["tiers.workers.span=40"]`` or ``{"tiers.workers.span": 40}``.

    Returns
    -------
    ScenarioBase
        The scenario, of the class its ``kind`` names.

    Raises
    ------
    ScenarioError
        Naming the field, the value and what was expected.

    Examples
    --------
    >>> import minders
    >>> s = minders.load_scenario("pyongyang", ["run.seed=10"])
    >>> s.run.seed, s.kind
    (10, 'minders')
    """
    from minders import scenarios

    data = read_scenario_file(scenarios.resolve(path))
    if overrides:
        data = apply_overrides(data, overrides)
    return validate_scenario(data)


def simulate(scenario: Any, seed: int | None = None, steps: int | None = None,
             progress: Callable[[int, int], None] | None = None) -> Result:
    """Run a scenario of any kind once and return its :class:`~minders.result.Result`.

    Parameters
    ----------
    scenario : ScenarioBase
        From :func:`load_scenario` (the minders model or a classic kind).
    seed : int, optional
        Base seed (default: the scenario's ``run.seed``).
    steps : int, optional
        Horizon (default: the scenario's ``run.steps``).
    progress : callable, optional
        Called as ``progress(done, total)`` after each step.

    Examples
    --------
    >>> import minders
    >>> riot = minders.load_scenario("granovetter_riot")
    >>> int(minders.simulate(riot).records["active"].iloc[-1])
    100
    """
    kind = of(scenario)
    if seed is not None:
        seed = check_seed(seed, "run.seed")
    if steps is not None:
        steps = check_steps(steps, "run.steps")
    kind.checks(scenario, steps)
    return kind.simulate(scenario, seed=seed, steps=steps, progress=progress)



def check_seed(seed: Any, field: str = "run.seed") -> int:
    """``seed`` as an int in [0, :data:`MAX_SEED`], or a :class:`ScenarioError` naming ``field``.

    Examples
    --------
    >>> check_seed(3)
    3
    >>> check_seed(-1, "--seed")
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: --seed: expected an integer in [0, 9223372036854775807], got -1
    """
    if not _is_int(seed) or not 0 <= seed <= MAX_SEED:
        raise ScenarioError(field, seed, f"an integer in [0, {MAX_SEED}]")
    return int(seed)


def check_steps(steps: Any, field: str = "run.steps") -> int:
    """``steps`` as an int in [1, :data:`MAX_STEPS`], or a :class:`ScenarioError`."""
    if not _is_int(steps) or not 1 <= steps <= MAX_STEPS:
        raise ScenarioError(field, steps, f"an integer in [1, {MAX_STEPS:,}]")
    return int(steps)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
