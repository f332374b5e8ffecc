"""Collection rules for the whole repository (pytest runs doctests of src/ too)."""

import importlib.util

_DASHBOARD = all(importlib.util.find_spec(name) is not None for name in ("panel", "bokeh"))

#: Modules that import Panel or Bokeh at the top: their doctests need the dashboard extra.
collect_ignore = (
    [] if _DASHBOARD else ["src/minders/dashboard/app.py", "src/minders/dashboard/charts.py"]
)
