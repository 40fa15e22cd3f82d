"""The evidence intake server: compliance teams upload bundles, auditors collect them.

* :func:`serve` / :func:`open_service` / :func:`create_app` — the ASGI service;
* :func:`create_token`, :func:`export_public_key`, :func:`verify_store_log` — store tools;
* :func:`submit`, :func:`fetch` — the HTTP client;
* :func:`verify_receipt_file` — offline receipt check.

Storage sits behind :class:`~auditkit.intake.storage.ObjectStore` and
:class:`~auditkit.intake.storage.IntakeIndex`; see ``docs/intake.md``.
"""

from __future__ import annotations

from ..lazy import exports

_API = {
    "serve": "auditkit.intake.server",
    "open_service": "auditkit.intake.server",
    "create_app": "auditkit.intake.app",
    "IntakeService": "auditkit.intake.service",
    "IntakeSettings": "auditkit.intake.service",
    "create_token": "auditkit.intake.store",
    "export_public_key": "auditkit.intake.store",
    "verify_store_log": "auditkit.intake.store",
    "submit": "auditkit.intake.client",
    "fetch": "auditkit.intake.client",
    "verify_receipt_file": "auditkit.intake.receipts",
}

__all__ = sorted(_API)


__getattr__, __dir__ = exports(__name__, _API)
