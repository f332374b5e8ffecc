"""Panel widgets generated from the typed scenario schema.

Every field of the pydantic models in :mod:`minders.scenario` becomes a
widget chosen from its type: integers and floats become number inputs whose
``start``/``end`` are the field's ``ge``/``le`` bounds, booleans checkboxes,
literals selects, distributions a kind selector with the fields of that
kind, and the field's description (with its unit and range) is the help
text. Adding a parameter to the schema adds it to the form; nothing here
names a model parameter.

The pure part (:class:`FieldSpec`, :func:`field_spec`, :func:`section_specs`,
the shock table conversions) needs no Panel; :func:`make_widget` and
:func:`build_form` do.
"""

from __future__ import annotations

import math
import re
import tomllib
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
import pandas as pd
from pydantic import BaseModel

from minders.distributions import MODELS, Beta, Constant, Normal, Uniform
from minders.scenario import ModelParams, NetworkParams, RunParams, Shock, Tier

#: Distribution kinds and their models.
DISTRIBUTIONS: dict[str, type[BaseModel]] = {
    "constant": Constant, "uniform": Uniform, "beta": Beta, "normal": Normal,
}
#: Top-level sections of the form, in order, with the model of each.
SECTIONS: dict[str, type[BaseModel]] = {
    "run": RunParams, "model": ModelParams, "network": NetworkParams,
}
#: The text shown for "no value" in selects.
NONE_LABEL = "(none)"

OnChange = Callable[[str, Any], None]


@dataclass(frozen=True)
class FieldSpec:
    """What a form needs to know about one scenario field.

    Attributes
    ----------
    path : str
        Dotted path in the scenario (``tiers.residents.span``).
    label : str
        The field's name, as written in a scenario file.
    kind : str
        Widget family: ``int``, ``float``, ``bool``, ``text``, ``textarea``,
        ``choice``, ``tier``, ``size``, ``distribution`` or ``readonly``.
    help : str
        Description, unit and range, for the widget's help tooltip.
    start, end : float or None
        Bounds (inclusive for the widget; see ``strict``).
    strict : bool
        The lower bound itself is not allowed (``gt``): the widget can reach
        it, validation then says why it is refused.
    optional : bool
        ``None`` is a valid value (an empty input).
    options : tuple of str
        Choices of a ``choice`` field.
    """

    path: str
    label: str
    kind: str
    help: str
    start: float | None = None
    end: float | None = None
    strict: bool = False
    optional: bool = False
    options: tuple[str, ...] = field(default=())


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None, bool, bool]:
    start = end = None
    strict_start = strict_end = False
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            start = item.ge
        elif isinstance(item, annotated_types.Gt):
            start, strict_start = item.gt, True
        elif isinstance(item, annotated_types.Le):
            end = item.le
        elif isinstance(item, annotated_types.Lt):
            end, strict_end = item.lt, True
    return start, end, strict_start, strict_end


def _number(value: float) -> str:
    """A bound in a help text, as written in the schema (``1``, ``0.5``, ``1e+06``).

    Not :func:`minders.formatting.format_number`: a bound is a literal of the
    schema, which ``--set`` takes as typed, so it gets no thousands separators.
    """
    return f"{value:g}"


