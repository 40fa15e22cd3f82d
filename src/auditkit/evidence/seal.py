"""Making bundles: ``init`` a skeleton manifest, ``seal`` (hash and optionally sign), ``pack``.

* :func:`init_bundle` lists the folder's files in a new ``manifest.yaml`` with
  kinds guessed from file names and ``collected_at`` from modification times.
* :func:`seal_bundle` fills in every item's ``sha256`` and ``size``, refuses
  unlisted (unless ``add_unlisted``) or missing files, writes the manifest
  atomically and, with a key, ``manifest.sig`` (a stale one is removed).
* :func:`pack_bundle` verifies the folder, then writes a ``.zip`` or ``.tar.gz``
  with a fixed member order (manifest, signature, items by path), fixed
  timestamps (the bundle's ``created``) and fixed permissions, so packing the
  same folder twice gives the same bytes.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import os
import re
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO

import yaml

from .. import yamlio
from ..errors import IntegrityError, InternalError, InvalidInputError, UsageError
from ..fsio import atomic_writer, write_bytes, write_text
from ..progress import progress_bar
from .canonical import canonical_bytes, root_hash
from .hashing import Prehash
from .limits import CHUNK_SIZE, Limits
from .names import HINT_PREFIX, MANIFEST_NAME, RESERVED_NAMES, SIGNATURE_NAME, installed_schema_hint
from .parsers import STRUCTURED, format_of, parse_content
from .reader import FolderReader, Problems
from .verify import PROGRESS_MIN, raise_problems, verify_bundle

_KIND = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_TRAILING = re.compile(r"-?(\d{4}-\d{2}-\d{2}|\d{4}-\d{2}|\d{8}|(19|20)\d{2}-?q[1-4]|q[1-4]|\d+)$")
_ITEM_KEYS = ("path", "kind", "sha256", "size", "collected_at", "period", "source", "description")
_BUNDLE_KEYS = ("id", "organization", "period", "submitted_by", "created")


def guess_kind(path: str) -> str | None:
    """An evidence kind from where a file lies: its folder, else its name, without trailing dates or numbers.

    ``evidence/datastore-inventory-2026-09.json`` → ``datastore-inventory``;
    ``evidence/asset-inventory/snapshot-2026-07-31.json`` → ``asset-inventory`` (a
    folder other than the top-level ``evidence/`` names the kind of what it holds).
    """
    parts = path.split("/")
    if len(parts) >= 2 and parts[-2].lower() != "evidence":
        folder = _kind_of(parts[-2])
        if folder is not None:
            return folder
    stem = parts[-1]
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    return _kind_of(stem)


def _kind_of(stem: str) -> str | None:
    text = re.sub(r"[\s_.]+", "-", stem.lower())
    previous = None
    while previous != text:
        previous = text
        text = _TRAILING.sub("", text).strip("-")
    text = re.sub(r"-{2,}", "-", text)
    return text if _KIND.match(text) and len(text) <= 64 else None


def utc_stamp(moment: _dt.datetime) -> str:
    """``2026-10-03T14:00:00Z``: a UTC timestamp to the second."""
    return moment.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Dumper(yaml.SafeDumper):
    """Writes what auditkit's YAML 1.2 reader reads back unchanged (dates stay plain strings)."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
    }


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None
    try:  # quote whatever auditkit's YAML 1.2 reader would not read back as this string
        if yamlio._resolve_plain(value, "") != value:
            style = '"'
    except Exception:  # noqa: BLE001 - e.g. ".nan" is refused unquoted: quote it
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_FLOW_KEYS = ({"start", "end"}, {"name", "email"})


def _represent_dict(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.MappingNode:
    flow = any(set(value) <= keys for keys in _FLOW_KEYS)
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)


def dump_manifest(data: dict[str, Any], hint: str | None = None) -> str:
    """``manifest.yaml`` text for ``data`` (with the editor's schema hint), checked to read back."""
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=120,
    )
    text = f"{hint or installed_schema_hint()}\n{body}"
    if yamlio.loads(text, MANIFEST_NAME).data != data:  # pragma: no cover - a bug if it happens
        raise InternalError("the manifest would not read back as written")
    return text


