"""minders: simulate surveillance hierarchies, preference falsification and defection cascades.

Examples
--------
>>> import minders
>>> scenario = minders.load_scenario("scenarios/pyongyang.toml")  # doctest: +SKIP
>>> result = minders.simulate(scenario, seed=1)  # doctest: +SKIP
>>> result.records.head(), result.to_polars(), result.plot()  # doctest: +SKIP
>>> result.save("results/pyongyang")  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from minders.engine import Simulation
from minders.errors import ScenarioError
from minders.kinds import simulate
from minders.result import Result
from minders.scenario import Scenario, load_scenario

try:
    __version__ = version("minders")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "Result", "Scenario", "ScenarioError", "Simulation", "__version__", "load_scenario",
    "simulate",
]
