"""Fail-closed verification of a signed audit report.

:func:`verify_report` collects every reason a report cannot be relied on and
raises one :class:`~auditkit.errors.IntegrityError` listing them all; it returns a
:class:`ReportVerification` only when everything holds:

* the file parses and holds the auditor's signature in the expected field, and no
  other signature but co-signatures (``auditkit-reviewer``, ``auditkit-auditee``,
  see :mod:`.cosign`) made after it;
* every signature is cryptographically intact and valid, with nothing but zeros
  after the CMS blob in its unsigned ``/Contents`` padding; the last one covers the
  *entire* file (no byte and no incremental update after it); every update after the
  auditor's signature is one signature, and pyHanko's difference analysis finds
  nothing but signatures added (pyHanko's ``bottom_line`` tolerates later updates,
  so coverage and revisions are checked here);
* each signer's chain ends at a trusted root (``trust``), key usage allows signing,
  and a time-stamp token, if any, is intact and trusted too;
* the embedded ``results.json`` is present once and its SHA-256 equals the digest
  recorded at render time in the document information (covered by the signature),
  and likewise ``manifest.yaml`` when its digest was recorded;
* with ``bundle``, the bundle passes the full verification of ``auditkit bundle
  verify`` (:mod:`.recheck`) and its root hash (and verified signer, if recorded)
  equals the one the results name;
* every role in ``require_roles`` has signed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import IntegrityError, UsageError
from .pades import DEFAULT_FIELD
from .signatures import SignerInfo, known_roles, revision_problems, role_of, signature_problems, validate_signature

RESULTS_NAME = "results.json"
MANIFEST_NAME = "manifest.yaml"
INFO_RESULTS_DIGEST = "/AuditkitResultsSHA256"
INFO_MANIFEST_DIGEST = "/AuditkitManifestSHA256"
MAX_PDF_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ReportVerification:
    """The verdict on a report that passed every check."""

    path: Path
    field_name: str
    signer: str
    """Signer certificate subject, human readable."""
    signer_sha256: str
    """SHA-256 fingerprint of the signer certificate."""
    trust_anchor: str
    """Subject of the trusted root the chain ends at."""
    trust_anchor_sha256: str
    """SHA-256 fingerprint of that root certificate (compare it with the one the auditor published)."""
    level: str
    """``PAdES B-B`` or ``PAdES B-T``."""
    certified: bool
    """A certification signature (DocMDP) rather than an approval signature."""
    signing_time: dt.datetime | None
    """Time claimed by the signer (not proof)."""
    timestamp: dt.datetime | None
    """Time attested by the time-stamp authority (B-T)."""
    results_sha256: str
    manifest_sha256: str | None
    bundle_root_hash: str | None
    """Root hash named in the results, if any."""
    bundle_checked: bool
    """A bundle given to the verifier was re-verified in full and matches the results."""
    bundle_checks: tuple[str, ...] = ()
    """What the bundle re-verification checked, one line each."""
    integrity_failures: tuple[str, ...] = ()
    """Evidence files the results record as failing their hash (assessed anyway)."""
    view: Any = None
    """For an audience view, its :class:`~auditkit.signing.views.ViewVerification` (no results then)."""
    signers: tuple[SignerInfo, ...] = ()
    """Every signature on the report, the auditor's first, co-signatures after it."""

    def lines(self) -> list[str]:
        """A human summary, one fact a line."""
        out = [
            f"OK: {self.path} is signed, intact and trusted",
            f"  signer:      {self.signer}",
            f"  fingerprint: sha256:{self.signer_sha256}",
            f"  trusted via: {self.trust_anchor}",
            f"  CA:          sha256:{self.trust_anchor_sha256}",
            f"  level:       {self.level}"
            + (" (certified, only further signatures allowed)" if self.certified else ""),
            "  coverage:    entire file, no later updates; signature padding all zeros"
            if len(self.signers) < 2 else
            "  coverage:    the last signature covers the entire file; every update after the "
            "auditor's adds one signature and nothing else; signature padding all zeros",
        ]
        if self.signers:
            out.append(f"  signatures:  {len(self.signers)}")
            out.extend(f"    {signer.line()}" for signer in self.signers)
        if self.timestamp is not None:
            out.append(f"  time-stamp:  {self.timestamp.isoformat()} (TSA)")
        elif self.signing_time is not None:
            out.append(f"  signed at:   {self.signing_time.isoformat()} (claimed by signer)")
        if self.view is not None:
            out.extend(self.view.lines())
        else:
            out.append(f"  results:     {RESULTS_NAME} sha256:{self.results_sha256} matches")
        if self.manifest_sha256:
            out.append(f"  manifest:    {MANIFEST_NAME} sha256:{self.manifest_sha256} matches")
        if self.bundle_checked:
            out.append("  bundle:      re-verified in full (the checks of `auditkit bundle verify`):")
            out.extend(f"               {line}" for line in self.bundle_checks)
        elif self.bundle_root_hash:
            out.append(f"  bundle:      root hash {self.bundle_root_hash} (not re-checked: pass --bundle)")
        if self.integrity_failures:
            out.append(
                f"  WARNING:     the results record {len(self.integrity_failures)} evidence file(s) failing "
                f"their manifest hash, assessed anyway (--allow-integrity-failures), as the report "
                f"states: {', '.join(self.integrity_failures)}"
            )
        return out


