"""Co-signing an auditor-signed report: the reviewer's countersignature, the auditee's acknowledgement.

:func:`cosign_pdf` appends one further PAdES signature to a report the auditor has
already signed, as an incremental update that adds nothing but the signature field
``auditkit-<role>`` (invisible) and its signature. The role is stated in the
signature's ``/Reason``; the field locks itself (FieldMDP). The PDF is refused
(:class:`~auditkit.errors.InvalidInputError`) when it has no auditor signature,
when a signature it holds does not verify (digest, signature value, coverage,
non-signature changes after it; trust is for ``auditkit verify`` to judge), or
when the role has signed already.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InternalError, InvalidInputError
from .pades import (
    DEFAULT_FIELD,
    SignatureInfo,
    _pdf17_signer_class,
    _read_input,
    _refresh_asn1_oid_maps,
    http_timestamper,
    load_pkcs12_signer,
    write_signed,
)

if TYPE_CHECKING:
    from pyhanko.sign.timestamps import TimeStamper

AUDITOR_ROLE = "auditor"
COSIGN_ROLES = ("reviewer", "auditee")
"""Who may co-sign: the engagement quality reviewer and the audited organization."""
REASONS = {
    "auditor": "Audit report issued",
    "reviewer": "auditkit reviewer countersignature",
    "auditee": "auditkit auditee acknowledgement",
}


def role_field(role: str) -> str:
    """The signature field a co-signing role signs in."""
    return f"auditkit-{role}"


def cosign_pdf(
    input: bytes | Path,  # noqa: A002 - mirrors sign_pdf
    output: Path,
    *,
    role: str,
    p12: Path,
    passphrase: bytes | None,
    tsa_url: str | None = None,
    timestamper: TimeStamper | None = None,
) -> SignatureInfo:
    """Append ``role``'s signature to the auditor-signed ``input`` and write ``output`` atomically."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError

    from .objstm import open_reader
    from .signatures import signature_integrity_problems

    if role not in COSIGN_ROLES:
        raise InvalidInputError(f"unknown co-signing role {role!r} (use {' or '.join(COSIGN_ROLES)})")
    where = str(input) if isinstance(input, Path) else None
    data = _read_input(input)
    if not data.startswith(b"%PDF-"):
        raise InvalidInputError("not a PDF file", where=where)
    _refresh_asn1_oid_maps()
    field_name = role_field(role)
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        signatures = list(writer.prev.embedded_signatures)
    except (PdfError, ValueError, KeyError) as exc:
        raise InvalidInputError(f"the PDF cannot be parsed ({type(exc).__name__})", where=where) from exc
    if not signatures:
        raise InvalidInputError("the PDF is not signed: only an auditor-signed report can be co-signed",
                                where=where)
    names = {str(s.field_name) for s in signatures}
    if DEFAULT_FIELD not in names:
        raise InvalidInputError(f"the PDF has no auditor signature (field {DEFAULT_FIELD})", where=where)
    if field_name in names or _has_field(writer.prev, field_name):
        raise InvalidInputError(f"the report already has a {role} signature ({field_name})", where=where)
    # an indexed reader of its own: pyHanko's would make the difference analysis quadratic
    checked = open_reader(data, strict=False)
    problems = signature_integrity_problems(checked, data, list(checked.embedded_signatures))
    if problems:
        raise InvalidInputError(f"its signatures do not verify: {problems[0]}", where=where,
                                hint="run auditkit verify on it")
    signer = load_pkcs12_signer(p12, passphrase)
    timestamper = http_timestamper(tsa_url, timestamper)
    started = time.perf_counter()
    try:
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=REASONS[role],
        )
        spec = fields.SigFieldSpec(
            sig_field_name=field_name,
            field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, [field_name]),
        )
        pdf_signer = _pdf17_signer_class()(meta, signer=signer, timestamper=timestamper, new_field_spec=spec)
        signed = pdf_signer.sign_pdf(writer, output=io.BytesIO())
    except (PdfError, SigningError) as exc:
        raise InvalidInputError(f"cannot co-sign this PDF: {exc}", where=where) from exc
    except OSError as exc:
        raise InternalError(f"time-stamping failed: {exc}", where=tsa_url, hint="check --tsa-url") from exc
    return write_signed(signed.getvalue(), output, field_name=field_name, certified=False,
                        signer=signer, timestamped=timestamper is not None, started=started)


def _has_field(reader: object, name: str) -> bool:
    from pyhanko.sign.fields import enumerate_sig_fields

    try:
        return any(str(found[0]) == name for found in enumerate_sig_fields(reader))  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a damaged form is judged by the signatures check
        return False
