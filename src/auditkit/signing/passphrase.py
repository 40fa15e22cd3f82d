"""Where the passphrase of a PKCS#12 signing key comes from, never from a command-line value.

In order: a ``--passphrase-file`` (its first line; a trailing newline is dropped),
then the ``AUDITKIT_KEY_PASSPHRASE`` environment variable. If neither is given
:func:`resolve_passphrase` returns None and the CLI layer may prompt (hidden
input) when stdin is a terminal; the library itself never prompts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import UsageError

ENV_VAR = "AUDITKIT_KEY_PASSPHRASE"
MAX_PASSPHRASE_FILE = 64 * 1024


def read_passphrase_file(path: Path) -> bytes:
    """The passphrase in ``path``: its content up to the first line break."""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_PASSPHRASE_FILE + 1)
    except OSError as exc:
        raise UsageError(
            f"cannot read the passphrase file: {exc.strerror}", where=str(path)
        ) from None
    if len(data) > MAX_PASSPHRASE_FILE:
        raise UsageError("the passphrase file is too large to be a passphrase", where=str(path))
    passphrase = data.split(b"\n", 1)[0].removesuffix(b"\r")
    if not passphrase:
        raise UsageError("the passphrase file is empty", where=str(path))
    return passphrase


def resolve_passphrase(
    passphrase_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> bytes | None:
    """The passphrase from ``passphrase_file`` or ``$AUDITKIT_KEY_PASSPHRASE``; None if neither."""
    if passphrase_file is not None:
        return read_passphrase_file(passphrase_file)
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR)
    if value:
        return value.encode("utf-8")
    return None
