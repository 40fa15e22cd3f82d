"""Checks of each signature on a report, trust aside: the rules ``verify`` and ``cosign`` share.

The auditor signs in ``AuditorSignature``; co-signers in ``auditkit-<role>``
(:mod:`.cosign`). Every signature must be intact and valid with zero padding after
its CMS blob; the last covers the whole file; every update after the first is one
signature, and pyHanko's difference analysis may find nothing after an earlier
signature but signatures added. :func:`signature_integrity_problems` applies all of
this; :mod:`.verify` adds trust, the attachments and the roles required.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .pades import DEFAULT_FIELD


@dataclass(frozen=True)
class SignerInfo:
    """One signature on the report, in signing order."""

    role: str
    """``auditor``, ``reviewer`` or ``auditee`` (the field name for a field auditkit does not sign)."""
    field_name: str
    subject: str
    """The signing certificate's subject, human readable."""
    signing_time: dt.datetime | None
    """Time claimed by the signer (not proof)."""
    status: str
    """``valid, trusted``, ``valid, NOT trusted``, ``valid, trust not checked`` (no anchor) or ``BROKEN``."""
    timestamp: dt.datetime | None = None
    """Time attested by a time-stamp authority, if any."""

    def line(self) -> str:
        when = (f"time-stamped {self.timestamp.isoformat()}" if self.timestamp is not None
                else f"signed at {self.signing_time.isoformat()}" if self.signing_time is not None
                else "no signing time")
        return f"{self.role:<9} {self.subject or '(unknown signer)'}; {when}; {self.status}"


@contextlib.contextmanager
def _quiet(*loggers: str) -> Iterator[None]:
    """Silence library loggers (their failures become our problem lines instead)."""
    saved = [(logging.getLogger(name), logging.getLogger(name).level) for name in loggers]
    for logger, _ in saved:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)


def role_of(field_name: str) -> str | None:
    """The role a signature field belongs to: ``auditor``, a co-signing role, or None (not auditkit's)."""
    from .cosign import AUDITOR_ROLE, COSIGN_ROLES, role_field

    if field_name == DEFAULT_FIELD:
        return AUDITOR_ROLE
    for role in COSIGN_ROLES:
        if field_name == role_field(role):
            return role
    return None


def known_roles() -> tuple[str, ...]:
    """Every role ``--require-roles`` may name."""
    from .cosign import AUDITOR_ROLE, COSIGN_ROLES

    return (AUDITOR_ROLE, *COSIGN_ROLES)


def revision_problems(reader: Any, signatures: Sequence[Any]) -> list[str]:
    """Every incremental update after the first signature must be one signature, the last one included."""
    revisions = reader.xrefs.total_revisions
    signed = sorted(int(s.signed_revision) for s in signatures)
    problems = []
    later = revisions - 1 - signed[-1]
    if later > 0:
        what = "the signature" if len(signatures) == 1 else "the last signature"
        problems.append(f"{later} incremental update(s) were appended after {what}")
    between = [r for r in range(signed[0] + 1, signed[-1]) if r not in signed]
    if between:
        problems.append(f"{len(between)} incremental update(s) between the signatures are not signatures")
    return problems


def signature_problems(emb: Any, status: Any, data: bytes, *, last: bool) -> list[str]:
    """What is wrong with one signature, trust left out: digest, value, coverage, later changes."""
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    problems = list(_contents_problems(data, emb))
    if not status.intact:
        # the digest is all there is to say: pyHanko judges nothing else of a broken signature
        return [*problems, "the signed bytes were changed after signing (digest mismatch)"]
    if not status.valid:
        problems.append("the signature value does not verify against the signer's key")
    if status.revoked:
        problems.append("the signer's certificate is revoked")
    if last and status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problems.append(f"the signature does not cover the entire file ({_coverage_words(status.coverage)})")
    elif not last and status.coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        problems.append(f"the signature does not cover its whole revision ({_coverage_words(status.coverage)})")
    level = status.modification_level
    # after the last signature nothing at all; after an earlier one, only further signatures
    allowed = ModificationLevel.NONE if last else ModificationLevel.FORM_FILLING
    if level is None or level > allowed:
        change = _MODIFICATIONS.get(getattr(level, "name", ""), "changes of an unknown kind")
        problems.append(f"the document was changed after signing ({change})")
    if emb.docmdp_level is not None and status.docmdp_ok is False:
        problems.append("the changes after signing break the certification (it allows only further signatures)")
    if not status.seed_value_ok:
        problems.append("the signature breaks its field's seed-value constraints")
    ts = status.timestamp_validity
    if ts is not None and not (ts.intact and ts.valid):
        problems.append("the signature time-stamp token is not intact and valid")
    return problems


