"""The bundle manifest: its frozen models and the one loader that turns ``manifest.yaml`` into them.

Loading goes YAML (safe, positions kept) → JSON Schema 2020-12 (``auditkit schema
manifest``) → semantic checks (duplicate paths, periods, file types) → frozen
pydantic models. Every problem found is reported, one ``file:line:col /pointer:
message`` line each, in a :class:`~auditkit.errors.ProblemList`.
"""

from __future__ import annotations

import copy
import functools
import json
from datetime import UTC, date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from .. import schemas, yamlio
from ..errors import InvalidInputError, ProblemList
from ..resources import schema_dir
from .names import MANIFEST_NAME as MANIFEST_NAME
from .names import RESERVED_NAMES as RESERVED_NAMES
from .names import SCHEMA_HINT as SCHEMA_HINT
from .names import SIGNATURE_NAME as SIGNATURE_NAME
from .names import fold, name_problem
from .parsers import SUFFIXES, format_of

_MAX_MESSAGE = 240


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Period(_Frozen):
    """A span of whole days, both ends inclusive."""

    start: date
    end: date

    def contains(self, day: date) -> bool:
        """Whether ``day`` falls inside the period."""
        return self.start <= day <= self.end


class Submitter(_Frozen):
    """Who submits the bundle."""

    name: str
    email: str


class BundleInfo(_Frozen):
    """The ``bundle:`` block: identity, organization and assessment period."""

    id: str
    organization: str
    period: Period
    submitted_by: Submitter
    created: AwareDatetime


class ManifestItem(_Frozen):
    """One evidence file of the bundle."""

    path: str
    """Relative POSIX path inside the bundle."""
    kind: str
    """Evidence kind, e.g. ``datastore-inventory``."""
    sha256: str
    """SHA-256 of the file, lowercase hex."""
    size: int
    """Size in bytes."""
    collected_at: AwareDatetime
    """When the evidence was collected."""
    period: Period | None = None
    """The span of time the evidence covers, if stated."""
    source: str | None = None
    """System or person it came from."""
    description: str | None = None
    """Free text."""

    @property
    def format(self) -> str:
        """``json``, ``yaml``, ``csv``, ``pdf``, ``text`` or ``image``, from the file extension."""
        fmt = format_of(self.path)
        assert fmt is not None  # guaranteed by the manifest loader
        return fmt


class Manifest(_Frozen):
    """A whole manifest."""

    bundle: BundleInfo
    items: tuple[ManifestItem, ...] = Field(default_factory=tuple)

    def item(self, path: str) -> ManifestItem | None:
        """The item listed under ``path``, if any."""
        for entry in self.items:
            if entry.path == path:
                return entry
        return None


@functools.cache
def manifest_schema(*, draft: bool = False) -> dict[str, Any]:
    """The shipped manifest schema; ``draft`` relaxes ``sha256`` and ``size`` (before sealing)."""
    schema: dict[str, Any] = json.loads((schema_dir() / "manifest.schema.json").read_text("utf-8"))
    if draft:
        schema = copy.deepcopy(schema)
        item = schema["$defs"]["item"]
        item["required"] = [r for r in item["required"] if r not in ("sha256", "size")]
    return schema


@functools.cache
def _validator(draft: bool) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(manifest_schema(draft=draft))


