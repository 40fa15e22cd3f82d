"""CEL's lexical grammar, applied exactly as the installed CEL library applies it.

One tokenizer for everything auditkit reads out of a CEL expression: the load-time
guards (:mod:`auditkit.engine.celguard`) and the fast path's parser
(:mod:`auditkit.engine.fast.parser`) both see the tokens CEL sees, so a comment, a
raw or triple-quoted string or a bytes literal cannot hide a call or a bracket
from them. Self-contained: it imports nothing from auditkit.

The rules are those of cel-spec's ``CEL.g4`` as built into
``common-expression-language`` 0.10 (an ANTLR lexer, so the longest match wins and,
at equal length, the earlier rule): whitespace is space, tab, CR, LF and form feed;
``//`` starts a comment that runs to the end of the line (there are no ``/* */``
comments); identifiers are ASCII ``[A-Za-z_][A-Za-z0-9_]*``; ``true``, ``false``,
``null`` and ``in`` are keywords; numbers are ``123``, ``0x1F`` (lower-case ``x``
only), ``123u``, ``1.5``, ``1e5``, ``.5``; strings are quoted with ``"`` or ``'``,
tripled for multi-line text, prefixed ``r``/``R`` for raw, ``b``/``B`` (then
optionally ``r``/``R``) for bytes; escapes are ``\\a \\b \\f \\n \\r \\t \\v \\" \\'
\\? \\\\ \\```, ``\\xHH``, ``\\XHH``, ``\\uHHHH``, ``\\UHHHHHHHH`` (strings only) and
``\\ooo`` (three octal digits, the first 0-3). Measured quirks of the library are
kept: a line break (CR, LF or CRLF) inside a triple-quoted literal reads as LF, and a
raw triple-quoted literal cannot hold U+0000. A literal the library refuses whatever
surrounds it (a bad escape, a surrogate code point, a double beyond the float range,
a uint beyond 2^64 - 1) is a :class:`LexError` here too; int ranges depend on a
preceding ``-`` and are left to the parser.

:func:`tokenize` returns :class:`Token` tuples ``(kind, value, start, end)`` with
``kind`` one of ``int uint float str bytes bool null id op end``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

PUNCTUATION = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "!",
               "?", ":", ".", ",", "(", ")", "[", "]", "{", "}")
RESERVED = frozenset({"as", "break", "const", "continue", "else", "for", "function", "if", "import",
                      "let", "loop", "package", "namespace", "return", "var", "void", "while"})
"""Words CEL reserves: refused as identifiers, allowed as field names after ``.``."""
LITERALS = frozenset({"int", "uint", "float", "str", "bytes", "bool", "null"})
UINT_MAX = 2**64 - 1
_MAX_DIGITS = 40

_WHITESPACE = frozenset(" \t\r\n\f")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT = _LETTERS | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_OCTAL = frozenset("01234567")
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   '"': '"', "'": "'", "?": "?", "\\": "\\", "`": "`"}
_WIDTHS = {"x": 2, "X": 2, "u": 4, "U": 8}


class Token(NamedTuple):
    """One token: its kind, its value (decoded for literals) and its span in the source."""

    kind: str
    value: Any
    start: int
    end: int


class LexError(ValueError):
    """The source is not lexically valid CEL; ``offset`` is where the problem starts."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


