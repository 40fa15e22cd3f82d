"""auditkit: compliance controls as code, evidence bundles, assessments and signed reports.

The public API is imported lazily so that ``import auditkit`` stays cheap:

* :func:`load_catalog` / :func:`load_profile` (``auditkit.catalog``)
* :func:`open_bundle` (``auditkit.evidence``)
* :func:`assess` (``auditkit.engine``)
* :func:`render_report` (``auditkit.report``)
* :func:`sign_pdf`, :func:`cosign_pdf`, :func:`verify_report` (``auditkit.signing``)
"""

from __future__ import annotations

from .lazy import exports

__version__ = "0.1.0"

_API = {
    "load_catalog": "auditkit.catalog",
    "load_profile": "auditkit.catalog",
    "open_bundle": "auditkit.evidence",
    "assess": "auditkit.engine",
    "render_report": "auditkit.report",
    "sign_pdf": "auditkit.signing",
    "cosign_pdf": "auditkit.signing",
    "verify_report": "auditkit.signing",
}

__all__ = ["__version__", *sorted(_API)]


__getattr__, __dir__ = exports(__name__, _API)
