"""One exception hierarchy for the ground server; each error knows its HTTP status."""

from __future__ import annotations

from ground.errors import GroundError


class GroundServerError(GroundError):
    """Base of every ground-server error. `status` is the HTTP status the API answers with."""

    status = 500
    code = "server_error"


class ConfigError(GroundServerError):
    """The TOML config is missing, malformed or inconsistent; the message names the key."""

    code = "config"


class BadRequestError(GroundServerError):
    """The request body or query is malformed (JSON, types, sizes)."""

    status = 400
    code = "bad_request"


class CommandRefusedError(BadRequestError):
    """The dictionary refuses the command: unknown name, missing or out-of-range argument."""

    status = 422
    code = "command_refused"


class PayloadTooLargeError(BadRequestError):
    status = 413
    code = "too_large"


class UnauthorizedError(GroundServerError):
    """No token, or a token that matches no user (forged, revoked)."""

    status = 401
    code = "unauthorized"


class ForbiddenError(GroundServerError):
    """The user's role may not do this, or a hazardous command was not confirmed."""

    status = 403
    code = "forbidden"


class NotFoundError(GroundServerError):
    status = 404
    code = "not_found"


class ConflictError(GroundServerError):
    """The request does not fit what runs now (a transfer that ended, an uplink already running)."""

    status = 409
    code = "conflict"


class LinkUnavailableError(GroundServerError):
    """The spacecraft link is down or its COP-1 service cannot take commands now."""

    status = 503
    code = "link_unavailable"


class ClientError(GroundServerError):
    """The scripting client could not reach the server or got an error back (status, message)."""

    code = "client"

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class WaitTimeoutError(ClientError):
    """A scripting-API wait (stage, reply, parameter condition) ran out of time."""

    code = "timeout"
