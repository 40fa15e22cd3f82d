"""The intake client behind ``auditkit submit`` and ``auditkit fetch``.

Uploads stream from disk with ``httpx`` (a folder bundle is packed first with
:func:`auditkit.evidence.pack_bundle`), downloads stream to a temp file that is
hashed, checked and renamed. Every HTTP failure becomes one
:class:`~auditkit.intake.problems.ApiError` with a one-line message and the
exit code documented in ``docs/intake.md``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..errors import IntegrityError, UsageError
from ..fsio import atomic_writer, write_bytes
from ..progress import Advance
from .models import INTEGRITY_PREFIX, SignedReceipt
from .problems import (
    ApiError,
    BadRequest,
    Forbidden,
    NotFound,
    Rejected,
    TimedOut,
    TooLarge,
    Unauthorized,
    Unavailable,
)

if TYPE_CHECKING:
    import httpx

CHUNK = 1024 * 1024
_REF = re.compile(r"^(?:[0-9a-f]{64}|up_[0-9a-f]{20})$")
_PREFIX = re.compile(r"^(?:sha256:)?([0-9a-f]{6,63})$")


def list_bundles(server: str, token: str, *, limit: int = 100, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The uploads this token may read, newest first (the server's summaries)."""
    server = _base(server)
    with _client(server, token, timeout) as client:
        with _transport_errors(server, "listing bundles"):
            response = client.get("/api/v1/bundles", params={"limit": str(limit)})
        raise_for_status(response, server)
    try:
        bundles = response.json()["bundles"]
    except (ValueError, KeyError, TypeError):
        raise Unavailable("server answered with a malformed list", where=server) from None
    return [b for b in bundles if isinstance(b, dict)]


def resolve_ref(ref: str, server: str, token: str) -> str:
    """``ref`` as the server knows it: a full root hash or upload id, or a unique root-hash prefix resolved.

    Prefixes (6 or more hex digits, ``sha256:`` allowed) are matched against the
    accepted bundles this token may read; an ambiguous or unknown prefix is a usage error.
    """
    ref = ref.strip().lower()
    if ref.startswith("sha256:") and _REF.match(ref[7:]):
        return ref[7:]
    if _REF.match(ref):
        return ref
    match = _PREFIX.match(ref)
    if not match:
        raise UsageError(
            f"{ref[:80]!r} is not a bundle root hash (or a prefix of at least 6 hex digits) or an upload id "
            "(up_...)", where="ID",
        )
    prefix = match.group(1)
    hits = sorted({str(b.get("bundle_root_hash")) for b in list_bundles(server, token, limit=1000)
                   if str(b.get("bundle_root_hash") or "").startswith(prefix)})
    if not hits:
        raise NotFound(f"no accepted bundle visible to this token has a root hash starting {prefix}", where="ID",
                       hint="auditkit intake list shows them")
    if len(hits) > 1:
        raise UsageError(f"root-hash prefix {prefix} is ambiguous: {', '.join(h[:16] for h in hits[:5])}",
                         where="ID", hint="give more digits")
    return hits[0]
_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    408: TimedOut,
    413: TooLarge,
    422: Rejected,
}
_HINTS = {
    401: "check AUDITKIT_TOKEN or --token-file",
    403: "use a token with the right role",
    404: "check the id, and that your token may read that organization",
    413: "split the evidence into smaller bundles",
}


class BundleRejected(Rejected):
    """The server received the bundle and its verifier refused it; ``outcome`` has the receipt.

    Exit 4 when a reason is an integrity failure (as ``bundle verify`` exits locally), else 3.
    """

    def __init__(self, outcome: SubmitOutcome, where: str):
        self.outcome = outcome
        reasons = outcome.signed.receipt.reasons
        count = len(reasons)
        super().__init__(
            f"bundle rejected by the server ({count} reason{'s' * (count != 1)})", where=where
        )
        if any(r.startswith(INTEGRITY_PREFIX) for r in reasons):
            self.exit_code = IntegrityError.exit_code

    @property
    def lines(self) -> list[str]:
        return [self.render(), *(f"  {r}" for r in self.outcome.signed.receipt.reasons)]


