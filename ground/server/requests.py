"""What every route of the server needs from a request: the server, the user, a JSON body.

A user is named by `Authorization: Bearer <token>` (scripts, the CLI) or by the web console's
session cookie (ground/server/sessions.py: a change also needs its CSRF token and our Origin).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ground.server.auth import User
from ground.server.errors import BadRequestError, PayloadTooLargeError
from ground.server.sessions import COOKIE

if TYPE_CHECKING:
    from ground.server.server import GroundServer


def ground_of(request: Request) -> GroundServer:
    return request.app.state.ground


async def user_of(request: Request) -> User:
    ground = ground_of(request)
    authorization = request.headers.get("authorization")
    sid = request.cookies.get(COOKIE)
    if authorization is None and sid is not None:
        own = "%s://%s" % (request.url.scheme, request.headers.get("host", ""))
        csrf, origin = request.headers.get("x-csrf-token"), request.headers.get("origin")
        return ground.sessions.user_for(sid, request.method, csrf, origin, own)
    return await run_in_threadpool(ground.auth.user_for, authorization)


async def json_body(request: Request) -> dict[str, Any]:
    limit = ground_of(request).config.max_body_bytes
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise PayloadTooLargeError("body over %d bytes" % limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLargeError("body over %d bytes" % limit)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError("body is not valid JSON: %s" % exc) from None
    if not isinstance(data, dict):
        raise BadRequestError("body must be a JSON object")
    return data


def json_safe(obj: Any) -> Any:
    """`obj` with every NaN or infinity as None: JSON (RFC 8259) has no such numbers, and a
    browser's JSON.parse refuses them (a value onboard can be NaN: a sensor with no reading)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def json_text(obj: Any) -> str:
    try:
        return json.dumps(obj, allow_nan=False)
    except ValueError:  # rare: only then walk the whole object
        return json.dumps(json_safe(obj), allow_nan=False)


class SafeJSONResponse(JSONResponse):
    """A JSON response in which a NaN or infinity goes out as null (json_safe)."""

    def render(self, content: Any) -> bytes:
        return json_text(content).encode("utf-8")
