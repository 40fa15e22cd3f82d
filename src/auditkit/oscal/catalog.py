"""An OSCAL catalog (trestle model) as auditkit control families (plain data, schema-shaped).

Each top-level group becomes a family (nested groups fold into it). Controls keep
their OSCAL ids; an enhancement (a control inside a control) becomes a control of
its own with ``parent``. From each control: its label (``props`` name ``label``
without a class, else the first label), the statement with its list structure,
guidance, the NIST SP 800-53A assessment objectives, one procedure per assessment
method (EXAMINE / INTERVIEW / TEST, its assessment objects as the question,
linked to the control's objectives), parameters (label, guidelines, selection,
values as defaults, ``aggregates``), related controls and the titles of the
back-matter references it cites. Withdrawn controls are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

METHODS = {"EXAMINE": "examine", "INTERVIEW": "interview", "TEST": "test"}
STATEMENT, GUIDANCE, OBJECTIVE, METHOD, OBJECTS = (
    "statement", "guidance", "assessment-objective", "assessment-method", "assessment-objects")


@dataclass
class Imported:
    """Families as data, plus what the import left out or noticed."""

    families: list[dict[str, Any]]
    withdrawn: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def control_ids(self) -> list[str]:
        return [c["id"] for f in self.families for c in f["controls"]]


def _props(item: Any, name: str) -> list[Any]:
    return [p for p in (getattr(item, "props", None) or []) if p.name == name]


def _prop(item: Any, name: str) -> str | None:
    found = _props(item, name)
    return found[0].value if found else None


def label_of(item: Any) -> str | None:
    """The plain label (no class) of an OSCAL item, else its first label."""
    labels = _props(item, "label")
    plain = [p for p in labels if not getattr(p, "class_", None)]
    chosen = plain or labels
    return chosen[0].value if chosen else None


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value))


def plain(value: Any) -> str | None:
    """A trestle value (``RootModel`` wrappers, enums) as text."""
    while hasattr(value, "root"):
        value = value.root
    return None if value is None else _enum(value)


def _part(part: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if part.id:
        out["id"] = part.id
    label = label_of(part)
    if label:
        out["label"] = label
    if part.prose and part.prose.strip():
        out["prose"] = part.prose.strip()
    children = [_part(p) for p in part.parts or [] if p.name in ("item", OBJECTIVE, STATEMENT)]
    if children:
        out["parts"] = children
    return out


def _param(param: Any) -> dict[str, Any]:
    select = getattr(param, "select", None)
    many = select is not None and _enum(select.how_many or "one") == "one-or-more"
    out: dict[str, Any] = {"type": "list[string]" if many else "string"}
    values = list(getattr(param, "values", None) or [])
    if values:
        out["default"] = values if many else "; ".join(values)
    if param.label:
        out["label"] = param.label
    if param.usage:
        out["description"] = param.usage.strip()
    guidelines = " ".join(g.prose.strip() for g in param.guidelines or [])
    if guidelines:
        out["guidelines"] = guidelines
    if select is not None and select.choice:
        out["select"] = {"how_many": "one-or-more" if many else "one", "choice": [c.strip() for c in select.choice]}
    aggregates = [p.value for p in _props(param, "aggregates")]
    if aggregates:
        out["aggregates"] = aggregates
    return out


def _objects(method: Any) -> str:
    texts = [p.prose for p in method.parts or [] if p.name == OBJECTS and p.prose]
    items = [line.strip() for text in texts for line in text.split("\n") if line.strip()]
    return "; ".join(items)


def _procedures(control: Any, objectives: list[str], label: str) -> list[dict[str, Any]]:
    out = []
    for part in control.parts or []:
        if part.name != METHOD:
            continue
        method = METHODS.get((_prop(part, "method") or "").upper())
        if method is None:
            continue
        objects = _objects(part)
        prompt = f"{method.capitalize()}" + (f": {objects}" if objects else f" the implementation of {label}")
        procedure = {"id": part.id or f"{control.id}_asm-{method}", "method": method, "prompt": prompt}
        if objectives:
            procedure["objectives"] = objectives
        out.append(procedure)
    if not out:  # a catalog without 800-53A methods: one review procedure, so the control can be assessed
        procedure = {"id": f"{control.id}_review", "method": "examine",
                     "prompt": f"Examine the implementation of {label} against its statement"}
        if objectives:
            procedure["objectives"] = objectives
        out.append(procedure)
    return out


def _walk(controls: Iterable[Any], parent: str | None = None) -> Iterator[tuple[Any, str | None]]:
    for control in controls or []:
        yield control, parent
        yield from _walk(control.controls or [], control.id)


def _groups(catalog: Any) -> Iterator[tuple[Any, list[tuple[Any, str | None]]]]:
    def nested(group: Any) -> Iterator[tuple[Any, str | None]]:
        yield from _walk(group.controls or [])
        for sub in getattr(group, "groups", None) or []:
            yield from nested(sub)

    for group in getattr(catalog, "groups", None) or []:
        yield group, list(nested(group))
    if getattr(catalog, "controls", None):
        yield None, list(_walk(catalog.controls))


def family_id(group_id: str | None) -> str:
    """A family id (letters and digits, at most 16) from an OSCAL group id."""
    cleaned = re.sub(r"[^A-Za-z0-9]", "", group_id or "")
    if not cleaned[:1].isalpha():
        cleaned = "g" + cleaned
    return cleaned[:16] if group_id else "catalog"


def convert_control(control: Any, parent: str | None, severity: str,
                    resources: Mapping[str, str], values: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """One OSCAL control as an auditkit control; ``values`` are profile-assigned parameter values."""
    label = label_of(control) or control.id
    parts = control.parts or []
    objectives = [_part(p) for p in parts if p.name == OBJECTIVE]
    out: dict[str, Any] = {"id": control.id, "title": " ".join(control.title.split()), "label": label}
    if parent:
        out["parent"] = parent
    statement = [_part(p) for p in parts if p.name == STATEMENT]
    if statement:
        out["statement"] = statement
    guidance = "\n\n".join(p.prose.strip() for p in parts if p.name == GUIDANCE and p.prose)
    if guidance:
        out["guidance"] = guidance
    if objectives:
        out["objectives"] = objectives
    out["severity"] = severity
    links = control.links or []
    related = list(dict.fromkeys(link.href[1:] for link in links
                                 if link.rel == "related" and link.href.startswith("#")))
    if related:
        out["related"] = related
    cited = [resources[link.href[1:]] for link in links
             if link.rel == "reference" and link.href.startswith("#") and link.href[1:] in resources]
    if cited:
        out["references"] = {"other": list(dict.fromkeys(cited))}
    params = {}
    for param in control.params or []:
        data = _param(param)
        if param.id in values:
            assigned = list(values[param.id])
            data["default"] = assigned if data["type"].startswith("list[") else "; ".join(assigned)
        params[param.id] = data
    if params:
        out["params"] = params
    out["procedures"] = _procedures(control, [o["id"] for o in objectives if "id" in o], label)
    return out


def to_families(catalog: Any, *, severity: str = "unrated", selected: set[str] | None = None,
                values: Mapping[str, Sequence[str]] | None = None, profile: str | None = None) -> Imported:
    """The catalog's groups as family documents; ``selected`` narrows to those control ids."""
    meta = catalog.metadata
    resources = {str(r.uuid): " ".join((r.title or "").split()) for r in
                 (catalog.back_matter.resources if catalog.back_matter and catalog.back_matter.resources else [])
                 if r.title}
    imported = Imported(families=[])
    for group, members in _groups(catalog):
        fid = family_id(group.id if group is not None else None)
        framework: dict[str, Any] = {"title": " ".join(meta.title.split()), "version": plain(meta.version),
                                     "oscal_version": plain(meta.oscal_version), "catalog_uuid": str(catalog.uuid)}
        if profile:
            framework["profile"] = profile
        if group is not None and group.id:
            framework["group"] = group.id
        controls = []
        for control, parent in members:
            if (_prop(control, "status") or "").lower() == "withdrawn":
                imported.withdrawn.append(control.id)
                continue
            if selected is not None and control.id not in selected:
                continue
            controls.append(convert_control(control, parent, severity, resources, values or {}))
        if not controls:
            continue
        title = " ".join(group.title.split()) if group is not None else meta.title
        imported.families.append({"family": {"id": fid, "title": title, "version": plain(meta.version),
                                             "framework": framework}, "controls": controls})
    return imported


def walk_controls(catalog: Any) -> list[Any]:
    """Every control of the catalog (enhancements too), in document order."""
    return [c for _, members in _groups(catalog) for c, _ in members]


def all_ids(catalog: Any) -> list[str]:
    """Every control id of the catalog in document order (enhancements after their control)."""
    return [c.id for _, members in _groups(catalog) for c, _ in members]


def parents(catalog: Any) -> dict[str, str | None]:
    return {c.id: p for _, members in _groups(catalog) for c, p in members}


def param_ids(catalog: Any) -> set[str]:
    return {p.id for _, members in _groups(catalog) for c, _ in members for p in c.params or []}