@dataclass(frozen=True)
class SubmitOutcome:
    """What the server said about an upload."""

    signed: SignedReceipt
    duplicate: bool

    @property
    def accepted(self) -> bool:
        return self.signed.receipt.verdict == "accepted"


def read_token(token_file: Path | None) -> str:
    """The API token from ``--token-file`` or else ``AUDITKIT_TOKEN``."""
    if token_file is not None:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(
                f"cannot read token file: {exc.strerror}", where=str(token_file)
            ) from None
        if not token:
            raise UsageError("token file is empty", where=str(token_file))
        return token
    token = os.environ.get("AUDITKIT_TOKEN", "").strip()
    if not token:
        raise UsageError("no API token", hint="set AUDITKIT_TOKEN or pass --token-file FILE")
    return token


def _base(server: str) -> str:
    server = server.rstrip("/")
    if not server.startswith(("http://", "https://")):
        raise UsageError(
            f"server URL {server!r} must start with http:// or https://", where="--server"
        )
    return server


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
        message = str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = response.reason_phrase or "no message"
    return message.splitlines()[0][:500] if message else "no message"


def raise_for_status(response: httpx.Response, server: str) -> None:
    """Turn a non-2xx answer into one ApiError (5xx: retryable, exit 6)."""
    status = response.status_code
    if status < 400:
        return
    where = f"{server} ({status})"
    if status >= 500:
        raise Unavailable(
            f"server failed: {_message(response)}",
            where=where,
            hint="retry later or tell the server operator",
        )
    cls = _STATUS.get(status, BadRequest)
    raise cls(_message(response), where=where, hint=_HINTS.get(status))


@contextlib.contextmanager
def _transport_errors(server: str, doing: str) -> Iterator[None]:
    import httpx

    try:
        yield
    except httpx.ConnectError as exc:
        reason = str(exc).split("] ")[-1] or "connection failed"
        raise Unavailable(
            f"cannot connect while {doing}: {reason}",
            where=server,
            hint="check --server and that the server is running",
        ) from None
    except httpx.TimeoutException:
        raise Unavailable(f"timed out while {doing}", where=server, hint="retry later") from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
        raise Unavailable(
            f"the server closed the connection while {doing}",
            where=server,
            hint="retry; if it repeats, the bundle may be over the server's size cap",
        ) from None


def _client(server: str, token: str | None, timeout: float) -> httpx.Client:
    import httpx

    headers = {"User-Agent": "auditkit-client"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(
        base_url=server,
        headers=headers,
        timeout=httpx.Timeout(timeout, connect=10.0),
        follow_redirects=False,
    )


def server_info(server: str, timeout: float = 30.0) -> dict[str, Any]:
    """``GET /api/v1/info``: version, upload cap, receipt key."""
    server = _base(server)
    with (
        _client(server, None, timeout) as client,
        _transport_errors(server, "asking for server info"),
    ):
        response = client.get("/api/v1/info")
        raise_for_status(response, server)
        data: dict[str, Any] = response.json()
        return data


def _file_chunks(path: Path, advance: Advance) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            advance(len(chunk))
            yield chunk


@contextlib.contextmanager
def _archive_for(bundle: Path) -> Iterator[Path]:
    """The bundle itself if it is a file; a folder is packed to a temp zip first."""
    if bundle.is_file():
        yield bundle
        return
    if not bundle.is_dir():
        raise UsageError("bundle not found", where=str(bundle))
    from ..evidence.seal import pack_bundle

    with tempfile.TemporaryDirectory(prefix="auditkit-submit-") as folder:
        output = Path(folder) / f"{bundle.name or 'bundle'}.zip"
        pack_bundle(bundle, output)
        yield output


def submit(
    bundle: Path,
    server: str,
    token: str,
    *,
    progress: Any = None,
    timeout: float = 300.0,
) -> SubmitOutcome:
    """Upload ``bundle`` (archive or folder); returns the receipt, raises on refusal.

    A rejection raises :class:`BundleRejected` (exit 3): the verifier's reasons
    are its lines and the signed receipt is ``exc.outcome``.
    ``progress`` is a ``progress_bar``-like context manager factory ``(total, text)``.
    """
    server = _base(server)
    info = server_info(server, timeout=min(timeout, 30.0))
    with _archive_for(Path(bundle)) as archive:
        size = archive.stat().st_size
        cap = int(info.get("max_upload_bytes", 0) or 0)
        if cap and size > cap:
            raise TooLarge(
                f"bundle is {size} bytes, over the server's cap of {cap} bytes",
                where=str(bundle),
                hint="split the evidence into smaller bundles",
            )
        if progress is None:
            from ..progress import progress_bar as progress
        with _client(server, token, timeout) as client, progress(size, "uploading") as advance:
            with _transport_errors(server, "uploading"):
                response = client.post(
                    "/api/v1/bundles",
                    content=_file_chunks(archive, advance),
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Length": str(size),
                        "X-Archive-Name": quote(archive.name, safe=""),
                    },
                )
    if response.status_code in (200, 201, 422):
        try:
            signed = SignedReceipt.model_validate_json(response.content)
        except ValueError:
            raise Unavailable(
                "server answered with something that is not a receipt", where=server
            ) from None
        outcome = SubmitOutcome(signed, duplicate=response.status_code == 200)
        if not outcome.accepted:
            raise BundleRejected(outcome, str(bundle))
        return outcome
    raise_for_status(response, server)
    raise Unavailable(f"unexpected answer {response.status_code}", where=server)


