"""Fixtures of the intake tests (defined in :mod:`tests.intake.support`)."""

from .support import client, live, service, tenants

__all__ = ["client", "live", "service", "tenants"]
