"""Report signing: keys from a private CA, PAdES signatures, fail-closed verification.

Heavy libraries (pyHanko, cryptography) load only when a function here is called.
"""

from __future__ import annotations

from ..lazy import exports

_API = {
    "init_keys": "auditkit.signing.keys",
    "load_signer": "auditkit.signing.keys",
    "KeySet": "auditkit.signing.keys",
    "sign_pdf": "auditkit.signing.pades",
    "cosign_pdf": "auditkit.signing.cosign",
    "SignatureInfo": "auditkit.signing.pades",
    "verify_report": "auditkit.signing.verify",
    "ReportVerification": "auditkit.signing.verify",
    "SignerInfo": "auditkit.signing.signatures",
}

__all__ = sorted(_API)


__getattr__, __dir__ = exports(__name__, _API)
