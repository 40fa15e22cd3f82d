"""What the engine is given about the evidence: documents by kind, with integrity and content.

Built at the edge from an opened bundle (``EvidenceSet.from_bundle``); the engine
itself never touches files.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


def iso(value: Any) -> str | None:
    """ISO 8601 text of a date/datetime (UTC as ``Z``), strings passed through."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC)
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class EvidenceDocument:
    """One manifest item with its integrity verdict and parsed content."""

    path: str
    kind: str
    sha256: str
    size: int
    collected_at: str
    period: tuple[str, str] | None
    source: str | None
    description: str | None
    integrity: str = "ok"
    problem: str | None = None
    content: Any = None
    item: Any = field(default=None, compare=False, repr=False)
    plain_content: bool = False
    """``content`` is known to be plain JSON data (parsed by orjson): no need to scan it again."""

    @property
    def format(self) -> str:
        """File format by extension: json, yaml, csv, pdf, text or image."""
        from ..evidence.parsers import format_of

        return format_of(self.path) or self.path.rsplit(".", 1)[-1].lower()

    @property
    def ok(self) -> bool:
        return self.integrity == "ok"

    def as_cel(self) -> dict[str, Any]:
        """The document as a check sees it (see docs/writing-controls.md)."""
        return {
            "path": self.path,
            "kind": self.kind,
            "sha256": self.sha256,
            "collected_at": self.collected_at,
            "period": {"start": self.period[0], "end": self.period[1]} if self.period else None,
            "source": self.source,
            "description": self.description,
            "content": self.content,
        }


@dataclass(frozen=True)
class EvidenceSet:
    """The bundle as the engine sees it."""

    bundle_id: str
    organization: str
    root_hash: str
    period: tuple[str, str]
    documents: tuple[EvidenceDocument, ...]
    submitted_by: dict[str, Any] | None = None
    created: str | None = None
    signed: bool = False
    _by_kind: dict[str, list[EvidenceDocument]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for document in sorted(self.documents, key=lambda d: (d.collected_at, d.path)):
            self._by_kind.setdefault(document.kind, []).append(document)

    def of_kind(self, kind: str) -> list[EvidenceDocument]:
        """Every document of ``kind``, oldest first (including ones that failed integrity)."""
        return list(self._by_kind.get(kind, ()))

    def has_sound(self, kind: str) -> bool:
        """Whether at least one document of ``kind`` passed its integrity checks."""
        return any(d.ok for d in self._by_kind.get(kind, ()))

    def cel_value(self, kind: str) -> dict[str, Any] | None:
        """``{documents, records, latest}`` of the sound documents of ``kind``; None if none."""
        sound = [d for d in self._by_kind.get(kind, ()) if d.ok]
        if not sound:
            return None
        records: list[Any] = []
        for document in sound:
            if isinstance(document.content, list):
                records.extend(document.content)
            elif document.content is not None:
                records.append(document.content)
        return {
            "documents": [d.as_cel() for d in sound],
            "records": records,
            "latest": sound[-1].content,
        }

    @classmethod
    def from_bundle(cls, bundle: Any, loaded: Iterable[Any]) -> EvidenceSet:
        """From an opened bundle and its ``load_evidence`` output (``auditkit.evidence``)."""
        info = bundle.manifest.bundle
        documents = []
        for entry in loaded:
            item = entry.item
            period = (iso(item.period.start), iso(item.period.end)) if item.period else None
            documents.append(EvidenceDocument(
                path=item.path, kind=item.kind, sha256=item.sha256, size=item.size,
                collected_at=iso(item.collected_at) or "", period=period,  # type: ignore[arg-type]
                source=item.source, description=getattr(item, "description", None),
                integrity=entry.integrity, problem=_in_bundle(entry.problem, bundle.where(item.path), item.path),
                content=entry.content, item=item, plain_content=bool(getattr(entry, "plain", False)),
            ))
        submitted = getattr(info, "submitted_by", None)
        return cls(
            bundle_id=info.id,
            organization=info.organization,
            root_hash=bundle.root_hash,
            period=(iso(info.period.start) or "", iso(info.period.end) or ""),
            documents=tuple(documents),
            submitted_by=submitted.model_dump(mode="json") if submitted is not None else None,
            created=iso(getattr(info, "created", None)),
            signed=bool(getattr(bundle, "signed", False)),
        )


def _in_bundle(problem: str | None, where: str, path: str) -> str | None:
    """``problem`` naming the member by its path in the bundle, not by where the bundle lies on this disk.

    Results (and the report made from them) travel; the auditor's folder layout must not.
    """
    return problem.replace(where, path) if problem else problem
