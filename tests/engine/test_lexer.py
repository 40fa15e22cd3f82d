"""The CEL lexer tokenizes exactly as the installed CEL library does.

Differential, against the library itself: a text the lexer refuses does not compile;
a text it reads as one literal compiles to that literal's value; and any text it
tokenizes, written back out canonically from its tokens (comments dropped, strings
re-escaped, single spaces), compiles and evaluates exactly like the original.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from auditkit.engine.lexer import LITERALS, LexError, Token, line_col, tokenize

INT_MAX = 2**63 - 1
CONTEXT = {"x": [1, 2], "y": {"a": 1, "if": 2}, "r": "text", "b": b"raw", "s": "a,b"}

FRAGMENTS = [
    "x", "y", "r", "b", "R", "B", "br", "rb", "bR", "Rb", "in", "true", "false", "null", "trueish", "size", "has",
    "as", "if", "_a1", ".", "(", ")", "[", "]", "{", "}", ",", ":", "?", "!", "-", "+", "*", "/", "%", "==", "!=",
    "<", "<=", ">", ">=", "&&", "||", "=", "&", "|", " ", "\n", "\t", "\r", "\f", "\v", "//", "/*", "*/", '"', "'",
    '"""', "'''", "\\", "\\n", "\\x4", "\\x41", "\\X4a", "\\u00e9", "\\ud800", "\\U0001F600", "\\U00110000",
    "\\377", "\\400", "\\0", "\\12", "\\`", "\\?", "\\q", "\\'", '\\"', "u", "U", "e", "E", "e+", "e-", "0x", "0X",
    "1", "0", "9", "007", ".5", "1.", "1e3", "1e999", "18446744073709551615", "18446744073709551616",
    "9223372036854775808", "é", "`", "#", "@", "\x00", "ℵ", "\u00a0",
]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)
INSIDE = ["a", " ", "é", "😀", "\\n", "\\t", "\\\\", '\\"', "\\'", "\\x41", "\\xfF", "\\X4", "\\u00e9", "\\uDFFF",
          "\\U0001F600", "\\U0010FFFF", "\\U00110000", "\\377", "\\477", "\\0", "\\`", "\\?", "\\v", "\\q", "\\",
          '"', "'", '""', "''", "\\n\\", "\n", "\r", "\x00", "(", "]", "//"]
string_literals = st.builds(
    lambda prefix, quote, parts, close: prefix + quote + "".join(parts) + (quote if close else ""),
    st.sampled_from(["", "r", "R", "b", "B", "br", "bR", "Br", "BR", "rb"]),
    st.sampled_from(['"', "'", '"""', "'''"]),
    st.lists(st.sampled_from(INSIDE), max_size=6),
    st.booleans(),
)


def cel_outcome(source: str) -> tuple[str, Any]:
    """("compile-error", None), ("error", None) or ("value", value) from the CEL library."""
    import cel

    try:
        program = cel.compile(source)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - PanicException is a BaseException
        return "compile-error", None
    try:
        return "value", program.execute(cel.Context(dict(CONTEXT), {}))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001
        return "error", None


def same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(p, q) for p, q in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def render(token: Token) -> str:
    """The token written back as canonical CEL source."""
    kind, value = token.kind, token.value
    if kind == "str":
        out = []
        for ch in value:
            if ch in '\\"':
                out.append("\\" + ch)
            elif ord(ch) < 0x20 or ord(ch) == 0x7F:
                out.append(f"\\x{ord(ch):02x}")
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    if kind == "bytes":
        return 'b"' + "".join(f"\\x{byte:02x}" for byte in value) + '"'
    if kind == "uint":
        return f"{value}u"
    if kind == "float":
        return repr(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "null":
        return "null"
    return str(value)


def literal_value(token: Token) -> Any:
    return token.value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(texts, string_literals, st.tuples(string_literals, texts).map("".join)))
@example('r"\\" + [1].map(v, v) + "')
@example('"""(]"""')
@example("'''a\\''''")
@example('b"\\xff\\377é"')
@example('x.map // c\n(v, v)')
@example('0X1F')
@example('1.e5')
def test_tokens_written_back_mean_what_the_text_means(text):
    try:
        tokens = tokenize(text)
    except LexError as exc:
        assert 0 <= exc.offset <= len(text)
        assert cel_outcome(text)[0] == "compile-error", f"lexer refuses what CEL accepts: {text!r} ({exc})"
        return
    assert tokens[-1].kind == "end"
    assert all(0 <= t.start <= t.end <= len(text) for t in tokens)
    rewritten = " ".join(render(t) for t in tokens[:-1])
    original, again = cel_outcome(text), cel_outcome(rewritten)
    assert original[0] == again[0], (text, rewritten, original, again)
    if original[0] == "value":
        assert same(original[1], again[1]), (text, rewritten, original, again)
    literal = tokens[:-1]
    if len(literal) == 1 and literal[0].kind in LITERALS:
        if literal[0].kind == "int" and literal[0].value > INT_MAX:
            assert original[0] == "compile-error"
        else:
            assert original == ("value", original[1]) and same(original[1], literal_value(literal[0])), (text, original)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("x.map  (v, v)", ["id", ".", "id", "(", "id", ",", "id", ")"]),
        ("x.map // why\n(v, v)", ["id", ".", "id", "(", "id", ",", "id", ")"]),
        ('r"\\" + f(', ["str", "+", "id", "("]),
        ("'''a)'''", ["str"]),
        ('b"x"', ["bytes"]),
        ('br"\\"', ["bytes"]),
        ('rb"x"', ["id", "str"]),
        ("1u 0x1Fu 1.5 .5 1e3 0X1", ["uint", "uint", "float", "float", "float", "int", "id"]),
        ('""" "', ["str", "str"]),
        ("in true null truex", ["in", "bool", "null", "id"]),
    ],
)
def test_tokens(text, kinds):
    tokens = tokenize(text)[:-1]
    assert [t.value if t.kind == "op" else t.kind for t in tokens] == kinds


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ('"\\q"', "invalid escape sequence", 1),
        ('"\\ud800"', "invalid code point U+D800", 1),
        ('b"\\u00e9"', "not allowed in bytes literals", 2),
        ('"abc', "unterminated string literal", 0),
        ("1e999", "double literal 1e999 is out of range", 0),
        ("18446744073709551616u", "uint literal is out of range", 0),
        ("a # b", "unexpected character '#'", 2),
        ("`x`", "backquoted identifiers", 0),
        ("x\u00a0", "unexpected character", 1),
    ],
)
def test_lex_errors_say_what_and_where(text, message, offset):
    with pytest.raises(LexError) as caught:
        tokenize(text)
    assert message in caught.value.message
    assert caught.value.offset == offset


def test_line_col():
    assert line_col("a\nbc", 3) == (2, 2)
    assert line_col("abc", 0) == (1, 1)


def test_the_lexer_imports_nothing_from_the_rest_of_auditkit(root):
    import ast

    tree = ast.parse((root / "src" / "auditkit" / "engine" / "lexer.py").read_text(encoding="utf-8"))
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {"." * node.level + (node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert modules == {"__future__", "math", "typing"}