def _range_text(start: float | None, end: float | None, strict_start: bool,
                strict_end: bool) -> str:
    if start is not None and end is not None:
        left, right = "(" if strict_start else "[", ")" if strict_end else "]"
        return f"Range {left}{_number(start)}, {_number(end)}{right}."
    if start is not None:
        return f"{'Greater than' if strict_start else 'At least'} {_number(start)}."
    if end is not None:
        return f"{'Less than' if strict_end else 'At most'} {_number(end)}."
    return ""


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def field_spec(model: type[BaseModel], name: str, path: str) -> FieldSpec:
    """The form field of ``model.name`` at ``path``, read from its type and metadata.

    Examples
    --------
    >>> from minders.scenario import Tier
    >>> spec = field_spec(Tier, "span", "tiers.residents.span")
    >>> spec.kind, spec.start, spec.end, spec.optional
    ('int', 1, 2147483646, True)
    >>> print(spec.help)
    Wards per minder (required with minded_by). Unit: wards per minder. Range [1, 2.14748e+09].
    >>> field_spec(Tier, "abroad", "tiers.residents.abroad").help
    "Share of the tier's positions posted abroad. Range [0, 1]."
    """
    info = model.model_fields[name]
    annotation = info.annotation
    members = list(get_args(annotation)) if _is_union(annotation) else [annotation]
    optional = type(None) in members
    core = [m for m in members if m is not type(None)]
    start, end, strict_start, strict_end = _bounds(list(info.metadata))
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    parts = [(info.description or "").strip()]
    if extra.get("unit"):
        parts.append(f"Unit: {extra['unit']}.")
    parts.append(_range_text(start, end, strict_start, strict_end))
    kind = "text"
    options: tuple[str, ...] = ()
    literals = [m for m in core if get_origin(m) is Literal]
    if name == "minded_by":
        kind = "tier"  # a reference to another tier: choose among the scenario's tiers
    elif name == "file":
        kind = "readonly"  # a path on the server: never typed in the browser
        parts.append("Set in the scenario file; not editable in the browser.")
    elif core and all(isinstance(m, type) and issubclass(m, BaseModel) for m in core):
        kind = "distribution"
    elif core == [bool]:
        kind = "bool"
    elif core == [int]:
        kind = "int"
    elif core == [float]:
        kind = "float"
    elif int in core and literals:
        kind = "size"
        words = " or ".join(repr(a) for m in literals for a in get_args(m))
        parts.append(f"An integer or {words}.")
    elif literals and len(core) == 1:
        kind = "choice"
        options = tuple(str(a) for a in get_args(core[0]))
    elif core == [str] and name == "description":
        kind = "textarea"
    help_text = " ".join(p for p in parts if p)
    return FieldSpec(path=path, label=name, kind=kind, help=help_text, start=start, end=end,
                     strict=strict_start, optional=optional, options=options)


def section_specs(model: type[BaseModel], prefix: str,
                  exclude: tuple[str, ...] = ()) -> list[FieldSpec]:
    """Specs of every field of ``model`` under ``prefix`` (``run``, ``tiers.residents``).

    Examples
    --------
    >>> from minders.scenario import ModelParams
    >>> [s.label for s in section_specs(ModelParams, "model")][:3]
    ['watch_capacity', 'informer_rate', 'beta']
    """
    return [field_spec(model, name, f"{prefix}.{name}") for name in model.model_fields
            if name != "kind" and name not in exclude]


def distribution_specs(kind: str, path: str) -> list[FieldSpec]:
    """Specs of the parameters of one distribution kind (``beta``: a, b, low, high).

    Examples
    --------
    >>> [s.label for s in distribution_specs("normal", "tiers.x.threshold")]
    ['mean', 'sd', 'low', 'high']
    """
    return section_specs(DISTRIBUTIONS[kind], path)


def distribution_mean(dist: dict[str, Any]) -> float:
    """The mean of a distribution dict, from its model in :mod:`minders.distributions`.

    Raises ``KeyError``, ``TypeError`` or ``ValueError`` for a half-edited
    dict that is not a valid distribution (:func:`switch_distribution` then
    falls back to a mean of 0.5).

    Examples
    --------
    >>> distribution_mean({"kind": "beta", "a": 1, "b": 3, "low": 0, "high": 2})
    0.5
    """
    return float(MODELS[dist["kind"]].model_validate(dist).expectation())


