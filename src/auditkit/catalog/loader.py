"""Load control families and profiles: safe YAML, JSON Schema, then frozen models.

A catalog that loaded cleanly is kept in the user cache (:mod:`.cache`) and read
back from there while neither its files nor auditkit change.

Every problem of a run is collected and reported together (``ProblemList``), each
as ``file:line:col /json/pointer: message``. Semantic checks beyond the schema live
in :mod:`auditkit.catalog.semantic`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .. import canonjson, schemas, yamlio
from ..errors import AuditkitError, InvalidInputError, ProblemList
from ..resources import data_dir
from . import cache
from .models import Catalog, Control, ExpressionRefs, Family, Profile
from .profiles import from_oscal, resolve_imports
from .semantic import catalog_problems, profile_problems

MAX_CATALOG_FILE_BYTES = 8 * 1024 * 1024
YAML_SUFFIXES = (".yaml", ".yml")


def display_path(path: Path) -> str:
    """``path`` relative to the working folder when inside it, else absolute."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files named, plus the YAML files of folders named (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise InvalidInputError("no such file or folder", where=str(path))
    return files


def _read(path: Path, problems: list[str]) -> yamlio.Located | None:
    try:
        return yamlio.load(path, display=display_path(path), max_bytes=MAX_CATALOG_FILE_BYTES)
    except AuditkitError as exc:
        problems.extend(exc.lines)
        return None


def _cache_entry(files: Sequence[Path]) -> str | None:
    """The cache entry of these files (names as shown in messages, and bytes); None if one cannot be read."""
    sources = []
    for path in files:
        try:
            if path.stat().st_size > MAX_CATALOG_FILE_BYTES:
                return None
            sources.append((display_path(path), path.read_bytes()))
        except OSError:
            return None
    return cache.entry_key("catalog", sources)


def _oscal_catalog(path: Path, problems: list[str]) -> list[yamlio.Located]:
    """An OSCAL catalog (JSON) read directly: its groups as family documents, as ``import-oscal`` writes them."""
    from ..oscal import documents
    from ..oscal.catalog import to_families
    from ..oscal.importer import baseline_severity

    try:
        model = documents.load(path, "catalog")
    except AuditkitError as exc:
        problems.extend(exc.lines)
        return []
    imported = to_families(model, severity=baseline_severity(model.metadata.title))
    shown = display_path(path)
    return [yamlio.Located(doc, f"{shown}#{doc['family']['id']}", {}) for doc in imported.families]


def _read_all(files: Sequence[Path], problems: list[str]) -> list[yamlio.Located]:
    """Every file loaded: YAML as it is, an OSCAL catalog JSON as its family documents."""
    out: list[yamlio.Located] = []
    for path in files:
        if path.suffix == ".json" and path.is_file():
            out.extend(_oscal_catalog(path, problems))
            continue
        located = _read(path, problems)
        if located is not None:
            out.append(located)
    return out


def _family(located: yamlio.Located, problems: list[str]) -> tuple[Family, list[int]] | None:
    """Build the family; controls with schema errors are left out so the rest still get
    their semantic checks in the same run."""
    found = schemas.problems(located, "control-family")
    problems.extend(found)
    data = located.data
    bad = {int(m.group(1)) for m in re.finditer(r" /controls/(\d+)", "\n".join(found))}
    structural = [line for line in found if not re.search(r" /controls/\d+", line)]
    if structural:
        return None
    indexes: list[int] = []
    controls: list[Control] = []
    for i in range(len(data["controls"])):
        if i in bad:
            continue
        try:
            controls.append(schemas.build(Control, {**data["controls"][i], "family": data["family"]["id"]},
                                          located, ("controls", i)))
            indexes.append(i)
        except ProblemList as exc:
            problems.extend(exc.problems)
    try:
        family = schemas.build(Family, {**data["family"], "source": located.source, "controls": controls},
                               located, ("family",))
    except ProblemList as exc:
        problems.extend(exc.problems)
        return None
    return family, indexes


def _is_profile(located: yamlio.Located) -> bool:
    return isinstance(located.data, dict) and "profile" in located.data


def digest(documents: Sequence[Any], sources: Sequence[yamlio.Located] = ()) -> str:
    """SHA-256 over the canonical JSON of the given documents, in order.

    ``sources`` (the loaded files of ``documents``, same order) name the file and line
    of a value canonical JSON cannot hold (exit 3)."""

    def where(ptr: str) -> str:
        index, _, rest = ptr[1:].partition("/")
        if not sources or not index.isdigit() or int(index) >= len(sources):
            return ptr or "/"
        inner = "/" + rest if rest else ""
        return f"{sources[int(index)].where(inner)} {inner or '/'}"

    return hashlib.sha256(canonjson.dumps(list(documents), where)).hexdigest()


def _build_catalog(documents: Sequence[yamlio.Located], problems: list[str]) -> Catalog | None:
    loaded: list[tuple[yamlio.Located, Family, list[int]]] = []
    for located in documents:
        built = _family(located, problems)
        if built is not None:
            loaded.append((located, *built))
    problems.extend(catalog_problems(loaded))
    if problems:
        return None
    loaded.sort(key=lambda entry: entry[1].id)
    families = tuple(f for _, f, _ in loaded)
    versions = sorted({f.version for f in families if f.version})
    return Catalog(
        families=families,
        digest=digest([located.data for located, _, _ in loaded], [located for located, _, _ in loaded]),
        version="+".join(versions) or "unversioned",
        expressions=_expressions(families),
    )


