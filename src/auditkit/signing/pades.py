"""PAdES signing of rendered reports with pyHanko.

:func:`sign_pdf` appends one signature to a PDF as an incremental update:
PAdES B-B by default, B-T when a time-stamp authority is given (a URL, or any
pyHanko ``TimeStamper`` for tests), optionally a certification signature that
allows no change but further signatures (DocMDP level 2, so a reviewer and the
auditee can co-sign with :func:`auditkit.signing.cosign.cosign_pdf`). The visible signature box sits on the
sign-off page where the report template reserved it (the named destination
``auditkit-signature``), or at the bottom left of the last page of any other PDF;
it names the signer and the signing time, in DejaVu Sans when ``uharfbuzz`` is
installed (embedded font, PDF/A friendly) and in pyHanko's default font otherwise.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InternalError, InvalidInputError, UsageError
from ..fsio import write_bytes

if TYPE_CHECKING:
    from pyhanko.sign.timestamps import TimeStamper

DEFAULT_FIELD = "AuditorSignature"
SIGNATURE_ANCHOR = "auditkit-signature"
"""Named destination (an HTML ``id``) marking the top-left corner of the signature box."""
SIGNATURE_BOX_PT = (252.0, 72.0)
"""Width and height of the visible signature box, in PDF points (the template reserves it)."""
_FALLBACK_MARGIN_PT = 56.0
_STAMP_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_STAMP_TEXT = "Digitally signed by %(signer)s\nDate: %(ts)s\nVerify: auditkit verify --trust ca.pem"


@dataclass(frozen=True)
class SignatureInfo:
    """What :func:`sign_pdf` did."""

    output: Path
    field_name: str
    level: str
    """``PAdES B-B`` or ``PAdES B-T``."""
    certified: bool
    """True for a certification signature (DocMDP: only further signatures allowed)."""
    signer: str
    """The signing certificate's subject, RFC 4514."""
    signing_time: dt.datetime
    seconds: float
    """Wall time spent signing (loading the key excluded)."""


def _read_input(source: bytes | Path) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the PDF: {exc.strerror}", where=str(source)) from exc


def _anchor_box(reader: Any) -> tuple[int, tuple[float, float, float, float]] | None:
    """Page index and rectangle of the reserved signature box, from the named destination."""
    from pyhanko.pdf_utils import generic

    try:
        names = reader.root["/Names"]["/Dests"]["/Names"]
    except (KeyError, TypeError):
        return None
    width, height = SIGNATURE_BOX_PT
    for i in range(0, len(names) - 1, 2):
        if str(names[i]) != SIGNATURE_ANCHOR:
            continue
        dest = names[i + 1]
        if isinstance(dest, generic.DictionaryObject):
            dest = dest["/D"]
        page_ref = dest.raw_get(0)
        left, top = float(dest[2]), float(dest[3])
        rect = (left, top - height, left + width, top)
        # WeasyPrint writes a flat page tree: look at the references before reading any page
        kids = reader.root["/Pages"]["/Kids"]
        flat = [kids.raw_get(i).idnum for i in range(len(kids))]
        if len(flat) == _page_count(reader) and page_ref.idnum in flat:
            return flat.index(page_ref.idnum), rect
        idnums = _page_idnums(reader.root.raw_get("/Pages"), reader)
        if page_ref.idnum in idnums:
            return idnums.index(page_ref.idnum), rect
    return None


def _is_draft(reader: Any) -> bool:
    """Whether the document information marks an unsigned draft rendering (``/AuditkitDraft``)."""
    try:
        info = reader.trailer["/Info"]
    except KeyError:
        return False
    return "/AuditkitDraft" in info


def _page_count(reader: Any) -> int:
    return int(reader.root["/Pages"]["/Count"])


def _page_idnums(node_ref: Any, reader: Any, depth: int = 0) -> list[int]:
    """Object numbers of the pages in document order (depth-capped walk of the page tree)."""
    node = node_ref.get_object()
    if node.get("/Type") == "/Page" or "/Kids" not in node:
        return [node_ref.idnum]
    if depth > 32:
        raise InvalidInputError("page tree too deep")
    out: list[int] = []
    kids = node["/Kids"]
    for i in range(len(kids)):
        out.extend(_page_idnums(kids.raw_get(i), reader, depth + 1))
    return out