def switch_distribution(dist: dict[str, Any], kind: str) -> dict[str, Any]:
    """A distribution of another kind with the same mean and range where it can.

    Examples
    --------
    >>> switch_distribution({"kind": "uniform", "low": 0.2, "high": 0.4}, "constant")
    {'kind': 'constant', 'value': 0.3}
    """
    try:
        mean = distribution_mean(dist)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):  # half-edited
        mean = 0.5
    mean = 0.5 if not math.isfinite(mean) else round(mean, 6)
    low = float(dist.get("low", 0.0)) if isinstance(dist.get("low"), int | float) else 0.0
    high = float(dist.get("high", 1.0)) if isinstance(dist.get("high"), int | float) else 1.0
    if kind == "constant":
        return {"kind": "constant", "value": mean}
    if kind == "uniform":
        return {"kind": "uniform", "low": low, "high": high}
    if kind == "beta":
        # a + b = 4 with the mean kept: a bell over the range, like Beta(2, 2).
        share = min(max((mean - low) / (high - low), 0.05), 0.95) if high > low else 0.5
        return {"kind": "beta", "a": round(4 * share, 6), "b": round(4 * (1 - share), 6),
                "low": low, "high": high}
    return {"kind": "normal", "mean": mean, "sd": round((high - low) / 10, 6) or 0.1,
            "low": low, "high": high}


def parse_text(text: str) -> Any:
    """Read a typed value as ``--set`` does: a TOML value, else the text itself.

    Examples
    --------
    >>> parse_text("150000"), parse_text("auto"), parse_text(" "), parse_text("1.5")
    (150000, 'auto', None, 1.5)
    """
    text = text.strip()
    if not text:
        return None
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def css_class(path: str) -> str:
    """The CSS class that marks the widget of ``path`` (stable, for tests and styling).

    Examples
    --------
    >>> css_class("tiers.residents.span")
    'mf-tiers-residents-span'
    """
    return "mf-" + re.sub(r"[^A-Za-z0-9_-]", "_", path.replace(".", "-"))


# --------------------------------------------------------------------------- shocks table
SHOCK_COLUMNS = ("kind", "start", "end", "value", "tiers", "ramp", "label")


def shocks_to_frame(shocks: list[dict[str, Any]]) -> pd.DataFrame:
    """The shocks as a table for the timeline editor (tiers as comma-separated text).

    Examples
    --------
    >>> shocks_to_frame([{"kind": "pull", "start": 3, "end": None, "value": 0.2,
    ...                   "tiers": ["a", "b"], "ramp": 0, "label": ""}])[["end", "tiers"]]
       end tiers
    0  NaN  a, b
    """
    rows = []
    for shock in shocks:
        tiers = shock.get("tiers")
        rows.append({
            "kind": shock.get("kind", "legitimacy"), "start": shock.get("start", 0),
            "end": math.nan if shock.get("end") is None else shock["end"],
            "value": shock.get("value", 0.0),
            "tiers": ", ".join(tiers) if isinstance(tiers, list) else "",
            "ramp": shock.get("ramp", 0), "label": shock.get("label", ""),
        })
    frame = pd.DataFrame(rows, columns=list(SHOCK_COLUMNS))
    return frame.astype({"start": "int64", "end": "float64", "value": "float64",
                         "ramp": "int64", "kind": "object", "tiers": "object",
                         "label": "object"})


def _integral(value: Any) -> Any:
    """A whole float as an int; anything else unchanged (validation judges it)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def frame_to_shocks(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The edited table back into the ``shocks`` list of a scenario.

    Examples
    --------
    >>> frame = shocks_to_frame([{"kind": "pull", "start": 3, "value": 0.2}])
    >>> frame_to_shocks(frame)
    [{'kind': 'pull', 'start': 3, 'end': None, 'value': 0.2, 'tiers': None, 'ramp': 0, 'label': ''}]
    """
    shocks = []
    for row in frame.to_dict("records"):
        end = row.get("end")
        tiers = str(row.get("tiers") or "").strip()
        label = row.get("label")
        shocks.append({
            "kind": row.get("kind"),
            "start": _integral(_nan_to_none(row.get("start"))),
            "end": _integral(_nan_to_none(end)),
            "value": _nan_to_none(row.get("value")),
            "tiers": [t.strip() for t in tiers.split(",") if t.strip()] or None,
            "ramp": _integral(_nan_to_none(row.get("ramp"))) or 0,
            "label": "" if label is None or (isinstance(label, float) and math.isnan(label))
            else str(label),
        })
    return shocks


