"""Turn jsonschema's validation errors into one plain line per problem.

jsonschema reports an unknown key and the required key it was meant to be as two
errors ("'organisation' was unexpected", "'organization' is required") and shows
the raw regular expression when a ``pattern`` fails. :func:`translate` is the one
place that says such things in words: an unknown key with the nearest allowed
key, a missing key, a timestamp without a time zone with an example, a pattern in
words, an enum value with the nearest allowed value, a type mismatch. Every
loader of a schema-checked file (catalog, profile, assessment, manifest,
results) goes through it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

MAX_MESSAGE = 240
_EXAMPLE_TIME = "2026-09-30T23:00:00Z"
_EXAMPLE_DATE = "2026-09-30"

_TIMESTAMP = (
    "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    "(\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_DATES = ("^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

PATTERN_WORDS: dict[str, str] = {
    "^[0-9a-f]{64}$": "a SHA-256 digest: 64 lowercase hexadecimal characters",
    "^[A-Z]{2,6}$": "a family id: 2 to 6 capital letters, e.g. DL",
    "^[A-Za-z][A-Za-z0-9]{0,15}$": "a family id: a letter, then up to 15 letters or digits, e.g. DL or ac",
    "^[A-Za-z][A-Za-z0-9]*([-._][A-Za-z0-9]+)*$": (
        "an id: letters and digits in parts joined by single '-', '.' or '_', e.g. DL-1, DL-1.p1 or ac-2.1"
    ),
    "^[A-Za-z][A-Za-z0-9_.\\-]{0,63}$": "an identifier: a letter, then up to 63 letters, digits, '_', '.' or '-'",
    "^[A-Z]{2,6}-[0-9]{1,4}$": "a control id: family id, '-', number, e.g. DL-1",
    "^[A-Z]{2,6}-[0-9]{1,4}\\.[0-9]{1,3}$": "a check id: control id, '.', number, e.g. DL-1.2",
    "^[A-Z]{2,6}-[0-9]{1,4}\\.p[0-9]{1,3}$": "a procedure id: control id, '.p', number, e.g. DL-1.p1",
    "^[A-Z]{2}-[0-9]{1,2}(\\([0-9]{1,2}\\))?$": "a NIST SP 800-53 control, e.g. AC-4 or SA-9(5)",
    "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$": "an e-mail address, e.g. dana.whit@acme.example",
    "^[a-z0-9][a-z0-9-]{0,63}$": "lowercase letters, digits and '-' (up to 64), e.g. acme-2026",
    "^[a-z0-9][a-z0-9._-]{0,127}$": "lowercase letters, digits, '.', '_' and '-' (up to 128), e.g. acme-us-2026-q3",
    "^[a-z][a-z-]*$": "lowercase letters and '-', e.g. partially-effective",
    "^[a-z][a-z0-9]*(-[a-z0-9]+)*$": "lowercase words joined by single '-', e.g. datastore-inventory",
    "^[a-z][a-z0-9_]{0,63}$": "a lowercase identifier: letters, digits and '_' (up to 64), e.g. max_age_days",
    "^(?!/)(?![A-Za-z]:)(?!.*//)(?!(.*/)?\\.\\.?(/|$))(?!.*/$)[^\\\\\\x00-\\x1f\\x7f]+$": (
        "a relative path with '/' separators, no '..', '//', backslash or control characters, "
        "e.g. evidence/datastore-inventory.json"
    ),
}

_TYPE_WORDS = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "null" if value is None else type(value).__name__


def _nearest(word: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _allowed_keys(schema: dict[str, Any], instance: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The keys the schema allows, and those of ``instance`` it does not."""
    props = list(schema.get("properties") or {})
    patterns = list(schema.get("patternProperties") or {})
    unknown = [k for k in instance if k not in props and not any(re.search(p, str(k)) for p in patterns)]
    return props, unknown


