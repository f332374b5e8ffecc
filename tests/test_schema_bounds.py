"""Every bounded field of every scenario kind refuses a value just outside its bounds.

The values are generated from the schema's own constraints (as scikit-learn
checks each estimator's parameters), so a new bounded field is covered the
day it is added: the message must name the field.
"""

from __future__ import annotations

import math

import annotated_types as at
import pytest
from pydantic import BaseModel

from minders import kinds
from minders.errors import ScenarioError
from minders.spec import apply_overrides, read_scenario_file

#: (kind, bundled scenario, section path, model of that section)
BUNDLED = {"minders": "pyongyang", "epstein": "epstein_model1", "epstein2": "epstein_model2",
           "granovetter": "granovetter_riot",
           "watts": "watts_er", "kuran": "kuran_revolution"}


def _sections(model: type[BaseModel], data: dict, prefix: str = ""):
    """(dotted path, field info) of every numeric field reachable in ``data``."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        value = data.get(name) if isinstance(data, dict) else None
        annotation = info.annotation
        sub = [a for a in getattr(annotation, "__args__", (annotation,))
               if isinstance(a, type) and issubclass(a, BaseModel)]
        if sub and isinstance(value, dict):
            yield from _sections(sub[0], value, f"{path}.")
        elif isinstance(value, dict) and name == "tiers":
            tier_model = model.model_fields["tiers"].annotation.__args__[1]
            first = next(iter(value))
            yield from _sections(tier_model, value[first], f"{path}.{first}.")
        elif any(isinstance(m, at.Ge | at.Gt | at.Le | at.Lt) for m in info.metadata):
            yield path, info


def _outside(info) -> list[float]:
    """Values just below the lower bound and just above the upper one."""
    out = []
    for m in info.metadata:
        if isinstance(m, at.Ge):
            out.append(m.ge - 1 if isinstance(m.ge, int) else math.nextafter(m.ge, -math.inf))
        elif isinstance(m, at.Gt):
            out.append(m.gt)
        elif isinstance(m, at.Le):
            out.append(m.le + 1 if isinstance(m.le, int) else math.nextafter(m.le, math.inf))
        elif isinstance(m, at.Lt):
            out.append(m.lt)
    return out


def _cases():
    for kind, name in BUNDLED.items():
        from minders import scenarios

        data = read_scenario_file(scenarios.path(name))
        model = kinds.get(kind).scenario_class
        for path, info in _sections(model, data):
            for value in _outside(info):
                if info.annotation is int or info.annotation == int | None:
                    value = int(value) if float(value).is_integer() else value
                yield pytest.param(name, path, value, id=f"{kind}:{path}={value!r}")


CASES = list(_cases())


def test_every_kind_contributes_bounded_fields():
    assert {case.values[0] for case in CASES} == set(BUNDLED.values())
    assert len(CASES) > 60


@pytest.mark.parametrize(("name", "path", "value"), CASES)
def test_a_value_outside_the_bounds_is_refused_naming_the_field(name, path, value):
    from minders import scenarios

    data = apply_overrides(read_scenario_file(scenarios.path(name)), {path: value})
    with pytest.raises(ScenarioError) as caught:
        kinds.validate_scenario(data)
    assert path in str(caught.value), str(caught.value)
