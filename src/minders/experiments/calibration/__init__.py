"""Calibration: fit a scenario to an observed series with ABC-SMC, and check its forecasts.

A *calibration file* names a base scenario, the parameters to fit (dotted
paths, as in sweeps) with their priors, the observed series and the
observation model that turns simulated departures into recorded arrivals
(:mod:`~minders.experiments.calibration.schema`). :func:`calibrate` runs
pyabc's ABC-SMC on the executors sweeps use, resumably, and writes the
posterior, the predictive bands, a calibrated scenario and a summary that
says which parameters the data identified
(:mod:`~minders.experiments.calibration.fit`). pyabc is imported only when
a calibration runs.

Data flows one way: schema -> observation (observed series, observation
model) -> abc (the model pyabc calls, the seeded sampler, the loop) -> fit
(the whole run) -> report (tables, scores, figures).

Examples
--------
>>> from minders.experiments.calibration import load_calibration
>>> sorted(load_calibration("north_korea_arrivals").parameters)[:1]
['observation.delay.mean']
"""

from minders.experiments.calibration.fit import CalibrationResult, calibrate, prepare
from minders.experiments.calibration.schema import (
    Calibration,
    load_calibration,
    validate_calibration,
)

__all__ = ["Calibration", "CalibrationResult", "calibrate", "load_calibration", "prepare",
           "validate_calibration"]