def line_col(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``source``."""
    line = source.count("\n", 0, offset) + 1
    return line, offset - source.rfind("\n", 0, offset)


def _escape(src: str, i: int, is_bytes: bool) -> tuple[str | int, int]:
    """Decode the escape at ``src[i]`` (a backslash): a character, or a byte value for bytes."""
    nxt = src[i + 1 : i + 2]
    if nxt in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[nxt], i + 2
    if nxt in _WIDTHS:
        width = _WIDTHS[nxt]
        digits = src[i + 2 : i + 2 + width]
        if len(digits) != width or not set(digits) <= _HEX:
            raise LexError(f"invalid escape \\{nxt}: {width} hex digits expected", i)
        value = int(digits, 16)
        if nxt in "xX":
            return (value if is_bytes else chr(value)), i + 2 + width
        if is_bytes:
            raise LexError(f"\\{nxt} escapes are not allowed in bytes literals", i)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise LexError(f"invalid code point U+{value:04X} in \\{nxt} escape", i)
        return chr(value), i + 2 + width
    if nxt in ("0", "1", "2", "3"):
        digits = src[i + 1 : i + 4]
        if len(digits) == 3 and set(digits) <= _OCTAL:
            value = int(digits, 8)
            return (value if is_bytes else chr(value)), i + 4
        raise LexError("invalid octal escape: three octal digits, the first 0-3, expected", i)
    shown = repr(nxt) if nxt else "end of input"
    raise LexError(f"invalid escape sequence: backslash before {shown}", i)


def _quoted(src: str, i: int, raw: bool, is_bytes: bool) -> tuple[Any, int] | None:
    """The literal whose opening quote is at ``src[i]``: (value, end), or None if unterminated.

    A tripled quote that never closes falls back to the empty single-quoted literal, as
    the longest-match rule has it (``\"\"\"x`` is ``\"\"`` followed by ``\"x``)."""
    quote = src[i]
    if src.startswith(quote * 3, i):
        found = _scan(src, i + 3, quote * 3, raw, is_bytes, multiline=True)
        if found is not None:
            return found
    return _scan(src, i + 1, quote, raw, is_bytes, multiline=False)


def _scan(src: str, i: int, close: str, raw: bool, is_bytes: bool, *, multiline: bool) -> tuple[Any, int] | None:
    parts: list[str | int] = []
    n = len(src)
    while i < n:
        if src.startswith(close, i):
            return _join(parts, is_bytes), i + len(close)
        ch = src[i]
        if ch in "\r\n":
            if not multiline:
                return None
            if ch == "\r":  # a line break in a triple-quoted literal is read as "\n" (CRLF too)
                parts.append("\n")
                i += 2 if src.startswith("\r\n", i) else 1
                continue
        if ch == "\x00" and raw and multiline:  # the library's raw triple-quoted form stops at NUL
            return None
        if ch == "\\" and not raw:
            part, i = _escape(src, i, is_bytes)
            parts.append(part)
        else:
            parts.append(ch)
            i += 1
    return None


def _join(parts: list[str | int], is_bytes: bool) -> Any:
    if not is_bytes:
        return "".join(p for p in parts if isinstance(p, str))
    out = bytearray()
    for part in parts:
        out.extend(part.encode("utf-8") if isinstance(part, str) else bytes([part]))
    return bytes(out)


def _number(src: str, i: int) -> Token:
    start = i
    n = len(src)
    if src.startswith("0x", i) and src[i + 2 : i + 3] in _HEX:
        i += 2
        while i < n and src[i] in _HEX:
            i += 1
        value = int(src[start + 2 : i], 16)
        if i < n and src[i] in "uU":
            return _uint(value, start, i + 1)
        return Token("int", value, start, i)
    while i < n and src[i] in _DIGITS:
        i += 1
    is_float = False
    if i + 1 < n and src[i] == "." and src[i + 1] in _DIGITS:
        is_float = True
        i += 1
        while i < n and src[i] in _DIGITS:
            i += 1
    if i < n and src[i] in "eE":
        j = i + 1
        if j < n and src[j] in "+-":
            j += 1
        if j < n and src[j] in _DIGITS:
            is_float = True
            i = j
            while i < n and src[i] in _DIGITS:
                i += 1
    text = src[start:i]
    if is_float:
        number = float(text)
        if not math.isfinite(number):
            raise LexError(f"double literal {text} is out of range", start)
        return Token("float", number, start, i)
    if len(text) > _MAX_DIGITS:  # far beyond 64 bits, and Python will not convert >4300 digits
        raise LexError("integer literal is out of range", start)
    if i < n and src[i] in "uU":
        return _uint(int(text), start, i + 1)
    return Token("int", int(text), start, i)


def _uint(value: int, start: int, end: int) -> Token:
    if value > UINT_MAX:
        raise LexError("uint literal is out of range", start)
    return Token("uint", value, start, end)


def _prefixed_literal(src: str, i: int) -> Token | None:
    """A raw string, bytes or raw bytes literal starting at ``src[i]`` (a letter), if any."""
    raw = is_bytes = False
    j = i
    if src[j] in "bB":
        is_bytes = True
        j += 1
    if src[j : j + 1] in ("r", "R"):
        raw = True
        j += 1
    if j == i or src[j : j + 1] not in ('"', "'"):
        return None
    found = _quoted(src, j, raw, is_bytes)
    if found is None:
        return None
    value, end = found
    return Token("bytes" if is_bytes else "str", value, i, end)


def tokenize(src: str) -> list[Token]:
    """The tokens of ``src`` (comments and whitespace dropped), ending with an ``end`` token.

    Raises :class:`LexError` where the CEL library's lexer (or its literal decoding) fails."""
    out: list[Token] = []
    i = 0
    n = len(src)
    while i < n:
        ch = src[i]
        if ch in _WHITESPACE:
            i += 1
        elif src.startswith("//", i):
            newline = src.find("\n", i)
            i = n if newline < 0 else newline
        elif ch in _LETTERS:
            literal = _prefixed_literal(src, i) if ch in "rRbB" else None
            if literal is not None:
                out.append(literal)
                i = literal.end
                continue
            j = i + 1
            while j < n and src[j] in _IDENT:
                j += 1
            word = src[i:j]
            if word in ("true", "false"):
                out.append(Token("bool", word == "true", i, j))
            elif word == "null":
                out.append(Token("null", None, i, j))
            elif word == "in":
                out.append(Token("op", "in", i, j))
            else:
                out.append(Token("id", word, i, j))
            i = j
        elif ch in _DIGITS or (ch == "." and src[i + 1 : i + 2] in _DIGITS):
            token = _number(src, i)
            out.append(token)
            i = token.end
        elif ch in ('"', "'"):
            found = _quoted(src, i, raw=False, is_bytes=False)
            if found is None:
                raise LexError("unterminated string literal", i)
            out.append(Token("str", found[0], i, found[1]))
            i = found[1]
        elif ch == "`":
            raise LexError("backquoted identifiers are not supported by the CEL library", i)
        else:
            for punct in PUNCTUATION:
                if src.startswith(punct, i):
                    out.append(Token("op", punct, i, i + len(punct)))
                    i += len(punct)
                    break
            else:
                raise LexError(f"unexpected character {ch!r}", i)
    out.append(Token("end", None, n, n))
    return out
