"""``--format json``: the results file itself (the default)."""

from __future__ import annotations

from ..io import to_json_bytes
from ..model import Results

NAME = "json"
SUFFIX = ".json"


def render(results: Results) -> bytes:
    return to_json_bytes(results)
