"""Lazy package exports: names resolved from their modules on first access.

Packages whose modules pull in heavy libraries (WeasyPrint, pyHanko, cryptography,
Starlette) export their API through :func:`exports`, so ``import auditkit.x`` stays
cheap and start-up imports only what a command uses.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing itself is not imported at run time: `auditkit --help` needs none of it
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


def exports(package: str, api: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``; ``api`` maps name -> module (absolute or relative)."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = api.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = f"{package}.{module}" if not module.startswith(package.split(".")[0] + ".") else module
        value = getattr(importlib.import_module(target), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *api})

    return __getattr__, __dir__
