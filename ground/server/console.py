"""The web console's side of the server: its pages, uPlot (from npm, installed at set-up), the
login that turns a token into a session cookie, and the flight dictionary the command form is
built from.

    GET    /                       the console (one page: Telemetry, Events, Commands, History, Plots, Link)
    GET    /console/{file}         its script and style sheet
    GET    /vendor/{file}          uPlot (tools/console/node_modules; nothing from the internet)
    POST   /api/v1/session         {"token": "..."} -> cookie + {"user", "role", "csrf"}
    GET    /api/v1/session         the logged-in user and the CSRF token (a reloaded page)
    DELETE /api/v1/session         log out
    GET    /api/v1/dictionary      commands (arguments, ranges, enums, hazard), telemetry, parameters

Every page goes out with a Content-Security-Policy that allows only this server's own scripts,
styles and connections, and no framing; the script writes every value with textContent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from flight.dictionary import COMMANDS, EVENTS, HK_SETS, MODE_NAMES, PARAMS, TELEMETRY
from ground.dictionary import HAZARD_ROLES, ROLES
from ground.server.errors import BadRequestError, NotFoundError
from ground.server.requests import ground_of, json_body, user_of
from ground.server.sessions import COOKIE, SESSION_S

HERE = Path(__file__).resolve().parent / "console"
VENDOR = Path(__file__).resolve().parents[2] / "tools" / "console" / "node_modules" / "uplot" / "dist"
PAGES = {"console.js": "text/javascript", "console.css": "text/css"}
VENDORED = {"uPlot.iife.min.js": "text/javascript", "uPlot.min.css": "text/css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _file(path: Path, media: str) -> Response:
    if not path.is_file():
        raise NotFoundError("%s is not installed: run ./dev.sh setup (tools/console/setup.sh)" % path.name)
    return FileResponse(path, media_type=media, headers=SECURITY_HEADERS)


async def index(request: Request) -> Response:
    return _file(HERE / "index.html", "text/html")


async def page_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in PAGES:
        raise NotFoundError("no console file %r" % name[:80])
    return _file(HERE / name, PAGES[name])


async def vendor_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in VENDORED:
        raise NotFoundError("no vendored file %r" % name[:80])
    return _file(VENDOR / name, VENDORED[name])


def _session_json(user: Any, csrf: str) -> dict[str, Any]:
    return {"user": user.name, "role": user.role, "csrf": csrf}


async def login(request: Request) -> Response:
    body = await json_body(request)
    token = body.get("token")
    if not isinstance(token, str) or not token.strip():
        raise BadRequestError('give {"token": "<your token>"}')
    ground = ground_of(request)
    user = await run_in_threadpool(ground.auth.user_for, "Bearer " + token.strip())
    sid, session = ground.sessions.create(user)
    resp = JSONResponse(_session_json(user, session.csrf))
    resp.set_cookie(COOKIE, sid, max_age=int(SESSION_S), httponly=True, samesite="strict", path="/")
    return resp


async def session_info(request: Request) -> Response:
    session = ground_of(request).sessions.session(request.cookies.get(COOKIE))
    return JSONResponse(_session_json(session.user, session.csrf))


async def logout(request: Request) -> Response:
    await user_of(request)  # a cookie with its CSRF token: no other site can log a user out
    ground_of(request).sessions.drop(request.cookies.get(COOKIE))
    resp = JSONResponse({"logged_out": True})
    resp.delete_cookie(COOKIE, path="/")
    return resp


def dictionary() -> dict[str, Any]:
    """What the console's forms and tables need, from the flight dictionary (the single source)."""
    commands = {}
    for name, (service, subtype, _fid, args, hazardous, text) in COMMANDS.items():
        commands[name] = {
            "service": service, "subtype": subtype, "hazardous": hazardous, "description": text,
            "roles": list(HAZARD_ROLES.get(name, ("admin",))) if hazardous else list(ROLES[1:]),
            "args": [
                {"name": a, "type": kind, "min": lo, "unit": unit,
                 "max": hi if not isinstance(hi, dict) else None,
                 "enum": list(hi) if isinstance(hi, dict) else None}
                for a, kind, lo, hi, unit in args
            ],
        }  # fmt: skip
    telemetry = {
        name: {"unit": unit, "yellow": [ylo, yhi], "red": [rlo, rhi], "description": text}
        for name, (unit, ylo, yhi, rlo, rhi, text) in TELEMETRY.items()
    }
    params = [
        {
            "id": pid,
            "name": p[0],
            "default": p[1],
            "min": p[2],
            "max": p[3],
            "unit": p[4],
            "description": p[5],
        }
        for pid, p in sorted(PARAMS.items())
    ]
    sets = {sid: {"name": s[0], "period_s": s[1], "values": list(s[3])} for sid, s in HK_SETS.items()}
    events = {name: {"id": e[0], "severity": e[1], "description": e[4]} for name, e in EVENTS.items()}
    return {
        "commands": commands, "telemetry": telemetry, "params": params, "hk_sets": sets,
        "events": events, "modes": list(MODE_NAMES),
    }  # fmt: skip


async def dictionary_route(request: Request) -> Response:
    await user_of(request)
    return JSONResponse(dictionary())


def routes() -> list[Route]:
    return [
        Route("/", index),
        Route("/console/{name}", page_file),
        Route("/vendor/{name}", vendor_file),
        Route("/api/v1/session", login, methods=["POST"]),
        Route("/api/v1/session", session_info, methods=["GET"]),
        Route("/api/v1/session", logout, methods=["DELETE"]),
        Route("/api/v1/dictionary", dictionary_route),
    ]