def _load_trust(trust: Path | Sequence[Path] | None) -> list[Any]:
    from pyhanko.keys import load_certs_from_pemder_data

    paths = [trust] if isinstance(trust, str | Path) else list(trust or [])
    roots: list[Any] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise UsageError(
                f"cannot read the trust anchor: {exc.strerror}", where=str(path)
            ) from exc
        try:
            certs = list(load_certs_from_pemder_data(data))
        except Exception as exc:  # noqa: BLE001 - asn1crypto raises many kinds
            raise UsageError("not a PEM or DER certificate", where=str(path)) from exc
        if not certs:
            raise UsageError("no certificate found", where=str(path))
        roots.extend(certs)
    return roots


def _name_tree_leaves(node: Any, depth: int = 0) -> Iterable[tuple[str, Any]]:
    if depth > 16:
        raise ValueError("name tree too deep")
    names = node.get("/Names")
    if names is not None:
        for i in range(0, len(names) - 1, 2):
            yield str(names[i]), names[i + 1]
    for kid in node.get("/Kids", ()):
        yield from _name_tree_leaves(kid, depth + 1)


def embedded_files(reader: Any) -> list[tuple[str, bytes]]:
    """Every embedded file of the document as ``(name, bytes)`` (pyHanko reader)."""
    try:
        tree = reader.root["/Names"]["/EmbeddedFiles"]
    except KeyError:
        return []
    out = []
    for key, spec in _name_tree_leaves(tree):
        name = str(spec.get("/UF", spec.get("/F", key)))
        out.append((name, spec["/EF"]["/F"].data))
    return out


def _results_root_hash(results: Any) -> str | None:
    """The bundle root hash named by a results document, wherever the model keeps it."""
    if not isinstance(results, dict):
        return None
    for holder in (results.get("bundle"), results.get("inputs"), results):
        if isinstance(holder, dict):
            for key in ("root_hash", "bundle_root_hash"):
                value = holder.get(key)
                if isinstance(value, str):
                    return value
    return None


