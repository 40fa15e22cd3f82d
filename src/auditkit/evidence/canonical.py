"""The bundle root hash: SHA-256 of the manifest in RFC 8785 canonical JSON.

The manifest data is taken exactly as written in ``manifest.yaml`` (dates and
timestamps are the strings the author wrote, numbers are integers), its
``items`` are sorted by ``path`` (by Unicode code point), and the result is
serialized with RFC 8785 (JSON Canonicalization Scheme). The same manifest
content therefore gives the same root hash whatever the YAML layout, comments,
key order, item order, or the archive format the bundle travels in. Because each
item pins its file by SHA-256 and size, the root hash pins the whole bundle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from .. import canonjson


def canonical_document(data: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest data with its items sorted by path (the form that is canonicalized)."""
    document = dict(data)
    items = document.get("items") or []
    document["items"] = sorted(items, key=lambda item: str(item.get("path", "")))
    return document


def canonical_bytes(data: Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical JSON of the manifest data (items sorted by path).

    The manifest schema bounds every integer to what canonical JSON keeps exact;
    anything else is refused by JSON pointer (exit 3), never an internal error."""
    return canonjson.dumps(canonical_document(data))


def root_hash(data: Mapping[str, Any]) -> str:
    """The bundle root hash: lowercase hex SHA-256 of :func:`canonical_bytes`."""
    return hashlib.sha256(canonical_bytes(data)).hexdigest()
