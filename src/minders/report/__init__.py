"""Results folders for other people: exports (CSV, Excel, Parquet) and a self-contained HTML report.

:func:`export` converts the tables of a results folder, keeping the
scenario's metadata beside them; :func:`write_report` turns the folder into
one HTML file that opens offline. Both read any folder
:func:`folder_kind` recognises (``minders run``, ``minders sweep``).

Examples
--------
>>> from minders.report import FORMATS
>>> FORMATS
('csv', 'xlsx', 'parquet')
"""

from __future__ import annotations

from minders.report.export import FORMATS, export
from minders.report.folders import folder_kind
from minders.report.html import render_report, write_report

__all__ = ["FORMATS", "export", "folder_kind", "render_report", "write_report"]