def _pattern(value: Any, pattern: str, description: str | None) -> str:
    if pattern == _TIMESTAMP and isinstance(value, str):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?", value):
            return f"timestamp {_shown(value)} needs a time zone, e.g. {_EXAMPLE_TIME}"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return f"{_shown(value)} needs a time and a time zone, e.g. {value}T00:00:00Z"
        return f"{_shown(value)} is not a timestamp: write YYYY-MM-DDTHH:MM:SSZ, e.g. {_EXAMPLE_TIME}"
    if pattern in _DATES:
        if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}[T ]", value):
            return f"{_shown(value)} should be a date without a time, e.g. {value[:10]}"
        return f"{_shown(value)} is not a date: write YYYY-MM-DD, e.g. {_EXAMPLE_DATE}"
    words = PATTERN_WORDS.get(pattern)
    if words is None:
        words = description.rstrip(".") if description else "the expected form"
    hint = ""
    if isinstance(value, str) and value != value.lower() and re.fullmatch(pattern, value.lower()):
        hint = f" (did you mean {value.lower()!r}?)"
    return f"{_shown(value)} is not {words}{hint}"


def _bounds(error: Any) -> str | None:
    v, limit, value = error.validator, error.validator_value, error.instance
    if v == "minLength":
        return "must not be empty" if limit == 1 else f"{_shown(value)} is shorter than {limit} characters"
    if v == "maxLength":
        return f"text of {len(value)} characters is longer than the limit of {limit}"
    if v == "minItems":
        return "the list must not be empty" if limit == 1 else f"the list needs at least {limit} entries"
    if v == "maxItems":
        return f"the list has {len(value)} entries, more than the limit of {limit}"
    if v in ("minimum", "exclusiveMinimum"):
        return f"{value} is below the lowest allowed value {limit}" + (" (exclusive)" if v[0] == "e" else "")
    if v in ("maximum", "exclusiveMaximum"):
        return f"{value} is above the highest allowed value {limit}" + (" (exclusive)" if v[0] == "e" else "")
    if v == "uniqueItems":
        return "the list holds the same entry twice"
    if v == "minProperties":
        return "the mapping must not be empty"
    return None


def _one(error: Any) -> str:
    v = error.validator
    value = error.instance
    if v == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in wanted)
        return f"expected {words}, found {_TYPE_WORDS.get(_type_of(value), _type_of(value))} {_shown(value)}"
    if v in ("enum", "const"):
        allowed = [str(x) for x in (error.validator_value if v == "enum" else [error.validator_value])]
        near = _nearest(str(value), allowed) if isinstance(value, str) else None
        hint = f" (did you mean {near!r}?)" if near else ""
        listing = ", ".join(allowed[:12]) + (", …" if len(allowed) > 12 else "")
        return f"{_shown(value)} is not allowed{hint}; choose one of: {listing}"
    if v == "pattern":
        return _pattern(value, str(error.validator_value), error.schema.get("description"))
    if v in ("oneOf", "anyOf") and error.context:
        best = min(error.context, key=lambda e: (-len(e.absolute_path), len(e.message)))
        return _one(best)
    if v == "not":
        return f"{_shown(value)} is not allowed here"
    bounded = _bounds(error)
    return bounded if bounded is not None else " ".join(str(error.message).split())


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def translate(errors: Iterable[Any]) -> list[tuple[list[str | int], str]]:
    """``(path, message)`` per problem, one line each, from jsonschema errors.

    An unknown key and a missing required key of the same mapping that look
    alike become one line: "unknown key 'organisation' (did you mean
    'organization'?)".
    """
    errors = list(errors)
    missing: dict[tuple[str | int, ...], list[str]] = {}
    unknown: dict[tuple[str | int, ...], tuple[list[str], list[str]]] = {}
    out: list[tuple[list[str | int], str]] = []
    for error in errors:
        where = tuple(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            names = [k for k in error.validator_value if k not in error.instance]
            missing.setdefault(where, []).extend(n for n in names if n not in missing.get(where, []))
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            unknown[where] = _allowed_keys(error.schema, error.instance)
        else:
            out.append((list(where), _clip(_one(error))))
    for where, (allowed, keys) in unknown.items():
        still_missing = missing.setdefault(where, [])
        for key in keys:
            near = _nearest(str(key), still_missing) or _nearest(str(key), allowed)
            if near in still_missing:
                still_missing.remove(near)
            hint = f" (did you mean {near!r}?)" if near else f" (allowed: {', '.join(allowed)})"
            out.append(([*where, key], _clip(f"unknown key {str(key)!r}{hint}")))
    for where, names in missing.items():
        for name in names:
            out.append((list(where), f"missing required key {name!r}"))
    return out
