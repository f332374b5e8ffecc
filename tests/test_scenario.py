"""The scenario format: valid files load; bad input names field, value and expectation."""

from __future__ import annotations

import copy
import json

import pytest

from minders.errors import ScenarioError
from minders.kinds import load_scenario, validate_scenario
from minders.scenario import Scenario
from minders.spec import parse_override

from .conftest import BASE, SCENARIOS, make_scenario


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_bundled_scenarios_validate(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert all(size > 0 for size in scenario.tier_sizes().values())


def test_auto_size_counts_minders_for_every_ward_tier():
    s = make_scenario({"tiers.residents.size": 601, "tiers.residents.span": 20})
    sizes = s.tier_sizes()
    assert sizes["minders"] == 31  # ceil(601 / 20)
    assert sizes["security"] == 7  # ceil(31 / 5)


def test_yaml_is_accepted(tmp_path):
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(BASE))
    assert load_scenario(path).tier_sizes() == make_scenario().tier_sizes()


def test_bare_number_is_a_constant_distribution():
    s = make_scenario({"tiers.residents.hardship": 0.4})
    assert s.tiers["residents"].hardship.kind == "constant"
    assert s.tiers["residents"].hardship.value == 0.4


def test_overrides_parse_toml_values():
    assert parse_override("tiers.workers.span=40") == ("tiers.workers.span", 40)
    assert parse_override("model.beta=0.25") == ("model.beta", 0.25)
    assert parse_override('tiers.a.hardship={kind="beta", a=2, b=5}')[1] == {
        "kind": "beta", "a": 2, "b": 5,
    }
    assert parse_override("name=two words") == ("name", "two words")
    with pytest.raises(ScenarioError, match="dotted.path=value"):
        parse_override("no-equals-sign")


def test_override_into_a_list_and_a_new_section(tmp_path):
    s = make_scenario().with_overrides(["shocks.0.value=0.1", "run.steps=40"])
    assert s.shocks[0].value == 0.1
    assert s.run.steps == 40
    with pytest.raises(ScenarioError, match="shocks.5.value"):
        make_scenario().with_overrides(["shocks.5.value=0.1"])


def test_hash_is_stable_and_sensitive():
    a, b = make_scenario(), make_scenario()
    assert a.scenario_hash() == b.scenario_hash()
    assert make_scenario({"model.beta": 0.51}).scenario_hash() != a.scenario_hash()


def test_json_schema_describes_every_tier_field():
    schema = Scenario.model_json_schema()
    tier = schema["$defs"]["Tier"]["properties"]
    assert {"size", "minded_by", "span", "abroad", "p_detect", "replace_delay"} <= set(tier)
    assert all("description" in field for field in tier.values())
    json.dumps(schema)  # serialisable


BAD = [
    # (override, field in the message, a word of what was expected)
    ({"tiers.residents.spam": 3}, "tiers.residents.spam", "known field"),
    ({"model.bta": 0.3}, "model.bta", "beta"),
    ({"tiers.residents.span": "wide"}, "tiers.residents.span", "integer"),
    ({"tiers.residents.span": -3}, "tiers.residents.span", "greater than or equal to 1"),
    ({"tiers.residents.abroad": 1.5}, "tiers.residents.abroad", "less than or equal to 1"),
    ({"model.informer_rate": -0.1}, "model.informer_rate", "greater than or equal to 0"),
    ({"tiers.residents.minded_by": "police"}, "tiers.residents.minded_by", "name of a tier"),
    ({"tiers.security.minded_by": "residents", "tiers.security.span": 2},
     "minded_by", "without cycles"),
    ({"shocks.0.start": 99, "shocks.0.end": None}, "shocks.0.start", "horizon"),
    ({"shocks.0.end": 31}, "shocks.0.end", "horizon"),
    ({"shocks.0.tiers": ["nobody"]}, "shocks.0.tiers", "name of a tier"),
    ({"shocks.0.value": 2.0}, "shocks.0.value", "legitimacy in [0, 1]"),
    ({"tiers.residents.size": 0}, "tiers.residents.size", "'auto'"),
    ({"tiers.security.size": "auto", "tiers.minders.minded_by": None},
     "tiers.security.size", "'auto' needs"),
    ({"tiers.residents.hardship": {"kind": "beta", "a": -1, "b": 2}},
     "tiers.residents.hardship.a", "greater than 0"),
    ({"tiers.residents.hardship": {"kind": "gamma"}}, "tiers.residents.hardship.kind",
     "one of constant, uniform, beta, normal"),
    ({"tiers.residents.minded_by": "minders", "tiers.residents.span": None},
     "tiers.residents.span", "required with minded_by"),
]


@pytest.mark.parametrize(("override", "field", "expected"), BAD, ids=[b[1] for b in BAD])
def test_bad_input_names_field_value_and_expectation(override, field, expected):
    with pytest.raises(ScenarioError) as info:
        validate_scenario(_with(override))
    message = str(info.value)
    assert field in message
    assert expected in message
    assert "got" in message


def _with(override):
    from minders.spec import apply_overrides

    return apply_overrides(copy.deepcopy(BASE), override)


def test_every_numeric_field_refuses_a_string():
    """Feed every numeric field of every section an invalid value (scikit-learn style)."""
    from minders.scenario import ModelParams, NetworkParams, RunParams, Tier

    sections = {"run": RunParams, "model": ModelParams, "network": NetworkParams,
                "tiers.residents": Tier}
    checked = 0
    for prefix, model in sections.items():
        for name, field in model.model_fields.items():
            if field.annotation in (float, int) or "float" in str(field.annotation) or (
                "int" in str(field.annotation)
            ):
                with pytest.raises(ScenarioError, match=f"{prefix}.{name}"):
                    validate_scenario(_with({f"{prefix}.{name}": "not a number"}))
                checked += 1
    assert checked >= 20


def test_bad_files(tmp_path):
    with pytest.raises(ScenarioError, match="existing scenario file"):
        load_scenario(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[tiers\n")
    with pytest.raises(ScenarioError, match="valid TOML"):
        load_scenario(broken)
    other = tmp_path / "s.json"
    other.write_text("{}")
    with pytest.raises(ScenarioError, match=".toml, .yaml"):
        load_scenario(other)


def test_override_typos_and_malformed_values_are_refused():
    with pytest.raises(ScenarioError, match=r"tiers.resident: expected the name of a tier"):
        make_scenario().with_overrides(["tiers.resident.span=3"])
    with pytest.raises(ScenarioError, match="quote strings"):
        parse_override("shocks.0.tiers=[residents]")
    assert parse_override('shocks.0.tiers=["residents"]')[1] == ["residents"]


def test_a_single_override_string_is_accepted():
    from .conftest import ROOT

    scenario = load_scenario(ROOT / "scenarios" / "pyongyang.toml", "model.purge_rate=0.2")
    assert scenario.model.purge_rate == 0.2
