"""Widgets generated from the scenario schema: one per field, with its bounds and help text."""

from __future__ import annotations

import math

import annotated_types
import pytest

from minders.dashboard.widgets import (
    DISTRIBUTIONS,
    NONE_LABEL,
    SECTIONS,
    css_class,
    distribution_specs,
    field_spec,
    frame_to_shocks,
    parse_text,
    section_specs,
    shock_help,
    shocks_to_frame,
    switch_distribution,
)
from minders.scenario import Scenario, Shock, Tier

pn = pytest.importorskip("panel", reason="the dashboard extra: pip install 'minders[dashboard]'")


def _bounds(model, name):
    lower = upper = None
    for item in model.model_fields[name].metadata:
        if isinstance(item, annotated_types.Ge | annotated_types.Gt):
            lower = getattr(item, "ge", getattr(item, "gt", None))
        if isinstance(item, annotated_types.Le | annotated_types.Lt):
            upper = getattr(item, "le", getattr(item, "lt", None))
    return lower, upper


ALL_SECTIONS = [*SECTIONS.items(), ("tiers.residents", Tier)]


@pytest.mark.parametrize(("prefix", "model"), ALL_SECTIONS, ids=[p for p, _ in ALL_SECTIONS])
def test_every_field_of_the_schema_gets_a_spec_with_its_bounds_and_description(prefix, model):
    specs = {s.label: s for s in section_specs(model, prefix)}
    assert set(specs) == set(model.model_fields) - {"kind"}
    for name, spec in specs.items():
        info = model.model_fields[name]
        assert spec.path == f"{prefix}.{name}"
        assert info.description and spec.help.startswith(info.description.strip())
        assert (spec.start, spec.end) == _bounds(model, name)
        if isinstance(info.json_schema_extra, dict) and "unit" in info.json_schema_extra:
            assert info.json_schema_extra["unit"] in spec.help
        if spec.start is not None and spec.end is not None:
            left = "(" if spec.strict else "["
            assert f"Range {left}{spec.start:g}, {spec.end:g}" in spec.help
        assert spec.kind != "text" or name in ("name", "label")


def test_types_choose_the_widget_family():
    kinds = {s.label: s.kind for s in section_specs(Tier, "tiers.x")}
    assert kinds["size"] == "size" and kinds["minded_by"] == "tier"
    assert kinds["span"] == "int" and kinds["abroad"] == "float"
    assert kinds["hardship"] == "distribution"
    assert field_spec(Scenario, "description", "description").kind == "textarea"
    assert field_spec(Shock, "kind", "shocks.0.kind").options == (
        "legitimacy", "detection", "opportunity", "pull", "info_ops")
    run = {s.label: s for s in section_specs(SECTIONS["run"], "run")}
    assert run["check"].kind == "bool" and run["max_memory_gb"].optional
    assert run["max_memory_gb"].strict and "Range (0, " in run["max_memory_gb"].help
    assert {s.label: s.kind for s in section_specs(SECTIONS["network"], "network")}[
        "file"] == "readonly"


def test_distributions_offer_the_fields_of_their_kind():
    for kind, model in DISTRIBUTIONS.items():
        labels = [s.label for s in distribution_specs(kind, "tiers.x.hardship")]
        assert labels == [n for n in model.model_fields if n != "kind"]
    beta = {s.label: s for s in distribution_specs("beta", "p")}
    assert beta["a"].strict and beta["a"].start == 0


@pytest.mark.parametrize("kind", list(DISTRIBUTIONS))
def test_switching_a_distribution_keeps_its_mean_and_range(kind):
    before = {"kind": "uniform", "low": 0.2, "high": 0.6}
    after = switch_distribution(before, kind)
    from minders.dashboard.widgets import distribution_mean

    assert after["kind"] == kind and math.isclose(distribution_mean(after), 0.4)
    Tier.model_validate({"size": 1, "hardship": after})  # valid as it is


def test_typed_text_is_read_like_set():
    assert parse_text("auto") == "auto" and parse_text("12") == 12 and parse_text("") is None
    assert css_class("tiers.my tier.span") == "mf-tiers-my_tier-span"


def test_the_shock_table_round_trips():
    shocks = [{"kind": "legitimacy", "start": 4, "end": 8, "value": 0.3, "tiers": None,
               "ramp": 0, "label": ""},
              {"kind": "pull", "start": 2, "end": None, "value": 0.1,
               "tiers": ["residents", "minders"], "ramp": 3, "label": "call"}]
    frame = shocks_to_frame(shocks)
    assert list(frame.columns) == ["kind", "start", "end", "value", "tiers", "ramp", "label"]
    assert frame_to_shocks(frame) == shocks
    assert shocks_to_frame([]).empty and frame_to_shocks(shocks_to_frame([])) == []
    edited = frame.astype({"start": "float64"})
    edited.loc[0, "start"] = 2.5  # a fraction is passed on for validation to refuse
    assert frame_to_shocks(edited)[0]["start"] == 2.5
    assert shock_help().count("\n") == len(frame.columns) - 1


