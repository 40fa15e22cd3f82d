"""Typed parse nodes of the fast subset of CEL, and the free variables of a tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Lit:
    value: Any


@dataclass(frozen=True)
class Ident:
    name: str


@dataclass(frozen=True)
class Select:
    """``target.field``."""

    target: Node
    field: str


@dataclass(frozen=True)
class Index:
    """``target[key]``."""

    target: Node
    key: Node


@dataclass(frozen=True)
class ListLit:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True)
class Cond:
    """``test ? then : other``."""

    test: Node
    then: Node
    other: Node


@dataclass(frozen=True)
class Binary:
    """A relation (``< <= > >= == != in``) or arithmetic (``+ - * / %``)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Has:
    """``has(target.field)``."""

    target: Node
    field: str


@dataclass(frozen=True)
class Call:
    """``size(x)``, ``double(x)``, ``days_between(a, b)``."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Method:
    """``target.startsWith(x)`` and the like."""

    name: str
    target: Node
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Comprehension:
    """``target.all(var, body)``, ``exists``, ``exists_one``."""

    macro: str
    target: Node
    var: str
    body: Node


Node = (Lit | Ident | Select | Index | ListLit | Not | Neg | And | Or | Cond | Binary | Has | Call | Method
        | Comprehension)


def free(node: Node) -> frozenset[str]:
    """The variables ``node`` reads (comprehension variables excluded inside their body)."""
    match node:
        case Ident(name):
            return frozenset([name])
        case Lit():
            return frozenset()
        case Comprehension(_, target, var, body):
            return free(target) | (free(body) - {var})
        case Select(target) | Has(target) | Not(target) | Neg(target):
            return free(target)
        case Index(a, b) | And(a, b) | Or(a, b) | Binary(_, a, b):
            return free(a) | free(b)
        case Cond(a, b, c):
            return free(a) | free(b) | free(c)
        case ListLit(items) | Call(_, items):
            return frozenset().union(*map(free, items))
        case Method(_, target, args):
            return free(target).union(*map(free, args))
    raise TypeError(node)  # pragma: no cover
