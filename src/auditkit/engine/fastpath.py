"""A plain-Python evaluator for the common subset of CEL, equal to CEL wherever it answers.

Converting evidence into a CEL context costs ~6 µs a record; the same predicates
evaluated over plain Python values cost ~0.1 µs. ``compile_fast(source)`` parses a
check expression once (a hand-written precedence-climbing parser for the subset
below) into a tree of Python closures over an environment dict; it returns None
for anything outside the subset, and the engine then uses CEL for that expression.

Subset: int/double/string/bool/null and list literals, identifiers, ``a.b``,
``a[i]``, ``size``, ``has``, ``days_between``, ``double``, the methods
``startsWith``/``endsWith``/``contains``/``size``, the macros
``all``/``exists``/``exists_one``, and the operators ``! - * / % + - < <= > >= ==
!= in && || ?:``.

Rule: on the happy path the answer is exactly what the installed CEL library
(``common-expression-language`` 0.10) answers; whenever the evaluator is not sure
— a missing key, a type mix, an overflow, a division by zero, a non-bool where a
bool is due, anything unexpected — it raises :class:`Fallback` and the engine
re-evaluates the check with CEL, which then gives the real result or error. The
semantics below were measured against that library (DESIGN §6), including where it
departs from the CEL spec: ``size()`` of a string counts UTF-8 bytes, ``&&``/``||``
absorb an error on either side, and ``all``/``exists`` stop at the first deciding
element but fail on an error met before it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from .cel import days_between

Env = dict[str, Any]
Fn = Callable[[Env], Any]

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
_NUMERIC = (int, float, bool)
_ORDERED = (str, int, float, bool)


class Fallback(Exception):  # noqa: N818 - a signal, not an error
    """The fast path is not sure of CEL's answer here: evaluate with CEL instead."""


class _Unsupported(Exception):  # noqa: N818
    """Raised while parsing: the source is outside the fast subset."""


# ----------------------------------------------------------------------------- lexer

_PUNCT = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "!",
          "?", ":", ".", ",", "(", ")", "[", "]", "{", "}")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "`": "`", "?": "?", "a": "\a", "b": "\b",
            "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_HEX = set("0123456789abcdefABCDEF")
_IDENT_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT = _IDENT_START | set("0123456789")
_RESERVED = {"in", "as", "break", "const", "continue", "else", "for", "function", "if",
             "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"}


def _code_point(value: int) -> str:
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        raise _Unsupported("invalid code point")
    return chr(value)


