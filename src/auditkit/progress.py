"""Progress bars on stderr, only when stderr is a terminal (and ``NO_COLOR`` respected).

Library code reports progress through a plain callable so it stays free of any
terminal library; ``rich`` is imported only when a bar is actually shown.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

Advance = Callable[[int], None]


def _noop(_: int) -> None:
    return None


@contextlib.contextmanager
def progress_bar(total: int, description: str, *, min_total: int = 0) -> Iterator[Advance]:
    """Yield ``advance(n)``; draws a bar on stderr if it is a TTY and ``total >= min_total``."""
    if total < min_total or not sys.stderr.isatty() or os.environ.get("AUDITKIT_NO_PROGRESS"):
        yield _noop
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@contextlib.contextmanager
def step_line(label: str) -> Iterator[Callable[[str], None] | None]:
    """Yield a callback that shows the current step on one updating stderr line (None off a terminal)."""
    if not sys.stderr.isatty() or os.environ.get("AUDITKIT_NO_PROGRESS"):
        yield None
        return
    shown = [0]

    def show(step: str) -> None:
        text = f"auditkit: {label}: {step}"[:100]
        sys.stderr.write("\r" + text.ljust(shown[0]))
        sys.stderr.flush()
        shown[0] = len(text)

    try:
        yield show
    finally:
        if shown[0]:
            sys.stderr.write("\r" + " " * shown[0] + "\r")
            sys.stderr.flush()
