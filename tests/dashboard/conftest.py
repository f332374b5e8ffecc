"""Fixtures of the dashboard tests: a small scenario and its controller."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ..conftest import BASE

#: BASE with a shorter horizon: quick enough to run to the end in every test.
SMALL: dict[str, Any] = copy.deepcopy(BASE)
SMALL["run"] = {"steps": 12, "seed": 3}
SMALL["shocks"] = [{"kind": "legitimacy", "start": 4, "end": 8, "value": 0.3}]


@pytest.fixture
def small_data() -> dict[str, Any]:
    return copy.deepcopy(SMALL)


@pytest.fixture
def state(small_data):
    from minders.dashboard.state import DashboardState

    return DashboardState(small_data, source="small")
