"""Errors the intake server answers with, each tied to one HTTP status.

They are :class:`~auditkit.errors.AuditkitError` subclasses, so the same
classes serve the client, which maps a server's status back to an exit code.
"""

from __future__ import annotations

from ..errors import EXIT_INTERNAL, AuditkitError, InvalidInputError, UsageError

EXIT_UNAVAILABLE = 6
"""Exit code of ``submit``/``fetch`` when the server is unreachable or failed (retry later)."""


class ApiError(AuditkitError):
    """An error with an HTTP status and a short machine-readable code."""

    status: int = 500
    code: str = "internal"

    def to_json(self) -> dict[str, object]:
        return {"error": {"status": self.status, "code": self.code, "message": self.render()}}


class Unauthorized(ApiError, UsageError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError, UsageError):
    status, code = 403, "forbidden"


class NotFound(ApiError, InvalidInputError):
    status, code = 404, "not-found"


class BadRequest(ApiError, InvalidInputError):
    status, code = 400, "bad-request"


class TooLarge(ApiError, InvalidInputError):
    status, code = 413, "too-large"


class TimedOut(ApiError):
    """The client stopped sending the body; it may retry."""

    status, code = 408, "timeout"
    exit_code = EXIT_UNAVAILABLE


class Rejected(ApiError, InvalidInputError):
    """The bundle was received and refused by the verifier (the receipt says why)."""

    status, code = 422, "rejected"


class Unavailable(ApiError):
    """The server cannot do the work now; the client may retry."""

    status, code = 503, "unavailable"
    exit_code = EXIT_UNAVAILABLE


class ServerFailed(ApiError):
    status, code = 500, "internal"
    exit_code = EXIT_INTERNAL
