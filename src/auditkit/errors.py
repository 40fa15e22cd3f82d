"""The one error hierarchy of auditkit.

Every failure a user can cause or meet is an :class:`AuditkitError` carrying the
process exit code documented in the README and a one-line message saying *where*
(file, line, JSON pointer, bundle member) and *what to do*. The CLI turns these
into output in exactly one place (:mod:`auditkit.cli`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EXIT_OK = 0
EXIT_BELOW_THRESHOLD = 1
EXIT_USAGE = 2
EXIT_INVALID_INPUT = 3
EXIT_INTEGRITY = 4
EXIT_INTERNAL = 5
MAX_LINE = 1000
"""Longest line an error renders: values quoted from hostile input are cut, never echoed whole."""


_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def shorten(text: str, limit: int = MAX_LINE) -> str:
    """``text`` as one line of at most ``limit`` characters: control characters (line
    breaks, terminal escapes) written as ``\\xNN``, the rest cut (ending in …)."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for quoting input in a message."""
    return shorten(repr(value), limit)


class AuditkitError(Exception):
    """Base of every error auditkit raises on purpose."""

    exit_code: int = EXIT_INTERNAL

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.where = where
        self.hint = hint
        self.detail = message
        super().__init__(self.render())

    def render(self) -> str:
        """One line: ``where: what is wrong (what to do)``."""
        text = f"{self.where}: {self.detail}" if self.where else self.detail
        if self.hint:
            text = f"{text} ({self.hint})"
        return shorten(text)

    @property
    def lines(self) -> list[str]:
        """The problems as lines, one per problem."""
        return [self.render()]


class UsageError(AuditkitError):
    """The command was called wrongly (bad option combination, missing path)."""

    exit_code = EXIT_USAGE


class InvalidInputError(AuditkitError):
    """An input (catalog, profile, manifest, evidence, assessment) is malformed or hostile."""

    exit_code = EXIT_INVALID_INPUT


class IntegrityError(AuditkitError):
    """A hash, signature, chain of trust or hash chain does not hold."""

    exit_code = EXIT_INTEGRITY


class ThresholdError(AuditkitError):
    """The assessment scored below the requested ``--fail-under``."""

    exit_code = EXIT_BELOW_THRESHOLD


class InternalError(AuditkitError):
    """A bug or an environment failure auditkit could not attribute to the input."""

    exit_code = EXIT_INTERNAL


class ProblemList(InvalidInputError):
    """Many input problems found in one run (e.g. every error in a catalog).

    ``problems`` holds one line per problem; all are reported, not only the first.
    """

    def __init__(self, problems: Iterable[str], *, exit_code: int = EXIT_INVALID_INPUT):
        self.problems = [shorten(problem) for problem in problems]
        self.exit_code = exit_code
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found")

    @property
    def lines(self) -> list[str]:
        return list(self.problems)

    def __str__(self) -> str:
        shown = "\n".join(self.problems[:10])
        more = f"\n… and {len(self.problems) - 10} more" if len(self.problems) > 10 else ""
        return f"{self.detail}:\n{shown}{more}"
