"""The bounded fuzz suite: hypothesis over every reader of untrusted input, and `assess`.

Each target runs a few dozen examples in the normal test command. For a long run set
``AUDITKIT_FUZZ_MINUTES`` (see docs/hostile-input.md): every target then runs, round
after round of fresh examples, for its share of that many minutes. Examples run per
target are printed at the end of the session (run without ``-n`` to see them).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from auditkit.errors import MAX_LINE, AuditkitError

SHARES = {"yaml": 1.0, "json": 1.0, "csv": 1.0, "manifest": 1.5, "zip": 1.5, "tar.gz": 1.5, "assess": 2.5}
"""Relative share of a long run's time per target."""
EXAMPLES: Counter[str] = Counter()
SECONDS: Counter[str] = Counter()
ROUND = 200
DATABASE = DirectoryBasedExampleDatabase(str(Path(__file__).resolve().parents[2] / ".hypothesis" / "fuzz"))


def minutes() -> float:
    try:
        return max(0.0, float(os.environ.get("AUDITKIT_FUZZ_MINUTES", "0") or 0))
    except ValueError:
        return 0.0


def fuzz(name: str, strategy: st.SearchStrategy[Any], body: Callable[[Any], None], *, quick: int) -> None:
    """Run ``body`` on examples of ``strategy``: ``quick`` of them, or its share of a long run."""

    def one_round(examples: int) -> None:
        def counted(value: Any) -> None:
            EXAMPLES[name] += 1
            body(value)

        given(strategy)(settings(base, max_examples=examples)(counted))()  # a fresh test each round

    started = time.monotonic()
    base = settings(deadline=None, suppress_health_check=list(HealthCheck), database=DATABASE)
    budget = minutes() * 60 * SHARES[name] / sum(SHARES.values())
    try:
        one_round(quick)
        while time.monotonic() - started < budget:
            one_round(min(ROUND, 2 * quick))
    finally:
        SECONDS[name] += time.monotonic() - started


def refused_or_ok(call: Callable[[], Any], *names: str) -> Any:
    """``call()``'s value, or None when it raised an AuditkitError of exit 3 or 4 whose every
    line is one line naming one of ``names``; any other exception fails the example."""
    try:
        return call()
    except AuditkitError as exc:
        assert exc.exit_code in (3, 4), exc
        lines = exc.lines
        assert lines, exc
        for line in lines:
            assert line and "\n" not in line and len(line) <= MAX_LINE, line
            if names:
                assert any(n in line for n in names), line
        return None


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private TMPDIR and working directory; what is left in either fails the test."""
    scratch = tmp_path / "tmp"
    work = tmp_path / "cwd"
    scratch.mkdir()
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.chdir(work)
    monkeypatch.setenv("AUDITKIT_NO_PROGRESS", "1")
    yield scratch
    assert list(scratch.iterdir()) == [], "temporary files were left behind"
    assert list(work.iterdir()) == [], "files were written to the working directory"


def assert_empty(folder: Path) -> None:
    left = list(folder.iterdir())
    assert left == [], f"left behind: {left}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not EXAMPLES:
        return
    terminalreporter.section("fuzz examples per target")
    for name in SHARES:
        if EXAMPLES[name]:
            terminalreporter.write_line(f"{name:>9}: {EXAMPLES[name]:>7} examples in {SECONDS[name]:7.1f} s")
    terminalreporter.write_line(f"{'total':>9}: {sum(EXAMPLES.values()):>7} examples")