def _expressions(families: Sequence[Family]) -> dict[str, ExpressionRefs]:
    """What every check expression refers to (compiled already by the semantic checks)."""
    from ..engine.cel import compile_expr

    sources = {s for f in families for c in f.controls for check in c.checks for s in check.expressions.values()}
    refs = {}
    for source in sorted(sources):
        compiled = compile_expr(source)
        refs[source] = ExpressionRefs(variables=tuple(sorted(compiled.free_variables)),
                                      params=tuple(sorted(compiled.params)))
    return refs


def load_catalog(paths: Sequence[Path] | None = None) -> Catalog:
    """Load and fully validate the catalog in ``paths`` (default: the shipped ``controls/``)."""
    files = expand(paths or [data_dir("controls")])
    if not files:
        raise InvalidInputError("no control files found", where=", ".join(map(str, paths or [])),
                                hint="point at a folder of *.yaml control families")
    problems: list[str] = []
    entry = _cache_entry(files)
    if entry is not None:
        cached = cache.get(entry)
        if cached is not None:
            with contextlib.suppress(ValueError):  # not a catalog after all: rebuild it
                return Catalog.model_validate_json(cached)
    documents = [doc for doc in _read_all(files, problems) if not _is_profile(doc)]
    catalog = _build_catalog(documents, problems)
    if catalog is None:
        raise ProblemList(problems)
    if entry is not None:
        cache.put(entry, catalog.model_dump_json(by_alias=True).encode())
    return catalog


def resolve_profile_path(name_or_path: str | Path | None) -> Path:
    """A profile file from a path, or a shipped profile by name (default ``default``)."""
    if name_or_path is None:
        name_or_path = "default"
    candidate = Path(name_or_path)
    if candidate.suffix in (*YAML_SUFFIXES, ".json") or candidate.exists():
        return candidate
    shipped = data_dir("profiles") / f"{name_or_path}.yaml"
    if not shipped.exists():
        available = sorted(p.stem for p in data_dir("profiles").glob("*.yaml"))
        raise InvalidInputError(
            f"no profile named {str(name_or_path)!r}",
            hint=f"give a path or one of: {', '.join(available)}",
        )
    return shipped


def _profile(located: yamlio.Located, catalog: Catalog, problems: list[str],
             stack: tuple[Path, ...] = ()) -> Profile | None:
    found = schemas.problems(located, "profile")
    if found:
        problems.extend(found)
        return None
    data = dict(located.data)
    head = data.pop("profile")
    try:
        profile: Profile = schemas.build(Profile, {**head, **data, "source": located.source}, located)
    except ProblemList as exc:
        problems.extend(exc.problems)
        return None
    problems.extend(profile_problems(profile, located, catalog))
    try:
        return resolve_imports(profile, catalog, lambda target, seen: _load_profile(target, catalog, seen),
                               (*stack, Path(located.source).resolve()))
    except AuditkitError as exc:
        problems.extend(exc.lines)
        return None


def _load_profile(name_or_path: str | Path | None, catalog: Catalog, stack: tuple[Path, ...]) -> Profile:
    path = resolve_profile_path(name_or_path)
    if path.suffix == ".json":
        return from_oscal(path, catalog)
    problems: list[str] = []
    located = _read(path, problems)
    profile = _profile(located, catalog, problems, stack) if located is not None else None
    if problems or profile is None:
        raise ProblemList(problems)
    return profile


def load_profile(name_or_path: str | Path | None, catalog: Catalog) -> Profile:
    """Load a profile (path or shipped name, auditkit YAML or OSCAL JSON) and check it against ``catalog``.

    Imported profiles are loaded and merged in (:mod:`auditkit.catalog.profiles`)."""
    return _load_profile(name_or_path, catalog, ())


def validate(paths: Sequence[Path] | None = None) -> tuple[Catalog, list[Profile]]:
    """Validate control families and profiles given as files or folders, reporting all problems.

    With no paths: the shipped ``controls/`` and ``profiles/``. Files are told apart by
    their top-level key (``family`` or ``profile``); profiles given without families
    are checked against the shipped catalog.
    """
    files = expand(paths or [data_dir("controls"), data_dir("profiles")])
    problems: list[str] = []
    family_docs: list[yamlio.Located] = []
    profile_docs: list[yamlio.Located] = []
    for located in _read_all(files, problems):
        (profile_docs if _is_profile(located) else family_docs).append(located)
    catalog: Catalog | None = None
    if family_docs:
        catalog = _build_catalog(family_docs, problems)
    elif profile_docs:
        try:
            catalog = load_catalog()
        except ProblemList as exc:
            problems.extend(exc.problems)
    profiles: list[Profile] = []
    if catalog is not None:
        for located in profile_docs:
            profile = _profile(located, catalog, problems)
            if profile is not None:
                profiles.append(profile)
    if problems or catalog is None:
        raise ProblemList(problems or ["no control families given"])
    return catalog, profiles


def catalog_json(catalog: Catalog) -> str:
    """The catalog as JSON (for ``controls list --format json``)."""
    data = catalog.model_dump(mode="json", by_alias=True, exclude={"expressions"})
    return json.dumps(data, indent=2, sort_keys=False)
