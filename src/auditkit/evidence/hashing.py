"""Hashing bundle members in the background while the rest of the work starts.

:class:`Prehash` hashes the named members of a scanned bundle on a thread pool
(largest first; ``hashlib`` releases the GIL on 1 MiB updates, so both cores
work). It starts right after the scan, before the manifest is parsed and before
the heavier modules (pydantic, jsonschema) are even imported, so that their
start-up cost overlaps with hashing instead of adding to it. Only the standard
library and :mod:`.reader` are imported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

from ..errors import AuditkitError
from .reader import Reader

Advance = Callable[[int], None]


def hash_member(reader: Reader, name: str, advance: Advance | None = None) -> tuple[str, int]:
    """SHA-256 (hex) and byte count of member ``name`` (see :meth:`Reader.digest`)."""
    return reader.digest(name, advance)


class Prehash:
    """Members being hashed in the background; :meth:`finish` waits and records the digests."""

    def __init__(
        self, reader: Reader, names: Iterable[str], threads: int, advance: Advance | None = None
    ):
        self._reader = reader
        wanted = [n for n in names if reader.members[n].sha256 is None]
        wanted.sort(key=lambda n: -reader.members[n].size)
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, threads), thread_name_prefix="auditkit-hash"
        )
        self._futures: dict[str, Future[tuple[str, int]]] = {
            name: self._pool.submit(hash_member, reader, name, advance) for name in wanted
        }

    def finish(self) -> dict[str, AuditkitError]:
        """Wait for every digest and store it on the reader's members; return the failures."""
        failures: dict[str, AuditkitError] = {}
        try:
            for name, future in self._futures.items():
                try:
                    sha256, size = future.result()
                except AuditkitError as exc:
                    failures[name] = exc
                    continue
                member = self._reader.members[name]
                if size == member.size:
                    self._reader.members[name] = replace(member, sha256=sha256)
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        return failures

    def cancel(self) -> None:
        """Stop early (on an error elsewhere); running hashes finish, queued ones are dropped."""
        self._pool.shutdown(wait=True, cancel_futures=True)