def _stamp_font_factory() -> Any:
    """DejaVu Sans for the stamp, embedded as a subset, or None without uharfbuzz.

    pyHanko 0.38 writes glyph widths and kerning in font units, which is right only
    for fonts of 1,000 units per em; DejaVu has 2,048. The engine below shapes at a
    1,000-unit scale and reports widths in the same units, so spacing is correct.
    """
    try:
        from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
    except ImportError:
        return None
    if not _STAMP_FONT.is_file():
        return None
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

    class _ThousandUnitGlyphs(GlyphAccumulator):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._scale = 1000 / self.units_per_em
            self.hb_font.scale = (1000, 1000)
            self.units_per_em = 1000

        def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
            cached = self._glyphs.get(glyph_id)
            if cached is not None:
                return cached
            cid, width = super()._get_cid_and_width(glyph_id)
            self._glyphs[glyph_id] = result = cid, round(width * self._scale)
            return result

    class _Factory(GlyphAccumulatorFactory):
        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> Any:
            if obj_stream is None and writer.stream_xrefs:
                obj_stream = writer.prepare_object_stream()
            with open(self.font_file, "rb") as handle:
                data = io.BytesIO(handle.read())
            return _ThousandUnitGlyphs(
                writer=writer, font_handle=data, font_size=self.font_size, obj_stream=obj_stream
            )

    return _Factory(str(_STAMP_FONT), font_size=9)


def _stamp_style(visible: bool, *, framed: bool = True) -> Any:
    from pyhanko import stamp
    from pyhanko.pdf_utils.text import TextBoxStyle

    if not visible:
        return None
    factory = _stamp_font_factory()
    text_box_style = TextBoxStyle(font=factory, leading=12) if factory else TextBoxStyle()
    return stamp.TextStampStyle(
        stamp_text=_STAMP_TEXT,
        text_box_style=text_box_style,
        timestamp_format="%Y-%m-%d %H:%M:%S %Z",
        border_width=1 if framed else 0,
        background=None,
    )


def _pdf17_signer_class() -> Any:
    from pyhanko.sign import signers
    from pyhanko.sign.signers import constants

    class Pdf17Signer(signers.PdfSigner):
        """Keeps a PDF/A-3 report at PDF 1.7.

        pyHanko registers ISO 32002 for ECDSA P-256 keys, which raises the catalog
        version to 2.0; PDF/A-3 is built on PDF 1.7. Only the PAdES (ESIC) extension
        is declared, as for RSA keys; readers verify the ECDSA signature either way.
        """

        def register_extensions(self, pdf_out: Any, *, md_algorithm: str) -> None:
            pdf_out.ensure_output_version(version=(1, 7))
            pdf_out.register_extension(constants.ESIC_EXTENSION_1)

    return Pdf17Signer


def _refresh_asn1_oid_maps() -> None:
    """Make asn1crypto rebuild its name->OID maps so OIDs registered after first use resolve.

    asn1crypto caches ``_reverse_map`` on first use; modules imported later (``asn1crypto.tsp``,
    pyHanko's attribute registrations) add names to ``_map`` only. If anything (our bundle
    CMS verification, say) used the map first, signing then fails with
    ``int() ... 'signing_certificate_v2'``. Resetting the cache is cheap and safe.
    """
    from asn1crypto import cms, x509

    for cls in (cms.CMSAttributeType, cms.ContentType, x509.ExtensionId):
        if cls._map is not None:
            cls._reverse_map = {name: oid for oid, name in cls._map.items()}


