"""``auditkit bundle …``: start, seal, pack, verify and inspect evidence bundles.

Only click and the standard library are imported here at module level; the
library (``auditkit.evidence``) is imported inside each command.
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from .options import OUTPUT_FILE
from .options import parse_date as _date


def _size(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    from ..errors import UsageError
    from ..evidence.limits import parse_size

    try:
        return parse_size(value)
    except UsageError as exc:
        raise click.BadParameter(exc.render()) from None


def limit_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--max-*`` options shared by the commands that read bundles."""
    options = [
        click.option(
            "--max-parse-size",
            callback=_size,
            metavar="SIZE",
            help="Largest JSON/YAML/CSV file parsed [default: 128MiB].",
        ),
        click.option(
            "--max-ratio",
            type=click.FloatRange(min=1),
            default=None,
            help="Highest compression ratio of a member or archive [default: 100].",
        ),
        click.option(
            "--max-file-size",
            callback=_size,
            metavar="SIZE",
            help="Largest single file, uncompressed [default: 512MiB].",
        ),
        click.option(
            "--max-size",
            callback=_size,
            metavar="SIZE",
            help="Most bytes all files may hold, uncompressed [default: 2GiB].",
        ),
        click.option(
            "--max-files",
            type=click.IntRange(min=1),
            default=None,
            help="Most files and folders in the bundle [default: 10000].",
        ),
    ]
    for option in options:
        func = option(func)
    return func


def _limits(options: dict[str, Any]) -> Any:
    from ..evidence import Limits

    names = {
        "max_files": "max_files",
        "max_size": "max_total_size",
        "max_file_size": "max_file_size",
        "max_ratio": "max_ratio",
        "max_parse_size": "max_parse_size",
    }
    chosen = {field: options[opt] for opt, field in names.items() if options.get(opt) is not None}
    return Limits(**chosen)


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.group()
def bundle() -> None:
    """Start, seal, pack, verify and inspect evidence bundles (see docs/bundles.md)."""


@bundle.command("init")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--id", "bundle_id", required=True, help="Bundle id, e.g. acme-us-2026-q3.")
@click.option("--organization", required=True, help="The audited organization.")
@click.option("--period-start", required=True, callback=_date, help="First day of the period.")
@click.option("--period-end", required=True, callback=_date, help="Last day of the period.")
@click.option("--submitter-name", required=True, help="Who submits the bundle.")
@click.option("--submitter-email", required=True, help="Their e-mail address.")
@click.option("--force", is_flag=True, help="Replace an existing manifest.yaml.")
def init_cmd(
    folder: Path,
    bundle_id: str,
    organization: str,
    period_start: _dt.date,
    period_end: _dt.date,
    submitter_name: str,
    submitter_email: str,
    force: bool,
) -> None:
    """Write a skeleton manifest.yaml listing the files in FOLDER.

    Kinds are guessed from where files lie (a folder such as evidence/asset-inventory/
    names the kind of its files; else the file name without trailing dates or numbers)
    and collected_at from modification times: review both, then run `bundle seal`.
    Operating-system litter (.DS_Store, Thumbs.db, ._*) and the globs listed in
    FOLDER/.auditkitignore are skipped. The first line points editors at the manifest
    schema of this auditkit installation.
    """
    from ..evidence import init_bundle, parse_manifest
    from ..evidence.names import RESERVED_NAMES

    path = init_bundle(
        folder,
        bundle_id=bundle_id,
        organization=organization,
        period_start=period_start,
        period_end=period_end,
        submitter_name=submitter_name,
        submitter_email=submitter_email,
        force=force,
    )
    manifest, _ = parse_manifest(path.read_bytes(), str(path), draft=True)
    listed = {item.path for item in manifest.items}
    ignored = _ignored(folder)
    skipped = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() not in listed | RESERVED_NAMES
        and not any(p.relative_to(folder).as_posix().startswith(i) for i in ignored)
    )
    click.echo(str(path))
    _say(
        f"auditkit: wrote {path} with {len(manifest.items)} items; check each kind and collected_at"
    )
    for name in skipped:
        _say(f"auditkit: not listed (unsupported type or no kind could be guessed): {name}")
    for name in ignored:
        _say(f"auditkit: ignored: {name}")
    _warn_kinds(path, None)


def _ignored(folder: Path, limits: Any = None) -> list[str]:
    from ..evidence import Limits
    from ..evidence.reader import FolderReader

    reader = FolderReader(folder, limits or Limits())
    reader.close()
    return reader.ignored


def _known_kinds(controls_dir: Path | None) -> set[str]:
    from ..catalog import load_catalog
    from ..evidence.kinds import declared_kinds

    return declared_kinds(load_catalog([controls_dir] if controls_dir else None))


