"""Profiles that build on others: ``imports`` (overlays) and OSCAL profiles used as auditkit profiles.

An auditkit profile may import other profiles: shipped names, YAML files or OSCAL
profile JSON, paths relative to the importing file. The result is one flat
:class:`Profile`: its scope is the union of the imported scopes narrowed by its
own selection (``families``/``include_controls``/``exclude_controls``), recorded in
``selected``; parameter values, weights and not-applicable entries of the imported
profiles apply, this profile's own winning; its scoring policy is its own when it
states one, else that of its last import. An OSCAL profile given wherever a
profile is accepted is resolved against the catalog in use
(:mod:`auditkit.oscal.profile`) and becomes a profile with ``selected`` and
``set_parameters``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .models import Catalog, Profile

MAX_IMPORT_DEPTH = 8


def import_target(entry: str, importer: str) -> str | Path:
    """An ``imports`` entry as a shipped profile name or a path relative to the importing file."""
    if entry.endswith((".yaml", ".yml", ".json")) or "/" in entry:
        path = Path(entry)
        return path if path.is_absolute() else Path(importer).parent / path
    return entry


def overlay(own: Profile, bases: Sequence[Profile], catalog: Catalog) -> Profile:
    """``own`` applied on top of the resolved ``bases``."""
    in_base = {c.id for c in catalog.controls for base in bases if base.in_scope(c)}
    selected = tuple(c.id for c in catalog.controls if c.id in in_base and own.own_selection(c))
    params: dict[str, dict[str, Any]] = {}
    set_parameters: dict[str, Any] = {}
    weights: dict[str, float] = {}
    for profile in (*bases, own):
        for control_id, values in profile.params.items():
            params.setdefault(control_id, {}).update(values)
        set_parameters.update(profile.set_parameters)
        weights.update(profile.weights)
    not_applicable = tuple(entry for profile in (*bases, own) for entry in profile.not_applicable)
    scoring = own.scoring if "scoring" in own.model_fields_set or not bases else bases[-1].scoring
    return own.model_copy(update={"selected": selected, "params": params, "set_parameters": set_parameters,
                                  "weights": weights, "not_applicable": not_applicable, "scoring": scoring})


def from_oscal(path: Path, catalog: Catalog) -> Profile:
    """An OSCAL profile (JSON) as an auditkit profile over ``catalog``."""
    from ..oscal.profile import Source, resolve

    owners = catalog.param_owners()
    source = Source(tuple(c.id for c in catalog.controls), {c.id: c.parent for c in catalog.controls},
                    frozenset(owners))
    resolved = resolve(path, source)
    if not resolved.ids:
        raise InvalidInputError("the OSCAL profile selects no control of the catalog", where=str(path))
    values: dict[str, Any] = {}
    for name, assigned in resolved.values.items():
        param = owners[name][0].params[name]
        values[name] = assigned if param.type.startswith("list[") else "; ".join(assigned)
    slug = re.sub(r"[^a-z0-9-]+", "-", path.stem.lower()).strip("-")[:64] or "oscal-profile"
    return Profile(id=slug, title=resolved.title or path.stem, source=str(path), selected=tuple(resolved.ids),
                   set_parameters=values)


def resolve_imports(own: Profile, catalog: Catalog, load: Callable[[str | Path, tuple[Path, ...]], Profile],
                    stack: tuple[Path, ...]) -> Profile:
    """Load ``own``'s imports with ``load`` (cycle- and depth-checked) and overlay ``own`` on them."""
    if not own.imports:
        return own
    if len(stack) > MAX_IMPORT_DEPTH:
        raise InvalidInputError(f"profile imports nest deeper than {MAX_IMPORT_DEPTH}", where=own.source)
    bases = []
    for entry in own.imports:
        target = import_target(entry, own.source)
        if isinstance(target, Path) and target.resolve() in stack:
            raise InvalidInputError(f"profile import {entry!r} leads back to itself (an import cycle)",
                                    where=own.source)
        bases.append(load(target, stack))
    return overlay(own, bases, catalog)
