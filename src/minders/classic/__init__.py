"""The classic models of collective action, run by the minders engine's interfaces.

Each module defines a scenario kind, ``KIND`` (see :mod:`minders.kinds`): ``epstein``
(Epstein 2002, civil violence Model I), ``epstein2`` (its Model II, in
:mod:`minders.classic.epstein.model2`), ``granovetter`` (Granovetter 1978,
threshold models), ``watts`` (Watts 2002, global cascades on random networks)
and ``kuran`` (Kuran 1991, preference falsification). ``docs/classic.md``
describes them, their conventions and how they compare with Mesa.
"""
