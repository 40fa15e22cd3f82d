"""The shipped JSON Schemas (2020-12) and validation against them with source positions.

``names()`` lists them, ``load(name)`` returns one, and ``problems(located, name)``
validates a loaded YAML/JSON document and returns every violation as one line
``file:line:col /json/pointer: message``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError, ProblemList, shorten
from ..yamlio import Located, pointer

_DIR = Path(__file__).resolve().parent


def names() -> list[str]:
    """Names of the shipped schemas (``control-family``, ``profile``, ...)."""
    return sorted(p.name.removesuffix(".schema.json") for p in _DIR.glob("*.schema.json"))


def path(name: str) -> Path:
    """File of the schema ``name``; raises a usage-style error naming the choices."""
    candidate = _DIR / f"{name}.schema.json"
    if not candidate.is_file():
        raise InvalidInputError(
            f"no schema named {name!r}", hint=f"choose one of: {', '.join(names())}"
        )
    return candidate


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The schema ``name`` as a dict."""
    data: dict[str, Any] = json.loads(path(name).read_text(encoding="utf-8"))
    return data


@functools.cache
def validator(name: str) -> Any:
    """A compiled Draft 2020-12 validator for ``name`` (cached)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load(name))


@functools.cache
def fast_validator(name: str) -> Any:
    """A Draft 2020-12 validator for ``name`` compiled once by jsonschema-rs (Rust).

    Two orders of magnitude faster than :func:`validator` on large documents, for
    a yes/no answer; messages still come from :func:`validator`, which words them
    as every other refusal is worded. jsonschema-rs also refuses what JSON cannot
    hold (NaN, infinities, lone surrogates), so a "no" is confirmed by
    :func:`validator` before it is reported."""
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(load(name))


def problems(located: Located, name: str) -> list[str]:
    """Every violation of schema ``name`` in ``located``, one line each, in document order.

    A document the compiled jsonschema-rs validator accepts has none; only one it
    refuses is walked by the Python validator, whose errors :mod:`.messages` words."""
    if fast_validator(name).is_valid(located.data):
        return []
    return lines(located, validator(name).iter_errors(located.data))


def lines(located: Located, errors: Any) -> list[str]:
    """jsonschema ``errors`` of ``located`` as ``file:line:col /pointer: message`` lines, in document order."""
    from .messages import translate

    found = []
    for path_parts, message in translate(errors):
        ptr = pointer(path_parts)
        found.append((located.where(ptr), ptr or "/", message))
    found.sort(key=lambda item: _sort_key(item[0]))
    return [f"{where} {ptr}: {msg}" for where, ptr, msg in found]


def _sort_key(where: str) -> tuple[int, int]:
    parts = where.rsplit(":", 2)
    try:
        return int(parts[-2]), int(parts[-1])
    except (ValueError, IndexError):
        return 0, 0


def check(located: Located, name: str) -> None:
    """Raise :class:`ProblemList` listing every violation of schema ``name``."""
    found = problems(located, name)
    if found:
        raise ProblemList(found)


def model_problems(located: Located, exc: Any, base: tuple[str | int, ...] = ()) -> list[str]:
    """One ``file:line:col /pointer: message`` line per error of a pydantic ``ValidationError``
    raised on data of ``located`` found at ``base`` (what the schema lets through and the typed
    model refuses, e.g. the date 2026-02-30)."""
    found = []
    for error in exc.errors():
        ptr = pointer([*base, *(p for p in error["loc"] if isinstance(p, str | int))])
        message = " ".join(str(error["msg"]).split())
        found.append(f"{located.where(ptr)} {ptr or '/'}: {shorten(message, 240)}")
    return found


def build(model: Any, data: Any, located: Located, base: tuple[str | int, ...] = ()) -> Any:
    """``model.model_validate(data)``, or :class:`ProblemList` (exit 3) naming every place it refuses."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProblemList(model_problems(located, exc, base)) from None