def _short(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _line(located: yamlio.Located, ptr: str, message: str) -> str:
    return f"{located.where(ptr)} {ptr or '/'}: {_short(message)}"


@functools.cache
def _fast_validator(draft: bool) -> Any:
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(manifest_schema(draft=draft))


def schema_problems(located: yamlio.Located, *, draft: bool = False) -> list[str]:
    """Every JSON Schema violation of the loaded manifest, one line each, in document order.

    Checked first by a validator compiled once by jsonschema-rs; only a manifest it
    refuses is walked by the Python validator, whose errors :mod:`auditkit.schemas.messages`
    words (see :func:`auditkit.schemas.fast_validator`)."""
    from .. import schemas

    if _fast_validator(draft).is_valid(located.data):
        return []
    return schemas.lines(located, _validator(draft).iter_errors(located.data))


def _instant(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (TypeError, ValueError, OverflowError):
        return None  # reported by the schema or check_instant


def semantic_problems(located: yamlio.Located) -> list[str]:
    """What the schema cannot express: duplicate or reserved paths, reversed periods, file types,
    timestamps whose offset takes them outside the calendar in UTC (``0001-01-01T00:30:00+01:00``)."""
    data = located.data
    problems: list[str] = []

    def check_period(value: Any, ptr: str) -> None:
        if isinstance(value, dict):
            start, end = value.get("start"), value.get("end")
            try:
                if date.fromisoformat(str(start)) > date.fromisoformat(str(end)):
                    problems.append(
                        _line(located, ptr, f"period ends ({end}) before it starts ({start})")
                    )
            except (TypeError, ValueError):
                pass  # reported by the schema or the models

    def check_instant(value: Any, ptr: str) -> None:
        if isinstance(value, str):
            try:
                datetime.fromisoformat(value).astimezone(UTC)
            except OverflowError:
                problems.append(_line(
                    located, ptr, f"{value} falls outside the years 1-9999 once converted to UTC"
                ))
            except ValueError:
                pass  # reported by the schema or the models

    check_period(data.get("bundle", {}).get("period"), "/bundle/period")
    check_instant(data.get("bundle", {}).get("created"), "/bundle/created")
    created = _instant(data.get("bundle", {}).get("created"))
    seen: dict[str, int] = {}
    for index, item in enumerate(data.get("items") or []):
        if not isinstance(item, dict):
            continue
        ptr = f"/items/{index}"
        check_period(item.get("period"), ptr + "/period")
        check_instant(item.get("collected_at"), ptr + "/collected_at")
        collected = _instant(item.get("collected_at"))
        if created is not None and collected is not None and collected > created:
            problems.append(_line(
                located, ptr + "/collected_at",
                f"collected at {item['collected_at']}, after the bundle was created "
                f"({data['bundle']['created']}); evidence cannot be collected after the bundle was made",
            ))
        path = item.get("path")
        if not isinstance(path, str):
            continue
        reason = name_problem(path)
        if reason:
            problems.append(_line(located, ptr + "/path", f"{reason}"))
            continue
        if path in RESERVED_NAMES:
            problems.append(_line(located, ptr + "/path", f"{path} cannot be listed as evidence"))
            continue
        if format_of(path) is None:
            problems.append(
                _line(
                    located,
                    ptr + "/path",
                    f"unsupported file type {path!r} (supported: {', '.join(sorted(SUFFIXES))})",
                )
            )
        key = fold(path)
        if key in seen:
            problems.append(
                _line(
                    located,
                    ptr + "/path",
                    f"{path!r} is listed twice (first at /items/{seen[key]})",
                )
            )
        else:
            seen[key] = index
    return problems


def parse_manifest(
    raw: bytes, source: str, *, draft: bool = False
) -> tuple[Manifest, dict[str, Any]]:
    """Parse ``manifest.yaml`` bytes; return the models and the data exactly as written.

    Raises :class:`ProblemList` (exit 3) listing every problem found.
    """
    located = yamlio.loads(raw, source)
    if not isinstance(located.data, dict):
        raise InvalidInputError(
            "the manifest must be a mapping with 'bundle' and 'items'", where=located.where("")
        )
    problems = schema_problems(located, draft=draft)
    if not problems:
        problems = semantic_problems(located)
    if problems:
        raise ProblemList(problems)
    data = located.data
    if draft:
        data = copy.deepcopy(data)
        for item in data.get("items") or []:
            item.setdefault("sha256", "0" * 64)
            item.setdefault("size", 0)
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise ProblemList(schemas.model_problems(located, exc)) from None
    return manifest, located.data