def _warn_kinds(manifest_path: Path, controls_dir: Path | None) -> None:
    """Warn of items whose kind the catalog does not declare (the shipped catalog unless --controls)."""
    from ..evidence import parse_manifest
    from ..evidence.kinds import kind_problems

    manifest, _ = parse_manifest(manifest_path.read_bytes(), str(manifest_path), draft=True)
    kinds = [(i, item.kind) for i, item in enumerate(manifest.items)]
    for line in kind_problems(kinds, _known_kinds(controls_dir), str(manifest_path)):
        _say(f"auditkit: warning: {line}")


@bundle.command("seal")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--add-unlisted", is_flag=True, help="List files missing from the manifest (kind guessed)."
)
@click.option(
    "--sign-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="PKCS#12 key: also write manifest.sig (CMS, detached).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File holding the key passphrase (else $AUDITKIT_KEY_PASSPHRASE, else a prompt).",
)
@click.option(
    "--controls",
    "controls_dir",
    type=click.Path(path_type=Path, exists=True),
    help="Catalog whose evidence kinds every item must name (refused otherwise); "
    "without it, unknown kinds are warnings against the shipped catalog.",
)
@limit_options
def seal_cmd(
    folder: Path,
    add_unlisted: bool,
    sign_key: Path | None,
    passphrase_file: Path | None,
    controls_dir: Path | None,
    **options: Any,
) -> None:
    """Hash every file into FOLDER/manifest.yaml and print the bundle root hash.

    Refuses unlisted and missing files, structured files (JSON, YAML, CSV) that do not
    parse and, with --controls, kinds no control asks for.
    """
    from ..evidence import seal_bundle
    from ..signing.passphrase import resolve_passphrase

    passphrase = None
    if sign_key is not None:
        passphrase = resolve_passphrase(passphrase_file)
        if passphrase is None and sys.stdin.isatty():
            passphrase = click.prompt(
                f"Passphrase for {sign_key}",
                hide_input=True,
                default="",
                show_default=False,
                err=True,
            ).encode("utf-8")
    limits = _limits(options)
    warnings: list[str] = []
    root = seal_bundle(
        folder,
        add_unlisted=add_unlisted,
        sign_key=sign_key,
        passphrase=passphrase or None,
        limits=limits,
        known_kinds=lambda: _known_kinds(controls_dir),  # loaded while files are hashed
        warn=None if controls_dir else warnings.append,
    )
    for line in warnings:
        _say(f"auditkit: warning: {line}")
    for name in _ignored(folder, limits):
        _say(f"auditkit: ignored: {name}")
    click.echo(root)
    _say(
        f"auditkit: sealed {folder}"
        + (" and signed manifest.sig" if sign_key else "")
        + f"; root hash {root}"
    )


@bundle.command("pack")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "-o",
    "--output",
    type=OUTPUT_FILE,
    metavar="FILE",
    required=True,
    help="Archive to write: *.zip or *.tar.gz.",
)
@limit_options
def pack_cmd(folder: Path, output: Path, **options: Any) -> None:
    """Verify FOLDER, then pack it into a deterministic .zip or .tar.gz; print the root hash."""
    from ..evidence import pack_bundle

    root = pack_bundle(folder, output, limits=_limits(options))
    click.echo(root)
    _say(f"auditkit: wrote {output}; root hash {root}")


def _catalog(controls_dir: Path | None, profile: str | None, always: bool) -> tuple[Any, Any]:
    if controls_dir is None and profile is None and not always:
        return None, None
    from ..catalog import load_catalog, load_profile

    catalog = load_catalog([controls_dir] if controls_dir else None)
    return catalog, (load_profile(profile, catalog) if profile else None)


_CATALOG_OPTIONS = [
    click.option(
        "--as-of",
        callback=_date,
        help="Date freshness is judged on [default: the bundle's created date].",
    ),
    click.option("--profile", help="Profile (path or shipped name) selecting the controls."),
    click.option(
        "--controls",
        "controls_dir",
        type=click.Path(path_type=Path),
        help="Control catalog folder [default: shipped].",
    ),
]


def catalog_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in _CATALOG_OPTIONS:
        func = option(func)
    return func


