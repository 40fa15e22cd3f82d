"""RFC 8785 canonical JSON of input data, refusing by place what it cannot represent.

Digests (bundle root hash, catalog, profile and assessment digests) hash the
input as canonical JSON. RFC 8785 writes numbers as IEEE 754 doubles, so an
integer beyond ±(2^53 − 1) has no exact canonical form and ``rfc8785`` raises.
Schema-typed integer fields carry that bound as their ``maximum``/``minimum``
and free-form values (parameters) are checked against it where they are typed;
this module is the last line: whatever reaches canonicalisation anyway becomes an
:class:`~auditkit.errors.InvalidInputError` (exit 3) naming the JSON pointer of
the offending value, never an internal error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import rfc8785

from .errors import InvalidInputError
from .yamlio import pointer

SAFE_INTEGER = 2**53 - 1
"""Largest integer canonical JSON keeps exact (``Number.MAX_SAFE_INTEGER``)."""


def integer_problem(value: int) -> str | None:
    """Why ``value`` has no exact canonical JSON form, or None."""
    if -SAFE_INTEGER <= value <= SAFE_INTEGER:
        return None
    digits = len(str(abs(value)))
    shown = str(value) if digits <= 24 else f"a {digits}-digit integer"
    return f"{shown} is outside ±{SAFE_INTEGER} (2^53 − 1), the integers canonical JSON keeps exact"


def find_unsafe(value: Any) -> tuple[str, str] | None:
    """JSON pointer and reason of the first value in ``value`` canonical JSON cannot hold."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            why = integer_problem(item)
            if why:
                return pointer(path), why
        elif isinstance(item, float) and not math.isfinite(item):
            return pointer(path), f"{item} is not a finite number"
        elif isinstance(item, dict):
            stack.extend((v, (*path, k)) for k, v in reversed(list(item.items())))
        elif isinstance(item, list | tuple):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(item))))
    return None


def dumps(value: Any, where: Callable[[str], str] | None = None) -> bytes:
    """Canonical JSON of ``value``; ``where(pointer)`` names the place of a refused value."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        found = find_unsafe(value)
        if found is None:  # pragma: no cover - rfc8785 refused something find_unsafe does not know
            raise InvalidInputError(f"cannot be written as canonical JSON: {str(exc)[:200]}") from None
        ptr, why = found
        place = where(ptr) if where else (ptr or "/")
        raise InvalidInputError(why, where=place, hint="write a smaller number, or quote it as text") from None
