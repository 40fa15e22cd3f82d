"""Report signing: keys from a private CA, PAdES signatures, fail-closed verification.

Heavy libraries (pyHanko, cryptography) load only when a function here is called.
"""

from __future__ import annotations

import importlib
from typing import Any

_API = {
    "init_keys": "auditkit.signing.keys",
    "load_signer": "auditkit.signing.keys",
    "KeySet": "auditkit.signing.keys",
    "sign_pdf": "auditkit.signing.pades",
    "SignatureInfo": "auditkit.signing.pades",
    "verify_report": "auditkit.signing.verify",
    "ReportVerification": "auditkit.signing.verify",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'auditkit.signing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
