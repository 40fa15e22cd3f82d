"""An opened evidence bundle, and the integrity check and parsing of its items.

:func:`open_bundle` scans the source (see :mod:`.reader`), reads and validates
``manifest.yaml`` and computes the root hash; it does not hash the items.
:func:`load_evidence` hashes every listed item (on all cores, 1 MiB chunks,
constant memory for opaque files) and parses the structured ones, giving each a
verdict instead of raising: the engine turns bad evidence into
``insufficient-evidence``. :func:`auditkit.evidence.verify_bundle` is the fail-closed
counterpart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, cast

from ..errors import InvalidInputError
from ..progress import progress_bar
from .canonical import canonical_bytes, root_hash
from .limits import Limits, format_size
from .manifest import Manifest, ManifestItem, parse_manifest
from .names import MANIFEST_NAME, SIGNATURE_NAME
from .parsers import STRUCTURED, parse_evidence
from .reader import Reader, iter_chunks, open_reader

if TYPE_CHECKING:
    from ..signing.cms import CmsSigner, Trust

Integrity = Literal["ok", "missing", "hash-mismatch", "size-mismatch", "unparseable", "too-large"]
INTEGRITY_FAILURES = frozenset({"hash-mismatch", "size-mismatch"})
"""Verdicts meaning a file's bytes are not the ones the manifest pins (exit 4, not 3)."""
MAX_SIGNATURE_SIZE = 1024 * 1024
PROGRESS_MIN = 64 * 1024 * 1024


@dataclass(frozen=True)
class LoadedEvidence:
    """One manifest item with its integrity verdict and parsed content."""

    item: ManifestItem
    integrity: Integrity
    """``ok`` or why the item cannot be used."""
    problem: str | None
    """One line naming the file and what is wrong, when not ``ok``."""
    content: Any
    """Parsed content; None if opaque or not ``ok``."""
    plain: bool = False
    """Whether ``content`` is known to be plain JSON data (see :func:`.parsers.parse_evidence`)."""


class Bundle:
    """An opened bundle: its manifest, root hash and members. Close it (or use ``with``)."""

    def __init__(
        self,
        source: Path,
        reader: Reader,
        manifest: Manifest,
        data: dict[str, Any],
        signature: bytes | None,
    ):
        self.source = source
        self.manifest = manifest
        self.manifest_data = data
        self.root_hash = root_hash(data)
        self.signature = signature
        """The bytes of ``manifest.sig``, if present (not yet verified)."""
        self.signed = False
        """True once :meth:`verify_signature` has accepted the signature."""
        self.signer: str | None = None
        """The verified signer's subject (RFC 4514)."""
        self.signer_fingerprint: str | None = None
        """SHA-256 of the verified signer's certificate."""
        self.signer_anchor: str | None = None
        """The trusted CA the signer's chain ends at."""
        self.limits = reader.limits
        self._reader = reader

    def __enter__(self) -> Bundle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def members(self) -> list[str]:
        """Every file in the bundle (including ``manifest.yaml``), sorted."""
        return sorted(self._reader.members)

    def member_size(self, path: str) -> int | None:
        """The size of member ``path`` as the archive or folder lists it."""
        member = self._reader.members.get(path)
        return member.size if member else None

    def where(self, path: str) -> str:
        """How messages name member ``path`` (``bundle.zip!path`` or ``folder/path``)."""
        return self._reader.where(path)

    def open_member(self, path: str) -> BinaryIO:
        """A streaming, size-capped reader of member ``path``."""
        if path not in self._reader.members:
            raise InvalidInputError("no such file in the bundle", where=self.where(path))
        return cast(BinaryIO, self._reader.open(path))

    def canonical_manifest(self) -> bytes:
        """The RFC 8785 canonical manifest bytes (what the root hash and signature cover)."""
        return canonical_bytes(self.manifest_data)

    def verify_signature(self, trust: Trust) -> CmsSigner:
        """Check ``manifest.sig`` against the CA certificates in ``trust`` (one file or several).

        Raises :class:`~auditkit.errors.IntegrityError` when unsigned or invalid.
        """
        from ..errors import IntegrityError
        from ..signing.cms import verify_detached

        if self.signature is None:
            raise IntegrityError(
                "the bundle is not signed (no manifest.sig) but a trust anchor was given",
                where=self.where(SIGNATURE_NAME),
                hint="seal it with --sign-key, or verify without --trust",
            )
        signer = verify_detached(
            self.signature, self.canonical_manifest(), trust, where=self.where(SIGNATURE_NAME)
        )
        self.signed = True
        self.signer = signer.subject
        self.signer_fingerprint = signer.fingerprint
        self.signer_anchor = signer.trust_anchor
        return signer

    def close(self) -> None:
        """Release file handles and the private temporary folder."""
        self._reader.close()


def _read_small(reader: Reader, name: str, cap: int, what: str) -> bytes:
    member = reader.members[name]
    if member.size > cap:
        raise InvalidInputError(
            f"{what} is {format_size(member.size)}, over the {format_size(cap)} limit",
            where=reader.where(name),
        )
    with reader.open(name) as stream:
        return stream.read(cap + 1)


