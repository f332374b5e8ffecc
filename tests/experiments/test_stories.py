"""The three results of docs/experiments.md ('Three results'), at a size that runs in seconds.

The same code as docs/examples/stories.py (which runs the bundled experiments at full
size): smaller worlds and fewer seeds, the bundled files otherwise.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from ..conftest import ROOT


@pytest.fixture(scope="module")
def stories():
    spec = importlib.util.spec_from_file_location("stories", ROOT / "docs/examples/stories.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_deep_coup_tips_every_seed_and_a_shallow_one_none(stories, tmp_path):
    exp = stories.experiment("tipping_point", set={"tiers.residents.size": 3000},
                             replicates=3, values=[0.46, 0.30])
    curve = {row["coup_legitimacy"]: row for row in
             stories.tipping(stories.run(exp, tmp_path, "serial"))["curve"]}
    assert curve[0.46]["share"] == 0.0 and curve[0.30]["share"] == 1.0
    assert curve[0.46]["high"] < 1.0 and curve[0.30]["low"] > 0.0


def test_true_discontent_foretells_a_cascade_and_measured_does_not(stories, tmp_path):
    exp = stories.experiment("surprise", samples=10,
                             set={"tiers.residents.size": 3000, "shocks.0.value": 0.36})
    result = stories.surprise(stories.run(exp, tmp_path, "serial"))
    assert 0 < result["cascades"] < result["runs"]
    measured, true = result["measured"], result["true"]
    assert measured["low"] <= 0.5 <= measured["high"]  # no better than a coin
    assert true["auc"] > 0.75 and true["auc"] > measured["auc"]
    assert true["mean_cascade"] > true["mean_quiet"]


def test_minders_defect_after_their_wards_escape_only_with_a_stake(stories, tmp_path):
    exp = stories.experiment("minders_follow", replicates=3,
                             set={"tiers.workers_china.size": 2000,
                                  "tiers.workers_russia.size": 1000})
    result = stories.follow(stories.run(exp, tmp_path, "serial"), exp)
    on, off = result["stake_2"], result["stake_0"]
    assert on["minder_defections"] > off["minder_defections"]
    # unit by unit: a minder's defections follow its wards' escapes, not the reverse
    lags = np.array(on["by_unit"])
    assert lags[:, 0].tolist() == list(range(-12, 13))
    after, before = lags[13:17, 1].mean(), lags[8:12, 1].mean()  # lags 1..4 and -4..-1
    assert after > 0.03 and after > 3 * abs(before)
