"""Audit report rendering: Jinja templates to PDF/A-3b with WeasyPrint.

``render_report`` is imported lazily so that importing this package loads
neither Jinja nor WeasyPrint.
"""

from __future__ import annotations

from ..lazy import exports

_API = {
    "render_report": "auditkit.report.render",
    "build_html": "auditkit.report.render",
    "RenderedReport": "auditkit.report.render",
    "render_view": "auditkit.report.view",
    "RenderedView": "auditkit.report.view",
}

__all__ = sorted(_API)


__getattr__, __dir__ = exports(__name__, _API)
