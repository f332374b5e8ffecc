"""Regenerate docs/img/pyongyang.png, the README's figure: the bundled Pyongyang scenario.

Run ``python docs/examples/readme_figure.py`` (about a minute): it runs
``scenarios/pyongyang.toml`` with its own seed, exactly as ``make demo`` does,
and saves the run's summary figure.
"""

from __future__ import annotations

from pathlib import Path

import minders

OUT = Path(__file__).resolve().parents[1] / "img" / "pyongyang.png"

if __name__ == "__main__":
    result = minders.simulate(minders.load_scenario("pyongyang"))
    result.plot(OUT)
    print(f"wrote {OUT}")
