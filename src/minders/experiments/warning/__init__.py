"""Early warning: how much notice the visible signs give before a cascade.

An ensemble (or sweep) around a tipping point is run with its per-step
records kept; runs are labelled by whether they cascade; indicators computed
only from observable columns (:mod:`.observables`) are scored at several
lead times by ROC AUC (with DeLong intervals), hit and false-alarm rates and
median lead time (:mod:`.scores`); a simulated defector survey shows the
selection bias of asking those who left (:mod:`.survey`). See
docs/warning.md.

Modules: :mod:`.spec` (the ``[warning]`` table), :mod:`.observables`,
:mod:`.indicators` (rolling level, trend, variance, lag-1 autocorrelation,
skewness), :mod:`.scores`, :mod:`.survey`, :mod:`.analysis` (``analyze``,
``run_warning``) and :mod:`.figures`.

Examples
--------
>>> from minders.experiments.warning import OBSERVABLE, WarningSpec
>>> WarningSpec().cascade.share, "arrests" in OBSERVABLE
(0.1, True)
"""

from __future__ import annotations

from typing import Any

from minders.experiments.warning.observables import HIDDEN, OBSERVABLE, ObservableRecords
from minders.experiments.warning.spec import WarningSpec

__all__ = ["HIDDEN", "OBSERVABLE", "ObservableRecords", "WarningReport", "WarningSpec",
           "analyze", "run_warning"]


def __getattr__(name: str) -> Any:
    # The analysis imports the sweep machinery, which imports the experiment schema,
    # which imports this package's spec: loaded on first use, so there is no cycle.
    if name in ("WarningReport", "analyze", "run_warning"):
        from minders.experiments.warning import analysis

        return getattr(analysis, name)
    raise AttributeError(name)
