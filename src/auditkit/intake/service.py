"""The intake pipeline, free of any web framework.

``authenticate`` turns a bearer token into a :class:`Principal`. ``upload``
streams a body into ``incoming/`` under the size cap while hashing it, moves it
into a private quarantine folder, runs :func:`auditkit.evidence.verify_bundle`
there (never a verifier of our own), stores accepted archives content-addressed,
records the verdict in the index and the intake log, and returns a signed
receipt. Listing, reading and downloading are limited to the organizations the
principal may read; anything else looks exactly like a bundle that does not exist.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import anyio
import anyio.to_thread

from .. import __version__
from .models import Principal, Receipt, SignedReceipt, UploadRecord
from .models import archive_name as clean_archive_name
from .problems import (
    ApiError,
    BadRequest,
    Forbidden,
    NotFound,
    TimedOut,
    TooLarge,
    Unauthorized,
    Unavailable,
)
from .quarantine import Received, Verdict, verify_in_quarantine
from .receipts import key_id, sign_receipt
from .store import IntakeStore, hash_token, utc_now

if TYPE_CHECKING:
    from ..evidence.limits import Limits

LOG = logging.getLogger("auditkit.intake")

DEFAULT_MAX_UPLOAD = 512 * 1024 * 1024
_ROOT_HASH = re.compile(r"^[0-9a-f]{64}$")
_UPLOAD_ID = re.compile(r"^up_[0-9a-f]{20}$")


@dataclass(frozen=True)
class IntakeSettings:
    """Limits of one server."""

    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    verify_workers: int = 2
    verify_limits: Limits | None = None
    """Passed as ``limits=`` to ``verify_bundle``; ``None`` means the verifier's defaults."""
    idle_timeout: float = 60.0
    """Seconds an upload may send nothing before it is abandoned (408)."""
    auth_timeout: float = 10.0
    """Seconds the upload page's form may take to send the fields before the file (its token)."""


@dataclass(frozen=True)
class UploadResult:
    """The answer to an upload: the (possibly earlier) receipt and whether it is a repeat."""

    signed: SignedReceipt
    duplicate: bool

    @property
    def status(self) -> int:
        if self.signed.receipt.verdict == "rejected":
            return 422
        return 200 if self.duplicate else 201


