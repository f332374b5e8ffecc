"""Distributions of agent attributes: the scenario's models, each drawing its own values.

A scenario names a distribution for each attribute (hardship, risk aversion,
threshold); a bare number stands for a constant. Each model validates its
parameters and knows how to :meth:`sample` itself and its :meth:`expectation`, so
the population builder, the classic models and the dashboard share one rule.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from minders.errors import ScenarioError

_STRICT = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Constant(BaseModel):
    """Every agent gets the same value.

    Examples
    --------
    >>> Constant(value=0.1).sample(np.random.default_rng(0), 3)
    array([0.1, 0.1, 0.1])
    """

    model_config = _STRICT
    kind: Literal["constant"] = "constant"
    value: float = Field(description="The value every agent gets.")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` copies of the value (``rng`` is not advanced)."""
        return np.full(n, self.value, dtype=np.float64)

    def expectation(self) -> float:
        """The value."""
        return self.value


class Bounded(BaseModel):
    """A distribution on ``[low, high]``: refuses ``high < low``."""

    model_config = _STRICT

    @model_validator(mode="after")
    def _ordered(self) -> Bounded:
        if self.high < self.low:
            raise ScenarioError("high", self.high, f"a number >= low ({self.low})")
        return self


class Uniform(Bounded):
    """Uniform on ``[low, high]``.

    Examples
    --------
    >>> bool(Uniform(low=2, high=3).sample(np.random.default_rng(0), 4).min() >= 2)
    True
    >>> Uniform(low=2, high=3).expectation()
    2.5
    """

    kind: Literal["uniform"] = "uniform"
    low: float = Field(0.0, description="Lower bound.")
    high: float = Field(1.0, description="Upper bound.")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws."""
        return rng.uniform(self.low, self.high, n)

    def expectation(self) -> float:
        """The midpoint of the range."""
        return (self.low + self.high) / 2


class Beta(Bounded):
    """Beta(a, b), rescaled to ``[low, high]``.

    Examples
    --------
    >>> Beta(a=1, b=3, low=0, high=2).expectation()
    0.5
    """

    kind: Literal["beta"] = "beta"
    a: float = Field(gt=0.0, description="First shape parameter.")
    b: float = Field(gt=0.0, description="Second shape parameter.")
    low: float = Field(0.0, description="Value of a draw of 0.")
    high: float = Field(1.0, description="Value of a draw of 1.")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws, rescaled to the range."""
        return self.low + (self.high - self.low) * rng.beta(self.a, self.b, n)

    def expectation(self) -> float:
        """Low + (high - low) a / (a + b)."""
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)


class Normal(Bounded):
    """Normal(mean, sd), clipped to ``[low, high]``.

    Examples
    --------
    >>> Normal(mean=0.5, sd=0.0).sample(np.random.default_rng(0), 2)
    array([0.5, 0.5])
    """

    kind: Literal["normal"] = "normal"
    mean: float = Field(description="Mean before clipping.")
    sd: float = Field(ge=0.0, description="Standard deviation before clipping.")
    low: float = Field(0.0, description="Draws below are set to low.")
    high: float = Field(1.0, description="Draws above are set to high.")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws, clipped to the range."""
        return np.clip(rng.normal(self.mean, self.sd, n), self.low, self.high)

    def expectation(self) -> float:
        """The mean before clipping."""
        return self.mean


DISTRIBUTION_KINDS = ("constant", "uniform", "beta", "normal")
#: The model of each distribution kind.
MODELS: dict[str, type[BaseModel]] = {
    "constant": Constant, "uniform": Uniform, "beta": Beta, "normal": Normal,
}


def _number_is_constant(value: Any) -> Any:
    """Let a bare number stand for a constant distribution."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"kind": "constant", "value": value}
    if isinstance(value, dict) and "kind" not in value:
        raise ValueError(f"a 'kind' key, one of {', '.join(DISTRIBUTION_KINDS)}")
    return value


#: A scenario field holding any distribution (or a bare number).
Distribution = Annotated[
    Constant | Uniform | Beta | Normal,
    Field(discriminator="kind"),
    BeforeValidator(_number_is_constant),
]

