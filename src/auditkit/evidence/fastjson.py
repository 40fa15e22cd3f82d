"""JSON evidence parsed by orjson, accepted only where the exact parser would give the same value.

:func:`auditkit.evidence.parsers.parse_json` is exact (the standard library with a
duplicate-key hook and a depth scan) but slow: about 3 s for 10⁶ records. orjson
parses the same bytes in a sixth of that. :func:`loads` returns orjson's value
only when every guarantee of the exact parser holds, checked with whole-buffer
operations that run at C speed; otherwise it returns :data:`UNSURE` and the exact
parser decides, so that every refusal, and its message, is the exact parser's:

* syntax, non-finite numbers (orjson refuses ``NaN``, ``Infinity`` and ``1e400``),
  invalid UTF-8, lone surrogates (the exact parser keeps them), nesting past
  orjson's own limit of 1024: orjson raises, the exact parser decides;
* a run of 19 or more digits anywhere: an integer that may not fit in 64 bits
  (orjson would make it a double), so the exact parser decides;
* duplicate keys: every ``:`` of a JSON text is a key separator or a character of
  a string, so the text holds more keys than the parsed value exactly when it
  has more colons than orjson's re-serialisation of that value (which writes
  every string character as it is). An escaped colon (``\\u003a``) would break
  that count, so its presence sends the text to the exact parser;
* depth: with escapes and strings removed only brackets remain; each pass
  removes every innermost pair, so the number of passes is the depth.

What orjson accepts is also *plain* for the engine: strings are valid UTF-8 and
integers fit in 64 bits, so checks over it need no second look
(:func:`auditkit.engine.fast.plain`).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

UNSURE: Any = object()
"""Returned when the exact parser must decide."""

_BOM = b"\xef\xbb\xbf"
_DIGITS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))  # ASCII digits to "0", all else to " "
_LONG_RUN = b"0" * 19
_KEEP = bytes(range(256)).translate(None, b'[]{}"')
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')


def _depth_at_most(data: bytes, limit: int, escaped: bool) -> bool:
    """Whether the (valid) JSON ``data`` nests at most ``limit`` levels."""
    if escaped:
        data = _ESCAPE.sub(b"", data)
    brackets = data.translate(None, _KEEP).replace(b'""', b"")
    if b'"' in brackets:
        brackets = _STRING.sub(b"", brackets)
    for _ in range(limit):
        if not brackets:
            return True
        brackets = brackets.replace(b"[]", b"x").replace(b"{}", b"x").replace(b"x", b"")
    return not brackets


def loads(data: bytes, max_depth: int) -> Any:
    """orjson's value of ``data`` when the exact parser would give the same, else :data:`UNSURE`."""
    body = data[3:] if data.startswith(_BOM) else data
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return UNSURE
    if _LONG_RUN in body.translate(_DIGITS):
        return UNSURE
    colons = body.count(b":")
    escaped = b"\\" in body
    if colons and escaped and (b"\\u003a" in body or b"\\u003A" in body):
        return UNSURE
    if (b"[" in body or b"{" in body) and not _depth_at_most(body, max_depth, escaped):
        return UNSURE
    if colons:
        try:
            again = orjson.dumps(value)
        except orjson.JSONEncodeError:  # deeper than orjson writes
            return UNSURE
        if again.count(b":") != colons:
            return UNSURE
    return value