def verify_report(
    pdf: Path,
    *,
    trust: Path | Sequence[Path] | None,
    bundle: Path | None = None,
    bundle_trust: Sequence[Path] = (),
    field_name: str = DEFAULT_FIELD,
    against: str | None = None,
    full: Path | None = None,
    require_roles: Sequence[str] = (),
) -> ReportVerification:
    """Verify a signed report and every co-signature on it; raise :class:`IntegrityError` listing
    every failed check, one a line. ``require_roles`` names roles that must have signed.

    An audience view (``auditkit report --audience``) has no results: its disclosures are
    proven instead (:mod:`.views`), and its full report fingerprint checked against
    ``against`` or the full report ``full`` when given.
    """
    from pyhanko_certvalidator import ValidationContext

    from .objstm import open_reader

    unknown = [r for r in require_roles if r not in known_roles()]
    if unknown:
        raise UsageError(f"unknown role(s) {', '.join(unknown)} (roles: {', '.join(known_roles())})")
    pdf = Path(pdf)
    roots = _load_trust(trust)
    try:
        if pdf.stat().st_size > MAX_PDF_BYTES:
            raise IntegrityError("file too large for a report", where=str(pdf))
        data = pdf.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the report: {exc.strerror}", where=str(pdf)) from exc

    problems: list[str] = []

    def fail(*reasons: str) -> ReportVerificationError:
        return _failure(pdf, [*problems, *reasons])

    if not data.startswith(b"%PDF-"):
        raise fail("not a PDF file")
    try:
        reader = open_reader(data, strict=True)
        signatures = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - any parse failure means the file is damaged
        raise fail(f"the PDF cannot be parsed ({type(exc).__name__}: {str(exc)[:200]})") from exc
    if not signatures:
        raise fail("the report is not signed")
    matching = [s for s in signatures if s.field_name == field_name]
    if not matching:
        raise fail(f"no signature in field {field_name!r}")
    emb = matching[0]
    several = len(signatures) > 1
    for other in signatures:
        if other.field_name != field_name and role_of(str(other.field_name)) is None:
            problems.append(f"a signature in field {str(other.field_name)!r} is not an auditkit role's "
                            f"(only {DEFAULT_FIELD} and auditkit-<role> are)")
        elif several and int(other.signed_revision) < int(emb.signed_revision):
            problems.append(f"the {role_of(str(other.field_name))} signature precedes the auditor's")

    problems.extend(revision_problems(reader, signatures))
    if not roots:
        problems.append("no trust anchor given: the signer cannot be trusted (pass --trust CA.pem)")
    vc = ValidationContext(trust_roots=roots, allow_fetching=False)
    last = max(int(s.signed_revision) for s in signatures)
    signers: list[SignerInfo] = []
    status = None
    for sig in sorted(signatures, key=lambda s: int(s.signed_revision)):
        role = role_of(str(sig.field_name)) or str(sig.field_name)
        prefix = f"{role} signature: " if several else ""
        try:
            st = validate_signature(sig, vc)
        except Exception as exc:  # noqa: BLE001 - a malformed CMS blob raises anything
            if sig is emb:
                raise fail(f"{prefix}the signature cannot be validated ({type(exc).__name__}: {exc})") from exc
            problems.append(f"{prefix}the signature cannot be validated ({type(exc).__name__})")
            signers.append(SignerInfo(role, str(sig.field_name), "", None, "BROKEN"))
            continue
        found = signature_problems(sig, st, data, last=int(sig.signed_revision) == last)
        untrusted: list[str] = []
        if st.intact and roots and not st.trusted:
            untrusted.append(_trust_problem(st.trust_problem_indic, roots, st.signing_cert))
        ts = st.timestamp_validity
        if st.intact and ts is not None and roots and not ts.trusted:
            untrusted.append("the signature time-stamp token is not trusted")
        problems.extend(prefix + p for p in [*found, *untrusted])
        subject = st.signing_cert.subject.human_friendly if st.signing_cert is not None else ""
        state = ("BROKEN" if found else "valid, NOT trusted" if untrusted
                 else "valid, trusted" if roots else "valid, trust not checked")
        signers.append(SignerInfo(role, str(sig.field_name), subject, st.signer_reported_dt, state,
                                  ts.timestamp if ts is not None else None))
        if sig is emb:
            status = st
    assert status is not None
    present = {s.role for s in signers}
    missing = [r for r in require_roles if r not in present]
    if missing:
        problems.append(f"required signature(s) missing: {', '.join(missing)}")
    ts = status.timestamp_validity

    from . import views

    view = None
    try:
        info = reader.trailer["/Info"] if "/Info" in reader.trailer else {}
        is_view = views.is_view(info)
    except Exception:  # noqa: BLE001 - damaged trailer: the attachment checks say so
        info, is_view = {}, False
    # the attachments as the auditor signed them, and as a reader sees them now
    signed_view = reader.get_historical_resolver(int(emb.signed_revision)) if several else reader
    if is_view:
        try:
            files = embedded_files(reader)
        except Exception as exc:  # noqa: BLE001 - damaged name tree or stream
            files = []
            problems.append(f"the embedded files cannot be read ({type(exc).__name__})")
        view = views.check_view(files, info, problems, trust=[Path(p) for p in ([trust] if isinstance(trust, str | Path)
                                                                          else list(trust or []))],
                          against=against, full=full)
        results_digest, manifest_digest, recorded = None, None, None
    else:
        if against is not None or full is not None:
            problems.append("--against and --full apply to audience views; this is a full report")
        results_digest, manifest_digest, recorded = _check_attachments(signed_view, problems)
        if several:
            now: list[str] = []
            _check_attachments(reader, now)
            problems.extend(f"in the latest revision: {p}" for p in now if p not in problems)
    # pyHanko's diff policy lets /Info change with any update; auditkit's digests live there
    if several and _info_items(signed_view) != _info_items(reader):
        problems.append("the document information (title, recorded digests) was changed after "
                        "the auditor signed")
    bundle_root = _results_root_hash(recorded)
    recorded_bundle = recorded.get("bundle") if isinstance(recorded, dict) else None
    recorded_bundle = recorded_bundle if isinstance(recorded_bundle, dict) else {}

    bundle_checks: list[str] = []
    if bundle is not None:
        from .recheck import recheck_bundle

        before = len(problems)
        bundle_checks = recheck_bundle(
            Path(bundle), bundle_root, recorded_bundle.get("signature"), bundle_trust, problems
        )
        bundle_checked = len(problems) == before
    else:
        bundle_checked = False
    failures = recorded_bundle.get("integrity_failures")
    failing = tuple(
        str(f.get("path")) for f in (failures if isinstance(failures, list) else []) if isinstance(f, dict)
    )

    if view is not None and status.signing_cert is not None and \
            view.commitments_signer_sha256 != hashlib.sha256(status.signing_cert.dump()).hexdigest():
        problems.append("the commitment list is signed by another certificate than the view")
    if problems:
        raise _failure(pdf, problems, signers)
    cert = status.signing_cert
    path = status.validation_path
    anchor = path.trust_anchor.authority.name.human_friendly if path is not None else ""
    anchor_cert = getattr(path.trust_anchor, "certificate", None) if path is not None else None
    return ReportVerification(
        path=pdf,
        field_name=emb.field_name,
        signer=cert.subject.human_friendly,
        signer_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        trust_anchor=anchor,
        trust_anchor_sha256=hashlib.sha256(anchor_cert.dump()).hexdigest() if anchor_cert is not None else "",
        level="PAdES B-T" if ts is not None else "PAdES B-B",
        certified=emb.docmdp_level is not None,
        signing_time=status.signer_reported_dt,
        timestamp=ts.timestamp if ts is not None else None,
        results_sha256=results_digest or "",
        manifest_sha256=manifest_digest,
        bundle_root_hash=bundle_root,
        bundle_checked=bundle_checked,
        bundle_checks=tuple(bundle_checks),
        integrity_failures=failing,
        view=view,
        signers=tuple(signers),
    )


