"""The HTTP API (Starlette): commands, their stages and replies, telemetry, events, live SSE.

    POST /api/v1/spacecraft/{name}/commands  {"command": "ping", "args": {}, "confirm": false,
                                               "wait": "completed", "timeout": 10}
    GET  /api/v1/commands/{id}?wait=done&timeout=10     stages with times, failure, decoded reply
    GET  /api/v1/commands?since=T&until=T&spacecraft=&limit=&after=   history (user, stages)
    GET  /api/v1/telemetry?since=T&spacecraft=&service=&after=ID  decoded TM packets (raw hex too), paged
    GET  /api/v1/events?since=T&until=T&spacecraft=&limit=&after=     events
         both page: at most `limit` (<= 10000) rows with an id above `after`, oldest first, and
         "next": the `after` of the next page (null: no more)
    GET  /api/v1/spacecraft[/{name}/parameters]          link status / latest housekeeping values
    GET  /api/v1/archive/parameters                      parameters with archived samples
    GET  /api/v1/archive/samples?spacecraft=&parameter=&from=&to=   one parameter's samples (onboard t)
    GET  /api/v1/live?spacecraft=NAME                    server-sent events: tm and command updates
    GET/POST /api/v1/transfers...                        CFDP file transfers (transfers_api.py)

Every request but /api/v1/health needs `Authorization: Bearer <token>` (or the web console's
session cookie, ground/server/console.py); commanding needs the
operator role (hazardous commands: the dictionary's roles plus "confirm": true). Every error is
a JSON body {"error": code, "message": text} with a 4xx status; the server goes on.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ground.server import console
from ground.server import transfers_api as files
from ground.server.auth import require
from ground.server.errors import (
    BadRequestError,
    GroundServerError,
    NotFoundError,
)
from ground.server.records import DONE, MAX_WAIT_S, reached
from ground.server.requests import SafeJSONResponse as JSONResponse
from ground.server.requests import ground_of, json_body, json_text, user_of

if TYPE_CHECKING:
    from ground.server.server import GroundServer
    from ground.server.spacecraft import SpacecraftLink

log = logging.getLogger("cubesat.ground.api")
WAIT_STAGES = ("queued", "accepted", "started", "completed", "done")
MAX_LIMIT = 10000
KEEPALIVE_S = 1.0


_ground = ground_of
_user = user_of
_json_body = json_body


def _number(request: Request, name: str, default: float, lo: float, hi: float) -> float:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise BadRequestError("%s must be a number, got %r" % (name, text)) from None
    if not (math.isfinite(value) and lo <= value <= hi):
        raise BadRequestError("%s must be %g..%g, got %s" % (name, lo, hi, text))
    return value


def _link(request: Request, name: str | None) -> SpacecraftLink | None:
    if name is None:
        return None
    links = _ground(request).links
    if name not in links:
        raise NotFoundError("no spacecraft %r; known: %s" % (name, ", ".join(sorted(links))))
    return links[name]


async def _record(request: Request, cid: int, wait: str | None, timeout: float) -> dict[str, Any]:
    """The command's record, after waiting (at most `timeout` s) for stage `wait` or its end."""
    ground = _ground(request)
    deadline = time.monotonic() + timeout
    changed = ground.hub.watch_command(cid) if wait is not None else None
    try:
        while True:
            rec = ground.live_record(cid)  # after watching: no change falls between the two
            if rec is None:
                rec = await run_in_threadpool(ground.store.command, cid)
                if rec is None:
                    raise NotFoundError("no command %d" % cid)
                return rec  # from the archive: an earlier run's, or long finished
            left = deadline - time.monotonic()
            if changed is None or reached(rec, wait) or left <= 0:
                return rec
            changed.clear()
            try:  # woken by the link thread's next stage for this command (no polling)
                await asyncio.wait_for(changed.wait(), left)
            except asyncio.TimeoutError:
                pass
    finally:
        if changed is not None:
            ground.hub.unwatch_command(cid, changed)


