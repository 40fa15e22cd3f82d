"""Evidence kinds a bundle names, checked against the kinds a catalog's controls ask for.

A manifest item whose ``kind`` no control declares is evidence nobody reads: most
often a typo. :func:`kind_problems` names each such item with the nearest declared
kind; ``bundle seal`` and ``bundle verify`` report them (errors when a catalog was
chosen with ``--controls``/``--profile``, warnings against the shipped catalog).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


def declared_kinds(catalog: Any) -> set[str]:
    """Every evidence kind some control of ``catalog`` requires or accepts."""
    return {req.kind for control in catalog.controls for req in control.evidence}


def kind_problems(items: Iterable[tuple[int, str]], known: set[str], where: str) -> list[str]:
    """One line per ``(index, kind)`` that is not in ``known``, with a did-you-mean."""
    lines = []
    for index, kind in items:
        if kind in known:
            continue
        near = difflib.get_close_matches(kind, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]!r}?)" if near else " (no control asks for it; check the spelling)"
        lines.append(f"{where} /items/{index}/kind: {kind!r} is not an evidence kind of the catalog{hint}")
    return lines
