"""Helpers and fixtures for the intake tests: stores with tokens, bundles (good and hostile), live servers."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import auditkit.evidence as evidence

assert hasattr(evidence, "verify_bundle") and hasattr(evidence, "pack_bundle")


# ---------------------------------------------------------------- bundles


def _manifest(bundle_id: str, items: list[dict[str, object]]) -> str:
    lines = [
        "bundle:",
        f"  id: {bundle_id}",
        "  organization: Acme U.S. Data Security Inc.",
        "  period: {start: 2026-07-01, end: 2026-09-30}",
        "  submitted_by: {name: Dana Whit, email: dana.whit@acme.example}",
        "  created: 2026-10-03T14:00:00Z",
        "items:",
    ]
    for item in items:
        lines += [
            f"  - path: {item['path']}",
            "    kind: datastore-inventory",
            f"    sha256: {item['sha256']}",
            f"    size: {item['size']}",
            "    collected_at: 2026-09-30T23:00:00Z",
            "    period: {start: 2026-07-01, end: 2026-09-30}",
            "    source: cloud asset inventory export",
        ]
    return "\n".join(lines) + "\n"


def evidence_bytes(seed: str, records: int = 3) -> bytes:
    rows = [
        {"name": f"{seed}-db-{i}", "region": "us-east-1", "operator": "trusted-provider",
         "protected": True}
        for i in range(records)
    ]
    return json.dumps(rows, indent=1).encode()


def bundle_files(bundle_id: str = "acme-us-2026-q3", payload: bytes | None = None,
                 records: int = 3) -> dict[str, bytes]:
    """The members of a valid sealed bundle: manifest.yaml and one evidence file."""
    data = payload if payload is not None else evidence_bytes(bundle_id, records)
    item = {"path": "evidence/datastore-inventory.json",
            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    return {"manifest.yaml": _manifest(bundle_id, [item]).encode(), item["path"]: data}


def write_zip(path: Path, files: dict[str, bytes] | list[tuple[str, bytes]],
              compression: int = zipfile.ZIP_DEFLATED) -> Path:
    entries = files.items() if isinstance(files, dict) else files
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2026, 10, 3, 14, 0, 0))
            info.compress_type = compression
            info.external_attr = 0o100644 << 16  # a regular file, as zip tools on Unix write
            archive.writestr(info, data)
    return path


def write_tgz(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_790_000_000, 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


def good_zip(tmp: Path, bundle_id: str = "acme-us-2026-q3", records: int = 3) -> Path:
    return write_zip(tmp / f"{bundle_id}.zip", bundle_files(bundle_id, records=records))


def write_folder(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


@dataclass(frozen=True)
class Hostile:
    """A hostile archive and the paths it would write if extracted naively."""

    name: str
    archive: Path
    escape_targets: tuple[Path, ...] = ()


def hostile_bundles(tmp: Path) -> list[Hostile]:
    """One archive per hostile case of DESIGN §6, built here; escape targets inside ``tmp``."""
    out = tmp / "hostile"
    out.mkdir()
    good = bundle_files("acme-hostile")
    cases: list[Hostile] = []

    absolute = tmp / "escaped-absolute.txt"
    cases.append(Hostile("absolute-path", write_zip(
        out / "absolute.zip", {**good, str(absolute): b"pwned"}), (absolute,)))

    dotdot = tmp / "escaped-dotdot.txt"
    rel = "../" * 12 + str(dotdot).lstrip("/")
    cases.append(Hostile("dotdot-member", write_zip(out / "dotdot.zip", {**good, rel: b"pwned"}),
                         (dotdot,)))
    dotdot_tar = tmp / "escaped-tar.txt"
    cases.append(Hostile("dotdot-tar", write_tgz(
        out / "dotdot.tar.gz", {**good, "../../" + dotdot_tar.name: b"pwned"}), (dotdot_tar,)))

    link_target = tmp / "escaped-link"
    symlink_tar = out / "symlink.tar.gz"
    with tarfile.open(symlink_tar, "w:gz") as archive:
        for name, data in good.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("evidence/link")
        link.type, link.linkname = tarfile.SYMTYPE, str(link_target)
        archive.addfile(link)
        through = tarfile.TarInfo("evidence/link/pwned.txt")
        through.size = 5
        archive.addfile(through, io.BytesIO(b"pwned"))
    cases.append(Hostile("symlink", symlink_tar, (link_target, link_target / "pwned.txt")))

    bomb = {**good, "evidence/zeros.bin": b"\0" * (64 * 1024 * 1024)}
    cases.append(Hostile("zip-bomb", write_zip(out / "bomb.zip", bomb)))

    with_dup = list(good.items()) + [("evidence/datastore-inventory.json", b"[]")]
    with pytest.warns(UserWarning):
        cases.append(Hostile("duplicate-names", write_zip(out / "duplicate.zip", with_dup)))
    folded = list(good.items()) + [("Evidence/Datastore-Inventory.json", b"[]")]
    cases.append(Hostile("duplicate-folded", write_zip(out / "folded.zip", folded)))

    tampered = dict(good)
    tampered["evidence/datastore-inventory.json"] = good["evidence/datastore-inventory.json"] + b" "
    cases.append(Hostile("tampered-file", write_zip(out / "tampered.zip", tampered)))
    return cases


# ---------------------------------------------------------------- stores and services


@dataclass
class Tenants:
    """A store with tokens: two submitters (ACME, GLOBEX), an auditor granted ACME only."""

    store: Path
    acme: str
    globex: str
    auditor: str
    auditor_all: str


@pytest.fixture
def tenants(tmp_path: Path) -> Tenants:
    from auditkit.intake.store import create_token

    store = tmp_path / "store"
    acme, _ = create_token(store, "ACME", "submitter")
    globex, _ = create_token(store, "GLOBEX", "submitter")
    auditor, _ = create_token(store, "EXAMPLE-LLP", "auditor", ["ACME"])
    auditor_all, _ = create_token(store, "EXAMPLE-LLP", "auditor", ["ACME", "GLOBEX"])
    return Tenants(store, acme, globex, auditor, auditor_all)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def service(tenants: Tenants) -> Iterator[object]:
    from auditkit.intake.server import open_service
    from auditkit.intake.service import IntakeSettings

    opened = open_service(tenants.store, IntakeSettings(max_upload_bytes=4 * 1024 * 1024))
    yield opened
    opened.close()


@pytest.fixture
def client(service: object) -> Iterator[object]:
    import warnings

    from auditkit.intake.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette now prefers httpx2 for its test client
        from starlette.testclient import TestClient

    with TestClient(create_app(service), base_url="http://127.0.0.1") as test_client:  # type: ignore[arg-type]
        yield test_client


# ---------------------------------------------------------------- live servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    store: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(store: Path, port: int | None = None, max_upload_mb: int = 300,
                 timeout: float = 20.0, extra: tuple[str, ...] = ()) -> LiveServer:
    """``auditkit serve`` as a real subprocess on 127.0.0.1; waits (bounded) until it answers."""
    import httpx

    port = port or free_port()
    log = store.parent / f"server-{port}-{time.monotonic_ns()}.log"
    env = {**os.environ, "AUDITKIT_NO_PROGRESS": "1"}
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "auditkit", "serve", "--store", str(store), "--host",
             "127.0.0.1", "--port", str(port), "--max-upload-mb", str(max_upload_mb),
             "--log-level", "warning", *extra],
            stdout=handle, stderr=subprocess.STDOUT, env=env,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early: {log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                return LiveServer(store, port, process, log)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not start within {timeout}s: {log.read_text()[-2000:]}")


def stop_server(server: LiveServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@pytest.fixture
def live(tenants: Tenants) -> Iterator[LiveServer]:
    server = start_server(tenants.store)
    yield server
    stop_server(server)


def seed_accepted(service: object, org: str, archive: bytes, bundle_id: str = "seeded") -> str:
    """Store an accepted record directly (no verifier): for tenancy tests. Returns its root hash."""
    import secrets
    import tempfile

    from auditkit.intake.models import Receipt, UploadRecord
    from auditkit.intake.receipts import sign_receipt
    from auditkit.intake.service import IntakeService
    from auditkit.intake.store import utc_now

    assert isinstance(service, IntakeService)
    digest = hashlib.sha256(archive).hexdigest()
    root = hashlib.sha256(b"root:" + archive).hexdigest()
    fd, name = tempfile.mkstemp(dir=service.store.incoming)
    with os.fdopen(fd, "wb") as handle:
        handle.write(archive)
    service.store.objects.put(digest, Path(name))
    upload_id = "up_" + secrets.token_hex(10)
    fields = dict(upload_id=upload_id, organization=org, submitter_token_id="tok_seed",
                  received_at=utc_now(), archive_sha256=digest, size=len(archive),
                  verdict="accepted", reasons=[], bundle_root_hash=root, bundle_id=bundle_id,
                  bundle_organization=org, item_count=1)
    entry = service.log.append("accepted", utc_now(), **fields)
    receipt = Receipt(**fields, log_seq=entry.seq, log_entry_sha256=entry.sha256,
                      server_key_id=service.key_id)
    signed = sign_receipt(service.key, receipt)
    service.store.index.record_upload(UploadRecord(
        upload_id=upload_id, organization=org, token_id="tok_seed", received_at=receipt.received_at,
        archive_sha256=digest, size=len(archive), verdict="accepted", bundle_root_hash=root,
        bundle_id=bundle_id, archive_format="zip", signed_receipt=signed))
    return root
