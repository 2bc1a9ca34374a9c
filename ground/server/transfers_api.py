"""The HTTP routes of file transfers (ground/server/transfers.py); api.py lists them.

GET  /api/v1/transfers?spacecraft=NAME&limit=N      newest first, running ones with live progress
GET  /api/v1/transfers/{id}                         one transfer
POST /api/v1/transfers?spacecraft=NAME&remote=PATH  body: the file's bytes -> an uplink (202)
POST /api/v1/transfers/downlink  {"spacecraft", "remote", "timeout"}  the file_downlink command
POST /api/v1/transfers/{id}/cancel                  CFDP cancel of a running transaction
POST /api/v1/transfers/{id}/resume                  a failed/cancelled uplink again: a new transaction
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ground.server.auth import require
from ground.server.errors import BadRequestError, NotFoundError, PayloadTooLargeError
from ground.server.records import DONE
from ground.server.requests import SafeJSONResponse as JSONResponse
from ground.server.requests import ground_of, json_body, user_of
from ground.server.transfers import MAX_UPLOAD

if TYPE_CHECKING:
    from ground.server.spacecraft import SpacecraftLink


def _craft(request: Request, name: Any) -> SpacecraftLink:
    links = ground_of(request).links
    if name is None and len(links) == 1:
        return next(iter(links.values()))
    if not isinstance(name, str) or name not in links:
        raise NotFoundError("no spacecraft %r; known: %s" % (name, ", ".join(sorted(links))))
    return links[name]


def _find(request: Request, tid: int) -> SpacecraftLink:
    """The link whose transfer `tid` is (running, or in the archive)."""
    ground = ground_of(request)
    for link in ground.links.values():
        if tid in link.files.live:
            return link
    rows = ground.store.transfers(None, 1, tid)
    if not rows:
        raise NotFoundError("no transfer %d" % tid)
    if rows[0]["spacecraft"] not in ground.links:
        raise NotFoundError(
            "transfer %d is of spacecraft %r, not on this server" % (tid, rows[0]["spacecraft"])
        )
    return ground.links[rows[0]["spacecraft"]]


async def list_transfers(request: Request) -> Response:
    await user_of(request)
    text = request.query_params.get("limit", "100")
    if not text.isdigit() or not 1 <= int(text) <= 10000:
        raise BadRequestError("limit must be 1..10000, got %r" % text)
    name = request.query_params.get("spacecraft")
    links = [_craft(request, name)] if name is not None else list(ground_of(request).links.values())

    def rows() -> list[dict[str, Any]]:
        out = [r for link in links for r in link.files.recent(int(text))]
        return sorted(out, key=lambda r: -r["id"])[: int(text)]

    return JSONResponse({"transfers": await run_in_threadpool(rows)})


async def get_transfer(request: Request) -> Response:
    await user_of(request)
    tid = request.path_params["tid"]
    link = await run_in_threadpool(_find, request, tid)
    return JSONResponse(await run_in_threadpool(link.files.get, tid))


async def put_transfer(request: Request) -> Response:
    user = await user_of(request)
    link = _craft(request, request.query_params.get("spacecraft"))
    require(user, "operator")  # before the body is read
    remote = request.query_params.get("remote")
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_UPLOAD):
        raise PayloadTooLargeError("file over %d bytes (the most the board takes)" % MAX_UPLOAD)
    link.files.check_up(user, remote)  # path and role, before the body too
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_UPLOAD:
            raise PayloadTooLargeError("file over %d bytes (the most the board takes)" % MAX_UPLOAD)
    out = await run_in_threadpool(link.files.upload, user, bytes(data), remote)
    return JSONResponse(out, status_code=202)


async def downlink(request: Request) -> Response:
    from ground.server.api import _record, _wait_args

    user = await user_of(request)
    require(user, "operator")
    body = await json_body(request)
    link = _craft(request, body.get("spacecraft"))
    wait, timeout = _wait_args("completed", body.get("timeout", 10.0))
    rec = await run_in_threadpool(link.files.downlink, user, body.get("remote"))
    out = await _record(request, rec.id, wait, timeout)
    status = 202 if out["status"] not in DONE else 200
    return JSONResponse(
        {"spacecraft": link.name, "remote": body["remote"], "command": out}, status_code=status
    )


async def cancel_transfer(request: Request) -> Response:
    user = await user_of(request)
    require(user, "operator")
    tid = request.path_params["tid"]
    link = await run_in_threadpool(_find, request, tid)
    return JSONResponse(await run_in_threadpool(link.files.cancel, tid))


async def resume_transfer(request: Request) -> Response:
    user = await user_of(request)
    require(user, "operator")
    tid = request.path_params["tid"]
    link = await run_in_threadpool(_find, request, tid)
    return JSONResponse(await run_in_threadpool(link.files.resume, user, tid), status_code=202)