@bundle.command("verify")
@click.argument("source", metavar="BUNDLE", type=click.Path(path_type=Path))
@click.option(
    "--trust",
    type=click.Path(path_type=Path, dir_okay=False),
    multiple=True,
    help="CA certificate(s) (PEM, repeatable): require a valid manifest.sig chaining to them.",
)
@catalog_options
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@limit_options
def verify_cmd(
    source: Path,
    trust: tuple[Path, ...],
    controls_dir: Path | None,
    profile: str | None,
    as_of: _dt.date | None,
    fmt: str,
    **options: Any,
) -> None:
    """Check BUNDLE (folder, .zip or .tar.gz) completely; exit 0 only if everything holds.

    Structure and hostile members, manifest schema, every file's size and SHA-256,
    no unlisted or missing files, structured files parse, the signature (with
    --trust) and, with --controls or --profile, the evidence each control requires.
    Exit 3 for invalid input, 4 for integrity or signature failures.
    """
    from ..errors import AuditkitError
    from ..evidence import verify_bundle

    def scope() -> tuple[Any, Any, set[str] | None]:
        catalog, profile_obj = _catalog(controls_dir, profile, always=False)
        return catalog, profile_obj, None if catalog is not None else _known_kinds(None)

    try:
        report = verify_bundle(
            source, trust=trust or None, limits=_limits(options), as_of=as_of, scope=scope
        )
    except AuditkitError as exc:
        if fmt == "json":
            verdict = {"verdict": "failed", "exit_code": exc.exit_code, "problems": exc.lines}
            click.echo(json.dumps(verdict, indent=2))
        raise
    for warning in report.warnings:
        _say(f"auditkit: warning: {warning}")
    if fmt == "json":
        from dataclasses import asdict

        click.echo(json.dumps({"verdict": "ok", **asdict(report)}, indent=2))
        return
    signed = (
        f"signed by {report.signer} (certificate sha256:{report.signer_fingerprint})"
        if report.signed else "not signed (or signature not checked)"
    )
    click.echo(
        f"OK {source}: bundle {report.bundle_id} ({report.organization}), {report.item_count} "
        f"items, {report.total_size} bytes, {signed}"
    )
    click.echo(f"root hash {report.root_hash}")


def _table(rows: Sequence[tuple[str, ...]], headers: tuple[str, ...]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(tuple("-" * w for w in widths)), *map(line, rows)])


@bundle.command("inspect")
@click.argument("source", metavar="BUNDLE", type=click.Path(path_type=Path))
@catalog_options
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@limit_options
def inspect_cmd(
    source: Path,
    controls_dir: Path | None,
    profile: str | None,
    as_of: _dt.date | None,
    fmt: str,
    **options: Any,
) -> None:
    """Show what BUNDLE holds per evidence kind, and per control what it has and still lacks.

    Reads the manifest only (no hashing: use `bundle verify` for integrity).
    """
    from ..evidence import open_bundle
    from ..evidence.sufficiency import evidence_problems
    from ..evidence.verify import controls_in_scope

    catalog, profile_obj = _catalog(controls_dir, profile, always=True)
    with open_bundle(source, _limits(options)) as opened:
        manifest = opened.manifest
        root = opened.root_hash
    info = manifest.bundle
    day = as_of or info.created.date()
    kinds: dict[str, list[Any]] = {}
    for item in manifest.items:
        kinds.setdefault(item.kind, []).append(item)
    kind_rows = [
        {
            "kind": kind,
            "items": len(items),
            "bytes": sum(i.size for i in items),
            "formats": sorted({i.format for i in items}),
            "newest": max(i.collected_at for i in items).isoformat(),
        }
        for kind, items in sorted(kinds.items())
    ]
    control_rows = []
    for control in controls_in_scope(catalog, profile_obj):
        has = sorted({r.kind for r in control.evidence if r.kind in kinds})
        lacks = [
            line
            for r in control.evidence
            for line in evidence_problems(r, manifest.items, info.period, day)
        ]
        control_rows.append({"id": control.id, "title": control.title, "has": has, "lacks": lacks})
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "bundle": info.model_dump(mode="json"),
                    "root_hash": root,
                    "as_of": day.isoformat(),
                    "kinds": kind_rows,
                    "controls": control_rows,
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"bundle {info.id} ({info.organization}), period {info.period.start}..{info.period.end}, "
        f"{len(manifest.items)} items, root hash {root}"
    )
    click.echo("")
    click.echo(
        _table(
            [
                (r["kind"], str(r["items"]), str(r["bytes"]), ",".join(r["formats"]), r["newest"])
                for r in kind_rows
            ],
            ("KIND", "ITEMS", "BYTES", "FORMATS", "NEWEST"),
        )
    )
    click.echo("")
    click.echo(f"controls (as of {day}):")
    rows: list[tuple[str, ...]] = []
    for r in control_rows:
        lacks = r["lacks"] or ["-"]
        rows.append((r["id"], ", ".join(r["has"]) or "-", lacks[0]))
        rows.extend(("", "", more) for more in lacks[1:])
    click.echo(_table(rows, ("CONTROL", "HAS", "LACKS")))
