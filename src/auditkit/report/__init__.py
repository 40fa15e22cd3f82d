"""Audit report rendering: Jinja templates to PDF/A-3b with WeasyPrint.

``render_report`` is imported lazily so that importing this package loads
neither Jinja nor WeasyPrint.
"""

from __future__ import annotations

import importlib
from typing import Any

_API = {
    "render_report": "auditkit.report.render",
    "build_html": "auditkit.report.render",
    "RenderedReport": "auditkit.report.render",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'auditkit.report' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
