"""The fast subset's parser: CEL's tokens (:mod:`auditkit.engine.lexer`) to typed nodes (:mod:`.nodes`).

Recursive descent following the CEL grammar (cel-spec ``CEL.g4``); anything outside
the subset raises :class:`Unsupported`, and :func:`parse` then answers None.
"""

from __future__ import annotations

from ..lexer import RESERVED, LexError, Token, tokenize
from .nodes import (
    And,
    Binary,
    Call,
    Comprehension,
    Cond,
    Has,
    Ident,
    Index,
    ListLit,
    Lit,
    Method,
    Neg,
    Node,
    Not,
    Or,
    Select,
)

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
RELATIONS = frozenset({"<", "<=", ">", ">=", "==", "!=", "in"})
FUNCTIONS = {"size": 1, "days_between": 2, "double": 1}
METHODS = {"startsWith": 1, "endsWith": 1, "contains": 1, "size": 0}
MACROS = frozenset({"all", "exists", "exists_one"})
_LITERALS = frozenset({"float", "str", "bool", "null"})


class Unsupported(Exception):  # noqa: N818 - a signal, not an error
    """The source is outside the fast subset."""


class _Parser:
    def __init__(self, found: list[Token]):
        self.tokens = found
        self.pos = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def is_op(self, *ops: str) -> bool:
        token = self.tokens[self.pos]
        return token.kind == "op" and token.value in ops

    def expect(self, op: str) -> None:
        if not self.is_op(op):
            raise Unsupported(f"expected {op!r}")
        self.pos += 1

    def parse(self) -> Node:
        node = self.expr()
        if self.peek().kind != "end":
            raise Unsupported("trailing input")
        return node

    def expr(self) -> Node:
        test = self.cond_or()
        if self.is_op("?"):
            self.pos += 1
            then = self.cond_or()
            self.expect(":")
            return Cond(test, then, self.expr())
        return test

    def cond_or(self) -> Node:
        node = self.cond_and()
        while self.is_op("||"):
            self.pos += 1
            node = Or(node, self.cond_and())
        return node

    def cond_and(self) -> Node:
        node = self.relation()
        while self.is_op("&&"):
            self.pos += 1
            node = And(node, self.relation())
        return node

    def relation(self) -> Node:
        node = self.addition()
        while self.peek().kind == "op" and self.peek().value in RELATIONS:
            node = Binary(self.take().value, node, self.addition())
        return node

    def addition(self) -> Node:
        node = self.multiplication()
        while self.is_op("+", "-"):
            node = Binary(self.take().value, node, self.multiplication())
        return node

    def multiplication(self) -> Node:
        node = self.unary()
        while self.is_op("*", "/", "%"):
            node = Binary(self.take().value, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.is_op("!"):
            self.pos += 1
            return Not(self.negation())
        if self.is_op("-"):
            self.pos += 1
            return self.minus()
        return self.member(self.primary())

    def negation(self) -> Node:
        if self.is_op("!"):
            self.pos += 1
            return Not(self.negation())
        return self.member(self.primary())

    def minus(self) -> Node:
        """A run of '-' (the first already taken). Only a lone '-' folds into a numeric literal
        (CEL's grammar: ``'-'+ member`` takes a longer run whole, so ``--9223372036854775808``
        does not parse there either)."""
        run = 1
        while self.is_op("-"):
            self.pos += 1
            run += 1
        token = self.peek()
        if run == 1 and token.kind in ("int", "float"):  # '-' NUM is a negative literal in CEL
            self.pos += 1
            if token.kind == "int" and -token.value < INT_MIN:
                raise Unsupported("int literal out of range")
            return self.member(Lit(-token.value))
        node: Node = self.member(self.primary())
        for _ in range(run):
            node = Neg(node)
        return node

    def primary(self) -> Node:
        token = self.take()
        kind, value = token.kind, token.value
        if kind in _LITERALS:
            return Lit(value)
        if kind == "int":
            if value > INT_MAX:
                raise Unsupported("int literal out of range")
            return Lit(value)
        if kind == "id":
            if not self.is_op("("):
                return Ident(value)
            self.pos += 1
            if value == "has":
                arg = self.expr()
                self.expect(")")
                if not isinstance(arg, Select):
                    raise Unsupported("has() needs a field selection")
                return Has(arg.target, arg.field)
            args = self.args()
            if FUNCTIONS.get(value) != len(args):
                raise Unsupported(f"function {value}")
            return Call(value, args)
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
            return ListLit(tuple(items))
        raise Unsupported(f"unsupported token {kind} {value!r}")

    def args(self) -> tuple[Node, ...]:
        args: list[Node] = []
        if self.is_op(")"):
            self.pos += 1
            return ()
        while True:
            args.append(self.expr())
            if self.is_op(")"):
                self.pos += 1
                return tuple(args)
            self.expect(",")

    def member(self, node: Node) -> Node:
        while True:
            if self.is_op("."):
                self.pos += 1
                name = self.take()
                if name.kind != "id":
                    raise Unsupported("field name expected")
                if not self.is_op("("):
                    node = Select(node, name.value)
                    continue
                self.pos += 1
                if name.value in MACROS:
                    var = self.take()
                    if var.kind != "id":
                        raise Unsupported("macro variable expected")
                    self.expect(",")
                    body = self.expr()
                    self.expect(")")
                    node = Comprehension(name.value, node, var.value, body)
                else:
                    args = self.args()
                    if METHODS.get(name.value) != len(args):
                        raise Unsupported(f"method {name.value}")
                    node = Method(name.value, node, args)
            elif self.is_op("["):
                self.pos += 1
                key = self.expr()
                self.expect("]")
                node = Index(node, key)
            else:
                return node


def _tokens(source: str) -> list[Token]:
    """CEL's tokens of ``source`` (:mod:`auditkit.engine.lexer`); what the subset lacks is refused."""
    try:
        found = tokenize(source)
    except LexError as exc:
        raise Unsupported(exc.message) from None
    for token in found:
        if token.kind in ("uint", "bytes"):
            raise Unsupported(f"{token.kind} literal")
        if token.kind == "id" and token.value in RESERVED:
            raise Unsupported("reserved word")
    return found


def parse(source: str) -> Node | None:
    """The syntax tree of ``source``, or None when it is outside the fast subset."""
    try:
        return _Parser(_tokens(source)).parse()
    except (Unsupported, RecursionError, IndexError, ValueError):
        return None
