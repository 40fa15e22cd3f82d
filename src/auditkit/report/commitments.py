"""Salted commitments to the disclosable items of a full report, and their checking.

A full report commits to every item a view may later disclose: the overall rating
(``overall``), each family score (``family:DL``), each control result (``control:DL-1``:
id, title, outcome, score and findings text) and each evidence manifest entry
(``evidence:<path>``: path, sha256, kind, collected_at). The commitment to an item is
``sha256(salt || canonical-JSON(item))`` with a fresh random 16-byte salt per item,
so the list of commitments (``commitments.json``, embedded in the signed full report)
reveals nothing about an item, not even a guessable one such as a score, until its
salt and content are disclosed. The salts and items stay with the auditor in a
private sidecar (``FULL.pdf.salts.json``, mode 0600) from which views are made.

:func:`check_disclosures` is the verifier's side: every disclosed item must hash,
with its salt, to the commitment listed under its id. It is pure (no I/O).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import canonjson
from ..errors import IntegrityError, InvalidInputError
from ..fsio import write_bytes
from ..results.model import Results

COMMITMENTS_NAME = "commitments.json"
DISCLOSURES_NAME = "disclosures.json"
COMMITMENTS_SIG_NAME = "commitments.p7s"
SOURCE_NAME = "source.json"
COMMITMENTS_KEY = "AuditkitCommitmentsSHA256"
"""Document-information key (without the PDF name's slash) of ``commitments.json``'s SHA-256."""
AUDIENCE_KEY = "AuditkitAudience"
"""Document-information key marking an audience view, and naming its audience."""
FULL_REPORT_KEY = "AuditkitFullReportSHA256"
"""Document-information key of a view: the SHA-256 of the full report it came from."""
VIEW_DIGEST_KEYS = {
    DISCLOSURES_NAME: "AuditkitDisclosuresSHA256",
    COMMITMENTS_NAME: COMMITMENTS_KEY,
    COMMITMENTS_SIG_NAME: "AuditkitCommitmentsSigSHA256",
    SOURCE_NAME: "AuditkitSourceSHA256",
}
"""Document-information key recording the SHA-256 of each attachment of a view."""
SALTS_SUFFIX = ".salts.json"
SALT_BYTES = 16
AUDIENCES = ("public", "auditee", "regulator")
MAX_SIDECAR_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Committed:
    """One disclosable item with its salt and commitment."""

    id: str
    item: dict[str, Any]
    salt: bytes
    commitment: str


def commitment(salt: bytes, item: Mapping[str, Any]) -> str:
    """``sha256(salt || canonical-JSON(item))``, lowercase hex."""
    return hashlib.sha256(salt + canonjson.dumps(dict(item))).hexdigest()


def listed_id(item_id: str, salt: bytes) -> str:
    """The key of an item in ``commitments.json``: its id, but blinded for evidence.

    Evidence ids hold the file path, which is the auditee's data: the list shows
    ``evidence:~`` and 32 hex digits of ``sha256(salt || id)`` instead, which only a
    holder of the salt (a view disclosing the item) can link back to the path.
    """
    if not item_id.startswith("evidence:"):
        return item_id
    return "evidence:~" + hashlib.sha256(salt + item_id.encode("utf-8")).hexdigest()[:32]


def disclosable_items(results: Results) -> list[tuple[str, dict[str, Any]]]:
    """Every item a view may disclose, as ``(id, item)`` in report order.

    Control items carry the findings' text but no offender records (they may name
    other organizations); evidence items carry the manifest entry, never file contents.
    """
    a = results.assessment
    out: list[tuple[str, dict[str, Any]]] = [(
        "overall",
        {"auditee": a.auditee, "as_of": a.as_of, "period": {"start": a.period.start, "end": a.period.end},
         "rating": results.overall.rating, "score": results.overall.score},
    )]
    for family in results.families:
        out.append((f"family:{family.id}", {"id": family.id, "title": family.title, "score": family.score}))
    for control in results.controls:
        findings = [
            {"severity": f.severity, "title": f.title, "summary": f.summary, "remediation": f.remediation}
            for f in results.findings if f.control == control.id
        ]
        out.append((f"control:{control.id}", {
            "id": control.id, "family": control.family, "title": control.title, "outcome": control.status,
            "score": control.credit, "findings": findings,
        }))
    for ev in results.bundle.items:
        out.append((f"evidence:{ev.path}", {"path": ev.path, "sha256": ev.sha256, "kind": ev.kind,
                                            "collected_at": ev.collected_at}))
    ids = [i for i, _ in out]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise InvalidInputError(f"two disclosable items share the id {duplicate!r}", where="/",
                                hint="control ids and evidence paths must be unique in the results")
    return out


def commit(results: Results) -> list[Committed]:
    """Salt and commit to every disclosable item of ``results`` (fresh salts each call)."""
    made = []
    for item_id, item in disclosable_items(results):
        salt = secrets.token_bytes(SALT_BYTES)
        made.append(Committed(item_id, item, salt, commitment(salt, item)))
    return made


def commitments_json(committed: Sequence[Committed]) -> bytes:
    """The ``commitments.json`` attachment: ids and commitments only, no salts, no content."""
    listed = [{"id": listed_id(c.id, c.salt), "commitment": c.commitment} for c in committed]
    return json.dumps({"format": 1, "algorithm": "sha256(salt||jcs(item))", "commitments": listed},
                      indent=1).encode("utf-8") + b"\n"


def salts_path(full_report: Path) -> Path:
    """Where the private sidecar of ``full_report`` lives: ``FULL.pdf.salts.json``."""
    return Path(full_report).with_name(Path(full_report).name + SALTS_SUFFIX)


def write_salts(full_report: Path, committed: Sequence[Committed]) -> Path:
    """Write the private sidecar (id → salt and item), mode 0600, atomically; return its path."""
    body = {c.id: {"salt": c.salt.hex(), "item": c.item} for c in committed}
    path = salts_path(full_report)
    write_bytes(path, json.dumps({"format": 1, "items": body}, indent=1).encode("utf-8") + b"\n", mode=0o600)
    return path


def read_salts(path: Path) -> dict[str, tuple[bytes, dict[str, Any]]]:
    """The sidecar written by :func:`write_salts`, as id → (salt, item)."""
    try:
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            raise InvalidInputError("salts file too large", where=str(path))
        doc = json.loads(path.read_bytes())
        items = doc["items"]
        return {str(k): (bytes.fromhex(v["salt"]), dict(v["item"])) for k, v in items.items()}
    except FileNotFoundError:
        raise InvalidInputError("salts file not found", where=str(path),
                                hint="pass --salts, the FULL.pdf.salts.json written beside the full report") from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise InvalidInputError(f"not an auditkit salts file ({type(exc).__name__})", where=str(path)) from None


def parse_commitments(raw: bytes, where: str = COMMITMENTS_NAME) -> dict[str, str]:
    """id → commitment from a ``commitments.json``; refuses duplicates and malformed entries."""
    try:
        listed = json.loads(raw)["commitments"]
        pairs = [(str(e["id"]), str(e["commitment"]).lower()) for e in listed]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise IntegrityError(f"not a commitment list ({type(exc).__name__})", where=where) from None
    out = dict(pairs)
    if len(out) != len(pairs):
        raise IntegrityError("the commitment list names an item twice", where=where)
    return out


def select(audience: str, ids: Iterable[str]) -> list[str]:
    """The item ids disclosed to ``audience``: public sees the overall rating and family
    scores; auditee and regulator see every item (the regulator's view also carries the
    evidence manifest)."""
    if audience not in AUDIENCES:
        raise InvalidInputError(f"unknown audience {audience!r}", hint=f"one of {', '.join(AUDIENCES)}")
    if audience == "public":
        return [i for i in ids if i == "overall" or i.startswith("family:")]
    return list(ids)


def disclosures_json(audience: str, disclosed: Sequence[tuple[str, bytes, dict[str, Any]]]) -> bytes:
    """The ``disclosures.json`` attachment of a view: each disclosed item with its salt."""
    listed = [{"id": i, "salt": salt.hex(), "item": item} for i, salt, item in disclosed]
    return json.dumps({"format": 1, "audience": audience, "disclosures": listed}, indent=1).encode("utf-8") + b"\n"


@dataclass(frozen=True)
class DisclosureCheck:
    """What :func:`check_disclosures` proved."""

    audience: str
    disclosed: int
    withheld: int
    items: dict[str, dict[str, Any]]


def check_disclosures(raw_disclosures: bytes, commitments: Mapping[str, str]) -> DisclosureCheck:
    """Recompute each disclosed item's commitment and find it under its id; raise naming the item."""
    try:
        doc = json.loads(raw_disclosures)
        audience = str(doc["audience"])
        entries = [(str(e["id"]), bytes.fromhex(e["salt"]), e["item"]) for e in doc["disclosures"]]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise IntegrityError(f"not a disclosure list ({type(exc).__name__})", where=DISCLOSURES_NAME) from None
    items: dict[str, dict[str, Any]] = {}
    for item_id, salt, item in entries:
        if item_id in items:
            raise IntegrityError(f"item {item_id} is disclosed twice", where=DISCLOSURES_NAME)
        if not isinstance(item, dict) or len(salt) != SALT_BYTES:
            raise IntegrityError(f"item {item_id} is malformed", where=DISCLOSURES_NAME)
        expected = commitments.get(listed_id(item_id, salt))
        if expected is None:
            raise IntegrityError(f"item {item_id} has no commitment in the signed commitment list",
                                 where=DISCLOSURES_NAME)
        if commitment(salt, item) != expected:
            raise IntegrityError(f"item {item_id} does not match its commitment (altered after signing)",
                                 where=DISCLOSURES_NAME)
        items[item_id] = item
    return DisclosureCheck(audience, len(items), len(commitments) - len(items), items)
