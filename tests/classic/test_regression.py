"""Records pinned bit for bit: the classic kinds give the same records for a scenario and seed.

The hashes were computed with the code before the Epstein module was split
into a package and its kernels' arguments grouped (commit bc470d4); a change
of any of them means a change of behaviour, not of layout. Epstein runs with
each convention varied, so that every path through the kernels is pinned.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from minders import kinds
from minders.kinds import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

#: (file, overrides, seed, steps) -> SHA-256 of the records' values.
PINNED = {
    ("epstein_model1", (), 7, 60):
        "cdc0291ed86632a1510b662ab0ea5f23e42d6ae291b96e00e64564aac63e9b08",
    ("epstein_legitimacy_drop", (), 7, 70):
        "cafe1acd6b455b1bb7ae832f9b338f6de7fa89b65aee882bb8f8c40ffcbad363",
    ("epstein_legitimacy_decline", (), 7, 70):
        "ca6ab43635fb2b5c532c523bb6f8f97f04fb5d125a17c1896f795c4395138e25",
    ("epstein_model1", ("conventions.activation=synchronous",), 7, 40):
        "7769ece2bace07bf0c29f3e8b611f473c3962a57e3270f96f6c8e68dd479c1a9",
    ("epstein_model1", ("conventions.arrest_ratio=mesa", "conventions.jail_holds_cell=true",
                        "conventions.order=act_then_move",
                        "conventions.neighbourhood=von_neumann",
                        "conventions.placement=per_cell"), 7, 40):
        "372a37501c4e134c121bc96827b5787e9a56a521aab236f4c7223269ee8191a4",
    ("epstein_model1", ("conventions.arrest_ratio=paper", "conventions.neighbourhood=moore",
                        "conventions.order=act_then_move", "citizens.vision=3"), 7, 40):
        "c530eb4e7d53686a32cae3bbd25dbad921c4b1fb7bda84133c973ffe94c50173",
    ("epstein_model1", ("conventions.neighbourhood=cross", "conventions.movement=false",
                        "conventions.activation=synchronous",
                        "conventions.jail_holds_cell=true"), 7, 40):
        "c0bf3ff6dcea2466f337246c5e05a2e258cda18e399ebbe21fe38445f2970bfe",
    # computed with the kernels before the speed work of issue 14 (signed indices, one kernel
    # call per step; commit 25f8852), on grids larger and less square than the paper's and a
    # vision wider than the 40x40 runs' above
    ("epstein_model1", ("conventions.arrest_ratio=mesa", "conventions.jail_holds_cell=true",
                        "conventions.order=act_then_move",
                        "conventions.neighbourhood=von_neumann",
                        "conventions.placement=per_cell", "grid.width=100", "grid.height=100"),
     11, 30): "bec0b2df47360689d759a8285b001dbbd812689b20ed0fea1d4620ba59007d92",
    ("epstein_model1", ("grid.width=61", "grid.height=47", "citizens.vision=10",
                        "cops.vision=12", "conventions.neighbourhood=moore"), 11, 30):
        "38f157e5fcd47d1a0445b7ce96e676ce967045a7aec64fbf8b481c9096c63137",
    ("granovetter_riot", (), 7, None):
        "139eee73a78ca50b2b33591c69afcb1895f7d176afe53183707b64a2ba9deef1",
    ("granovetter_normal", (), 7, None):
        "bd7e25464cb9e8d6f755a515cff3876dae0e3d5fb05ebc8113fd0855352ed5f1",
    ("watts_er", (), 7, None):
        "5ae514fadcfdd31a22b05c38747004402a063f939248341000ddac91acb71742",
    ("kuran_revolution", (), 7, 40):
        "9050d8795d837a90c5bdcf3d34ca3fe00f4eb94e74da8cf3fbc5fc7cc5864a50",
}


def records_digest(file: str, overrides: tuple[str, ...], seed: int, steps: int | None) -> str:
    """SHA-256 of the records' column names, dtypes and values."""
    scenario = load_scenario(SCENARIOS / f"{file}.toml", list(overrides))
    records = kinds.simulate(scenario, seed=seed, steps=steps).records
    digest = hashlib.sha256()
    for name in records.columns:
        column = np.ascontiguousarray(records[name].to_numpy())
        digest.update(f"{name}:{column.dtype.str}:{column.size};".encode())
        digest.update(column.tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("case", list(PINNED), ids=lambda c: "-".join([c[0], *c[1]]))
def test_records_are_unchanged(case):
    assert records_digest(*case) == PINNED[case]
