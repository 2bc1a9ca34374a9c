"""Browser sessions for the web console: a user logs in once with their token and gets a cookie.

The cookie holds a random session id only (HttpOnly, SameSite=Strict, Path=/), never the token.
A request that changes anything (any method but GET/HEAD) made with the cookie must also carry
the session's CSRF token in `X-CSRF-Token` and, if the browser sends one, an `Origin` equal to
the server's own: a page of another site can neither read the CSRF token nor send it, so it can
make no command. Sessions live in memory: a server restart logs everyone out.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from ground.server.auth import User
from ground.server.errors import ForbiddenError, UnauthorizedError

COOKIE = "cubesat_session"
SESSION_S = 12 * 3600.0  # a pass and its preparation; then log in again
MAX_SESSIONS = 1000  # the oldest go first beyond this (a client logging in in a loop)
SAFE_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires: float


class SessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, user: User) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        session = Session(user, secrets.token_urlsafe(32), time.monotonic() + SESSION_S)
        with self._lock:
            self._sessions[sid] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.pop(next(iter(self._sessions)))
        return sid, session

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    def session(self, sid: str | None) -> Session:
        """The live session of a cookie's id; UnauthorizedError for a forged or expired one."""
        with self._lock:
            session = self._sessions.get(sid or "")
            if session is not None and session.expires < time.monotonic():
                del self._sessions[sid or ""]
                session = None
        if session is None:
            raise UnauthorizedError("no session: log in again")
        return session

    def user_for(self, sid: str | None, method: str, csrf: str | None, origin: str | None, own: str) -> User:
        """The user of a cookie-authenticated request; a change needs the CSRF token and, when
        the browser names one, the server's own origin (ForbiddenError otherwise)."""
        session = self.session(sid)
        if method not in SAFE_METHODS:
            if origin is not None and origin != own:
                raise ForbiddenError("cross-site request refused (Origin %s)" % origin[:100])
            if not csrf or not hmac.compare_digest(csrf, session.csrf):
                raise ForbiddenError("missing or wrong CSRF token (X-CSRF-Token)")
        return session.user