def _wait_args(wait: Any, timeout: Any) -> tuple[str | None, float]:
    if wait is not None and wait not in WAIT_STAGES:
        raise BadRequestError("wait must be one of %s, got %r" % (", ".join(WAIT_STAGES), wait))
    try:
        t = float(timeout)
    except (TypeError, ValueError):
        raise BadRequestError("timeout must be a number of seconds, got %r" % (timeout,)) from None
    if not (math.isfinite(t) and 0 <= t <= MAX_WAIT_S):
        raise BadRequestError("timeout must be 0..%g s, got %r" % (MAX_WAIT_S, timeout))
    return wait, t


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True, "spacecraft": sorted(_ground(request).links)})


async def spacecraft(request: Request) -> Response:
    await _user(request)
    links = list(_ground(request).links.values())
    status = await run_in_threadpool(lambda: [link.status() for link in links])
    return JSONResponse({"spacecraft": status, "archive": _ground(request).store.stats()})


async def post_command(request: Request) -> Response:
    user = await _user(request)
    link = _link(request, request.path_params["name"])
    assert link is not None
    require(user, "operator")  # before the body is even read: a viewer cannot command
    body = await _json_body(request)
    name, args, confirm = body.get("command"), body.get("args", {}), body.get("confirm", False)
    if not isinstance(name, str) or not name:
        raise BadRequestError('give "command": the dictionary name of the command')
    if not isinstance(args, dict) or not all(isinstance(v, (str, int, float)) for v in args.values()):
        raise BadRequestError('"args" must be an object of names to numbers or strings')
    if not isinstance(confirm, bool):
        raise BadRequestError('"confirm" must be true or false')
    wait, timeout = _wait_args(body.get("wait"), body.get("timeout", 10.0))
    # in a worker thread: submit takes the link's lock and writes the archive
    rec = await run_in_threadpool(link.submit, user, name, args, confirm)
    out = await _record(request, rec.id, wait, timeout)
    return JSONResponse(out, status_code=202 if out["status"] not in DONE else 200)


async def get_command(request: Request) -> Response:
    await _user(request)
    wait, timeout = _wait_args(request.query_params.get("wait"), request.query_params.get("timeout", 0))
    return JSONResponse(await _record(request, request.path_params["cid"], wait, timeout))


def _scid(request: Request) -> int | None:
    link = _link(request, request.query_params.get("spacecraft"))
    return None if link is None else link.scid


def _range(request: Request) -> tuple[float, float | None, int]:
    """(since, until or None, limit) from the query; until must come after since."""
    since = _number(request, "since", 0.0, 0.0, 1e12)
    until = _number(request, "until", 0.0, 0.0, 1e12) if "until" in request.query_params else None
    if until is not None and until <= since:
        raise BadRequestError("until must be after since (%g <= %g)" % (until, since))
    return since, until, int(_number(request, "limit", 1000, 1, MAX_LIMIT))


async def _page(request: Request, what: str) -> Response:
    """One page of commands or events; "next" is the cursor (`after`) of the following page."""
    await _user(request)
    since, until, limit = _range(request)
    after = int(_number(request, "after", 0, 0, 2**62))
    store = _ground(request).store
    rows, cursor = await run_in_threadpool(store.page, what, _scid(request), since, until, after, limit)
    return JSONResponse({what: rows, "next": cursor})


async def list_commands(request: Request) -> Response:
    return await _page(request, "commands")


async def telemetry(request: Request) -> Response:
    await _user(request)
    since = _number(request, "since", 0.0, 0.0, 1e12)
    limit = int(_number(request, "limit", 1000, 1, MAX_LIMIT))
    service = request.query_params.get("service")
    svc = int(_number(request, "service", 0, 0, 255)) if service is not None else None
    after = int(_number(request, "after", 0, 0, 2**62))
    store = _ground(request).store
    rows = await run_in_threadpool(store.packets, _scid(request), since, limit + 1, svc, after)
    more = len(rows) > limit  # one more than asked: is there a next page?
    return JSONResponse({"packets": rows[:limit], "next": rows[limit - 1]["id"] if more else None})


async def events(request: Request) -> Response:
    return await _page(request, "events")


