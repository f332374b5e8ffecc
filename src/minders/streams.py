"""Random streams: one named, counter-based stream per decision.

Following Starsim's design, every random decision of the model has its own
stream, keyed from the base seed and a stable hash of the decision's name via
:class:`numpy.random.SeedSequence`. Inside the engine a draw is a pure
function of ``(stream key, step, slot)``: a SplitMix64 hash of the counter,
so each agent's draw is tied to its own position. Results therefore do not
depend on thread count or evaluation order, and two scenarios that differ in
one parameter share every draw that the change does not touch (common random
numbers). Initial attributes and recruits use ordinary
:class:`numpy.random.Generator` streams, one per tier and attribute.
"""

from __future__ import annotations

import zlib

import numba as nb
import numpy as np

#: The decisions drawn inside the step kernels, each with its own stream.
DECISIONS = ("opportunity", "intercept", "arrest", "jail_term", "purge", "group", "follow")

_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11, _S32 = (np.uint64(k) for k in (30, 27, 31, 11, 32))
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def _name_hash(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def seed_sequence(seed: int, name: str) -> np.random.SeedSequence:
    """The SeedSequence of the stream called ``name`` under base ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(_name_hash(name),))


def stream_key(seed: int, name: str) -> np.uint64:
    """A 64-bit key for the counter-based stream ``name``.

    Examples
    --------
    >>> bool(stream_key(1, "intercept") == stream_key(1, "intercept"))
    True
    >>> bool(stream_key(1, "intercept") != stream_key(1, "arrest"))
    True
    """
    return np.uint64(seed_sequence(seed, name).generate_state(1, np.uint64)[0])


def generator(seed: int, name: str) -> np.random.Generator:
    """A PCG64 generator for the sequential stream ``name`` (initial draws, recruits)."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, name)))


@nb.njit(inline="always", cache=True)
def _mix(z: np.uint64) -> np.uint64:  # SplitMix64 finaliser (Steele et al. 2014)
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@nb.njit(inline="always", cache=True)
def uniform(key: np.uint64, step: int, slot: int) -> float:
    """A uniform draw in [0, 1) for ``(key, step, slot)``; a bijective hash of the counter."""
    counter = (np.uint64(step) << _S32) | np.uint64(slot)
    z = _mix(_mix(counter) ^ key)
    return float(z >> _S11) * _TO_UNIT


def _mix_reference(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


def uniform_reference(key: np.uint64, step: int, slots: np.ndarray) -> np.ndarray:
    """NumPy reference of :func:`uniform` for many slots (the kernels' test oracle)."""
    with np.errstate(over="ignore"):
        counter = (np.uint64(step) << _S32) | slots.astype(np.uint64)
        z = _mix_reference(_mix_reference(counter) ^ np.uint64(key))
        return (z >> _S11).astype(np.float64) * _TO_UNIT