def _ordered(entry: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    result = {key: entry[key] for key in keys if key in entry}
    result.update({key: value for key, value in entry.items() if key not in result})
    return result


def _mtime(reader: FolderReader, name: str) -> str:
    return utc_stamp(_dt.datetime.fromtimestamp(os.stat(reader.source / name).st_mtime, _dt.UTC))


def init_bundle(
    folder: Path,
    *,
    bundle_id: str,
    organization: str,
    period_start: _dt.date,
    period_end: _dt.date,
    submitter_name: str,
    submitter_email: str,
    created: _dt.datetime | None = None,
    force: bool = False,
    limits: Limits | None = None,
) -> Path:
    """Write a skeleton ``manifest.yaml`` in ``folder``; return its path.

    Files whose kind cannot be guessed, or whose type is unsupported, are left out
    (``seal`` will name them). Nothing else in the folder is changed.
    """
    folder = Path(folder)
    target = folder / MANIFEST_NAME
    if not folder.is_dir():
        raise UsageError("not a folder", where=str(folder))
    if target.exists() and not force:
        raise UsageError(
            "already has a manifest", where=str(target), hint="edit it, or pass --force"
        )
    reader = FolderReader(folder, limits or Limits())
    try:
        items = []
        for name in sorted(reader.members):
            kind = guess_kind(name)
            if name in RESERVED_NAMES or format_of(name) is None or kind is None:
                continue
            items.append({"path": name, "kind": kind, "collected_at": _mtime(reader, name)})
    finally:
        reader.close()
    data = {
        "bundle": {
            "id": bundle_id,
            "organization": organization,
            "period": {"start": period_start.isoformat(), "end": period_end.isoformat()},
            "submitted_by": {"name": submitter_name, "email": submitter_email},
            "created": utc_stamp(created or _dt.datetime.now(_dt.UTC)),
        },
        "items": items,
    }
    from .manifest import parse_manifest

    text = dump_manifest(data)
    parse_manifest(text.encode("utf-8"), str(target), draft=True)
    write_text(target, text)
    return target


def seal_bundle(
    folder: Path,
    *,
    add_unlisted: bool = False,
    sign_key: Path | None = None,
    passphrase: bytes | None = None,
    limits: Limits | None = None,
    known_kinds: set[str] | Callable[[], set[str]] | None = None,
    warn: Callable[[str], None] | None = None,
) -> str:
    """Hash every listed file into ``manifest.yaml``, optionally sign; return the root hash.

    Structured files (JSON, YAML, CSV) must parse. With ``known_kinds`` (the kinds a
    catalog declares, or a function returning them, called while the files are being
    hashed), an item of any other kind is refused with the nearest kind named, or only
    reported to ``warn`` when that is given. The manifest's existing editor hint (first
    line) is kept.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError("not a folder; only bundle folders can be sealed", where=str(folder))
    limits = limits or Limits()
    reader = FolderReader(folder, limits)
    prehash: Prehash | None = None
    try:
        if MANIFEST_NAME not in reader.members:
            raise UsageError(
                f"no {MANIFEST_NAME}",
                where=str(folder),
                hint="start one with 'auditkit bundle init'",
            )
        candidates = [n for n in reader.members if n not in RESERVED_NAMES and format_of(n)]
        total = sum(reader.members[n].size for n in candidates)
        with progress_bar(total, "Sealing", min_total=PROGRESS_MIN) as advance:
            prehash = Prehash(reader, candidates, limits.threads, advance)
            from .manifest import parse_manifest  # imported while the files are being hashed

            with reader.open(MANIFEST_NAME) as stream:
                raw = stream.read(limits.max_manifest_size + 1)
            _, data = parse_manifest(raw, reader.where(MANIFEST_NAME), draft=True)
            first = raw.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
            hint = first if first.startswith(HINT_PREFIX) else None
            kinds = known_kinds() if callable(known_kinds) else known_kinds
            text, new = _seal_data(reader, data, prehash, add_unlisted, folder, hint, kinds, warn)
        signature = None
        if sign_key is not None:
            from ..signing.cms import sign_detached

            signature = sign_detached(canonical_bytes(new), sign_key, passphrase)
    finally:
        if prehash is not None:
            prehash.cancel()
        reader.close()
    write_text(folder / MANIFEST_NAME, text)
    if signature is not None:
        write_bytes(folder / SIGNATURE_NAME, signature)
    elif (folder / SIGNATURE_NAME).exists():
        os.unlink(folder / SIGNATURE_NAME)  # it signed the previous manifest
    return root_hash(new)


def _seal_data(
    reader: FolderReader, data: dict[str, Any], prehash: Prehash, add_unlisted: bool, folder: Path,
    hint: str | None = None, known_kinds: set[str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The sealed manifest (text and data): items completed with their digests and sizes."""
    from .manifest import parse_manifest

    problems = Problems(str(folder), "/")
    items: list[dict[str, Any]] = [dict(item) for item in data.get("items") or []]
    listed = {item["path"] for item in items}
    for item in items:
        if item["path"] not in reader.members:
            problems.add(
                item["path"],
                "listed in the manifest but not found",
                "add the file or remove the item",
            )
    for name in sorted(set(reader.members) - listed - RESERVED_NAMES):
        kind = guess_kind(name)
        if not add_unlisted:
            addable = format_of(name) is not None and kind is not None
            problems.add(
                name,
                "not listed in the manifest",
                "list it, remove it, or seal with --add-unlisted" if addable
                else "list it with its kind, or remove it" if format_of(name) is not None
                else "remove it: its file type cannot be evidence",
            )
        elif format_of(name) is None:
            problems.add(name, "unsupported file type; it cannot be evidence", "remove it")
        elif kind is None:
            problems.add(
                name,
                "cannot guess an evidence kind from the name",
                "list it in the manifest with its kind",
            )
        else:
            items.append({"path": name, "kind": kind, "collected_at": _mtime(reader, name)})
    invalid = list(problems.lines)
    if known_kinds is not None:
        from .kinds import kind_problems

        unknown = kind_problems(enumerate(str(item["kind"]) for item in items), known_kinds,
                                reader.where(MANIFEST_NAME))
        if warn is None:
            invalid += unknown
        else:
            for line in unknown:
                warn(line)
    invalid += _unparseable(reader, items)
    raise_problems([], invalid)
    failures = prehash.finish()
    for item in items:
        if item["path"] in failures:
            raise failures[item["path"]]
    sealed = []
    for item in items:
        member = reader.members[item["path"]]
        extra = {"sha256": member.sha256, "size": member.size}
        sealed.append(_ordered({**item, **extra}, _ITEM_KEYS))
    new = {**data, "bundle": _ordered(data["bundle"], _BUNDLE_KEYS), "items": sealed}
    text = dump_manifest(_ordered(new, ("bundle", "items")), hint)
    parse_manifest(text.encode("utf-8"), reader.where(MANIFEST_NAME))
    return text, new


def _unparseable(reader: FolderReader, items: list[dict[str, Any]]) -> list[str]:
    """A line for every structured item (JSON, YAML, CSV) that does not parse: sealing it would seal garbage."""
    lines = []
    for item in items:
        fmt = format_of(item["path"])
        member = reader.members.get(item["path"])
        if fmt not in STRUCTURED or member is None or member.size > reader.limits.max_parse_size:
            continue
        with reader.open(item["path"]) as stream:
            data = stream.read()
        try:
            parse_content(data, fmt, reader.where(item["path"]), max_depth=reader.limits.max_depth,
                          max_rows=reader.limits.max_csv_rows, collect=False)
        except InvalidInputError as exc:
            lines.append(exc.render())
    return lines


class _Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _archive_kind(output: Path) -> str:
    name = output.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    raise UsageError("unknown archive type", where=str(output), hint="name it *.zip or *.tar.gz")


def pack_bundle(folder: Path, output: Path, *, limits: Limits | None = None) -> str:
    """Pack a sealed, consistent bundle folder into ``output`` (.zip/.tar.gz); return root hash."""
    from .bundle import open_bundle

    folder, output = Path(folder), Path(output)
    kind = _archive_kind(output)
    if not folder.is_dir():
        raise UsageError("not a folder", where=str(folder))
    if output.resolve().is_relative_to(folder.resolve()):
        raise UsageError(
            "the archive would be written inside the bundle",
            where=str(output),
            hint="write it next to the folder",
        )
    verify_bundle(folder, limits=limits)
    with open_bundle(folder, limits) as bundle:
        names = [MANIFEST_NAME] + ([SIGNATURE_NAME] if bundle.signature is not None else [])
        expected = {item.path: (item.sha256, item.size) for item in bundle.manifest.items}
        names += sorted(expected)
        created = bundle.manifest.bundle.created.astimezone(_dt.UTC)
        sizes = {name: bundle.member_size(name) or 0 for name in names}

        def copy(name: str, write: Any) -> None:
            with bundle.open_member(name) as stream:
                hashing = _Hashing(stream)
                write(hashing)
            if name in expected and (hashing.digest.hexdigest(), hashing.size) != expected[name]:
                raise IntegrityError(
                    "file changed while being packed",
                    where=bundle.where(name),
                    hint="seal the bundle again",
                )

        with atomic_writer(output) as handle:
            if kind == "zip":
                _write_zip(handle, names, sizes, created, copy)
            else:
                _write_tar(handle, names, sizes, created, copy)
        return bundle.root_hash


Copier = Callable[[str, Callable[[Any], None]], None]


def _write_zip(
    handle: IO[bytes], names: list[str], sizes: dict[str, int], created: _dt.datetime, copy: Copier
) -> None:
    stamp = max(created.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            big = sizes[name] >= 0x7FFFFFFF

            def write(src: Any, info: zipfile.ZipInfo = info, big: bool = big) -> None:
                with archive.open(info, "w", force_zip64=big) as out:
                    while chunk := src.read(CHUNK_SIZE):
                        out.write(chunk)

            copy(name, write)


def _write_tar(
    handle: IO[bytes], names: list[str], sizes: dict[str, int], created: _dt.datetime, copy: Copier
) -> None:
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = sizes[name]
            info.mtime = int(created.timestamp())
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""

            def write(src: Any, info: tarfile.TarInfo = info) -> None:
                archive.addfile(info, src)

            copy(name, write)