def _string(src: str, i: int) -> tuple[str, int]:
    """Read a string literal starting at ``src[i]`` (after any r prefix is handled)."""
    raw = False
    if src[i] in "rR":
        raw = True
        i += 1
    quote = src[i]
    triple = src.startswith(quote * 3, i)
    i += 3 if triple else 1
    out: list[str] = []
    while True:
        if i >= len(src):
            raise _Unsupported("unterminated string")
        ch = src[i]
        if triple and src.startswith(quote * 3, i):
            return "".join(out), i + 3
        if not triple and ch == quote:
            return "".join(out), i + 1
        if not triple and ch in "\r\n":
            raise _Unsupported("newline in string")
        if ch == "\\" and not raw:
            nxt = src[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
            elif nxt in ("x", "X", "u", "U"):
                width = {"x": 2, "X": 2, "u": 4, "U": 8}[nxt]
                digits = src[i + 2 : i + 2 + width]
                if len(digits) != width or not set(digits) <= _HEX:
                    raise _Unsupported("bad escape")
                out.append(_code_point(int(digits, 16)))
                i += 2 + width
            elif nxt in "0123":
                digits = src[i + 1 : i + 4]
                if len(digits) != 3 or not set(digits) <= set("01234567"):
                    raise _Unsupported("bad octal escape")
                out.append(chr(int(digits, 8)))
                i += 4
            else:
                raise _Unsupported("bad escape")
        else:
            out.append(ch)
            i += 1


def _number(src: str, i: int) -> tuple[tuple[str, Any], int]:
    start = i
    if src.startswith(("0x", "0X"), i):
        i += 2
        while i < len(src) and src[i] in _HEX:
            i += 1
        if i == start + 2:
            raise _Unsupported("bad hex literal")
        if i < len(src) and src[i] in "uU":
            raise _Unsupported("uint literal")
        return ("int", int(src[start + 2 : i], 16)), i
    while i < len(src) and src[i].isdigit() and src[i].isascii():
        i += 1
    is_float = False
    if i < len(src) and src[i] == "." and src[i + 1 : i + 2].isdigit():
        is_float = True
        i += 1
        while i < len(src) and src[i].isdigit() and src[i].isascii():
            i += 1
    if i < len(src) and src[i] in "eE":
        j = i + 1
        if j < len(src) and src[j] in "+-":
            j += 1
        if j < len(src) and src[j].isdigit():
            is_float = True
            i = j
            while i < len(src) and src[i].isdigit() and src[i].isascii():
                i += 1
    text = src[start:i]
    if i < len(src) and (src[i] in "uU" or src[i] in _IDENT_START):
        raise _Unsupported("uint literal or junk after a number")
    if is_float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise _Unsupported("double literal out of range")
        return ("float", value), i
    return ("int", int(text)), i


def _tokens(src: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    i = 0
    n = len(src)
    while i < n:
        ch = src[i]
        if ch in " \t\r\n\f":
            i += 1
        elif ch in "\"'" or (ch in "rR" and src[i + 1 : i + 2] in ("'", '"')):
            text, i = _string(src, i)
            out.append(("str", text))
        elif ch in "bB" and src[i + 1 : i + 2] in ("'", '"', "r", "R"):
            raise _Unsupported("bytes literal")
        elif ch.isascii() and (ch.isdigit() or (ch == "." and src[i + 1 : i + 2].isdigit() and src[i + 1].isascii())):
            token, i = _number(src, i)
            out.append(token)
        elif ch in _IDENT_START:
            j = i + 1
            while j < n and src[j] in _IDENT:
                j += 1
            word = src[i:j]
            if word in ("true", "false"):
                out.append(("bool", word == "true"))
            elif word == "null":
                out.append(("null", None))
            elif word == "in":
                out.append(("op", "in"))
            elif word in _RESERVED:
                raise _Unsupported("reserved word")
            else:
                out.append(("id", word))
            i = j
        else:
            for punct in _PUNCT:
                if src.startswith(punct, i):
                    out.append(("op", punct))
                    i += len(punct)
                    break
            else:
                raise _Unsupported(f"unexpected character {ch!r}")
    out.append(("end", None))
    return out


# ----------------------------------------------------------------------------- parser
# Nodes are tuples: ("lit", v) ("id", name) ("sel", x, name) ("idx", x, k) ("list", [x])
# ("not", x) ("neg", x) ("bin", op, a, b) ("and", a, b) ("or", a, b) ("cond", c, a, b)
# ("has", x, name) ("call", name, [args]) ("method", name, x, [args]) ("comp", macro, x, var, body)

Node = tuple[Any, ...]
_RELATIONS = {"<", "<=", ">", ">=", "==", "!=", "in"}
_FUNCTIONS = {"size": 1, "days_between": 2, "double": 1}
_METHODS = {"startsWith": 1, "endsWith": 1, "contains": 1, "size": 0}
_MACROS = {"all", "exists", "exists_one"}


class _Parser:
    """Recursive descent following the CEL grammar (cel-spec ``CEL.g4``)."""

    def __init__(self, tokens: list[tuple[str, Any]]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.pos]

    def take(self) -> tuple[str, Any]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def is_op(self, *ops: str) -> bool:
        kind, value = self.tokens[self.pos]
        return kind == "op" and value in ops

    def expect(self, op: str) -> None:
        if not self.is_op(op):
            raise _Unsupported(f"expected {op!r}")
        self.pos += 1

    def parse(self) -> Node:
        node = self.expr()
        if self.peek()[0] != "end":
            raise _Unsupported("trailing input")
        return node

    def expr(self) -> Node:
        cond = self.cond_or()
        if self.is_op("?"):
            self.pos += 1
            then = self.cond_or()
            self.expect(":")
            other = self.expr()
            return ("cond", cond, then, other)
        return cond

    def cond_or(self) -> Node:
        node = self.cond_and()
        while self.is_op("||"):
            self.pos += 1
            node = ("or", node, self.cond_and())
        return node

    def cond_and(self) -> Node:
        node = self.relation()
        while self.is_op("&&"):
            self.pos += 1
            node = ("and", node, self.relation())
        return node

    def relation(self) -> Node:
        node = self.addition()
        while self.peek()[0] == "op" and self.peek()[1] in _RELATIONS:
            op = self.take()[1]
            node = ("bin", op, node, self.addition())
        return node

    def addition(self) -> Node:
        node = self.multiplication()
        while self.is_op("+", "-"):
            op = self.take()[1]
            node = ("bin", op, node, self.multiplication())
        return node

    def multiplication(self) -> Node:
        node = self.unary()
        while self.is_op("*", "/", "%"):
            op = self.take()[1]
            node = ("bin", op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.is_op("!"):
            self.pos += 1
            return ("not", self.negation())
        if self.is_op("-"):
            self.pos += 1
            return self.minus()
        return self.member(self.primary())

    def negation(self) -> Node:
        if self.is_op("!"):
            self.pos += 1
            return ("not", self.negation())
        return self.member(self.primary())

    def minus(self) -> Node:
        """A run of '-' (the first already taken). Only a lone '-' folds into a numeric literal
        (CEL's grammar: ``'-'+ member`` takes a longer run whole, so ``--9223372036854775808``
        does not parse there either)."""
        run = 1
        while self.is_op("-"):
            self.pos += 1
            run += 1
        kind, value = self.peek()
        if run == 1 and kind in ("int", "float"):  # '-' NUM is a negative literal in CEL
            self.pos += 1
            if kind == "int" and -value < INT_MIN:
                raise _Unsupported("int literal out of range")
            return self.member(("lit", -value))
        node: Node = self.member(self.primary())
        for _ in range(run):
            node = ("neg", node)
        return node

    def primary(self) -> Node:
        kind, value = self.take()
        if kind in ("float", "str", "bool", "null"):
            return ("lit", value)
        if kind == "int":
            if value > INT_MAX:
                raise _Unsupported("int literal out of range")
            return ("lit", value)
        if kind == "id":
            if self.is_op("("):
                self.pos += 1
                if value == "has":
                    arg = self.expr()
                    self.expect(")")
                    if arg[0] != "sel":
                        raise _Unsupported("has() needs a field selection")
                    return ("has", arg[1], arg[2])
                args = self.args()
                if _FUNCTIONS.get(value) != len(args):
                    raise _Unsupported(f"function {value}")
                return ("call", value, args)
            return ("id", value)
        if kind == "op" and value == "(":
            node = self.expr()
            self.expect(")")
            return node
        if kind == "op" and value == "[":
            items: list[Node] = []
            while not self.is_op("]"):
                items.append(self.expr())
                if not self.is_op(","):
                    break
                self.pos += 1
            self.expect("]")
            return ("list", items)
        raise _Unsupported(f"unsupported token {value!r}")

    def args(self) -> list[Node]:
        args: list[Node] = []
        if self.is_op(")"):
            self.pos += 1
            return args
        while True:
            args.append(self.expr())
            if self.is_op(")"):
                self.pos += 1
                return args
            self.expect(",")

    def member(self, node: Node) -> Node:
        while True:
            if self.is_op("."):
                self.pos += 1
                kind, name = self.take()
                if kind != "id":
                    raise _Unsupported("field name expected")
                if self.is_op("("):
                    self.pos += 1
                    if name in _MACROS:
                        var_kind, var = self.take()
                        if var_kind != "id":
                            raise _Unsupported("macro variable expected")
                        self.expect(",")
                        body = self.expr()
                        self.expect(")")
                        node = ("comp", name, node, var, body)
                    else:
                        args = self.args()
                        if _METHODS.get(name) != len(args):
                            raise _Unsupported(f"method {name}")
                        node = ("method", name, node, args)
                else:
                    node = ("sel", node, name)
            elif self.is_op("["):
                self.pos += 1
                key = self.expr()
                self.expect("]")
                node = ("idx", node, key)
            else:
                return node


def parse(source: str) -> Node | None:
    """The syntax tree of ``source``, or None when it is outside the fast subset."""
    try:
        return _Parser(_tokens(source)).parse()
    except (_Unsupported, RecursionError, IndexError, ValueError):
        return None


# ----------------------------------------------------------------------------- semantics


def _int(value: int) -> int:
    if value < INT_MIN or value > INT_MAX:
        raise Fallback("int64 overflow")
    return value


def _bool(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise Fallback("not a bool")


def equal(a: Any, b: Any) -> bool:
    """CEL ``==`` where it is certain; different scalar types are unequal, as in CEL."""
    ta = type(a)
    tb = type(b)
    if ta is tb:
        if ta is list or ta is dict:
            raise Fallback("aggregate equality")
        return bool(a == b)
    if ta in _NUMERIC and tb in _NUMERIC:
        if ta is bool or tb is bool:
            return False
        raise Fallback("int compared with double")
    return False


def _cmp_types(a: Any, b: Any) -> None:
    ta = type(a)
    if ta is not type(b) or ta not in _ORDERED:
        raise Fallback("ordering of different types")


def _lt(a: Any, b: Any) -> bool:
    _cmp_types(a, b)
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    _cmp_types(a, b)
    return bool(a <= b)


def _gt(a: Any, b: Any) -> bool:
    _cmp_types(a, b)
    return bool(a > b)


def _ge(a: Any, b: Any) -> bool:
    _cmp_types(a, b)
    return bool(a >= b)


def _ne(a: Any, b: Any) -> bool:
    return not equal(a, b)


def contains(item: Any, collection: Any) -> bool:
    """CEL ``item in collection`` for lists and maps."""
    tc = type(collection)
    ta = type(item)
    if tc is list:
        if ta is str or item is None:
            return item in collection
        if ta is int or ta is bool or (ta is float and item == item):
            for element in collection:
                te = type(element)
                if te is not ta and te in _NUMERIC:
                    raise Fallback("mixed numeric list")
                if te is list or te is dict:
                    raise Fallback("aggregate in list")
            return item in collection
        raise Fallback("in with an aggregate")
    if tc is dict:
        if ta is not str and ta is not int and ta is not bool:
            raise Fallback("not a map key type")  # CEL raises for null, double, list, map
        return item in collection
    raise Fallback("in over a non-collection")


def _add(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b):
        raise Fallback("mixed types")
    if ta is int:
        return _int(a + b)
    if ta is float or ta is str or ta is list:
        return a + b
    raise Fallback("+")


def _sub(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b):
        raise Fallback("mixed types")
    if ta is int:
        return _int(a - b)
    if ta is float:
        return a - b
    raise Fallback("-")


def _mul(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b):
        raise Fallback("mixed types")
    if ta is int:
        return _int(a * b)
    if ta is float:
        return a * b
    raise Fallback("*")


def _div(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b):
        raise Fallback("mixed types")
    if ta is int:
        if b == 0:
            raise Fallback("division by zero")
        quotient = abs(a) // abs(b)
        return _int(quotient if (a < 0) == (b < 0) else -quotient)
    if ta is float:
        if b == 0.0:
            raise Fallback("division by zero")
        return a / b
    raise Fallback("/")


def _mod(a: Any, b: Any) -> Any:
    if type(a) is not int or type(b) is not int:
        raise Fallback("% on non-ints")
    if b == 0:
        raise Fallback("modulo by zero")
    if a == INT_MIN and b == -1:
        raise Fallback("overflow")
    rest = abs(a) % abs(b)
    return -rest if a < 0 else rest


def size(value: Any) -> int:
    """CEL ``size``: list and map length; for a string the library counts UTF-8 bytes."""
    tv = type(value)
    if tv is str:
        return len(value) if value.isascii() else len(value.encode("utf-8"))
    if tv is list or tv is dict:
        return len(value)
    raise Fallback("size of a scalar")


def _double(value: Any) -> float:
    tv = type(value)
    if tv is float:
        return float(value)
    if tv is int:
        return float(value)
    raise Fallback("double() of a non-number")


def _days_between(a: Any, b: Any) -> int:
    if type(a) is not str or type(b) is not str:
        raise Fallback("days_between of non-strings")
    return days_between(a, b)


def _str_method(name: str) -> Callable[[Any, Any], bool]:
    def method(target: Any, arg: Any) -> bool:
        if type(target) is not str or type(arg) is not str:
            raise Fallback(f"{name} on non-strings")
        if name == "startsWith":
            return target.startswith(arg)
        if name == "endsWith":
            return target.endswith(arg)
        return arg in target

    return method


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "<": _lt, "<=": _le, ">": _gt, ">=": _ge, "==": equal, "!=": _ne, "in": contains,
    "+": _add, "-": _sub, "*": _mul, "/": _div, "%": _mod,
}
_MISSING = object()


# ----------------------------------------------------------------------------- compiler


def _compile(node: Node) -> Fn:  # noqa: C901 - one case per node kind
    tag = node[0]
    if tag == "lit":
        value = node[1]
        return lambda env: value
    if tag == "id":
        name = node[1]
        return lambda env: env[name]
    if tag == "sel":
        field = node[2]
        if node[1][0] == "id":
            var = node[1][1]
            return lambda env: env[var][field]  # KeyError/TypeError: Fallback at the top
        target = _compile(node[1])
        return lambda env: target(env)[field]
    if tag == "idx":
        return _index(_compile(node[1]), _compile(node[2]))
    if tag == "list":
        items = [_compile(item) for item in node[1]]
        return lambda env: [item(env) for item in items]
    if tag == "not":
        inner = _compile(node[1])

        def negate(env: Env) -> bool:
            value = inner(env)
            if value is True:
                return False
            if value is False:
                return True
            raise Fallback("! of a non-bool")

        return negate
    if tag == "neg":
        inner = _compile(node[1])

        def minus(env: Env) -> Any:
            value = inner(env)
            if type(value) is int:
                return _int(-value)
            if type(value) is float:
                return -value
            raise Fallback("- of a non-number")

        return minus
    if tag == "and":
        return _and(_compile(node[1]), _compile(node[2]))
    if tag == "or":
        return _or(_compile(node[1]), _compile(node[2]))
    if tag == "cond":
        cond, then, other = _compile(node[1]), _compile(node[2]), _compile(node[3])

        def choose(env: Env) -> Any:
            test = cond(env)
            if test is True:
                return then(env)
            if test is False:
                return other(env)
            raise Fallback("?: on a non-bool")

        return choose
    if tag == "bin":
        return _binary(node[1], node[2], node[3])
    if tag == "has":
        target, field = _compile(node[1]), node[2]

        def has(env: Env) -> bool:
            value = target(env)
            if type(value) is not dict:
                raise Fallback("has() on a non-map")
            return field in value

        return has
    if tag == "call":
        name, args = node[1], [_compile(a) for a in node[2]]
        if name == "size":
            arg = args[0]
            return lambda env: size(arg(env))
        if name == "double":
            arg = args[0]
            return lambda env: _double(arg(env))
        first, second = args
        return lambda env: _days_between(first(env), second(env))
    if tag == "method":
        name, target = node[1], _compile(node[2])
        if name == "size":
            return lambda env: size(target(env))
        method, arg = _str_method(name), _compile(node[3][0])
        return lambda env: method(target(env), arg(env))
    if tag == "comp":
        return _comprehension(node[1], _compile(node[2]), node[3], _compile(node[4]))
    raise _Unsupported(tag)  # pragma: no cover - the parser makes no other node


def _index(target: Fn, key: Fn) -> Fn:
    def index(env: Env) -> Any:
        container = target(env)
        k = key(env)
        tc = type(container)
        if tc is list:
            if type(k) is not int or not 0 <= k < len(container):
                raise Fallback("bad list index")
            return container[k]
        if tc is dict:
            if type(k) is not str:
                raise Fallback("non-string map key")
            return container[k]
        raise Fallback("index into a scalar")

    return index


def _and(left: Fn, right: Fn) -> Fn:
    def conjunction(env: Env) -> bool:
        try:
            a = left(env)
        except Exception:  # noqa: BLE001 - CEL lets a false right side absorb the error
            a = _MISSING
        if a is False:
            return False
        b = right(env)
        if a is True:
            return _bool(b)
        if b is False:
            return False
        raise Fallback("&& with an error or non-bool")

    return conjunction


def _or(left: Fn, right: Fn) -> Fn:
    def disjunction(env: Env) -> bool:
        try:
            a = left(env)
        except Exception:  # noqa: BLE001 - CEL lets a true right side absorb the error
            a = _MISSING
        if a is True:
            return True
        b = right(env)
        if a is False:
            return _bool(b)
        if b is True:
            return True
        raise Fallback("|| with an error or non-bool")

    return disjunction


def _binary(op: str, left_node: Node, right_node: Node) -> Fn:
    left, right = _compile(left_node), _compile(right_node)
    constant = right_node[1] if right_node[0] == "lit" else _MISSING
    if op in ("==", "!=") and constant is not _MISSING and (type(constant) is str or constant is None
                                                               or type(constant) is bool):
        # str, null and bool equal only themselves in CEL and in Python (identity for null/bool)
        if type(constant) is str:
            if op == "==":
                return lambda env: left(env) == constant
            return lambda env: left(env) != constant
        if op == "==":
            return lambda env: left(env) is constant
        return lambda env: left(env) is not constant
    function = _BINARY[op]
    return lambda env: function(left(env), right(env))


def _comprehension(macro: str, target: Fn, var: str, body: Fn) -> Fn:
    def run(env: Env) -> bool:
        items = target(env)
        if type(items) is not list:
            raise Fallback(f"{macro} over a non-list")
        saved = env.get(var, _MISSING)
        try:
            if macro == "all":
                for item in items:
                    env[var] = item
                    value = body(env)
                    if value is False:
                        return False
                    if value is not True:
                        raise Fallback("all() body is not a bool")
                return True
            if macro == "exists":
                for item in items:
                    env[var] = item
                    value = body(env)
                    if value is True:
                        return True
                    if value is not False:
                        raise Fallback("exists() body is not a bool")
                return False
            count = 0
            for item in items:
                env[var] = item
                value = body(env)
                if value is True:
                    count += 1
                elif value is not False:
                    raise Fallback("exists_one() body is not a bool")
            return count == 1
        finally:
            if saved is _MISSING:
                env.pop(var, None)
            else:
                env[var] = saved

    return run


@dataclass(frozen=True)
class FastExpr:
    """A compiled fast-path expression: ``value(env)`` and ``test(env)``, or raise Fallback."""

    source: str
    fn: Fn

    def value(self, env: Env) -> Any:
        """The expression's value over ``env`` (plain Python values); Fallback when unsure."""
        try:
            return self.fn(env)
        except Fallback:
            raise
        except Exception as exc:  # noqa: BLE001 - anything unexpected: let CEL decide
            raise Fallback(f"{type(exc).__name__}: {exc}") from None

    def test(self, env: Env) -> bool:
        """The expression's value, which must be a bool."""
        value = self.value(env)
        if value is True or value is False:
            return value
        raise Fallback("result is not a bool")


def compile_fast(source: str) -> FastExpr | None:
    """Compile ``source`` for the fast path once; None when it is outside the subset."""
    node = parse(source)
    if node is None:
        return None
    try:
        return FastExpr(source, _compile(node))
    except (_Unsupported, RecursionError):
        return None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (JSON "\ud800"): CEL refuses the value
        return False
    return True


def plain(value: Any) -> bool:
    """True when CEL takes ``value`` exactly as the fast path sees it.

    That is JSON-shaped data: maps with string keys, lists, strings without lone
    surrogates, ints within int64, doubles, bools and null. Anything else (a lone
    surrogate makes CEL refuse the whole variable; a bigger int becomes a uint or a
    double there) sends every check that reads the value to CEL. Checked field by
    field over all records at once, with C-level passes where the types allow."""
    return _plain_values([value])


_PLAIN_TYPES = frozenset([str, int, float, bool, type(None), list, dict])
_STRINGISH = frozenset([str, type(None)])
_INTEGRAL = frozenset([int, bool, type(None)])


def _text_ok(strings: Any) -> bool:
    text = "".join(strings)
    return text.isascii() or _utf8(text)


def _plain_values(values: list[Any]) -> bool:  # noqa: C901 - one branch per value type
    try:
        text = "".join(values)  # the commonest column: strings only
    except TypeError:
        pass
    else:
        return text.isascii() or _utf8(text)
    types = set(map(type, values))
    if not types <= _PLAIN_TYPES:
        return False
    if str in types:
        strings = filter(None, values) if types <= _STRINGISH else [v for v in values if type(v) is str]
        if not _text_ok(strings):
            return False
    if int in types:
        ints = list(filter(None, values)) if types <= _INTEGRAL else [v for v in values if type(v) is int]
        if ints and (min(ints) < INT_MIN or max(ints) > INT_MAX):
            return False
    if dict in types:
        maps = values if len(types) == 1 else [v for v in values if type(v) is dict]
        if not _plain_maps(maps):
            return False
    if list in types:
        lists = values if len(types) == 1 else [v for v in values if type(v) is list]
        if not _plain_values(list(chain.from_iterable(lists))):
            return False
    return True


def _plain_maps(maps: list[dict[Any, Any]]) -> bool:
    """Maps checked column by column; records usually share one set of keys."""
    first = list(maps[0])
    same_shape = set(map(len, maps)) == {len(first)}
    keys = first if same_shape else list(set(chain.from_iterable(map(dict.keys, maps))))
    if any(type(key) is not str for key in keys) or not _text_ok(keys):
        return False
    for key in keys:
        try:
            column = list(map(itemgetter(key), maps))
        except KeyError:  # not the same keys after all
            column = [m[key] for m in maps if key in m]
            if same_shape:
                return _plain_maps_slow(maps)
        if not _plain_values(column):
            return False
    return True


def _plain_maps_slow(maps: list[dict[Any, Any]]) -> bool:
    keys = set(chain.from_iterable(map(dict.keys, maps)))
    if any(type(key) is not str for key in keys) or not _text_ok(keys):
        return False
    return all(_plain_values([m[key] for m in maps if key in m]) for key in keys)


# ----------------------------------------------------------------------------- columns
# An `each` rule judged over all records at once: record fields become columns
# (cached per worker and shared by every check reading the kind) and operators run
# over whole columns with C-level map(). Any doubt (a missing field, mixed types, an
# element that would raise) abandons the attempt: the record-by-record closures then
# decide, and they defer to CEL in turn. When no element raises anywhere, evaluating
# both sides of && and || changes nothing, so the column answer is the closure answer.


class _Bail(Exception):  # noqa: N818
    """The column evaluation is not sure: judge record by record instead."""


@dataclass(frozen=True)
class _Col:
    values: list[Any]
    types: frozenset[type]
    key: Any = None
    """What the column is made of (fields, constants, operators), when that alone decides it."""


@dataclass(frozen=True)
class _Const:
    value: Any

    @property
    def key(self) -> Any:
        return ("const", type(self.value).__name__, repr(self.value))


Vec = _Col | _Const
VFn = Callable[[Env, list[Any], "Columns"], Vec]


class Columns:
    """Columns of record lists, built once per worker and kept with the records.

    Fields, and the results of operators over them: checks over the same evidence
    often share parts (``r.protected``, a comparison with the same parameter), and
    each part is then computed once. A result is remembered under what it is made
    of (:attr:`_Col.key`), so equal parts of different rules share it; at most
    ``MAX_REMEMBERED`` results are kept (oldest dropped first)."""

    MAX_REMEMBERED = 2048

    def __init__(self) -> None:
        self.cache: dict[tuple[int, str], tuple[list[Any], _Col]] = {}
        self.remembered: dict[tuple[int, Any], tuple[list[Any], _Col]] = {}

    def records(self, records: list[Any]) -> _Col:
        key = (id(records), "")
        hit = self.cache.get(key)
        if hit is None or hit[0] is not records:
            hit = (records, _Col(records, frozenset(map(type, records)), ("r",)))
            self.cache[key] = hit
        return hit[1]

    def remember(self, records: list[Any], key: Any, compute: Callable[[], _Col]) -> _Col:
        """``compute()``, or the column remembered under ``key`` for these records."""
        if key is None:
            return compute()
        slot = (id(records), key)
        hit = self.remembered.get(slot)
        if hit is not None and hit[0] is records:
            return hit[1]
        column = compute()
        while self.remembered and len(self.remembered) >= self.MAX_REMEMBERED:
            del self.remembered[next(iter(self.remembered))]
        self.remembered[slot] = (records, _Col(column.values, column.types, key))
        return self.remembered[slot][1]

    def field(self, records: list[Any], name: str) -> _Col:
        key = (id(records), name)
        hit = self.cache.get(key)
        if hit is None or hit[0] is not records:
            try:
                values = list(map(itemgetter(name), records))
            except Exception:  # noqa: BLE001 - a record without the field, or not a map
                raise _Bail from None
            hit = (records, _Col(values, frozenset(map(type, values)), ("field", name)))
            self.cache[key] = hit
        return hit[1]


def _key(*parts: Any) -> Any:
    """The key of an operator's column: None unless every operand has one."""
    return None if any(part is None for part in parts[1:]) else parts


def _free(node: Node) -> set[str]:
    tag = node[0]
    if tag == "id":
        return {node[1]}
    if tag == "lit":
        return set()
    if tag == "comp":
        return _free(node[2]) | (_free(node[4]) - {node[3]})
    out: set[str] = set()
    for part in node[1:]:
        if isinstance(part, tuple):
            out |= _free(part)
        elif isinstance(part, list):
            for item in part:
                out |= _free(item)
    return out


def _column(vec: Vec, size: int) -> _Col:
    if isinstance(vec, _Col):
        return vec
    return _Col([vec.value] * size, frozenset([type(vec.value)]))


_BOOL = frozenset([bool])
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}


def _bools(values: list[Any]) -> _Col:
    return _Col(values, _BOOL if values else frozenset())


def _vcompile(node: Node, var: str) -> VFn:  # noqa: C901 - one case per node kind
    tag = node[0]
    if var not in _free(node):
        scalar = _compile(node)

        def constant(env: Env, records: list[Any], columns: Columns) -> Vec:
            try:
                return _Const(scalar(env))
            except Exception:  # noqa: BLE001
                raise _Bail from None

        return constant
    if tag == "id":  # the record variable itself
        return lambda env, records, columns: columns.records(records)
    if tag == "sel":
        target, name = _vcompile(node[1], var), node[2]

        def select(env: Env, records: list[Any], columns: Columns) -> Vec:
            base = target(env, records, columns)
            assert isinstance(base, _Col)
            if base.values is records:
                return columns.field(records, name)
            try:
                values = list(map(itemgetter(name), base.values))
            except Exception:  # noqa: BLE001
                raise _Bail from None
            return _Col(values, frozenset(map(type, values)))

        return select
    if tag == "not":
        inner = _vcompile(node[1], var)

        def negate(env: Env, records: list[Any], columns: Columns) -> Vec:
            col = _column(inner(env, records, columns), len(records))
            if not col.types <= _BOOL:
                raise _Bail
            return columns.remember(records, _key("not", col.key),
                                    lambda: _bools(list(map(operator.not_, col.values))))

        return negate
    if tag in ("and", "or"):
        left, right = _vcompile(node[1], var), _vcompile(node[2], var)
        decisive = tag == "or"
        combine = operator.or_ if decisive else operator.and_

        def logic(env: Env, records: list[Any], columns: Columns) -> Vec:
            a = left(env, records, columns)
            if isinstance(a, _Const):
                if a.value is decisive:
                    return a
                if a.value is not (not decisive):
                    raise _Bail
                b = _column(right(env, records, columns), len(records))
                if not b.types <= _BOOL:
                    raise _Bail
                return b
            b = _column(right(env, records, columns), len(records))
            if not a.types <= _BOOL or not b.types <= _BOOL:
                raise _Bail
            return columns.remember(records, _key(tag, a.key, b.key),
                                    lambda: _bools(list(map(combine, a.values, b.values))))

        return logic
    if tag == "bin" and node[1] in _OPS:
        return _vcompare(node[1], _vcompile(node[2], var), _vcompile(node[3], var))
    if tag == "bin" and node[1] == "in":
        return _vcontains(_vcompile(node[2], var), _vcompile(node[3], var))
    scalar = _compile(node)

    def each_record(env: Env, records: list[Any], columns: Columns) -> Vec:
        values = []
        try:
            for record in records:
                env[var] = record
                values.append(scalar(env))
        except Exception:  # noqa: BLE001
            raise _Bail from None
        return _Col(values, frozenset(map(type, values)))

    return each_record


def _vcompare(op: str, left: VFn, right: VFn) -> VFn:
    function = _OPS[op]
    ordering = op not in ("==", "!=")

    def compare(env: Env, records: list[Any], columns: Columns) -> Vec:
        a, b = left(env, records, columns), right(env, records, columns)
        return columns.remember(records, _key(op, a.key, b.key), lambda: computed(a, b, len(records)))

    def computed(a: Vec, b: Vec, size: int) -> _Col:
        if isinstance(b, _Const) and isinstance(a, _Col) and not ordering:
            constant = b.value
            if type(constant) is str:  # equal only to the same string, in CEL and Python
                return _bools(list(map(function, a.values, repeat(constant))))
            if constant is None or type(constant) is bool:
                same = operator.is_ if op == "==" else operator.is_not
                return _bools(list(map(same, a.values, repeat(constant))))
        ca, cb = _column(a, size), _column(b, size)
        kinds = ca.types | cb.types
        if len(kinds) > 1 or not kinds <= frozenset(_ORDERED):
            if kinds:
                raise _Bail
            return _bools([])
        return _bools(list(map(function, ca.values, cb.values)))

    return compare


def _vcontains(left: VFn, right: VFn) -> VFn:
    def member(env: Env, records: list[Any], columns: Columns) -> Vec:
        a, b = left(env, records, columns), right(env, records, columns)
        if not isinstance(b, _Const) or isinstance(a, _Const):
            raise _Bail
        return columns.remember(records, _key("in", a.key, b.key), lambda: computed(a, b))

    def computed(a: _Col, b: _Const) -> _Col:
        collection = b.value
        if type(collection) is list and all(type(e) is str for e in collection):
            if not a.types <= frozenset([str, type(None)]):
                raise _Bail
            return _bools(list(map(frozenset(collection).__contains__, a.values)))
        if type(collection) is dict and a.types <= frozenset([str]):
            return _bools(list(map(collection.__contains__, a.values)))
        raise _Bail

    return member


@dataclass(frozen=True)
class FastRule:
    """An ``each`` rule over record variable ``r``: judged over columns, or record by record."""

    record: FastExpr
    columns: VFn

    def judge_all(self, env: Env, records: list[Any], columns: Columns) -> list[bool] | None:
        """Every record's verdict when all are certain bools; None to go record by record."""
        try:
            result = self.columns(env, records, columns)
        except _Bail:
            return None
        except Exception:  # noqa: BLE001
            return None
        if isinstance(result, _Const):
            return [result.value] * len(records) if type(result.value) is bool else None
        return result.values if result.types <= _BOOL else None


def compile_rule(source: str, var: str = "r") -> FastRule | None:
    """Compile an ``each`` rule once for both ways of judging it; None outside the subset."""
    node = parse(source)
    if node is None:
        return None
    try:
        return FastRule(FastExpr(source, _compile(node)), _vcompile(node, var))
    except (_Unsupported, RecursionError):
        return None
