"""Fail-closed verification of a whole bundle: ``auditkit bundle verify``.

:func:`verify_bundle` returns a :class:`VerificationReport` only when everything
holds: structure, manifest schema, every listed file present with its size and
SHA-256, no unlisted file, every structured file parseable, the signature (when
``trust`` is given, a valid signature chaining to it is required) and, with a
catalog, the sufficiency of the evidence for every control in scope. Otherwise
it raises, listing every reason found (one line each, naming the member):
:class:`BundleIntegrityError` (exit 4) if any hash, size or signature fails,
else :class:`~auditkit.errors.InvalidInputError` / ``ProblemList`` (exit 3).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IntegrityError, InvalidInputError, ProblemList, shorten
from ..progress import progress_bar
from .hashing import Prehash
from .limits import Limits
from .names import RESERVED_NAMES, SIGNATURE_NAME
from .parsers import STRUCTURED, format_of
from .reader import open_reader

if TYPE_CHECKING:
    from .bundle import Bundle

PROGRESS_MIN = 64 * 1024 * 1024


class BundleIntegrityError(IntegrityError):
    """One or more integrity failures (hash, size, signature), each on its own line."""

    def __init__(self, problems: Iterable[str]):
        self.problems = [shorten(problem) for problem in problems]
        count = len(self.problems)
        super().__init__(self.problems[0] if count == 1 else f"{count} problems found")

    @property
    def lines(self) -> list[str]:
        return list(self.problems)


@dataclass(frozen=True)
class VerificationReport:
    """What a successful verification established."""

    root_hash: str
    bundle_id: str
    organization: str
    item_count: int
    total_size: int
    signed: bool
    """True only when a signature was verified against a trust anchor."""
    signer: str | None
    warnings: list[str] = field(default_factory=list)
    signer_fingerprint: str | None = None
    """SHA-256 of the verified signer's certificate."""
    signature_present: bool = False
    """``manifest.sig`` exists (checked only when ``signed``)."""


def raise_problems(integrity: list[str], invalid: list[str]) -> None:
    """Raise the right error for the problems found (integrity wins), or return if none."""
    if integrity:
        raise BundleIntegrityError(integrity + invalid)
    if len(invalid) == 1:
        raise InvalidInputError(invalid[0])
    if invalid:
        raise ProblemList(invalid)


def controls_in_scope(catalog: Any, profile: Any) -> list[Any]:
    from ..catalog.scaffold import in_scope

    return in_scope(catalog, profile)


def sufficiency_problems(
    bundle: Bundle,
    catalog: Any,
    profile: Any,
    as_of: _dt.date,
) -> tuple[list[str], list[str]]:
    """(problems with required, problems with optional evidence) of the controls in scope."""
    from .sufficiency import evidence_problems

    items = list(bundle.manifest.items)
    period = bundle.manifest.bundle.period
    required: list[str] = []
    optional: list[str] = []
    for control in controls_in_scope(catalog, profile):
        for requirement in control.evidence:
            for line in evidence_problems(requirement, items, period, as_of):
                (required if requirement.required else optional).append(f"{control.id}: {line}")
    return list(dict.fromkeys(required)), list(dict.fromkeys(optional))


def verify_bundle(
    source: Path,
    *,
    trust: Path | Sequence[Path] | None = None,
    limits: Limits | None = None,
    catalog: Any = None,
    profile: Any = None,
    as_of: _dt.date | None = None,
    known_kinds: set[str] | None = None,
    scope: Callable[[], tuple[Any, Any, set[str] | None]] | None = None,
) -> VerificationReport:
    """Verify the bundle at ``source`` completely; raise listing every problem (fail closed).

    Items whose kind no control of ``catalog`` declares are errors; without a catalog,
    kinds missing from ``known_kinds`` (if given) are warnings. ``scope``, if given, returns
    ``(catalog, profile, known_kinds)`` in their place; it is called once the files are being
    hashed, so that loading a catalog costs no time of its own.
    """
    source = Path(source)
    reader = open_reader(source, limits or Limits())
    opaque = [
        name
        for name in reader.members
        if name not in RESERVED_NAMES and format_of(name) not in (None, *STRUCTURED)
    ]
    total = sum(member.size for member in reader.members.values())
    with progress_bar(total, "Verifying", min_total=PROGRESS_MIN) as advance:
        prehash = Prehash(reader, opaque, reader.limits.threads, advance)
        try:
            from .bundle import bundle_from_reader  # imported while the files are being hashed

            opened = bundle_from_reader(source, reader)
            if scope is not None:
                catalog, profile, known_kinds = scope()
        except BaseException:
            prehash.cancel()
            reader.close()
            raise
        prehash.finish()  # failures are met again, and reported, by check_items
        with opened as bundle:
            return _verify(bundle, trust, catalog, profile, as_of, advance, known_kinds)


def _verify(
    bundle: Bundle,
    trust: Path | Sequence[Path] | None,
    catalog: Any,
    profile: Any,
    as_of: _dt.date | None,
    advance: Any,
    known_kinds: set[str] | None = None,
) -> VerificationReport:
    from .bundle import INTEGRITY_FAILURES, check_items
    from .kinds import declared_kinds, kind_problems

    integrity: list[str] = []
    invalid: list[str] = []
    warnings: list[str] = []
    listed = {item.path for item in bundle.manifest.items}
    for name in bundle.members():
        if name not in listed and name not in RESERVED_NAMES:
            invalid.append(
                f"{bundle.where(name)}: in the bundle but not listed in the manifest "
                "(run 'auditkit bundle seal --add-unlisted' or remove it)"
            )
    if trust is not None and (isinstance(trust, str | Path) or len(trust)):
        try:
            bundle.verify_signature(trust)
        except IntegrityError as exc:
            integrity.append(exc.render())
    elif bundle.signature is not None:
        warnings.append(
            f"{bundle.where(SIGNATURE_NAME)}: signature present but not checked "
            "(pass --trust CA.pem to check it)"
        )
    for loaded in check_items(bundle, parse=True, keep_content=False, advance=advance):
        if loaded.integrity == "ok":
            continue
        line = loaded.problem or f"{bundle.where(loaded.item.path)}: {loaded.integrity}"
        (integrity if loaded.integrity in INTEGRITY_FAILURES else invalid).append(line)
    kinds = [(i, item.kind) for i, item in enumerate(bundle.manifest.items)]
    where = bundle.where("manifest.yaml")
    if catalog is not None:
        invalid.extend(kind_problems(kinds, declared_kinds(catalog), where))
    elif known_kinds is not None:
        warnings.extend(kind_problems(kinds, known_kinds, where))
    if catalog is not None:
        day = as_of or bundle.manifest.bundle.created.date()
        required, optional = sufficiency_problems(bundle, catalog, profile, day)
        invalid.extend(required)
        warnings.extend(optional)
    raise_problems(integrity, invalid)
    info = bundle.manifest.bundle
    return VerificationReport(
        root_hash=bundle.root_hash,
        bundle_id=info.id,
        organization=info.organization,
        item_count=len(bundle.manifest.items),
        total_size=sum(item.size for item in bundle.manifest.items),
        signed=bundle.signed,
        signer=bundle.signer,
        warnings=warnings,
        signer_fingerprint=bundle.signer_fingerprint,
        signature_present=bundle.signature is not None,
    )