@dataclass(frozen=True)
class FetchOutcome:
    """Where a fetched archive and its receipt were written."""

    archive: Path
    receipt: Path
    signed: SignedReceipt


def fetch(
    ref: str,
    output_dir: Path,
    server: str,
    token: str,
    *,
    timeout: float = 300.0,
    progress: Any = None,
) -> FetchOutcome:
    """Download an accepted bundle's archive and receipt into ``output_dir``.

    The archive is hashed while it is written and kept only if its SHA-256
    matches the receipt; otherwise :class:`IntegrityError` (exit 4).
    """
    server = _base(server)
    ref = resolve_ref(ref, server, token)
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise UsageError("not a folder", where=str(output_dir), hint="give a folder for the archive and receipt")
    output_dir.mkdir(parents=True, exist_ok=True)
    if progress is None:
        from ..progress import progress_bar as progress
    with _client(server, token, timeout) as client:
        with _transport_errors(server, "reading the bundle record"):
            response = client.get(f"/api/v1/bundles/{ref}")
        raise_for_status(response, server)
        try:
            record = response.json()
            signed = SignedReceipt.model_validate(record["receipt"])
        except (ValueError, KeyError, TypeError):
            raise Unavailable(
                "server answered with a malformed bundle record", where=server
            ) from None
        receipt = signed.receipt
        if receipt.verdict != "accepted":
            raise NotFound(
                f"upload {receipt.upload_id} was rejected; there is no archive", where=ref
            )
        fmt = str(record.get("archive_format", "zip"))
        stem = "".join(
            c if c.isalnum() or c in "._-" else "_"
            for c in (receipt.bundle_id or receipt.upload_id)
        )
        target = output_dir / f"{stem}.{fmt if fmt in ('zip', 'tar.gz') else 'bin'}"
        digest = hashlib.sha256()
        with (
            _transport_errors(server, "downloading"),
            client.stream("GET", f"/api/v1/bundles/{ref}/archive") as stream,
        ):
            if stream.status_code >= 400:
                stream.read()
                raise_for_status(stream, server)
            with progress(receipt.size, "downloading") as advance, atomic_writer(target) as out:
                for chunk in stream.iter_bytes(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    advance(len(chunk))
                if digest.hexdigest() != receipt.archive_sha256:
                    raise IntegrityError(
                        f"downloaded archive has SHA-256 {digest.hexdigest()}, the "
                        f"receipt says {receipt.archive_sha256}; nothing was kept",
                        where=ref,
                    )
    receipt_path = output_dir / f"{stem}.receipt.json"
    write_bytes(receipt_path, json.dumps(signed.model_dump(mode="json"), indent=2).encode() + b"\n")
    return FetchOutcome(target, receipt_path, signed)
