"""The scenario format: valid files load; bad input names field, value and expectation."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from minders.errors import ScenarioError
from minders.kinds import load_scenario, validate_scenario
from minders.scenario import Scenario
from minders.spec import parse_override

from .conftest import BASE, SCENARIOS, make_scenario

PYONGYANG = "pyongyang"


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


# --------------------------------------------------------------------------- hostile input
@pytest.mark.parametrize(("override", "field"), [
    ("tiers.residents.hardship=nan", "tiers.residents.hardship.value"),
    ("tiers.residents.threshold={kind='normal', mean=nan, sd=0.1}",
     "tiers.residents.threshold.mean"),
    ("shocks.0.value=nan", "shocks.0.value"),
    ("run.max_memory_gb=inf", "run.max_memory_gb"),
    ("run.max_memory_gb=1e308", "run.max_memory_gb"),
    ("run.burn_in=100000000", "run.burn_in"),
    ("run.steps=1000000000", "run.steps"),
    ("model.memory=100000000000000000000", "model.memory"),
    ("tiers.residents.replace_delay=9223372036854775808", "tiers.residents.replace_delay"),
    ("model.max_jail=2147483648", "model.max_jail"),
    ("run.seed=99999999999999999999999", "run.seed"),
])
def test_non_finite_and_huge_values_are_refused_naming_the_field(override, field):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(PYONGYANG, [override])
    assert caught.value.field == field


def test_a_typo_gets_a_suggestion():
    with pytest.raises(ScenarioError, match="did you mean 'shirk'"):
        load_scenario(PYONGYANG, ["model.shrik=0.3"])


def test_deep_nesting_and_alias_bombs_are_refused_quickly(tmp_path):
    import time

    from minders.spec import parse_mapping

    deep_yaml = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    deep_toml = "a = " + "[" * 5000 + "]" * 5000 + "\n"
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    start = time.perf_counter()
    for text, suffix, expected in [(deep_yaml, ".yaml", "nested"), (deep_toml, ".toml", "nested"),
                                   (bomb, ".yaml", "expands")]:
        with pytest.raises(ScenarioError, match=expected):
            parse_mapping(text, suffix, "x")
    assert time.perf_counter() - start < 20  # generous: each takes milliseconds


def test_a_long_chain_of_tiers_validates_in_linear_time():
    chain = {f"t{k}": {"size": 10, "minded_by": f"t{k + 1}", "span": 10} for k in range(999)}
    chain["t999"] = {"size": 10}
    scenario = validate_scenario({"tiers": chain})
    depths = scenario.tier_depths()
    assert depths["t999"] == 0 and depths["t0"] == 999
    with pytest.raises(ScenarioError, match="at most 1,000"):
        validate_scenario({"tiers": {**chain, "extra": {"size": 1}}})


def test_a_cycle_is_named():
    with pytest.raises(ScenarioError, match="a -> b -> a"):
        validate_scenario({"tiers": {"a": {"size": 5, "minded_by": "b", "span": 1},
                                     "b": {"size": 5, "minded_by": "a", "span": 1}}})


def test_memory_estimate_counts_the_horizon():
    from minders.population import check_fits

    long = load_scenario(PYONGYANG, ["run.burn_in=9000000", "run.max_memory_gb=1",
                                     "tiers.residents.size=1000"])
    with pytest.raises(ScenarioError) as caught:
        check_fits(long)
    assert caught.value.field == "run.burn_in"


def test_bad_graph_files_are_refused_in_validate(tmp_path):
    from minders import kinds

    binary = tmp_path / "g.csv"
    binary.write_bytes(bytes(range(256)) * 20)
    huge = tmp_path / "h.csv"
    huge.write_text("0,1\n1,99999999999999999999\n")
    for path, message in [(binary, "UTF-8"), (huge, "integer node ids")]:
        scenario = load_scenario(PYONGYANG, [f"network.file={str(path)!r}"])
        with pytest.raises(ScenarioError, match=message):
            kinds.of(scenario).checks(scenario)


def test_bundled_names_resolve_from_strings_and_paths(tmp_path, monkeypatch):
    # The command line hands its arguments over as paths: `minders sweep span_sweep`.
    from minders.scenarios import resolve

    monkeypatch.chdir(tmp_path)
    for reference in ("span_sweep", Path("span_sweep"), Path("span_sweep.toml")):
        assert resolve(reference, "experiments").name == "span_sweep.toml"
    with pytest.raises(ScenarioError, match="existing experiment file"):
        resolve(Path("sub/span_sweep"), "experiments")  # a path, not a name


def test_comment_markers_give_each_value_its_basis(tmp_path):
    from minders.scenarios import markers

    source = tmp_path / "s.toml"
    source.write_text(
        "[model]\n"
        "beta = 0.5   # [assumption] weight of the signal\n"
        "# Arrivals were 1,047 in 2019 [data: MOU table]\n"
        "memory = 8\n"
        "\n"
        "# [assumption] above a blank line: not this key's\n"
        "\n"
        "shirk = 0.6\n"
        "leak = 0.1   # [data: x] and [assumption]: both, so neither\n"
        "[tiers.residents]\n"
        'hardship = { kind = "beta", a = 2, b = 5 }   # [assumption]\n'
        "[[shocks]]\n"
        "value = 0.4\n"
        "[[shocks]]\n"
        "value = 0.5  # [data: a source]\n", encoding="utf-8")
    assert markers(source) == {
        "model.beta": "assumed", "model.memory": "sourced",
        "tiers.residents.hardship": "assumed", "shocks.1.value": "sourced",
    }
