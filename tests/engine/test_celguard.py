"""The CEL load-time guards see what CEL sees, and refuse what the CEL library cannot run.

Through `auditkit controls validate`: whitespace, comments and strings cannot hide a
`map`, a bracket or a comprehension from the guards, and calls the runtime lacks are
refused naming file:line, the place in the expression and the function. The tables of
what the runtime provides are held to the installed library, both ways.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditkit.engine import celguard
from auditkit.engine.cel import CelCompileError, compile_expr

FAMILY = (Path(__file__).parents[1] / "data" / "zz-family.yaml").read_text(encoding="utf-8").replace(
    "        each: thing_list.records\n        assert: r.count <= params.limit\n", "        expr: |-\n          EXPR\n")
WHERE = "fam.yaml:14:15 /controls/0/checks/0/expr: "


def validate(invoke, tmp_path: Path, expression: str):
    path = tmp_path / "fam.yaml"
    body = "\n".join("          " + line for line in expression.split("\n")).lstrip()
    path.write_text(FAMILY.replace("EXPR", body), encoding="utf-8")
    return invoke("controls", "validate", path)


def refused_line(result, tmp_path: Path) -> str:
    assert result.exit_code == 3, result.output
    lines = [line.removeprefix("auditkit: error: ") for line in result.output.splitlines()
             if "/controls/0/checks/0/expr" in line]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"{tmp_path}/{WHERE}"), lines[0]
    return lines[0].split(WHERE, 1)[1]


DEEP = "(" * 30 + "true" + ")" * 30
NESTED = "thing_list.records.all(a, a.all(b, b.all(c, c.all(d, d))))"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("thing_list.records.map  (r, r).size() > 0", "'map' is not allowed"),
        ("thing_list.records.map\t(r, r).size() > 0", "'map' is not allowed"),
        ("thing_list.records.map // why not\n(r, r).size() > 0", "'map' is not allowed"),
        ("thing_list.records . filter (r, r).size() > 0", "'filter' is not allowed"),
        ("thing_list.records.\nmap(r, r).size() > 0", "'map' is not allowed"),
        (NESTED.replace("a.all(", "a.all // x\n("), "comprehensions nested deeper than 3"),
        (NESTED.replace("b.all(", "b.all  ("), "comprehensions nested deeper than 3"),
        ('r"\\" == "" || ' + DEEP, "nesting deeper than 24 levels"),
        ("R'\\' == '' || " + DEEP, "nesting deeper than 24 levels"),
        ('br"\\" == b"" || ' + DEEP, "nesting deeper than 24 levels"),
        ("'''a\\'''' == '' || " + DEEP, "nesting deeper than 24 levels"),
        ('"""\\"""" == "" || ' + DEEP, "nesting deeper than 24 levels"),
        ('r"\\" == "" || thing_list.records.map(r, r).size() > 0', "'map' is not allowed"),
        ("'''it''s''' == '' || thing_list.records.map(r, r).size() > 0", "'map' is not allowed"),
        ('"\\q" == ""', "CEL does not compile: invalid escape sequence"),
    ],
)
def test_whitespace_comments_and_strings_hide_nothing(invoke, tmp_path, expression, message):
    import cel

    if "does not compile" not in message:  # a real bypass attempt: CEL itself compiles it (less deep)
        cel.compile(expression.replace(DEEP, "((true))"))
    assert message in refused_line(validate(invoke, tmp_path, expression), tmp_path)


@pytest.mark.parametrize(
    "expression",
    [
        '"((((((((((((((((((((((((((((((" != ""',
        "r'''map(]]]]''' != '' && thing_list.records.all(r, r.ok)",
        'b"\\x28\\x28" != b"" // map(',
        "size(thing_list.records) >= 0 // ((((((((((((((((((((((((((((((",
    ],
)
def test_brackets_and_names_inside_strings_and_comments_are_not_code(invoke, tmp_path, expression):
    result = validate(invoke, tmp_path, expression)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('"a,b".split(",").size() == 2', "function 'split' is not provided by the CEL library (expression 1:7)"),
        ('"abc".replace("a", "b") == "bbc"', "function 'replace' is not provided by the CEL library"),
        ('" a ".trim() == "a"', "function 'trim' is not provided"),
        ('["a"].join(",") == "a"', "function 'join' is not provided"),
        ('"abc".indexOf("b") == 1', "function 'indexOf' is not provided"),
        ('"ABC".lowerAscii() == "abc"', "function 'lowerAscii' is not provided"),
        ('"abc".upperAscii() == "ABC"', "function 'upperAscii' is not provided"),
        ('bool("true")', "function 'bool' is not provided by the CEL library (expression 1:1)"),
        ('string([1, 2]) == "[1, 2]"', "string() of a list is not supported by the CEL library (expression 1:1)"),
        ('string(true) == "true"', "string() of a bool is not supported"),
        ('string(null) == "null"', "string() of a null is not supported"),
        ('string({"a": 1}) != ""', "string() of a map is not supported"),
        ("int(true) == 1", "int() of a bool is not supported"),
        ('int(timestamp("2026-01-01T00:00:00Z")) > 0', "int() of a timestamp is not supported"),
        ("timestamp(0) != null", "timestamp() of an int is not supported"),
        ("duration(60) != null", "duration() of an int is not supported"),
        ('timestamp("2026-01-01T00:00:00Z").getHours("UTC") == 0',
         ".getHours() takes no arguments here, not 1 (time zones are not supported"),
        ('size("a", "b") == 1', "size() takes 1 argument here, not 2"),
        ('contains("abc", "b")', "'contains' is a method, not a function"),
        ("thing_list.records.string() != ''", "'string' is a function, not a method"),
        ("[1, 2].contains(1)", ".contains() is not defined on a list"),
        ("max([1, 2]) == 2", "unknown function 'max'"),
        ("thing_list.records.all(r)", "all() takes a variable name and a condition"),
        ('days_between(1, "2026-01-01") > 0', "days_between() of an int is not supported"),
    ],
)
def test_functions_the_runtime_lacks_are_refused_at_validation(invoke, tmp_path, expression, message):
    assert message in refused_line(validate(invoke, tmp_path, expression), tmp_path)


def test_the_place_in_a_multi_line_expression_is_given(invoke, tmp_path):
    line = refused_line(validate(invoke, tmp_path, 'size(thing_list.records) > 0 &&\n  "a".trim() == "a"'), tmp_path)
    assert "(expression 2:7)" in line


# ---- the tables against the installed library --------------------------------------------

SAMPLES = {
    "int": "1", "uint": "1u", "double": "1.5", "string": '"1"', "bytes": 'b"1"', "bool": "true", "null": "null",
    "list": '["1"]', "map": '{"a": 1}', "timestamp": 'timestamp("2026-01-01T00:00:00Z")',
    "duration": 'duration("60s")',
}


def runtime_lacks(expression: str) -> bool:
    """Whether the installed library compiles ``expression`` but cannot find the function it calls."""
    import cel

    program = cel.compile(expression)
    try:
        program.execute(cel.Context({}, {"days_between": lambda a, b: 0}))
    except Exception as exc:  # noqa: BLE001
        return "Undefined variable or function" in str(exc)
    return False


def forms() -> list[tuple[str, bool]]:
    """(expression, whether the guard accepts it) for every table entry over every literal type."""
    out = []
    for name, (count, accepted) in celguard.GLOBAL_CALLS.items():
        if name in ("has", "days_between"):
            continue
        for kind, sample in SAMPLES.items():
            out.append((f"{name}({', '.join([sample] * count)})", accepted is None or kind in accepted))
    for name, (count, receivers, accepted) in celguard.METHOD_CALLS.items():
        for kind, sample in SAMPLES.items():
            arg = ", ".join(['"1"'] * count)
            out.append((f"{sample}.{name}({arg})", receivers is None or kind in receivers))
            if count:
                out.append((f'"1".{name}({sample})', accepted is None or kind in accepted))
        receiver = SAMPLES[min(receivers or {"string"})]
        out.append((f'{receiver}.{name}({", ".join(["1"] * (count + 1))})', False))
    for name in sorted(celguard._STRING_EXTENSIONS | {"bool", "max", "min"}):
        out += [(f'{name}("1")', False), (f'"1".{name}()', False), (f'"1".{name}("1")', False)]
    return out


@pytest.mark.parametrize(("expression", "accepted"), forms())
def test_the_guard_accepts_exactly_what_the_runtime_runs(expression, accepted):
    try:
        compile_expr(expression)
        guard_accepts = True
    except CelCompileError:
        guard_accepts = False
    assert guard_accepts == accepted
    assert runtime_lacks(expression) == (not accepted), expression


# ---- the guard sees every call CEL sees ---------------------------------------------------

SEPARATORS = st.sampled_from(["", " ", "  ", "\n", "\t", "\r\n", "\f", " // note (\n", "//)\n"])
leaves = st.sampled_from([
    "x", "y", "s", "1", "2u", "1.5", '"a"', "'b'", 'r"\\"', '"""(]"""', "'''{'''", 'b"\\x00"', 'br"\\"', "true",
    "null", ".5", '"a,b"', "[1, 2]", '{"k": 1}',
]).map(lambda t: [t])


def _extend(children: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    names = st.sampled_from(["size", "int", "string", "split", "bool", "max", "has", "dyn", "type", "double"])
    methods = st.sampled_from(["size", "contains", "startsWith", "trim", "all", "exists", "getHours", "join"])
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "==", "<", "&&", "||", "in"]), children)
        .map(lambda t: [*t[0], t[1], *t[2]]),
        st.tuples(names, children).map(lambda t: [t[0], "(", *t[1], ")"]),
        st.tuples(children, methods, st.lists(children, max_size=2))
        .map(lambda t: [*t[0], ".", t[1], "(", *sum(([*a, ","] for a in t[2]), [])[:-1], ")"]),
        st.tuples(children, children).map(lambda t: [*t[0], ".", "all", "(", "v", ",", *t[1], ")"]),
        children.map(lambda c: ["(", *c, ")"]),
        st.lists(children, max_size=3).map(lambda items: ["[", *sum(([*a, ","] for a in items), [])[:-1], "]"]),
    )


expressions = st.recursive(leaves, _extend, max_leaves=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.data())
def test_every_function_cel_sees_is_a_call_the_guard_sees(parts, data):
    import cel

    text = parts[0] + "".join(data.draw(SEPARATORS) + part for part in parts[1:])
    try:
        found = celguard.structure(text)
    except CelCompileError:
        return
    try:
        program = cel.compile(text)
    except BaseException:  # noqa: BLE001
        return
    seen = {t.value for i, t in enumerate(found.tokens[:-1]) if t.kind == "id" and found.tokens[i + 1].value == "("}
    named = {f for f in program.functions() if f[:1].isalpha()}
    assert named <= seen, (text, named - seen)
