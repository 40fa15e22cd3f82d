"""A scaled deployment for tests: one PostgreSQL database, one bucket, N server folders sharing a key."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from auditkit.cli import cli

from ..intake.support import LiveServer, start_server, stop_server
from .servers import S3, Postgres


@dataclass
class Deployment:
    index: str
    objects: str
    folders: list[Path]
    acme: str
    globex: str
    auditor: str
    servers: list[LiveServer] = field(default_factory=list)

    def start(self, *extra: str) -> list[LiveServer]:
        for folder in self.folders:
            self.servers.append(start_server(folder, extra=("--index", self.index, "--objects",
                                                            self.objects, *extra)))
        return self.servers

    def stop(self) -> None:
        for server in self.servers:
            stop_server(server)
        self.servers.clear()


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def token(folder: Path, index: str, org: str, role: str, *grants: str) -> str:
    args = ["intake", "token", "create", "--store", str(folder), "--index", index, "--org", org,
            "--role", role]
    for grant in grants:
        args += ["--grant", grant]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def deployment(tmp_path: Path, postgres: Postgres, s3: S3, servers: int = 2) -> Deployment:
    """A fresh database and bucket; tokens made through the CLI; every folder gets the same key."""
    index, objects = postgres.new_database(), s3.new_bucket()
    folders = [tmp_path / f"server-{i}" for i in range(servers)]
    acme = token(folders[0], index, "ACME", "submitter")
    globex = token(folders[0], index, "GLOBEX", "submitter")
    auditor = token(folders[0], index, "EXAMPLE-LLP", "auditor", "ACME", "GLOBEX")
    for folder in folders[1:]:
        folder.mkdir(mode=0o700)
        for name in ("server-key.pem", "server.pub"):
            shutil.copy2(folders[0] / name, folder / name)
    return Deployment(index, objects, folders, acme, globex, auditor)


# ---------------------------------------------------------------- workers and keys

PASSPHRASE = "scale-test-passphrase"


@dataclass
class Signing:
    ca: Path
    p12: Path
    controls: Path
    """A one-control catalog (the first data-localization control), so a report takes seconds."""


def signing(tmp_path: Path) -> Signing:
    from auditkit.resources import data_dir
    from auditkit.signing.keys import init_keys

    (tmp_path / "keys").mkdir()
    keys = init_keys(tmp_path / "keys", org="Scale Test CA", passphrase=PASSPHRASE.encode())
    controls = tmp_path / "controls"
    controls.mkdir()
    family = (data_dir("controls") / "data-localization.yaml").read_text()
    second = family.index("\n  - id: ", family.index("\n  - id: ") + 1)
    (controls / "data-localization.yaml").write_text(family[:second + 1])  # its first control only
    return Signing(keys.ca_pem, keys.p12, controls)


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def kill9(self) -> None:
        """SIGKILL the worker and everything it started (it leads its own process group)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def start_worker(folder: Path, dep: Deployment, broker: str, keys: Signing,
                 visibility_timeout: int = 15) -> Worker:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "worker.log"
    env = {**os.environ, "AUDITKIT_KEY_PASSPHRASE": PASSPHRASE}
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "auditkit", "worker", "--store", str(folder), "--index", dep.index,
             "--objects", dep.objects, "--broker", broker, "--sign-key", str(keys.p12),
             "--controls", str(keys.controls), "--visibility-timeout", str(visibility_timeout)],
            stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 180  # a loaded machine can take long to import Celery
    while b"ready." not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker did not start: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    return Worker(process, log)


def wait_for(condition, what: str, timeout: float = 120.0, every: float = 0.5):
    """Poll ``condition`` (bounded) until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def log_events(index: str) -> list[dict]:
    import json

    import psycopg

    with psycopg.connect(index) as conn:
        rows = conn.execute("SELECT line FROM intake_log ORDER BY seq").fetchall()
    return [json.loads(line) for (line,) in rows]
