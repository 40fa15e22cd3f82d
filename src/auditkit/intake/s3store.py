"""The S3 object store (boto3): the :class:`ObjectStore` that several servers and workers share.

``s3://BUCKET/PREFIX`` keeps object ``D`` (a SHA-256) at ``PREFIX/D``. Endpoint,
region and credentials come from the usual AWS variables and files
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_PROFILE``, ...), exactly as boto3 reads them.

Objects never change: ``put`` is ``PutObject`` with ``If-None-Match: *`` (the
service refuses with 412 if the key exists, so nothing is overwritten) and
``ChecksumSHA256`` (the service recomputes the digest and refuses a body that
does not match, so a torn upload never becomes an object). SeaweedFS, AWS S3 and
MinIO honour both; the tests run against SeaweedFS.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

from ..errors import UsageError
from .problems import Unavailable
from .storage import _check_digest


def parse_s3_url(url: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise UsageError("expected s3://BUCKET[/PREFIX]", where=url)
    return parsed.netloc, parsed.path.strip("/")


class S3ObjectStore:
    """Immutable archives (and assessment outputs) in one bucket under one prefix."""

    def __init__(self, url: str, client: Any = None):
        import boto3
        import botocore.config
        import botocore.exceptions

        self.url = url
        self.bucket, self.prefix = parse_s3_url(url)
        self._client_error = botocore.exceptions.ClientError
        self._unreachable = (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectionClosedError,
            botocore.exceptions.ReadTimeoutError,
            botocore.exceptions.ConnectTimeoutError,
            botocore.exceptions.NoCredentialsError,
        )
        config = botocore.config.Config(
            retries={"max_attempts": 4, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            max_pool_connections=32,
        )
        self.client = client or boto3.client("s3", config=config)
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except self._client_error as exc:
            raise UsageError(
                f"bucket {self.bucket!r} is not usable ({exc.response['Error'].get('Code')})",
                where=url,
                hint="create it, or check the AWS_* credentials and AWS_ENDPOINT_URL",
            ) from None
        except self._unreachable as exc:
            raise self._down(exc) from None

    def _key(self, digest: str) -> str:
        digest = _check_digest(digest)
        return f"{self.prefix}/{digest}" if self.prefix else digest

    def _down(self, exc: BaseException) -> Unavailable:
        return Unavailable(
            f"{self.url}: object storage unreachable ({type(exc).__name__})", hint="retry shortly"
        )

    def _code(self, exc: Any) -> str:
        return str(exc.response.get("Error", {}).get("Code", ""))

    def put(self, digest: str, source: Path) -> bool:
        """Upload ``source`` as ``digest`` unless it exists; ``source`` is removed either way."""
        key = self._key(digest)
        try:
            with open(source, "rb") as handle:
                # The checksum is the digest the object is named by: the service recomputes
                # it and refuses a body that differs (BadDigest), so a key never lies.
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=handle,
                    IfNoneMatch="*",
                    ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
                    ContentType="application/octet-stream",
                )
            return True
        except self._client_error as exc:
            if self._code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False  # already stored: objects are immutable, keep the first
            raise
        except self._unreachable as exc:
            raise self._down(exc) from None
        finally:
            source.unlink(missing_ok=True)

    def get(self, digest: str) -> BinaryIO:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(digest))
        except self._client_error as exc:
            if self._code(exc) in ("NoSuchKey", "404", "NotFound"):
                raise KeyError(digest) from None
            raise
        except self._unreachable as exc:
            raise self._down(exc) from None
        body: BinaryIO = answer["Body"]
        return body

    def list(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = f"{self.prefix}/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                name = os.path.basename(item["Key"])
                try:
                    yield _check_digest(name)
                except KeyError:
                    continue

    def exists(self, digest: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(digest))
            return True
        except KeyError:
            return False
        except self._client_error as exc:
            if self._code(exc) in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        except self._unreachable as exc:
            raise self._down(exc) from None
