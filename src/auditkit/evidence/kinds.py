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
    """One line per kind named by some item but not in ``known``, with a did-you-mean.

    The line names the first item of that kind and how many more there are, so a
    bundle of 10,000 items of one unknown kind gets one line, not 10,000."""
    unknown: dict[str, list[int]] = {}
    for index, kind in items:
        if kind not in known:
            unknown.setdefault(kind, []).append(index)
    lines = []
    for kind, indexes in unknown.items():
        near = difflib.get_close_matches(kind, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]!r}?)" if near else " (no control asks for it; check the spelling)"
        more = f" and {len(indexes) - 1} more item(s)" if len(indexes) > 1 else ""
        lines.append(
            f"{where} /items/{indexes[0]}/kind{more}: {kind!r} is not an evidence kind "
            f"of the catalog{hint}"
        )
    return lines
