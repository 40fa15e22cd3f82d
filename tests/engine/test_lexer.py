"""The one CEL lexer, and the load-time guards that read its tokens."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditkit.engine.cel import CelCompileError, compile_expr, guard, param_references
from auditkit.engine.lexer import tokens


@given(st.text(max_size=60))
def test_tokens_never_raise_and_cover_the_text_in_order(text):
    found = tokens(text)
    assert found[-1].kind == "end"
    ends = [t.end for t in found]
    assert ends == sorted(ends) and all(t.start < t.end for t in found[:-1])


@pytest.mark.parametrize(("source", "kinds"), [
    ('r.s == "a(b[c{"', ["id", "op", "id", "op", "str"]),
    ("r'\\d+' + '''x\n'y''' + b'\\x00'", ["str", "op", "str", "op", "bytes"]),
    ("1u + 0x1F + 1.5e3 + .5 + 1e400", ["uint", "op", "int", "op", "float", "op", "float", "op", "bad"]),
    ("x in y && true || null", ["id", "op", "id", "op", "bool", "op", "null"]),
    ("while @ 'open", ["reserved", "bad", "bad"]),
    ('"bad \\q escape" + "\\u00e9"', ["bad", "op", "str"]),
])
def test_token_kinds(source, kinds):
    assert [t.kind for t in tokens(source)[:-1]] == kinds


def test_strings_are_never_read_as_code_by_the_guards():
    guard('r.s == "x.map(v, v)" && r.t != \'[[[[[[[[[[[[[[[[[[[[[[[[[[\' && r.u == """filter("""')
    compile_expr('r.note.contains("all(x, all(y, all(z, all(w,")')


@pytest.mark.parametrize(("source", "message"), [
    ("r.items.map(x, x).size() > 0", "'map' is not allowed"),
    ("r.items . filter ( x , x ) == []", "'filter' is not allowed"),
    ("(" * 25 + "1" + ")" * 25, "nesting deeper than 24"),
    ("a.all(x, b.all(y, c.exists(z, d.all(w, true))))", "comprehensions nested deeper than 3"),
    ("1 + " * 1500 + "1", "over the 4000 limit"),
])
def test_guards_refuse(source, message):
    with pytest.raises(CelCompileError, match=message):
        guard(source)


def test_three_comprehensions_and_24_levels_are_allowed():
    guard("a.all(x, b.all(y, c.exists(z, true)))")
    guard("(" * 24 + "1" + ")" * 24)


def test_parameter_and_bound_names_come_from_tokens():
    assert param_references(tokens('params.a + params["b"] + r.params.c + x["params"]')) == {"a", "b"}
    compiled = compile_expr("r.items.all(item, item.n <= params.limit) && params['floor'] < 3")
    assert compiled.params == {"limit", "floor"}
    assert compiled.bound == {"item"} and "item" not in compiled.free_variables
