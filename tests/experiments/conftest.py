"""Tiny scenarios and experiment files written into temporary folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

#: 300 workers abroad, their minders and security: a run of 20 steps takes milliseconds.
TINY_SCENARIO = """\
name = "tiny"
[run]
steps = 20
seed = 1
[tiers.workers]
size = 300
minded_by = "minders"
span = 20
abroad = 1.0
abroad_chance = 0.05
[tiers.minders]
size = "auto"
minded_by = "security"
span = 5
[tiers.security]
size = "auto"
"""

GRID: dict[str, Any] = {
    "name": "tiny_grid",
    "scenario": "base.toml",
    "seed": 3,
    "replicates": 3,
    "parameters": {
        "tiers.workers.span": {"values": [5, 20, 40]},
        "model.purge_rate": {"low": 0.1, "high": 0.9, "num": 2},
    },
    "metrics": [
        {"kind": "defections", "tier": "workers"},
        {"kind": "defection_rate"},
        {"kind": "peak_surprise_gap"},
        {"kind": "surveillance_headcount"},
        {"kind": "total", "column": "arrests"},
    ],
}


def write_experiment(folder: Path, data: dict[str, Any], name: str = "exp.yaml") -> Path:
    """Write the tiny scenario and an experiment (YAML: any dict round-trips) into ``folder``."""
    (folder / "base.toml").write_text(TINY_SCENARIO, encoding="utf-8")
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    return write_experiment(tmp_path, GRID)


@pytest.fixture(autouse=True)
def one_engine_thread():
    """Runs in this process use one Numba thread, as each worker of a sweep does.

    The tiny scenarios here give the parallel kernel almost no work per step;
    with two threads on a busy machine, each step waits for a descheduled
    thread, and a test takes many times longer. Results do not depend on it.
    """
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(previous)