def sign_pdf(
    input: bytes | Path,  # noqa: A002 - the documented API name
    output: Path,
    *,
    p12: Path,
    passphrase: bytes | None,
    tsa_url: str | None = None,
    certify: bool = False,
    field_name: str = DEFAULT_FIELD,
    visible: bool = True,
    box: tuple[float, float, float, float] | None = None,
    page: int | None = None,
    reason: str | None = "Audit report issued",
    location: str | None = None,
    timestamper: TimeStamper | None = None,
) -> SignatureInfo:
    """Sign ``input`` (PDF bytes or a path) with the key in ``p12`` and write ``output`` atomically.

    ``tsa_url`` or ``timestamper`` makes the signature PAdES B-T; ``certify`` makes it a
    certification signature that permits no change but further signatures. ``box``/``page`` override where the
    visible signature goes (PDF points, origin bottom-left; page index, -1 for the last).
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError

    _refresh_asn1_oid_maps()

    _Pdf17Signer = _pdf17_signer_class()  # noqa: N806 - a class

    data = _read_input(input)
    if not data.startswith(b"%PDF-"):
        where = str(input) if isinstance(input, Path) else None
        raise InvalidInputError("not a PDF file", where=where)
    signer = load_pkcs12_signer(p12, passphrase)
    timestamper = http_timestamper(tsa_url, timestamper)
    started = time.perf_counter()
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        if writer.prev.embedded_signatures:
            raise InvalidInputError(
                "the PDF is already signed", hint="sign the unsigned report as rendered"
            )
        if _is_draft(writer.prev):
            raise InvalidInputError(
                "this report was rendered as an unsigned draft (marked UNSIGNED DRAFT on every "
                "page); a signature would contradict it",
                where=str(input) if isinstance(input, Path) else None,
                hint="render it for signing: auditkit report --sign-key, or render_report(signed=True)",
            )
        field_spec = None
        anchored = None
        if visible:
            anchored = _anchor_box(writer.prev) if box is None and page is None else None
            if anchored is not None:
                on_page, rect = anchored
            else:
                width, height = SIGNATURE_BOX_PT
                m = _FALLBACK_MARGIN_PT
                on_page = -1 if page is None else page
                rect = box or (m, m, m + width, m + height)
            field_spec = fields.SigFieldSpec(
                sig_field_name=field_name,
                on_page=on_page,
                box=tuple(round(v) for v in rect),  # type: ignore[arg-type]
            )
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=certify,
            # level 2: co-signatures may follow, any content change breaks the certification
            docmdp_permissions=fields.MDPPerm.FILL_FORMS,
            reason=reason,
            location=location,
        )
        pdf_signer = _Pdf17Signer(
            meta,
            signer=signer,
            timestamper=timestamper,
            # the report draws its own frame around the reserved box
            stamp_style=_stamp_style(visible, framed=anchored is None),
            new_field_spec=field_spec,
        )
        signed = pdf_signer.sign_pdf(writer, output=io.BytesIO())
    except (PdfError, SigningError) as exc:
        raise InvalidInputError(f"cannot sign this PDF: {exc}", where=str(output)) from exc
    except OSError as exc:  # time-stamp server unreachable and the like
        raise InternalError(
            f"time-stamping failed: {exc}", where=tsa_url, hint="check --tsa-url"
        ) from exc
    return write_signed(signed.getvalue(), output, field_name=field_name, certified=certify,
                        signer=signer, timestamped=timestamper is not None, started=started)


def http_timestamper(tsa_url: str | None, timestamper: TimeStamper | None) -> TimeStamper | None:
    """``timestamper`` if given, else a time-stamp client of ``tsa_url`` (if any)."""
    if tsa_url and timestamper is None:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        return HTTPTimeStamper(tsa_url, timeout=30)
    return timestamper


def write_signed(
    signed: bytes, output: Path, *, field_name: str, certified: bool, signer: Any, timestamped: bool,
    started: float,
) -> SignatureInfo:
    """Write the ``signed`` PDF to ``output`` atomically and describe the signature just made."""
    seconds = time.perf_counter() - started
    write_bytes(Path(output), signed)
    cert = signer.signing_cert
    return SignatureInfo(
        output=Path(output),
        field_name=field_name,
        level="PAdES B-T" if timestamped else "PAdES B-B",
        certified=certified,
        signer=cert.subject.human_friendly if cert is not None else "",
        signing_time=dt.datetime.now(dt.UTC),
        seconds=seconds,
    )


def load_pkcs12_signer(p12: Path, passphrase: bytes | None) -> Any:
    """pyHanko's ``SimpleSigner`` for the key in ``p12``; a wrong passphrase is an integrity error."""
    from pyhanko.sign import signers

    from .keys import read_pkcs12, unopenable_pkcs12

    try:
        return signers.SimpleSigner.load_pkcs12_data(read_pkcs12(p12), [], passphrase or None)
    except ValueError as exc:
        raise unopenable_pkcs12(p12) from exc
