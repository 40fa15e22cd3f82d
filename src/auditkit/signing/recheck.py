"""Re-checking the evidence bundle a signed report names: ``auditkit verify --bundle``.

The bundle is verified in full by the same verifier as ``auditkit bundle verify``
(:func:`auditkit.evidence.verify_bundle`: structure, manifest schema, every file's
size and SHA-256, no unlisted or missing file, structured files parse, and the
signature against ``trust`` when given), and then compared with what the report's
embedded results record: the root hash, and the bundle signer when the results
record a verified signature. Comparing root hashes alone would accept a bundle
whose files changed, since the root hash pins the manifest, not the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import AuditkitError


def recheck_bundle(
    bundle: Path, recorded_root: str | None, recorded_signature: Any, trust: Sequence[Path],
    problems: list[str],
) -> list[str]:
    """What was checked, one line each; every failure is appended to ``problems``."""
    from ..evidence import open_bundle, verify_bundle

    checked: list[str] = []
    try:
        verdict = verify_bundle(bundle, trust=list(trust) or None)
    except AuditkitError as exc:
        problems.extend(f"the bundle fails re-verification: {line}" for line in exc.lines)
        try:  # still say whether it is the bundle the results name
            with open_bundle(bundle) as opened:
                _compare_root(str(opened.root_hash), recorded_root, checked, problems)
        except AuditkitError:
            pass
        return checked
    _compare_root(verdict.root_hash, recorded_root, checked, problems)
    checked.append(
        f"manifest valid; {verdict.item_count} files ({verdict.total_size} bytes) all present with the "
        "size and SHA-256 the manifest pins; structured files parse; no unlisted file"
    )
    checked.append(_signature_line(verdict, recorded_signature, bool(trust), problems))
    return checked


def _compare_root(actual: str, recorded: str | None, checked: list[str], problems: list[str]) -> None:
    if recorded is None:
        problems.append("the results name no bundle root hash to compare with --bundle")
    elif _bare(actual) != _bare(recorded):
        problems.append(f"the bundle root hash {actual} differs from the one in the results {recorded}")
    else:
        checked.append(f"root hash {actual} matches the results")


def _signature_line(verdict: Any, recorded: Any, trusted: bool, problems: list[str]) -> str:
    recorded = recorded if isinstance(recorded, dict) else {}
    was_verified = recorded.get("status") == "verified"
    if was_verified and not verdict.signature_present:
        problems.append("the results record a verified bundle signature, but the bundle has no manifest.sig")
    if verdict.signed:
        if was_verified and recorded.get("fingerprint") != verdict.signer_fingerprint:
            problems.append(
                f"the bundle is signed by certificate sha256:{verdict.signer_fingerprint}, not by the "
                f"one the results record (sha256:{recorded.get('fingerprint')})"
            )
        return f"signature verified: {verdict.signer} (certificate sha256:{verdict.signer_fingerprint})"
    if verdict.signature_present:
        hint = "" if trusted else " (pass --bundle-trust CA.pem to check it)"
        return f"signature present, not checked{hint}"
    return "no signature (manifest.sig absent)"


def _bare(value: str) -> str:
    return (value.split(":", 1)[1] if value.lower().startswith("sha256:") else value).lower()
