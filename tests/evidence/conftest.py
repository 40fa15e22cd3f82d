"""Fixtures for the evidence-bundle tests: sealed folders, hostile archives, a sandbox."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

MANIFEST_HEAD = """\
# yaml-language-server: $schema=../../src/auditkit/schemas/manifest.schema.json
bundle:
  id: acme-us-2026-q3
  organization: Acme U.S. Data Security Inc.
  period: {start: 2026-07-01, end: 2026-09-30}
  submitted_by: {name: Dana Whit, email: dana.whit@acme.example}
  created: 2026-10-03T14:00:00Z
items:
"""

FILES = {
    "evidence/datastore-inventory.json": b'[{"id": "db1", "region": "us-east-1", "protected": true}]',
    "evidence/egress-flow-log.csv": b"src,dst,bytes,allowed\n10.0.0.1,10.0.0.2,120,true\n",
    "evidence/board-minutes-2026-q3.pdf": b"%PDF-1.7\n% not really a pdf\n",
}


def item_yaml(path: str, data: bytes, kind: str | None = None, extra: str = "") -> str:
    kind = kind or path.rsplit("/", 1)[-1].split(".")[0].removesuffix("-2026-q3")
    return (
        f"  - path: {path}\n    kind: {kind}\n    sha256: {hashlib.sha256(data).hexdigest()}\n"
        f"    size: {len(data)}\n    collected_at: 2026-09-30T23:00:00Z\n"
        f"    period: {{start: 2026-07-01, end: 2026-09-30}}\n{extra}"
    )


def manifest_for(files: dict[str, bytes]) -> str:
    return MANIFEST_HEAD + "".join(item_yaml(p, d) for p, d in files.items())


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run inside tmp_path/cwd/a/b with a private TMPDIR; afterwards, no temp leftovers."""
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    work = tmp_path / "cwd" / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    monkeypatch.chdir(work)
    monkeypatch.setenv("AUDITKIT_NO_PROGRESS", "1")
    siblings = {p.name for p in tmp_path.parent.iterdir()}
    yield tmp_path
    assert list(private_tmp.iterdir()) == [], "a private temp folder was left behind"
    strays = [p for p in (tmp_path / "cwd").rglob("*") if p.is_file()]
    assert strays == [], f"written relative to the working directory: {strays}"
    assert {p.name for p in tmp_path.parent.iterdir()} - siblings <= {tmp_path.name}, (
        "something was written next to the test folder"
    )


def assert_not_escaped(tmp_path: Path, *names: str) -> None:
    """No file called any of ``names`` was created around the test folder or at the usual roots."""
    places = [tmp_path, tmp_path.parent, Path("/tmp"), Path("/"), Path("/etc")]
    for name in names:
        for place in places:
            assert not (place / name).exists(), f"{place / name} was written"
        assert not list(tmp_path.rglob(name)), f"{name} was written inside the test folder"


@pytest.fixture
def make_folder(sandbox: Path) -> Callable[..., Path]:
    """A valid, sealed bundle folder (manifest written by hand, hashes computed here)."""

    def make(files: dict[str, bytes] | None = None, name: str = "bundle") -> Path:
        files = FILES if files is None else files
        folder = sandbox / name
        for path, data in files.items():
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        folder.mkdir(exist_ok=True)
        (folder / "manifest.yaml").write_text(manifest_for(files), encoding="utf-8")
        return folder

    return make


def zip_bytes(members: list[tuple[str, bytes]] | list[tuple[zipfile.ZipInfo | str, bytes]],
              compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def valid_members(files: dict[str, bytes] | None = None) -> list[tuple[str, bytes]]:
    files = FILES if files is None else files
    return [("manifest.yaml", manifest_for(files).encode()), *files.items()]


def tar_gz_bytes(members: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def cli(sandbox: Path) -> Callable[..., object]:
    """Invoke ``auditkit`` with separate stdout/stderr; returns the click Result."""
    from auditkit.cli import cli as root

    runner = CliRunner()

    def run(*args: object, **kwargs: object) -> object:
        return runner.invoke(root, [str(a) for a in args], catch_exceptions=False, **kwargs)

    return run


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two signing key sets (PKCS#12 + CA) from auditkit's own key generator."""
    from auditkit.signing.keys import init_keys

    result = {}
    for org in ("acme", "other"):
        folder = tmp_path_factory.mktemp(f"keys-{org}")
        made = init_keys(folder, org=org.title(), passphrase=b"correct horse")
        result[f"{org}_p12"] = made.p12
        result[f"{org}_ca"] = made.ca_pem
    os.environ.pop("AUDITKIT_KEY_PASSPHRASE", None)
    return result
