"""``auditkit controls import-oscal``: an OSCAL catalog (optionally through a profile) as a catalog folder.

Writes one family file per OSCAL group into a new folder, built beside it and
renamed into place only after the whole folder passes ``controls validate``, so
the output is complete and valid or absent. Severity comes from the baseline's
impact level when the profile or catalog title names one (LOW, MODERATE, HIGH
give low, medium, high), else ``unrated``; ``severity`` overrides.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InternalError, ProblemList, UsageError
from . import documents
from .catalog import all_ids, param_ids, parents, to_families
from .profile import Resolved, Source, resolve

SEVERITIES = ("auto", "low", "medium", "high", "critical", "unrated")
_IMPACT = re.compile(r"\b(LOW|MODERATE|HIGH)\b(?:[- ]IMPACT)?[- ]BASELINE\b", re.IGNORECASE)
_BY_IMPACT = {"low": "low", "moderate": "medium", "high": "high"}


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote."""

    output: Path
    families: list[tuple[str, str, int]]
    controls: int
    enhancements: int
    params: int
    procedures: int
    severity: str
    profile_title: str | None = None
    withdrawn: list[str] = field(default_factory=list)


def baseline_severity(*titles: str | None) -> str:
    """``low``/``medium``/``high`` from an impact-level baseline title, else ``unrated``."""
    for title in titles:
        found = _IMPACT.search(title or "")
        if found:
            return _BY_IMPACT[found.group(1).lower()]
    return "unrated"


def source_of(catalog: object) -> Source:
    return Source(tuple(all_ids(catalog)), parents(catalog), frozenset(param_ids(catalog)))


def _dump(doc: dict[str, object]) -> str:
    import yaml

    from .. import schemas

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class Dumper(base):  # type: ignore[misc, valid-type]
        def ignore_aliases(self, data: object) -> bool:  # auditkit refuses anchors and aliases
            return True

    body = yaml.dump(doc, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=110)
    return f"# yaml-language-server: $schema={schemas.path('control-family')}\n{body}"


def _place(built: Path, output: Path, force: bool) -> None:
    if output.exists() and not output.is_dir():
        raise UsageError("exists and is not a folder", where=str(output))
    if output.is_dir() and any(output.iterdir()):
        if not force:
            raise UsageError("folder exists and is not empty", where=str(output),
                             hint="choose a new folder or pass --force to replace it")
        old = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.old-"))
        output.rename(old / "old")
        built.rename(output)
        shutil.rmtree(old)
        return
    if output.is_dir():
        output.rmdir()
    built.rename(output)


def import_oscal(catalog_path: Path, output: Path, *, profile_path: Path | None = None,
                 severity: str = "auto", force: bool = False) -> ImportReport:
    """Import the OSCAL catalog at ``catalog_path`` into the new folder ``output``."""
    from ..catalog.loader import validate

    catalog = documents.load(catalog_path, "catalog")
    resolved: Resolved | None = None
    if profile_path is not None:
        resolved = resolve(profile_path, source_of(catalog), catalog_path=catalog_path)
    chosen = severity if severity != "auto" else baseline_severity(
        resolved.title if resolved else None, catalog.metadata.title)
    imported = to_families(catalog, severity=chosen, selected=set(resolved.ids) if resolved else None,
                           values=resolved.values if resolved else None,
                           profile=resolved.title if resolved else None)
    if not imported.families:
        raise UsageError("the import selects no controls", where=str(profile_path or catalog_path))
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.new-"))
    umask = os.umask(0)
    os.umask(umask)
    scratch.chmod(0o777 & ~umask)
    try:
        for doc in imported.families:
            family = doc["family"]
            assert isinstance(family, dict)
            (scratch / f"{family['id']}.yaml").write_text(_dump(doc), encoding="utf-8")
        try:  # the folder must pass exactly what users will run on it
            loaded, _ = validate([scratch])
        except ProblemList as exc:
            raise InternalError(f"the imported catalog fails validation: {exc.problems[0]}") from None
        _place(scratch, output, force)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)
    controls = loaded.controls
    return ImportReport(
        output=output,
        families=[(f.id, f.title, len(f.controls)) for f in loaded.families],
        controls=len(controls), enhancements=sum(1 for c in controls if c.parent),
        params=sum(len(c.params) for c in controls), procedures=sum(len(c.procedures) for c in controls),
        severity=chosen, profile_title=resolved.title if resolved else None, withdrawn=imported.withdrawn,
    )
