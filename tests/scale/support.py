"""A scaled deployment for tests: one PostgreSQL database, one bucket, N server folders sharing a key."""

from __future__ import annotations

import shutil
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