def _info_dict(view: Any) -> Any:
    """The document information dictionary as of ``view``'s revision (a reader or a historical view).

    The trailer's ``/Info`` reference is bound to the reader, so it is resolved in ``view`` here;
    following it directly would read the latest revision's dictionary.
    """
    from pyhanko.pdf_utils import generic

    trailer = view.trailer_view
    if "/Info" not in trailer:
        return {}
    raw = trailer.raw_get("/Info")
    if isinstance(raw, generic.IndirectObject):
        return view.get_object(raw.reference)
    return raw


_SIGNER_UPDATED_INFO = frozenset({"/ModDate", "/Producer"})
"""What a signing tool updates in the document information with every signature."""


def _info_items(view: Any) -> dict[str, str] | None:
    """The document information without the entries each signature update may rewrite."""
    try:
        info = _info_dict(view)
        return {str(key): str(value) for key, value in info.items() if str(key) not in _SIGNER_UPDATED_INFO}
    except Exception:  # noqa: BLE001 - a damaged dictionary differs from any readable one
        return None


def _optional_attachment(
    files: Sequence[tuple[str, bytes]], name: str, recorded: Any, problems: list[str]
) -> str | None:
    """The SHA-256 of the one embedded ``name``, if any, checked against the ``recorded`` digest."""
    found = [content for found_name, content in files if found_name == name]
    recorded = str(recorded or "").lower()
    if len(found) > 1:
        problems.append(f"expected at most one embedded {name}, found {len(found)}")
        return None
    if not found:
        if recorded:
            problems.append(f"the embedded {name} recorded at rendering is missing")
        return None
    digest = hashlib.sha256(found[0]).hexdigest()
    if recorded != digest:
        problems.append(f"the embedded {name} does not match the digest recorded at rendering")
    return digest