# --------------------------------------------------------------------------- Panel widgets
def _widgets(obj):
    """Every widget inside a Panel layout (depth first)."""
    if isinstance(obj, pn.widgets.Widget):
        yield obj
    for child in getattr(obj, "objects", []) or []:
        yield from _widgets(child)


def _by_class(form, path):
    found = [w for _, ws in form.sections for top in ws for w in _widgets(top)
             if css_class(path) in w.css_classes]
    assert len(found) == 1, path
    return found[0]


def test_the_form_has_a_widget_per_field_that_edits_the_state(state):
    from minders.dashboard.widgets import build_form

    form = build_form(state.data, state.set)
    titles = [t for t, _ in form.sections]
    assert titles == ["Name and description", "Run", "Model", "Network", "Tier: residents",
                      "Tier: minders", "Tier: security"]
    span = _by_class(form, "tiers.residents.span")
    assert isinstance(span, pn.widgets.IntInput) and span.start == 1 and span.value == 20
    assert "Wards per minder" in span.description
    abroad = _by_class(form, "tiers.residents.abroad")
    assert (abroad.start, abroad.end) == (0.0, 1.0)
    span.value = 25
    assert state.get("tiers.residents.span") == 25 and state.valid
    capacity = _by_class(form, "model.watch_capacity")
    capacity.value = 0.0
    assert state.error == "model.watch_capacity: expected a value greater than 0, got 0.0"
    capacity.value = 8.0
    assert state.valid
    size = _by_class(form, "tiers.minders.size")
    size.value = "12"
    assert state.get("tiers.minders.size") == 12 and state.valid
    size.value = "auto"
    boss = _by_class(form, "tiers.minders.minded_by")
    assert boss.options == [NONE_LABEL, "residents", "security"]
    boss.value = NONE_LABEL
    assert state.get("tiers.minders.minded_by") is None
    assert state.error == ("tiers.security.size: expected an integer: 'auto' needs a tier "
                           "whose minded_by names this one, got 'auto'")
    boss.value = "security"
    assert state.valid
    assert _by_class(form, "network.file").disabled


def test_switching_a_distribution_kind_rebuilds_its_fields(state):
    from minders.dashboard.widgets import build_form

    form = build_form(state.data, state.set)
    kind = _by_class(form, "tiers.residents.threshold")
    assert kind.value == "constant"
    kind.value = "normal"
    assert state.get("tiers.residents.threshold") == {
        "kind": "normal", "mean": 0.1, "sd": 0.1, "low": 0.0, "high": 1.0}
    sd = _by_class(form, "tiers.residents.threshold.sd")
    sd.value = 0.05
    assert state.get("tiers.residents.threshold.sd") == 0.05 and state.valid


def test_seed_can_be_left_out_of_the_form(state):
    from minders.dashboard.widgets import build_form

    form = build_form(state.data, state.set, exclude=("run.seed",))
    assert "run.seed" not in form.specs and "run.steps" in form.specs


def test_cleared_cells_of_the_shock_table_mean_unset():
    frame = shocks_to_frame([{"kind": "pull", "start": 1, "end": 5, "value": 0.1}])
    frame.loc[0, "label"] = math.nan
    frame.loc[0, "end"] = math.nan
    frame.loc[0, "tiers"] = "  "
    shock = frame_to_shocks(frame)[0]
    assert shock["label"] == "" and shock["end"] is None and shock["tiers"] is None


def test_every_input_of_the_form_has_an_accessible_name(state):
    """A screen reader names each input by its label (Bokeh's title, or a box's option)."""
    from minders.dashboard.widgets import build_form

    form = build_form(state.data, state.set)
    inputs = [w for _, ws in form.sections for top in ws for w in _widgets(top)
              if hasattr(w, "value") and not isinstance(w, pn.widgets.TooltipIcon)]
    assert len(inputs) > 60
    for widget in inputs:
        if isinstance(widget, pn.widgets.CheckBoxGroup):  # each box inside its <label>
            assert all(str(option).strip() for option in widget.options), widget.css_classes
        else:
            assert (getattr(widget, "label", None) or widget.name).strip(), widget.css_classes
    run_check = _by_class(form, "run.check")
    run_check.value = []
    assert state.get("run.check") is False
