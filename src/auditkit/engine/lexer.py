"""The one CEL lexer: tokens for the load-time guards (:mod:`.cel`) and the fast path (:mod:`.fast`).

:func:`tokens` never raises: whatever the text, it gives a list of :class:`Token`
ending with an ``end`` token. Kinds: ``int``, ``uint``, ``float``, ``str``,
``bytes``, ``bool``, ``null``, ``id`` (identifier), ``reserved`` (a word CEL
reserves, ``in`` excepted, which is an operator), ``op`` (punctuation and ``in``),
``bad`` (a character or literal CEL does not accept; ``value`` says why) and
``end``. String and bytes literals follow the CEL spec: single, double and triple
quotes, the ``r`` (raw) prefix, and the escapes ``\\n \\t \\xHH \\uHHHH \\UHHHHHHHH
\\ooo`` and friends; a literal that is malformed still spans up to its closing
quote (or the end), so what is inside a string is never read as code.
"""

from __future__ import annotations

from typing import Any, NamedTuple

PUNCT = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "!",
         "?", ":", ".", ",", "(", ")", "[", "]", "{", "}")
RESERVED = frozenset({"as", "break", "const", "continue", "else", "for", "function", "if", "import", "let",
                      "loop", "package", "namespace", "return", "var", "void", "while"})
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "`": "`", "?": "?", "a": "\a", "b": "\b",
            "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_HEX = frozenset("0123456789abcdefABCDEF")
_OCTAL = frozenset("01234567")
_DIGITS = frozenset("0123456789")
_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT = _IDENT_START | _DIGITS
_SPACE = frozenset(" \t\r\n\f")
_WIDTH = {"x": 2, "X": 2, "u": 4, "U": 8}


class Token(NamedTuple):
    """One token: its kind, its value (the literal's value, the name, the operator) and its span."""

    kind: str
    value: Any
    start: int
    end: int


def _string(src: str, i: int) -> tuple[str, Any, int]:
    """The literal starting at ``src[i]`` (its prefix included): kind, value or reason, end."""
    start = i
    raw = kind_bytes = False
    while src[i] in "rRbB":
        raw = raw or src[i] in "rR"
        kind_bytes = kind_bytes or src[i] in "bB"
        i += 1
    quote = src[i]
    triple = src.startswith(quote * 3, i)
    i += 3 if triple else 1
    out: list[str] = []
    problem: str | None = None
    while True:
        if i >= len(src):
            return "bad", "unterminated string", len(src)
        ch = src[i]
        if (triple and src.startswith(quote * 3, i)) or (not triple and ch == quote):
            end = i + (3 if triple else 1)
            if problem is not None:
                return "bad", problem, end
            return ("bytes" if kind_bytes else "str"), "".join(out), end
        if not triple and ch in "\r\n":
            problem = problem or "newline in string"
            i += 1
        elif ch == "\\" and not raw:
            nxt = src[i + 1 : i + 2]
            if nxt in _ESCAPES and nxt:
                out.append(_ESCAPES[nxt])
                i += 2
            elif nxt and nxt in _WIDTH:
                digits = src[i + 2 : i + 2 + _WIDTH[nxt]]
                value = int(digits, 16) if len(digits) == _WIDTH[nxt] and set(digits) <= _HEX else -1
                if value < 0 or value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                    problem = problem or "bad escape"
                    i += 2
                else:
                    out.append(chr(value))
                    i += 2 + _WIDTH[nxt]
            elif nxt and nxt in "0123" and len(src[i + 1 : i + 4]) == 3 and set(src[i + 1 : i + 4]) <= _OCTAL:
                out.append(chr(int(src[i + 1 : i + 4], 8)))
                i += 4
            else:
                problem = problem or "bad escape"
                i += 2
        else:
            out.append(ch)
            i += 1
    return "bad", "unreachable", start  # pragma: no cover


def _number(src: str, i: int) -> tuple[str, Any, int]:
    """The numeric literal at ``src[i]``: kind, value or reason, end."""
    start = i
    n = len(src)
    if src.startswith(("0x", "0X"), i):
        i += 2
        while i < n and src[i] in _HEX:
            i += 1
        if i == start + 2:
            return "bad", "bad hex literal", i
        value = int(src[start + 2 : i], 16)
        if i < n and src[i] in "uU":
            return "uint", value, i + 1
        return "int", value, i
    while i < n and src[i] in _DIGITS:
        i += 1
    is_float = False
    if i < n and src[i] == "." and src[i + 1 : i + 2] in _DIGITS and src[i + 1 : i + 2]:
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
    if not is_float and i < n and src[i] in "uU":
        return "uint", int(text), i + 1
    if i < n and src[i] in _IDENT_START:
        return "bad", "junk after a number", i
    if is_float:
        double = float(text)
        if double in (float("inf"), float("-inf")):
            return "bad", "double literal out of range", i
        return "float", double, i
    return "int", int(text), i


def tokens(src: str) -> list[Token]:
    """Every token of ``src``, then an ``end`` token; never raises."""
    out: list[Token] = []
    i = 0
    n = len(src)
    while i < n:
        ch = src[i]
        if ch in _SPACE:
            i += 1
            continue
        prefix = i
        while prefix < n and src[prefix] in "rRbB" and prefix - i < 2:
            prefix += 1
        if ch in "\"'" or (prefix > i and src[prefix : prefix + 1] in ("'", '"')):
            kind, value, end = _string(src, i)
        elif ch in _DIGITS or (ch == "." and src[i + 1 : i + 2] in _DIGITS and src[i + 1 : i + 2]):
            kind, value, end = _number(src, i)
        elif ch in _IDENT_START:
            end = i + 1
            while end < n and src[end] in _IDENT:
                end += 1
            word = src[i:end]
            if word in ("true", "false"):
                kind, value = "bool", word == "true"
            elif word == "null":
                kind, value = "null", None
            elif word == "in":
                kind, value = "op", "in"
            else:
                kind, value = ("reserved" if word in RESERVED else "id"), word
        else:
            punct = next((p for p in PUNCT if src.startswith(p, i)), None)
            kind, value, end = ("op", punct, i + len(punct)) if punct else ("bad", f"unexpected character {ch!r}",
                                                                            i + 1)
        out.append(Token(kind, value, i, end))
        i = end
    out.append(Token("end", None, n, n))
    return out
