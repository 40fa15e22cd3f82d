"""The assessment engine: score evidence against controls. Pure: no file access, no clock.

``assess(catalog, profile, evidence, assessment, as_of)`` (in :mod:`.core`) returns
:class:`auditkit.results.model.Results`. CEL lives in :mod:`.cel`, isolation in
:mod:`.workers`, scoring rules in :mod:`.scoring`. Imported lazily so that the
catalog can use :mod:`.cel` without loading the rest.
"""

from __future__ import annotations

from ..lazy import exports

__all__ = ["EngineOptions", "EvidenceSet", "Limits", "assess"]


__getattr__, __dir__ = exports(__name__, dict.fromkeys(__all__, "core"))
