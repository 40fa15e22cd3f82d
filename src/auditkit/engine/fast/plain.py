"""Whether CEL reads a value exactly as the fast path sees it (JSON-shaped data)."""

from __future__ import annotations

from itertools import chain
from operator import itemgetter
from typing import Any

from .parser import INT_MAX, INT_MIN


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