def open_bundle(source: Path, limits: Limits | None = None) -> Bundle:
    """Open a bundle folder, ``.zip`` or ``.tar.gz``; refuse hostile structure or a bad manifest."""
    source = Path(source)
    reader = open_reader(source, limits or Limits())
    return bundle_from_reader(source, reader)


def bundle_from_reader(source: Path, reader: Reader) -> Bundle:
    """Read and check the manifest of an already scanned bundle (closes ``reader`` on failure)."""
    limits = reader.limits
    try:
        if MANIFEST_NAME not in reader.members:
            raise InvalidInputError(
                f"no {MANIFEST_NAME} at the bundle root",
                where=str(source),
                hint="create one with 'auditkit bundle init'",
            )
        raw = _read_small(reader, MANIFEST_NAME, limits.max_manifest_size, MANIFEST_NAME)
        manifest, data = parse_manifest(raw, reader.where(MANIFEST_NAME))
        signature = None
        if SIGNATURE_NAME in reader.members:
            signature = _read_small(reader, SIGNATURE_NAME, MAX_SIGNATURE_SIZE, SIGNATURE_NAME)
        return Bundle(source, reader, manifest, data, signature)
    except BaseException:
        reader.close()
        raise


def check_item(
    bundle: Bundle,
    item: ManifestItem,
    *,
    parse: bool = True,
    keep_content: bool = True,
    advance: Callable[[int], None] | None = None,
) -> LoadedEvidence:
    """Hash ``item``'s file, compare it with the manifest, parse it; never raises for bad input."""
    reader = bundle._reader
    where = reader.where(item.path)
    member = reader.members.get(item.path)
    if member is None:
        return LoadedEvidence(
            item, "missing", f"{where}: listed in the manifest but not in the bundle", None
        )
    if member.size != item.size:
        return LoadedEvidence(
            item,
            "size-mismatch",
            f"{where}: file is {member.size} bytes but the manifest says {item.size} "
            "(changed after sealing?)",
            None,
        )
    structured = parse and item.format in STRUCTURED
    too_large = structured and item.size > bundle.limits.max_parse_size
    keep = structured and not too_large
    data = b""
    try:
        if member.sha256 is not None and not keep:
            digest = member.sha256
            if advance:
                advance(member.size)
        elif not keep:
            digest, _ = reader.digest(item.path, advance)
        else:
            with reader.open(item.path) as stream:
                data = stream.read(member.size)  # whole, for the parser: one read, one buffer
                hasher = hashlib.sha256(data)
                for chunk in iter_chunks(stream):  # it grew since the scan: hash all it holds
                    hasher.update(chunk)
            digest = hasher.hexdigest()
            if advance:
                advance(len(data))
    except InvalidInputError as exc:
        return LoadedEvidence(item, "unparseable", exc.render(), None)
    if digest != item.sha256:
        return LoadedEvidence(
            item,
            "hash-mismatch",
            f"{where}: SHA-256 is {digest}, the manifest says {item.sha256} "
            "(changed after sealing?)",
            None,
        )
    if too_large:
        return LoadedEvidence(
            item,
            "too-large",
            f"{where}: {format_size(item.size)} is over the "
            f"{format_size(bundle.limits.max_parse_size)} limit for parsing",
            None,
        )
    if not keep:
        return LoadedEvidence(item, "ok", None, None)
    try:
        content, plain = parse_evidence(
            data,
            item.format,
            where,
            max_depth=bundle.limits.max_depth,
            max_rows=bundle.limits.max_csv_rows,
            collect=keep_content,
        )
    except InvalidInputError as exc:
        return LoadedEvidence(item, "unparseable", exc.render(), None)
    if not keep_content:
        return LoadedEvidence(item, "ok", None, None)
    return LoadedEvidence(item, "ok", None, content, plain)


def check_items(
    bundle: Bundle,
    *,
    parse: bool = True,
    keep_content: bool = True,
    description: str = "Checking evidence",
    advance: Callable[[int], None] | None = None,
) -> list[LoadedEvidence]:
    """:func:`check_item` for every item, on ``limits.threads`` threads, in manifest order."""
    items = bundle.manifest.items
    if advance is None:
        total = sum(item.size for item in items)
        with progress_bar(total, description, min_total=PROGRESS_MIN) as bar:
            return check_items(bundle, parse=parse, keep_content=keep_content, advance=bar)

    def one(item: ManifestItem) -> LoadedEvidence:
        return check_item(bundle, item, parse=parse, keep_content=keep_content, advance=advance)

    threads = min(bundle.limits.threads, len(items))
    if threads <= 1:
        return [one(item) for item in items]
    largest_first = sorted(range(len(items)), key=lambda i: -items[i].size)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="auditkit-hash") as pool:
        futures = {i: pool.submit(one, items[i]) for i in largest_first}
        return [futures[i].result() for i in range(len(items))]


def load_evidence(bundle: Bundle) -> list[LoadedEvidence]:
    """Every manifest item, hashed and parsed, with its integrity verdict (in manifest order)."""
    return check_items(bundle, parse=True)
