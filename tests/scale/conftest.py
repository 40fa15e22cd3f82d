"""Fixtures of the scale tests: real PostgreSQL, Redis and S3 servers (see :mod:`tests.scale.servers`)."""

from .servers import postgres, redis_server, s3_env, s3_server, scale_dir

__all__ = ["postgres", "redis_server", "s3_env", "s3_server", "scale_dir"]