def validate_signature(emb: Any, vc: Any) -> Any:
    from pyhanko.sign.validation import validate_pdf_signature

    with _quiet("pyhanko", "pyhanko_certvalidator"):
        return validate_pdf_signature(emb, signer_validation_context=vc)


def signature_integrity_problems(reader: Any, data: bytes, signatures: Sequence[Any]) -> list[str]:
    """Every integrity problem of the signatures in ``data`` (trust not judged), prefixed by field."""
    from pyhanko_certvalidator import ValidationContext

    problems = revision_problems(reader, signatures)
    last = max(int(s.signed_revision) for s in signatures)
    vc = ValidationContext(trust_roots=[], allow_fetching=False)
    for emb in signatures:
        try:
            status = validate_signature(emb, vc)
        except Exception as exc:  # noqa: BLE001 - a malformed CMS blob raises anything
            problems.append(f"{emb.field_name}: the signature cannot be validated ({type(exc).__name__})")
            continue
        found = signature_problems(emb, status, data, last=int(emb.signed_revision) == last)
        problems.extend(f"{emb.field_name}: {p}" for p in found)
    return problems


_HEX_STRING = re.compile(rb"<([0-9A-F]*|[0-9a-f]*)>")


def _contents_problems(data: bytes, emb: Any) -> list[str]:
    """The unsigned gap of the file must hold the CMS signature and nothing but zeros after it.

    The byte range a PDF signature covers leaves out its own ``/Contents`` hex string,
    which is reserved larger than the signature and padded. Nothing checks that padding
    cryptographically, so it must be zeros: otherwise hundreds of bytes of a "signed"
    file could be changed at will.
    """
    from asn1crypto import parser

    try:
        start, length, second, _ = (int(v) for v in emb.sig_object["/ByteRange"])
    except (KeyError, TypeError, ValueError):
        return ["the signature has no usable /ByteRange"]
    gap = data[start + length : second]
    if not _HEX_STRING.fullmatch(gap) or len(gap) % 2:
        return ["the signature's /Contents is not one hex string in one letter case filling the "
                "unsigned gap (the file was altered after signing)"]
    raw = bytes.fromhex(gap[1:-1].decode("ascii"))
    try:
        _class, _method, _tag, header, body, trailer = parser.parse(raw, strict=False)
    except ValueError:
        return ["the signature's /Contents does not start with a DER-encoded CMS structure"]
    used = len(header) + len(body) + len(trailer)
    padding = raw[used:]
    altered = [i for i, byte in enumerate(padding) if byte]
    if not altered:
        return []
    first = start + length + 1 + 2 * (used + altered[0])
    return [
        f"{len(altered)} byte(s) of the unsigned padding after the CMS signature in /Contents are "
        f"not zero (first at file offset {first}): the file was altered after signing"
    ]


_COVERAGE = {
    "ENTIRE_REVISION": "it covers an earlier revision; bytes were appended after it",
    "CONTIGUOUS_BLOCK_FROM_START": "it covers only the start of the file",
    "UNCLEAR": "its byte range is irregular",
}

_MODIFICATIONS = {
    "LTA_UPDATES": "validation data was added",
    "FORM_FILLING": "form fields were filled in",
    "ANNOTATIONS": "annotations were added",
    "OTHER": "content or structure was changed",
}


def _coverage_words(coverage: Any) -> str:
    return _COVERAGE.get(getattr(coverage, "name", ""), "its coverage cannot be determined")
