"""Verification of an audience view's disclosures (its PAdES signature is checked by :mod:`.verify`).

A view is proven in three steps, each failing closed:

1. each attachment's SHA-256 equals the one recorded in the document information,
   which the view's signature covers;
2. the commitment list verifies against its detached CMS signature (``commitments.p7s``)
   by a signer chaining to the trusted CA, and every disclosed item, hashed with its
   salt, equals the commitment listed under its id;
3. the full report fingerprint the view states equals the one given (``against``), or
   the full report given (``full``) has that fingerprint, verifies, and embeds the very
   same commitment list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AuditkitError
from ..report import commitments as cm

# the same keys as PDF names, as a reader's dictionaries hold them
AUDIENCE_KEY = "/" + cm.AUDIENCE_KEY
FULL_REPORT_KEY = "/" + cm.FULL_REPORT_KEY
DIGEST_KEYS = {name: "/" + key for name, key in cm.VIEW_DIGEST_KEYS.items()}


@dataclass(frozen=True)
class ViewVerification:
    """What a view proved."""

    audience: str
    disclosed: int
    withheld: int
    full_report_sha256: str
    full_report_checked: str
    """How the fingerprint was checked: ``given``, ``full report`` or ``not checked``."""
    commitments_signer: str
    commitments_signer_sha256: str
    """SHA-256 of the certificate that signed ``commitments.p7s`` (must be the view's signer)."""

    def lines(self) -> list[str]:
        """The view's part of the verdict."""
        return [
            f"  audience:    {self.audience} view",
            f"  disclosures: {self.disclosed} items disclosed and proven, {self.withheld} withheld",
            f"  commitments: signed by {self.commitments_signer}",
            f"  full report: sha256:{self.full_report_sha256} ({self.full_report_checked})",
        ]


def is_view(info: Mapping[str, Any]) -> bool:
    """Whether the document information marks an audience view."""
    return AUDIENCE_KEY in info


def check_view(
    files: Sequence[tuple[str, bytes]],
    info: Mapping[str, Any],
    problems: list[str],
    *,
    trust: Sequence[Path],
    against: str | None = None,
    full: Path | None = None,
) -> ViewVerification | None:
    """Check a view's attachments; append every failure to ``problems`` (naming the item)."""
    from .cms import verify_detached

    names = [name for name, _ in files]
    if "results.json" in names:
        problems.append("a view must not embed results.json, but this one does")
    by_name: dict[str, bytes] = {}
    for name, key in DIGEST_KEYS.items():
        found = [data for n, data in files if n == name]
        if len(found) != 1:
            problems.append(f"expected one embedded {name}, found {len(found)}")
            continue
        recorded = str(info.get(key, "")).lower()
        if recorded != hashlib.sha256(found[0]).hexdigest():
            problems.append(f"the embedded {name} is not the one the view was rendered with")
        by_name[name] = found[0]  # checked on regardless, so an altered item is named
    manifests = [data for n, data in files if n == "manifest.yaml"]
    recorded_manifest = str(info.get("/AuditkitManifestSHA256", "")).lower()
    if len(manifests) > 1 or (recorded_manifest and not manifests):
        problems.append(f"expected the recorded manifest.yaml once, found {len(manifests)}")
    elif manifests and hashlib.sha256(manifests[0]).hexdigest() != recorded_manifest:
        problems.append("the embedded manifest.yaml is not the one the view was rendered with")
    if len(by_name) != len(DIGEST_KEYS):
        return None
    audience = str(info.get(AUDIENCE_KEY, ""))
    try:
        signer = verify_detached(by_name[cm.COMMITMENTS_SIG_NAME], by_name[cm.COMMITMENTS_NAME], list(trust),
                                 where=cm.COMMITMENTS_SIG_NAME)
        listed = cm.parse_commitments(by_name[cm.COMMITMENTS_NAME])
        proven = cm.check_disclosures(by_name[cm.DISCLOSURES_NAME], listed)
    except AuditkitError as exc:
        problems.append(exc.render())
        return None
    if proven.audience != audience:
        problems.append(f"the disclosures are for the {proven.audience} view, the document says {audience}")
    try:
        stated = str(json.loads(by_name[cm.SOURCE_NAME])["full_report_sha256"]).lower()
    except (ValueError, KeyError, TypeError, RecursionError):
        problems.append(f"the embedded {cm.SOURCE_NAME} names no full report fingerprint")
        return None
    if stated != str(info.get(FULL_REPORT_KEY, "")).lower():
        problems.append("the full report fingerprint in source.json differs from the document's")
    how = "not checked: pass --against or --full"
    if against is not None:
        given = against.strip().lower().removeprefix("sha256:")
        if given != stated:
            problems.append(f"the view comes from full report sha256:{stated}, not the sha256:{given} given")
        how = "equals the fingerprint given"
    if full is not None:
        how = _check_full(Path(full), stated, by_name[cm.COMMITMENTS_NAME], trust, problems)
    return ViewVerification(audience, proven.disclosed, proven.withheld, stated, how, signer.subject,
                            signer.fingerprint)


def _check_full(full: Path, stated: str, raw_commitments: bytes, trust: Sequence[Path],
                problems: list[str]) -> str:
    from ..report.view import _attachments_of
    from .verify import verify_report

    actual = hashlib.sha256(full.read_bytes()).hexdigest()
    if actual != stated:
        problems.append(f"the full report given has sha256:{actual}, the view names sha256:{stated}")
    try:
        verify_report(full, trust=list(trust))
    except AuditkitError as exc:
        reasons = getattr(exc, "problems", None) or [exc.render()]
        problems.append(f"the full report given fails verification: {'; '.join(reasons)}")
    if _attachments_of(full).get(cm.COMMITMENTS_NAME) != raw_commitments:
        problems.append("the full report given embeds a different commitment list")
    return "the full report given matches and verifies"
