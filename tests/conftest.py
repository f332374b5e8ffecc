"""Shared fixtures: small scenarios built in code, and paths to the bundled ones."""

from __future__ import annotations

import copy
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from minders.scenario import Scenario
from minders.spec import apply_overrides

ROOT = Path(__file__).resolve().parents[1]
# The doc generators in docs/examples/ share _markers.py; tests load them by path.
sys.path.append(str(ROOT / "docs" / "examples"))
#: Bundled scenarios of the minders kind (the classic models have tests of their own).
SCENARIOS = sorted(
    path for path in (ROOT / "scenarios").glob("*.toml")
    if tomllib.loads(path.read_text()).get("kind", "minders") == "minders"
)

BASE: dict[str, Any] = {
    "name": "small",
    "run": {"steps": 30, "seed": 1},
    "model": {"informer_rate": 0.01, "purge_rate": 0.3, "fear_per_event": 0.02, "leak": 0.05},
    "tiers": {
        "residents": {
            "size": 600, "minded_by": "minders", "span": 20, "abroad": 0.5,
            "abroad_chance": 0.2, "threshold": 0.1, "replace_delay": 3,
        },
        "minders": {
            "size": "auto", "minded_by": "security", "span": 5, "abroad": 1.0,
            "abroad_chance": 0.3, "threshold": 0.1, "replace_delay": 2,
        },
        "security": {"size": "auto", "threshold": 0.3},
    },
    "shocks": [{"kind": "legitimacy", "start": 10, "end": 20, "value": 0.3}],
}


def make_scenario(overrides: dict[str, Any] | None = None, base: dict | None = None) -> Scenario:
    """A small three-tier scenario, with dotted-path overrides."""
    data = copy.deepcopy(base if base is not None else BASE)
    return Scenario.model_validate(apply_overrides(data, overrides or {}))


@pytest.fixture
def small() -> Scenario:
    return make_scenario()
