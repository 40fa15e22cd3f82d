"""Evidence bundles: manifest, canonical root hash, safe reading, parsing, sealing and verification.

Public API (the engine, the intake server and the CLI use these names):

* :func:`open_bundle` → :class:`Bundle` (a context manager): manifest, root hash, members;
* :func:`load_evidence` → one :class:`LoadedEvidence` per item, with its integrity verdict;
* :func:`verify_bundle` → :class:`VerificationReport`, or raises (fail closed);
* :func:`seal_bundle`, :func:`pack_bundle`, :func:`init_bundle`: making bundles;
* :class:`Limits`: caps on what a bundle may hold; :func:`evidence_problems`: sufficiency.

Names are imported lazily: ``verify_bundle`` and ``seal_bundle`` start hashing
before pydantic and jsonschema are loaded, so start-up overlaps with the work.
See docs/bundles.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .bundle import Bundle, LoadedEvidence, load_evidence, open_bundle
    from .canonical import canonical_bytes, root_hash
    from .limits import Limits, parse_size
    from .manifest import Manifest, ManifestItem, Period, parse_manifest
    from .seal import guess_kind, init_bundle, pack_bundle, seal_bundle
    from .sufficiency import evidence_problems
    from .verify import BundleIntegrityError, VerificationReport, verify_bundle

_API = {
    "Bundle": "bundle",
    "LoadedEvidence": "bundle",
    "load_evidence": "bundle",
    "open_bundle": "bundle",
    "canonical_bytes": "canonical",
    "root_hash": "canonical",
    "Limits": "limits",
    "parse_size": "limits",
    "Manifest": "manifest",
    "ManifestItem": "manifest",
    "Period": "manifest",
    "parse_manifest": "manifest",
    "guess_kind": "seal",
    "init_bundle": "seal",
    "pack_bundle": "seal",
    "seal_bundle": "seal",
    "evidence_problems": "sufficiency",
    "BundleIntegrityError": "verify",
    "VerificationReport": "verify",
    "verify_bundle": "verify",
}

__all__ = [
    "Bundle",
    "BundleIntegrityError",
    "Limits",
    "LoadedEvidence",
    "Manifest",
    "ManifestItem",
    "Period",
    "VerificationReport",
    "canonical_bytes",
    "evidence_problems",
    "guess_kind",
    "init_bundle",
    "load_evidence",
    "open_bundle",
    "pack_bundle",
    "parse_manifest",
    "parse_size",
    "root_hash",
    "seal_bundle",
    "verify_bundle",
]


__getattr__, __dir__ = exports(__name__, _API)
