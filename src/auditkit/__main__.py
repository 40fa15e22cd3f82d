"""``python -m auditkit``."""

from auditkit.cli import main

main()
