"""Fixtures of the scale tests: real PostgreSQL, Redis and S3 servers (see :mod:`tests.scale.servers`)."""

from ..intake.support import live, tenants
from .servers import postgres, redis_server, s3_env, s3_server, scale_dir

__all__ = ["live", "postgres", "redis_server", "s3_env", "s3_server", "scale_dir", "tenants"]
