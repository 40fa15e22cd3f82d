"""Resolving an OSCAL profile's selection and parameter settings against a catalog.

A profile imports catalogs or other profiles (``imports[].href``: a file relative
to the profile, or ``#UUID`` of a back-matter resource whose ``rlinks`` name one).
An import that names a profile is resolved recursively (an overlay such as
FedRAMP on NIST); one that names a catalog file that exists is read, and one
that cannot be found locally (NIST's baselines point into NIST's repository)
stands for the catalog given to auditkit. From each import: ``include-all`` or
``include-controls`` (``with-ids``, ``matching`` globs, ``with-child-controls``),
minus ``exclude-controls``; ``modify.set-parameters`` assign values (later
profiles win). Ids the source does not have are an error, never silently dropped.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from . import documents

MAX_IMPORT_DEPTH = 8


@dataclass(frozen=True)
class Source:
    """The controls a profile can select from: ids in catalog order, each control's parent, parameter ids."""

    ids: tuple[str, ...]
    parents: dict[str, str | None]
    params: frozenset[str]

    def children(self, control_id: str) -> list[str]:
        """Every descendant (enhancements of enhancements too), in catalog order."""
        out: list[str] = []
        frontier = {control_id}
        for cid in self.ids:
            if self.parents.get(cid) in frontier:
                out.append(cid)
                frontier.add(cid)
        return out


@dataclass
class Resolved:
    """A profile's outcome: the control ids in scope (catalog order) and parameter values by id."""

    ids: list[str]
    values: dict[str, list[str]] = field(default_factory=dict)
    title: str = ""
    chain: list[str] = field(default_factory=list)


def _rule_ids(rules: Sequence[Any] | None, source: Source, where: str) -> list[str]:
    chosen: list[str] = []
    missing: list[str] = []
    for rule in rules or []:
        children = _enum(getattr(rule, "with_child_controls", None)) == "yes"
        for cid in getattr(rule, "with_ids", None) or []:
            if cid not in source.parents:
                missing.append(cid)
                continue
            chosen.append(cid)
            if children:
                chosen.extend(source.children(cid))
        for matching in getattr(rule, "matching", None) or []:
            pattern = matching.pattern or ""
            hits = [cid for cid in source.ids if fnmatch.fnmatchcase(cid, pattern)]
            chosen.extend(hits)
            if children:
                chosen.extend(c for hit in hits for c in source.children(hit))
    if missing:
        raise InvalidInputError(
            f"selects {len(missing)} control(s) the catalog does not have: {', '.join(missing[:8])}"
            + ("…" if len(missing) > 8 else ""),
            where=where, hint="give the catalog this profile selects from (e.g. the full catalog, not a baseline)")
    return chosen


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value)) if value is not None else ""


def _import_target(href: str, profile: Any, base: Path) -> Path | None:
    """The local file an import names, or None when it cannot be found here."""
    hrefs = [href]
    if href.startswith("#"):
        resources = profile.back_matter.resources if profile.back_matter and profile.back_matter.resources else []
        resource = next((r for r in resources if str(r.uuid) == href[1:]), None)
        hrefs = [str(link.href) for link in (resource.rlinks or [])] if resource else []
    for candidate in hrefs:
        if candidate.endswith(".json") and "://" not in candidate:
            path = (base / candidate).resolve()
            if path.is_file():
                return path
    return None


def resolve(path: Path, source: Source, *, catalog_path: Path | None = None, _depth: int = 0,
            _seen: tuple[Path, ...] = ()) -> Resolved:
    """Resolve the OSCAL profile at ``path`` against ``source`` (the catalog given to auditkit)."""
    real = path.resolve()
    if real in _seen:
        raise InvalidInputError("profile imports itself (an import cycle)", where=str(path))
    if _depth > MAX_IMPORT_DEPTH:
        raise InvalidInputError(f"profile imports nest deeper than {MAX_IMPORT_DEPTH}", where=str(path))
    profile = documents.load(path, "profile")
    selected: list[str] = []
    values: dict[str, list[str]] = {}
    chain = [str(path)]
    for index, item in enumerate(profile.imports):
        where = f"{path} /profile/imports/{index}"
        target = _import_target(str(item.href), profile, path.parent)
        available = source
        if target is not None and target != (catalog_path.resolve() if catalog_path else None):
            root = documents.root_of(documents.read_json(target))
            if root == "profile":
                inner = resolve(target, source, catalog_path=catalog_path, _depth=_depth + 1, _seen=(*_seen, real))
                values.update(inner.values)
                chain += inner.chain
                allowed = set(inner.ids)
                available = Source(tuple(i for i in source.ids if i in allowed),
                                   {k: v for k, v in source.parents.items() if k in allowed}, source.params)
            elif root != "catalog":
                raise InvalidInputError(f"import {item.href} is neither a catalog nor a profile", where=where)
        if getattr(item, "include_all", None) is not None:
            chosen = list(available.ids)
        else:
            chosen = _rule_ids(getattr(item, "include_controls", None), available, where)
        excluded = set(_rule_ids(getattr(item, "exclude_controls", None), available, where))
        selected.extend(c for c in chosen if c not in excluded)
    modify = profile.modify
    for index, setting in enumerate(modify.set_parameters if modify and modify.set_parameters else []):
        if setting.param_id not in source.params:
            raise InvalidInputError(f"sets parameter {setting.param_id!r}, which no control of the catalog has",
                                    where=f"{path} /profile/modify/set-parameters/{index}")
        if setting.values:
            values[setting.param_id] = list(setting.values)
    keep = set(selected)
    return Resolved([i for i in source.ids if i in keep], values, " ".join(profile.metadata.title.split()), chain)