async def parameters(request: Request) -> Response:
    await _user(request)
    link = _link(request, request.path_params["name"])
    assert link is not None
    latest = await run_in_threadpool(link.parameters)
    return JSONResponse({"parameters": {k: {"t_onboard": t, "value": v} for k, (t, v) in latest.items()}})


async def archive_parameters(request: Request) -> Response:
    await _user(request)
    return JSONResponse({"parameters": await run_in_threadpool(_ground(request).store.parameter_names)})


async def archive_samples(request: Request) -> Response:
    """One parameter's archived samples in [from, to) onboard seconds: what `cubesat archive query` reads."""
    await _user(request)
    link = _link(request, request.query_params.get("spacecraft"))
    name = request.query_params.get("parameter")
    if link is None or not name:
        raise BadRequestError("give spacecraft=NAME and parameter=NAME (see /api/v1/archive/parameters)")
    t0 = _number(request, "from", 0.0, -1e15, 1e15)
    t1 = _number(request, "to", 1e12, -1e15, 1e15)
    if t1 <= t0:
        raise BadRequestError("to must be after from (%g <= %g)" % (t1, t0))
    store = _ground(request).store
    known = await run_in_threadpool(store.parameter_names)
    if name not in known:
        raise NotFoundError("unknown parameter %r; known: %s" % (name, ", ".join(known) or "none yet"))
    t, v = await run_in_threadpool(store.samples, link.scid, name, t0, t1)
    return JSONResponse({"spacecraft": link.name, "scid": link.scid, "parameter": name, "t": t, "value": v})


def _sse(event: str, data: dict[str, Any], eid: Any = None) -> str:
    head = "id: %s\n" % eid if eid is not None else ""
    return "%sevent: %s\ndata: %s\n\n" % (head, event, json_text(data))


async def live(request: Request) -> Response:
    await _user(request)
    link = _link(request, request.query_params.get("spacecraft"))
    hub = _ground(request).hub
    sub = hub.subscribe(None if link is None else link.scid)

    async def stream():  # type: ignore[no-untyped-def]
        try:
            yield ": connected\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(sub.queue.get(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if item["kind"] == "overflow":
                    yield _sse(
                        "overflow", {"message": "this client fell behind; read the rest from /telemetry"}
                    )
                    return
                yield _sse(item["kind"], item, item["id"] if item["kind"] == "tm" else None)
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def _ground_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GroundServerError)
    status = exc.status if 400 <= exc.status < 600 else 500
    return JSONResponse({"error": exc.code, "message": str(exc)}, status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": "http", "message": exc.detail}, status_code=exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ClientDisconnect):  # the client went away mid-request: nobody to answer
        log.info("client disconnected", extra={"fields": {"path": request.url.path}})
        return Response(status_code=400)
    log.error("request failed", exc_info=exc, extra={"fields": {"path": request.url.path}})
    return JSONResponse({"error": "server_error", "message": "internal error (logged)"}, status_code=500)


def create_app(ground: GroundServer) -> Starlette:
    routes = [
        *console.routes(),
        Route("/api/v1/health", health),
        Route("/api/v1/spacecraft", spacecraft),
        Route("/api/v1/spacecraft/{name}/commands", post_command, methods=["POST"]),
        Route("/api/v1/spacecraft/{name}/parameters", parameters),
        Route("/api/v1/commands", list_commands),
        Route("/api/v1/commands/{cid:int}", get_command),
        Route("/api/v1/telemetry", telemetry),
        Route("/api/v1/events", events),
        Route("/api/v1/live", live),
        Route("/api/v1/archive/parameters", archive_parameters),
        Route("/api/v1/archive/samples", archive_samples),
        Route("/api/v1/transfers", files.list_transfers),
        Route("/api/v1/transfers", files.put_transfer, methods=["POST"]),
        Route("/api/v1/transfers/downlink", files.downlink, methods=["POST"]),
        Route("/api/v1/transfers/{tid:int}", files.get_transfer),
        Route("/api/v1/transfers/{tid:int}/cancel", files.cancel_transfer, methods=["POST"]),
        Route("/api/v1/transfers/{tid:int}/resume", files.resume_transfer, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            GroundServerError: _ground_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.ground = ground
    return app
