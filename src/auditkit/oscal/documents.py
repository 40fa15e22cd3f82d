"""Reading OSCAL JSON documents through compliance-trestle's models.

The JSON is read with auditkit's guarded parser (size, depth, duplicate keys,
non-finite numbers), then validated by trestle's pydantic models of the OSCAL
schema; a model error becomes one line per problem with the JSON pointer of the
offending value. trestle is imported here, lazily: only commands that read or
check an OSCAL file pay its import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InvalidInputError, ProblemList

MAX_OSCAL_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 200
ROOTS = {
    "catalog": ("trestle.oscal.catalog", "Catalog"),
    "profile": ("trestle.oscal.profile", "Profile"),
    "assessment-plan": ("trestle.oscal.assessment_plan", "AssessmentPlan"),
    "assessment-results": ("trestle.oscal.assessment_results", "AssessmentResults"),
    "plan-of-action-and-milestones": ("trestle.oscal.poam", "PlanOfActionAndMilestones"),
}


def read_json(path: Path) -> Any:
    """The JSON value of ``path``, refusing oversized, too deep or malformed files."""
    from ..evidence.parsers import parse_json

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InvalidInputError("file not found", where=str(path)) from None
    if size > MAX_OSCAL_BYTES:
        raise InvalidInputError(f"file is {size} bytes, over the {MAX_OSCAL_BYTES}-byte limit for OSCAL input",
                                where=str(path))
    return parse_json(path.read_bytes(), str(path), max_depth=MAX_DEPTH)


def root_of(data: Any) -> str | None:
    """Which OSCAL model a document holds (its single top-level key), if any."""
    if isinstance(data, dict) and len(data) in (1, 2):
        keys = [k for k in data if k != "$schema"]
        if len(keys) == 1 and keys[0] in ROOTS:
            return keys[0]
    return None


def model_of(data: Any, root: str, where: str) -> Any:
    """Validate ``data[root]`` with trestle's model, or raise one line per problem."""
    import importlib

    from pydantic import ValidationError

    module, name = ROOTS[root]
    model = getattr(importlib.import_module(module), name)
    try:
        return model.model_validate(data[root])
    except ValidationError as exc:
        lines = []
        for error in exc.errors()[:20]:
            ptr = "/" + "/".join([root, *(str(p) for p in error["loc"] if not _is_union_tag(p))])
            lines.append(f"{where} {ptr}: {error['msg'][:200]}")
        raise ProblemList(lines) from None


def _is_union_tag(part: Any) -> bool:
    """pydantic names the union member it tried in ``loc`` (``Parameter1``); a pointer has no such step."""
    return isinstance(part, str) and part[:1].isupper()


def load(path: Path, root: str) -> Any:
    """The trestle model of the OSCAL ``root`` document at ``path``."""
    data = read_json(path)
    found = root_of(data)
    if found != root:
        what = f"an OSCAL {found}" if found else "not an OSCAL document"
        raise InvalidInputError(f"expected an OSCAL {root} (a JSON object with the key {root!r}); this is {what}",
                                where=str(path))
    return model_of(data, root, str(path))


def validate(data: Any, where: str = "<document>") -> Any:
    """Check an OSCAL document (as data) with trestle's model of its root; returns the model."""
    root = root_of(data)
    if root is None:
        raise InvalidInputError("not an OSCAL document", where=where)
    return model_of(data, root, where)