def _check_attachments(
    reader: Any, problems: list[str]
) -> tuple[str | None, str | None, Any]:
    """Check the embedded results (and manifest and commitments) against the digests recorded in the document."""
    from ..report import commitments as cm

    try:
        files = embedded_files(reader)
        info = _info_dict(reader)
    except Exception as exc:  # noqa: BLE001 - damaged name tree or stream
        problems.append(f"the embedded files cannot be read ({type(exc).__name__})")
        return None, None, None
    results = [content for name, content in files if name == RESULTS_NAME]
    recorded: Any = None
    results_digest: str | None = None
    if len(results) != 1:
        problems.append(f"expected one embedded {RESULTS_NAME}, found {len(results)}")
    else:
        results_digest = hashlib.sha256(results[0]).hexdigest()
        recorded = str(info.get(INFO_RESULTS_DIGEST, "")).lower()
        if not recorded:
            problems.append(f"the document records no {RESULTS_NAME} digest")
        elif recorded != results_digest:
            problems.append(
                f"the embedded {RESULTS_NAME} (sha256:{results_digest}) is not the one the report "
                f"was rendered from (sha256:{recorded})"
            )
        try:
            recorded = json.loads(results[0])
        except ValueError:
            problems.append(f"the embedded {RESULTS_NAME} is not valid JSON")
    manifest_digest = _optional_attachment(files, MANIFEST_NAME, info.get(INFO_MANIFEST_DIGEST), problems)
    _optional_attachment(files, cm.COMMITMENTS_NAME, info.get("/" + cm.COMMITMENTS_KEY), problems)
    return results_digest, manifest_digest, recorded


_TRUST_PROBLEMS = {
    "NO_CERTIFICATE_CHAIN_FOUND": "the signer's certificate does not chain to the trusted CA",
    "CHAIN_CONSTRAINTS_FAILURE": (
        "the signer's certificate is not valid for signing reports "
        "(key usage or chain constraints)"
    ),
    "OUT_OF_BOUNDS_NO_POE": "the signer's certificate has expired (or is not yet valid)",
    "EXPIRED": "the signer's certificate has expired",
    "NOT_YET_VALID": "the signer's certificate is not yet valid",
    "REVOKED_NO_POE": "the signer's certificate is revoked",
    "REVOKED_CA_NO_POE": "a CA certificate in the signer's chain is revoked",
}


def common_name(name: Any) -> str:
    """The common name of an asn1crypto ``Name``, else its readable form."""
    native = name.native if hasattr(name, "native") else {}
    value = native.get("common_name") if isinstance(native, dict) else None
    return str(value) if value else str(name.human_friendly)


def _trust_problem(indication: Any, roots: Sequence[Any], signer: Any) -> str:
    name = getattr(indication, "name", None)
    anchors = "; ".join(common_name(root.subject) for root in roots[:3])
    if name == "NO_CERTIFICATE_CHAIN_FOUND" and signer is not None:
        return (f"signed by {common_name(signer.subject)} (issued by {common_name(signer.issuer)}), "
                f"not issued by the trusted CA {anchors}")
    known = _TRUST_PROBLEMS.get(str(name))
    if known:
        return known
    return f"the signer's certificate could not be validated up to the trusted CA ({anchors})"


class ReportVerificationError(IntegrityError):
    """Verification failed; ``problems`` holds every reason, one a line."""

    def __init__(self, pdf: Path, problems: Sequence[str], signers: Sequence[SignerInfo] = ()):
        self.problems = list(problems)
        self.signers = list(signers)
        count = len(self.problems)
        super().__init__(
            f"verification FAILED, {count} problem{'s' if count != 1 else ''}",
            where=str(pdf),
            hint="do not rely on this report",
        )

    @property
    def lines(self) -> list[str]:
        where = self.where or ""
        # a single signature is the one every problem is about; several are listed first
        listed = [f"{where}: signature {s.line()}" for s in self.signers] if len(self.signers) > 1 else []
        return [*listed, *(f"{where}: {problem}" for problem in self.problems), self.render()]


def _failure(pdf: Path, reasons: list[str], signers: Sequence[SignerInfo] = ()) -> ReportVerificationError:
    return ReportVerificationError(pdf, reasons, signers)