class IntakeService:
    """One server's intake logic over an opened store."""

    def __init__(self, store: IntakeStore, settings: IntakeSettings | None = None):
        if store.log is None or store.key is None:
            raise ValueError("open the store with open_for_serving()")
        self.store = store
        self.log = store.log
        self.key = store.key
        self.settings = settings or IntakeSettings()
        self.key_id = key_id(self.key.public_key())
        self._verdict_lock = threading.Lock()
        self._limiter = anyio.CapacityLimiter(max(1, self.settings.verify_workers))
        self.on_accepted: Callable[[UploadRecord], None] | None = None
        """Called with each newly accepted upload (e.g. to queue its assessment)."""
        self.closers: list[Callable[[], None]] = []
        self.log.append("server-start", utc_now(), version=__version__, key_id=self.key_id)

    def close(self) -> None:
        """Run the closers (e.g. finish in-process assessments), then close the store."""
        for closer in reversed(self.closers):
            closer()
        self.store.close()

    # who is calling

    def authenticate(self, authorization: str | None) -> Principal:
        """Principal for an ``Authorization: Bearer TOKEN`` header value (or a bare token)."""
        if not authorization:
            raise Unauthorized("no API token given", hint="send Authorization: Bearer TOKEN")
        scheme, _, token = authorization.strip().partition(" ")
        if not token:
            scheme, token = "bearer", scheme
        if scheme.lower() != "bearer" or not token.strip() or len(token) > 256:
            raise Unauthorized("malformed Authorization header", hint="use Bearer TOKEN")
        record = self.store.index.find_token(hash_token(token.strip()))
        if record is None or record.revoked:
            raise Unauthorized("unknown or revoked API token")
        return Principal(
            token_id=record.token_id,
            organization=record.organization,
            role=record.role,
            grants=record.grants,
        )

    # upload

    async def upload(
        self,
        who: Principal,
        chunks: AsyncIterator[bytes],
        declared_length: int | None,
        archive_name: str | None = None,
    ) -> UploadResult:
        """Receive, verify, store and record one bundle; returns the signed receipt.

        ``archive_name`` is the file name the submitter gave the archive; the receipt records it.
        """
        if who.role != "submitter":
            raise Forbidden("only submitter tokens can upload bundles")
        received = await self._receive(who, chunks, declared_length)
        upload_id = "up_" + secrets.token_hex(10)
        received_at = utc_now()
        verdict: Verdict | None = None
        try:
            await anyio.to_thread.run_sync(
                functools.partial(
                    self.log.append,
                    "received",
                    received_at,
                    upload_id=upload_id,
                    organization=who.organization,
                    token_id=who.token_id,
                    archive_sha256=received.sha256,
                    size=received.size,
                )
            )
            verdict = await anyio.to_thread.run_sync(self._verify, received, limiter=self._limiter)
            return await anyio.to_thread.run_sync(
                self._record, who, upload_id, received_at, received, verdict, clean_archive_name(archive_name)
            )
        finally:
            received.path.unlink(missing_ok=True)
            if verdict is not None and verdict.archive is not None:
                shutil.rmtree(verdict.archive.parent, ignore_errors=True)

    async def _receive(
        self, who: Principal, chunks: AsyncIterator[bytes], declared_length: int | None
    ) -> Received:
        cap = self.settings.max_upload_bytes
        if declared_length is not None and declared_length > cap:
            self._refused(who, declared_length, "declared size over the cap")
            raise TooLarge(
                f"upload is {declared_length} bytes, over this server's cap of {cap} bytes",
                hint="split the evidence into smaller bundles or ask the operator",
            )
        fd, name = tempfile.mkstemp(prefix="upload-", dir=self.store.incoming)
        path = Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                iterator = chunks.__aiter__()
                while True:
                    try:
                        with anyio.fail_after(self.settings.idle_timeout):
                            chunk = await iterator.__anext__()
                    except StopAsyncIteration:
                        break
                    except TimeoutError:
                        self._refused(who, size, "no data within the idle timeout")
                        raise TimedOut(
                            f"no upload data for {self.settings.idle_timeout:g} s; gave up",
                            hint="check the network and retry",
                        ) from None
                    size += len(chunk)
                    if size > cap:
                        self._refused(who, size, "body passed the cap while streaming")
                        raise TooLarge(
                            f"upload passed this server's cap of {cap} bytes; "
                            "the rest was not read",
                            hint="split the evidence into smaller bundles or ask the operator",
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
            if size == 0:
                raise BadRequest("empty upload", hint="send the archive bytes as the body")
        except ApiError:
            path.unlink(missing_ok=True)
            raise
        except BaseException as exc:  # the client went away, the server is stopping, ...
            path.unlink(missing_ok=True)
            with contextlib.suppress(Exception):
                self._refused(who, size, f"upload abandoned ({type(exc).__name__})")
            raise
        return Received(path, digest.hexdigest(), size)

    def _refused(self, who: Principal, size: int, reason: str) -> None:
        self.log.append(
            "refused",
            utc_now(),
            organization=who.organization,
            token_id=who.token_id,
            size=size,
            reason=reason,
        )

    def _verify(self, received: Received) -> Verdict:
        return verify_in_quarantine(received, self.store.quarantine, self.settings.verify_limits)

    def _record(
        self,
        who: Principal,
        upload_id: str,
        received_at: str,
        received: Received,
        verdict: Verdict,
        archive_name: str | None,
    ) -> UploadResult:
        report = verdict.report
        root_hash = str(report.root_hash) if verdict.accepted else None
        if root_hash is not None and not self.store.index.find_accepted(
            [who.organization], root_hash
        ):
            # Store (and fsync) outside the lock so uploads do not queue behind each
            # other's disk writes; a racing duplicate at worst leaves an unreferenced
            # object, never a record without its object.
            assert verdict.archive is not None
            self.store.objects.put(received.sha256, verdict.archive)
        # One verdict at a time in this process; for an accepted bundle also across every
        # server sharing the index, so exactly one upload per (organization, root hash)
        # is accepted and every other one is logged and answered as a duplicate.
        exclusive = (
            self.store.index.exclusive(f"accept/{who.organization}/{root_hash}")
            if root_hash is not None
            else contextlib.nullcontext()
        )
        with self._verdict_lock, exclusive:
            if root_hash is not None:
                earlier = self.store.index.find_accepted([who.organization], root_hash)
                if earlier is not None:
                    self.log.append(
                        "duplicate",
                        utc_now(),
                        upload_id=upload_id,
                        organization=who.organization,
                        token_id=who.token_id,
                        archive_sha256=received.sha256,
                        bundle_root_hash=root_hash,
                        original_upload_id=earlier.upload_id,
                    )
                    return UploadResult(earlier.signed_receipt, duplicate=True)
            fields: dict[str, Any] = {
                "upload_id": upload_id,
                "organization": who.organization,
                "submitter_token_id": who.token_id,
                "received_at": received_at,
                "archive_sha256": received.sha256,
                "archive_name": archive_name,
                "size": received.size,
                "verdict": "accepted" if verdict.accepted else "rejected",
                "reasons": list(verdict.reasons),
                "bundle_root_hash": root_hash,
                "bundle_id": str(report.bundle_id) if report is not None else None,
                "bundle_organization": str(report.organization) if report is not None else None,
                "item_count": int(report.item_count) if report is not None else None,
            }
            entry = self.log.append(fields["verdict"], utc_now(), anchor=False, **fields)
            receipt = Receipt(
                **fields,
                log_seq=entry.seq,
                log_entry_sha256=entry.sha256,
                server_key_id=self.key_id,
            )
            signed = sign_receipt(self.key, receipt)
            record = UploadRecord(
                upload_id=upload_id,
                organization=who.organization,
                token_id=who.token_id,
                received_at=received_at,
                archive_sha256=received.sha256,
                size=received.size,
                verdict=receipt.verdict,
                reasons=receipt.reasons,
                bundle_root_hash=root_hash,
                bundle_id=receipt.bundle_id,
                archive_format=verdict.archive_format,
                signed_receipt=signed,
            )
            stored = self.store.index.record_upload(record, entry.head)
            if stored.upload_id != upload_id:  # pragma: no cover - the lock above prevents it
                return UploadResult(stored.signed_receipt, duplicate=True)
        if self.on_accepted is not None and record.verdict == "accepted":
            try:
                self.on_accepted(record)
            except Exception:  # noqa: BLE001 - the upload stands; the failure is in the server log
                LOG.exception("could not queue the assessment of %s", upload_id)
        return UploadResult(signed, duplicate=False)

    # reading

    def list_bundles(self, who: Principal, limit: int = 100) -> list[UploadRecord]:
        """Uploads of the organizations ``who`` may read, newest first."""
        return self.store.index.list_uploads(who.readable_orgs, max(1, min(limit, 1000)))

    def get_bundle(self, who: Principal, ref: str) -> UploadRecord:
        """An upload by bundle root hash (accepted ones) or by upload id."""
        orgs = who.readable_orgs
        record: UploadRecord | None = None
        if _ROOT_HASH.match(ref):
            record = self.store.index.find_accepted(orgs, ref)
        elif _UPLOAD_ID.match(ref):
            record = self.store.index.get_upload(orgs, ref)
        if record is None:
            raise NotFound(f"no bundle {ref[:80]!r} visible to this token")
        return record

    def archive_record(self, who: Principal, ref: str) -> UploadRecord:
        """The record of an accepted bundle whose archive ``who`` may download (nothing logged)."""
        record = self.get_bundle(who, ref)
        if record.verdict != "accepted":
            raise NotFound(f"upload {record.upload_id} was rejected; no archive is kept")
        if not self.store.objects.exists(record.archive_sha256):
            raise self._missing(record)
        return record

    @staticmethod
    def _missing(record: UploadRecord) -> Unavailable:
        return Unavailable(
            f"archive {record.archive_sha256} is missing from object storage",
            hint="the operator must restore it",
        )

    def open_archive(self, who: Principal, ref: str) -> tuple[UploadRecord, BinaryIO]:
        """Open an accepted bundle's archive for download and log the download."""
        record = self.get_bundle(who, ref)
        if record.verdict != "accepted":
            raise NotFound(f"upload {record.upload_id} was rejected; no archive is kept")
        try:
            handle = self.store.objects.get(record.archive_sha256)
        except KeyError:
            raise self._missing(record) from None
        with contextlib.ExitStack() as guard:
            guard.callback(handle.close)
            self.log.append(
                "download",
                utc_now(),
                upload_id=record.upload_id,
                organization=record.organization,
                token_id=who.token_id,
                bundle_root_hash=record.bundle_root_hash,
                archive_sha256=record.archive_sha256,
            )
            guard.pop_all()
        return record, handle
