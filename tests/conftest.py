"""Shared fixtures: the repository root, shipped folders and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """The catalog cache and its key live in a temp folder for the whole run (subprocesses too)."""
    import os

    base = tmp_path_factory.mktemp("auditkit-cache")
    saved = {name: os.environ.get(name) for name in ("AUDITKIT_CACHE_DIR", "AUDITKIT_CONFIG_DIR")}
    os.environ["AUDITKIT_CACHE_DIR"] = str(base / "cache")
    os.environ["AUDITKIT_CONFIG_DIR"] = str(base / "config")
    yield base
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def data_dir() -> Path:
    return ROOT / "tests" / "data"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner):
    from auditkit.cli import cli

    def run(*args: str, **kwargs):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False, **kwargs)

    return run