def _nan_to_none(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item"):  # numpy scalar -> Python
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def shock_help() -> str:
    """One line per column of the shock table, from the schema's descriptions.

    Examples
    --------
    >>> shock_help().splitlines()[0]
    '**kind**: What the shock changes.'
    """
    lines = []
    for name in SHOCK_COLUMNS:
        spec = field_spec(Shock, name, f"shocks.{name}")
        text = spec.help
        if name == "tiers":
            text += " Comma-separated; empty: all."
        lines.append(f"**{name}**: {text}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- Panel widgets
def label(text: str, style: str | None = None) -> dict[str, str]:
    """Keywords for a widget's label (and a button's colour) in this Panel version.

    Panel 1.9 renamed ``name`` to ``label`` and ``button_type`` to ``color``;
    the extra allows Panel 1.5 and later.

    Examples
    --------
    >>> sorted(label("Run", "primary").values())
    ['Run', 'primary']
    """
    import panel as pn

    params = pn.widgets.Button.param
    out = {"label" if "label" in params else "name": text}
    if style is not None:
        out["color" if "color" in params else "button_type"] = style
    return out


def make_widget(spec: FieldSpec, value: Any, on_change: OnChange,
                tiers: tuple[str, ...] = ()) -> Any:
    """A Panel widget for ``spec`` showing ``value``; edits call ``on_change(path, value)``.

    Parameters
    ----------
    spec : FieldSpec
        From :func:`field_spec`.
    value : Any
        The current value in the scenario dict.
    on_change : callable
        Called as ``on_change(spec.path, new_value)`` after each edit.
    tiers : tuple of str
        Tier names, for fields that refer to a tier (``minded_by``).

    Returns
    -------
    panel.viewable.Viewable

    Examples
    --------
    >>> from minders.scenario import Tier
    >>> w = make_widget(field_spec(Tier, "span", "tiers.r.span"), 30, print)
    >>> w.value = 40
    tiers.r.span 40
    """
    import panel as pn

    common: dict[str, Any] = {**label(spec.label), "css_classes": [css_class(spec.path)],
                              "sizing_mode": "stretch_width"}
    path = spec.path

    def watch(widget: Any, convert: Callable[[Any], Any] = lambda v: v) -> Any:
        widget.param.watch(lambda event: on_change(path, convert(event.new)), "value")
        return widget

    if spec.kind in ("int", "float"):
        cls = pn.widgets.IntInput if spec.kind == "int" else pn.widgets.FloatInput
        bounded = spec.start is not None and spec.end is not None
        options: dict[str, Any] = {"start": spec.start, "end": spec.end}
        if spec.kind == "float":
            options["step"] = 0.01 if bounded and spec.end is not None and spec.end <= 1 else 0.1
        widget = cls(value=value, description=spec.help, placeholder="none" if spec.optional
                     else "", **options, **common)
        convert = (lambda v: v) if spec.kind == "int" else (
            lambda v: None if v is None else float(v))
        return watch(widget, convert)
    if spec.kind == "bool":
        # A one-option CheckBoxGroup, not a Checkbox: Bokeh draws the Checkbox's text
        # beside its input, not in a <label>, so the box would have no accessible name.
        options = {k: v for k, v in common.items() if k not in ("label", "name")}
        box = watch(pn.widgets.CheckBoxGroup(options=[spec.label], value=[spec.label] if value
                                             else [], **options),
                    lambda chosen: spec.label in chosen)
        return pn.Row(box, pn.widgets.TooltipIcon(value=spec.help), sizing_mode="stretch_width")
    if spec.kind == "choice":
        return watch(pn.widgets.Select(value=value, options=list(spec.options),
                                       description=spec.help, **common))
    if spec.kind == "tier":
        own = path.split(".")[1] if path.startswith("tiers.") else ""
        choices = [NONE_LABEL, *(t for t in tiers if t != own)]
        return watch(
            pn.widgets.Select(value=value if value in choices else NONE_LABEL, options=choices,
                              description=spec.help, **common),
            lambda v: None if v == NONE_LABEL else v,
        )
    if spec.kind == "size":
        return watch(pn.widgets.TextInput(value="" if value is None else str(value),
                                          description=spec.help, **common), parse_text)
    if spec.kind == "textarea":
        return watch(pn.widgets.TextAreaInput(value=value or "", description=spec.help,
                                              rows=3, auto_grow=True, max_rows=8, **common))
    if spec.kind == "readonly":
        return pn.widgets.TextInput(value="" if value is None else str(value), disabled=True,
                                    description=spec.help, placeholder="none", **common)
    if spec.kind == "distribution":
        return _distribution_widget(spec, value, on_change)
    return watch(pn.widgets.TextInput(value="" if value is None else str(value),
                                      description=spec.help, **common))


def _distribution_widget(spec: FieldSpec, value: dict[str, Any], on_change: OnChange) -> Any:
    """A kind selector and the parameters of the chosen kind (rebuilt when the kind changes)."""
    import panel as pn

    current = dict(value)
    params = pn.Column(sizing_mode="stretch_width", margin=(0, 0, 0, 12))

    def fill(dist: dict[str, Any]) -> None:
        widgets = []
        for sub in distribution_specs(dist["kind"], spec.path):
            widget = make_widget(sub, dist.get(sub.label), on_change)
            widget.width_policy = "min"
            widgets.append(widget)
        params.objects = [pn.Row(*widgets, sizing_mode="stretch_width")]

    kind = pn.widgets.Select(
        **label(spec.label), value=current["kind"], options=list(DISTRIBUTIONS),
        description=spec.help, css_classes=[css_class(spec.path)], sizing_mode="stretch_width",
    )

    def switch(event: Any) -> None:
        nonlocal current
        current = switch_distribution(current, event.new)
        on_change(spec.path, current)
        fill(current)

    kind.param.watch(switch, "value")
    fill(current)
    return pn.Column(kind, params, sizing_mode="stretch_width", margin=0)


@dataclass
class Form:
    """The generated form: a titled section per part of the scenario.

    Attributes
    ----------
    sections : list of (str, list)
        Title and widgets of each section (name and description, run, model,
        network, one per tier), in order.
    specs : dict
        The :class:`FieldSpec` of every widget, by path.
    """

    sections: list[tuple[str, list[Any]]]
    specs: dict[str, FieldSpec]


def build_form(data: dict[str, Any], on_change: OnChange,
               exclude: tuple[str, ...] = ()) -> Form:
    """Widgets for every parameter of a scenario dict, grouped by section and tier.

    Parameters
    ----------
    data : dict
        ``Scenario.model_dump(mode="json")`` (every field present).
    on_change : callable
        Called as ``on_change(path, value)`` after each edit.
    exclude : tuple of str
        Paths shown elsewhere (the seed sits in the toolbar).

    Returns
    -------
    Form

    Examples
    --------
    >>> import minders
    >>> scenario = minders.load_scenario("pyongyang")
    >>> form = build_form(scenario.model_dump(mode="json"), print)
    >>> [title for title, _ in form.sections]  # doctest: +ELLIPSIS
    ['Name and description', 'Run', 'Model', 'Network', 'Tier: residents', ...]
    """
    from minders.scenario import Scenario

    specs: dict[str, FieldSpec] = {}
    tiers = tuple(data.get("tiers", {}))

    def widgets_for(section: list[FieldSpec], values: dict[str, Any]) -> list[Any]:
        out = []
        for spec in section:
            if spec.path in exclude:
                continue
            specs[spec.path] = spec
            out.append(make_widget(spec, values.get(spec.label), on_change, tiers))
        return out

    head = [field_spec(Scenario, name, name) for name in ("name", "description")]
    sections: list[tuple[str, list[Any]]] = [("Name and description", widgets_for(head, data))]
    for name, model in SECTIONS.items():
        sections.append((name.capitalize(), widgets_for(section_specs(model, name),
                                                        data.get(name, {}))))
    for tier, values in data.get("tiers", {}).items():
        sections.append((f"Tier: {tier}", widgets_for(section_specs(Tier, f"tiers.{tier}"),
                                                      values)))
    return Form(sections=sections, specs=specs)
