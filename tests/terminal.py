"""Run auditkit as a person at a terminal would: one stream on a pseudo-terminal, the other piped."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

AUDITKIT = shutil.which("auditkit", path=str(Path(sys.executable).parent)) or "auditkit"


def on_terminal(args: list[str], *, stream: str = "stdout", env: dict[str, str] | None = None,
                timeout: float = 300) -> tuple[int, str, str]:
    """``(exit code, what the terminal showed, the other stream)``; ``stream`` is the one on the terminal."""
    master, slave = pty.openpty()
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    pipes[stream] = slave  # type: ignore[assignment]
    proc = subprocess.Popen([AUDITKIT, *args], env={**os.environ, **(env or {})}, **pipes)  # type: ignore[call-overload]
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    other = proc.stderr if stream == "stdout" else proc.stdout
    rest = other.read().decode() if other else ""
    return proc.wait(timeout=timeout), b"".join(chunks).decode(), rest
