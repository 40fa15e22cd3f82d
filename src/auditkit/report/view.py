"""Render an audience view (public, auditee, regulator) of a signed full report.

The full report is verified first (signature, chain, embedded files). The items the
audience may see are taken from the auditor's private salts sidecar and each is
checked against the full report's signed ``commitments.json`` before it is shown.
The view embeds, and records the SHA-256 of in its document information (covered by
the view's own signature):

* ``disclosures.json``: the disclosed items with their salts;
* ``commitments.json``: a byte-for-byte copy of the full report's commitment list;
* ``commitments.p7s``: a detached CMS signature over that list by the auditor's key,
  so the list can be checked without the full report;
* ``source.json``: the full report's SHA-256 fingerprint and its signer.

It never embeds ``results.json`` nor any withheld item; only the regulator's view
carries the evidence manifest. Its pages name the audience and count what is withheld.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import IntegrityError, InternalError, InvalidInputError
from ..fsio import write_bytes
from . import commitments as cm
from .env import make_environment, template_dir
from .messages import steps

TEMPLATE = "view.html.j2"


@dataclass(frozen=True)
class RenderedView:
    """What :func:`render_view` wrote."""

    output: Path
    audience: str
    pages: int
    disclosed: int
    withheld: int
    full_report_sha256: str
    seconds: float
    warnings: list[str] = field(default_factory=list)


def _attachments_of(pdf: Path) -> dict[str, bytes]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    from ..signing.verify import embedded_files

    with Path(pdf).open("rb") as handle:
        reader = PdfFileReader(handle, strict=True)
        return dict(embedded_files(reader))


def render_view(
    full: Path,
    *,
    audience: str,
    trust: list[Path],
    salts: Path | None,
    output: Path,
    sign_key: Path,
    passphrase: bytes | None,
    signed: bool = True,
    progress: Callable[[str], None] | None = None,
) -> RenderedView:
    """Verify the signed full report ``full`` and render the ``audience`` view of it to ``output``.

    Raises :class:`IntegrityError` (exit 4) if the full report fails verification, if a
    sidecar item does not match its commitment, or if ``sign_key`` is not the key that
    signed the full report.
    """
    from ..signing.cms import sign_detached
    from ..signing.keys import load_signer
    from ..signing.verify import verify_report
    from .fetcher import layout_html, make_fetcher
    from .render import _source_date_epoch, captured_warnings, write_pdfa

    if audience not in cm.AUDIENCES:
        raise InvalidInputError(f"unknown audience {audience!r}", hint=f"one of {', '.join(cm.AUDIENCES)}")
    checked = verify_report(full, trust=trust)
    full_bytes = Path(full).read_bytes()
    fingerprint = hashlib.sha256(full_bytes).hexdigest()
    files = _attachments_of(full)
    raw_commitments = files.get(cm.COMMITMENTS_NAME)
    if raw_commitments is None:
        raise IntegrityError(f"the full report embeds no {cm.COMMITMENTS_NAME}", where=str(full),
                             hint="render the full report again with this auditkit version")
    listed = cm.parse_commitments(raw_commitments, where=f"{full}:{cm.COMMITMENTS_NAME}")
    sidecar = cm.read_salts(salts or cm.salts_path(full))
    disclosed = []
    for item_id in cm.select(audience, sidecar):
        salt, item = sidecar[item_id]
        if cm.commitment(salt, item) != listed.get(cm.listed_id(item_id, salt)):
            raise IntegrityError(f"item {item_id} of the salts file does not match the full report's commitment",
                                 where=str(salts or cm.salts_path(full)),
                                 hint="use the salts file written beside this full report")
        disclosed.append((item_id, salt, item))

    signer = load_signer(sign_key, passphrase)
    from cryptography.hazmat.primitives import serialization

    key_fp = hashlib.sha256(signer.cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    if key_fp != checked.signer_sha256:
        raise IntegrityError("the signing key is not the one that signed the full report", where=str(sign_key),
                             hint="sign the view with the auditor key of the full report")
    attachments = {
        cm.DISCLOSURES_NAME: cm.disclosures_json(audience, disclosed),
        cm.COMMITMENTS_NAME: raw_commitments,
        cm.COMMITMENTS_SIG_NAME: sign_detached(raw_commitments, sign_key, passphrase),
        cm.SOURCE_NAME: json.dumps({"format": 1, "full_report_sha256": fingerprint,
                                    "full_report_signer": checked.signer,
                                    "full_report_signer_sha256": checked.signer_sha256,
                                    "audience": audience}, indent=1).encode("utf-8") + b"\n",
    }
    if audience == "regulator" and "manifest.yaml" in files:
        attachments["manifest.yaml"] = files["manifest.yaml"]

    items = {i: item for i, _, item in disclosed}
    overall = items.get("overall", {})
    try:
        day = dt.date.fromisoformat(str(overall.get("as_of", ""))[:10])
    except ValueError:
        day = dt.date(1970, 1, 1)
    moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    context = {
        "audience": audience, "signed": signed, "overall": overall,
        "families": [v for k, v in items.items() if k.startswith("family:")],
        "controls": [v for k, v in items.items() if k.startswith("control:")],
        "evidence": [v for k, v in items.items() if k.startswith("evidence:")],
        "disclosed": len(disclosed), "withheld": len(listed) - len(disclosed),
        "fingerprint": fingerprint, "commitments_sha256": hashlib.sha256(raw_commitments).hexdigest(),
        "signer": checked.signer, "document_date": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    html = make_environment().get_template(TEMPLATE).render(**context)
    folder = template_dir()
    started = time.perf_counter()
    with captured_warnings() as collected, _source_date_epoch(moment), steps(progress):
        document = layout_html(html, folder, make_fetcher(folder))
        metadata = {cm.AUDIENCE_KEY: audience, cm.FULL_REPORT_KEY: fingerprint}
        metadata.update({key: hashlib.sha256(attachments[name]).hexdigest()
                         for name, key in cm.VIEW_DIGEST_KEYS.items()})
        if "manifest.yaml" in attachments:
            metadata["AuditkitManifestSHA256"] = hashlib.sha256(attachments["manifest.yaml"]).hexdigest()
        pdf = write_pdfa(document, metadata=metadata, moment=moment, signed=signed,
                         files=[(name, data, f"Audience view: {name}") for name, data in attachments.items()])
    if not isinstance(pdf, bytes) or not pdf.startswith(b"%PDF-"):
        raise InternalError("WeasyPrint produced no PDF")
    write_bytes(Path(output), pdf)
    return RenderedView(output=Path(output), audience=audience, pages=len(document.pages),
                        disclosed=len(disclosed), withheld=len(listed) - len(disclosed),
                        full_report_sha256=fingerprint, seconds=time.perf_counter() - started,
                        warnings=collected.messages)
