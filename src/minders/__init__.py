"""minders: simulate surveillance hierarchies, preference falsification and defection cascades.

The public API (and even the version) is loaded on first use, so ``import
minders`` takes milliseconds and the command line can catch Ctrl-C from its
first moment.

Examples
--------
>>> import minders
>>> scenario = minders.load_scenario("pyongyang", ["run.burn_in=0"])
>>> result = minders.simulate(scenario, seed=1, steps=4)
>>> result.records.shape
(16, 28)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from minders.errors import ScenarioError

if TYPE_CHECKING:
    from minders.engine import Simulation
    from minders.experiments.calibration import calibrate
    from minders.experiments.replicates import simulate
    from minders.kinds import load_scenario
    from minders.result import Result, load
    from minders.scenario import Scenario

#: Public names and the module each comes from.
_LAZY = {
    "Result": "minders.result",
    "Scenario": "minders.scenario",
    "Simulation": "minders.engine",
    "calibrate": "minders.experiments.calibration",
    "load": "minders.result",
    "load_scenario": "minders.kinds",
    "simulate": "minders.experiments.replicates",  # kinds.simulate, or replicates of it
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("minders")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'minders' has no attribute {name!r}")


__all__ = [
    "Result", "Scenario", "ScenarioError", "Simulation", "__version__", "calibrate", "load",
    "load_scenario", "simulate",
]
