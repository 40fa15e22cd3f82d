"""Output formats of results, behind one interface and one registry.

A format is a module with ``NAME``, ``SUFFIX`` and ``render(results) -> bytes``;
:data:`FORMATS` maps ``--format`` choices to modules, imported only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # keep this registry cheap to import for the CLI's --format choices
    from ..model import Results


class Format(Protocol):
    NAME: str
    SUFFIX: str

    def render(self, results: Results) -> bytes: ...


FORMATS: dict[str, str] = {
    "json": "auditkit.results.formats.json_format",
    "junit": "auditkit.results.formats.junit",
    "csv": "auditkit.results.formats.csv_format",
    "markdown": "auditkit.results.formats.markdown",
    "oscal": "auditkit.results.formats.oscal",
    "oscal-ap": "auditkit.results.formats.oscal_ap",
    "oscal-poam": "auditkit.results.formats.oscal_poam",
    "sarif": "auditkit.results.formats.sarif",
}


def get(name: str) -> Format:
    """The format module for ``name`` (one of :data:`FORMATS`)."""
    module: Format = importlib.import_module(FORMATS[name])
    return module


def render(name: str, results: Results) -> bytes:
    return get(name).render(results)
