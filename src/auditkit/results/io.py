"""Reading and writing ``results.json``: deterministic bytes, validated against the shipped schema.

The schema file ``schemas/results.schema.json`` is generated from the model
(``python -m auditkit.results.io --schema``); a test keeps the two in step.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .. import schemas, yamlio
from ..errors import InternalError, InvalidInputError, ProblemList
from .model import Results

MAX_RESULTS_BYTES = 256 * 1024 * 1024


def to_json_bytes(results: Results) -> bytes:
    """The canonical serialisation: same results, same bytes.

    Checked against the shipped schema by a validator compiled once (jsonschema-rs)
    and written by orjson (~20× faster than the standard library, in the same
    layout: two-space indent, UTF-8, keys in model order; only doubles with an
    exponent are spelt differently, ``1e-07`` as ``1e-7``). What either cannot take
    (lone surrogates from evidence, integers past 64 bits) goes the standard
    library's way, which also reports what fails the schema."""
    import orjson

    data = results.model_dump(mode="json")
    if schemas.fast_validator("results").is_valid(data):
        try:
            return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
        except TypeError:
            return _stdlib_json(data)
    problems = list(schemas.validator("results").iter_errors(data))
    if problems:
        first = problems[0]
        raise InternalError(f"results fail their own schema at /{'/'.join(map(str, first.absolute_path))}: "
                            f"{first.message[:200]}")
    return _stdlib_json(data)


def _stdlib_json(data: Any) -> bytes:
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from evidence: escape everything, still valid JSON
        return (json.dumps(data, indent=2, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")


def load_results(path: Path) -> Results:
    """Load and validate a results file written by ``auditkit assess``."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_RESULTS_BYTES:
            raise InvalidInputError("results file is too large", where=source)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError("file not found", where=source) from None
    return results_from_bytes(raw, source)


def results_from_bytes(raw: bytes, source: str) -> Results:
    try:
        data: Any = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidInputError(f"not valid JSON: {str(exc)[:200]}", where=source,
                                hint="give the results.json written by `auditkit assess`") from None
    located = yamlio.Located(data, source, {})
    found = schemas.problems(located, "results")
    if found:
        raise ProblemList(found[:20])
    return Results.model_validate(data)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not allowed")


def generated_schema() -> dict[str, Any]:
    schema = Results.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://auditkit.example/schemas/results.schema.json",
        "title": "auditkit results",
        "description": "What `auditkit assess` writes: every check outcome, control status, score and finding.",
        **{k: v for k, v in schema.items() if k != "title"},
    }


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    if sys.argv[1:] == ["--schema"]:
        print(json.dumps(generated_schema(), indent=2))
