"""WeasyPrint's chatter, made fit for people: its steps as progress, its warnings said once.

WeasyPrint logs a warning per font when HarfBuzz-Subset is missing (six identical
lines for one report) and layout remarks nobody can act on. :func:`summarize`
keeps one line with the fix for the first and leaves the rest to ``--debug``.
:func:`steps` turns its progress log (``Step 5 - Creating layout - Page 12``) into
calls of a callback (``laying out page 12``).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator

HARFBUZZ_ADVICE = (
    "fonts were subset with fontTools, which is 2-5x slower: install HarfBuzz-Subset 4.1 or later "
    "(Debian/Ubuntu: apt-get install libharfbuzz-subset0) and WeasyPrint uses it"
)
_STEPS = {
    "1": "reading the HTML", "2": "fetching the stylesheet", "3": "applying CSS",
    "4": "building the formatting structure", "5": "laying out pages", "6": "writing the PDF",
    "7": "adding PDF metadata",
}


def summarize(messages: list[str]) -> list[str]:
    """The warnings a user should see: the HarfBuzz advice once, nothing else (``--debug`` shows all)."""
    return [HARFBUZZ_ADVICE] if any("HarfBuzz-Subset" in m for m in messages) else []


def _words(message: str) -> str:
    match = re.match(r"Step (\d+) - (.*?)(?: - Page (\d+))?$", message)
    if not match:
        return message
    step, _, page = match.groups()
    text = _STEPS.get(step, match.group(2).lower())
    return f"{text}: page {page}" if page and step == "5" else text


class _Steps(logging.Handler):
    def __init__(self, callback: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        self.callback(_words(record.getMessage()))


@contextlib.contextmanager
def steps(callback: Callable[[str], None] | None) -> Iterator[None]:
    """Call ``callback`` with each of WeasyPrint's rendering steps, in words, while the block runs."""
    if callback is None:
        yield
        return
    logger = logging.getLogger("weasyprint.progress")
    handler, level = _Steps(callback), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
