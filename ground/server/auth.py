"""Operators' tokens: the config keeps only salted scrypt (or PBKDF2) hashes, never a token.

A token is "<user>.<secret>": the user part picks the one hash to check, so a forged token
costs one hash, not one per user. A verified token is remembered by its SHA-256 only, so later
requests skip the deliberately slow hash.

    token, line = new_token("alice")     # give `token` to alice, put `line` in the config
    user = Authenticator(config.users).user_for("Bearer " + token)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

from ground.server.config import UserConfig
from ground.server.errors import ForbiddenError, UnauthorizedError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 14, 8, 1
ROLE_RANK = {"viewer": 0, "operator": 1, "admin": 2}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_token(token: str, salt: bytes | None = None) -> str:
    """scrypt$N$r$p$salt$hash of a token (salt random unless given)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(token.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "scrypt$%d$%d$%d$%s$%s" % (SCRYPT_N, SCRYPT_R, SCRYPT_P, _b64(salt), _b64(digest))


def verify_token(token: str, stored: str) -> bool:
    """True if `token` hashes to `stored` (scrypt$... or pbkdf2_sha256$iterations$salt$hash)."""
    parts = stored.split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (int(x) for x in parts[1:4])
            salt, want = _unb64(parts[4]), _unb64(parts[5])
            got = hashlib.scrypt(token.encode(), salt=salt, n=n, r=r, p=p, dklen=len(want), maxmem=1 << 26)
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            salt, want = _unb64(parts[2]), _unb64(parts[3])
            got = hashlib.pbkdf2_hmac("sha256", token.encode(), salt, int(parts[1]), len(want))
        else:
            return False
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def new_token(user: str) -> tuple[str, str]:
    """(token, config line) for a user: the token is shown once; the config keeps its hash."""
    token = "%s.%s" % (user, secrets.token_urlsafe(24))
    return token, 'token_hash = "%s"' % hash_token(token)


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def at_least(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class Authenticator:
    def __init__(self, users: tuple[UserConfig, ...] | list[UserConfig]) -> None:
        self._users = {u.name: u for u in users}
        self._verified: dict[bytes, User] = {}  # sha256(token) -> user, for tokens already checked
        self._lock = threading.Lock()

    def user_for(self, authorization: str | None) -> User:
        """The user an `Authorization: Bearer <token>` header names; UnauthorizedError otherwise."""
        if not authorization or not authorization.startswith("Bearer "):
            raise UnauthorizedError("missing token: send 'Authorization: Bearer <token>'")
        token = authorization[7:].strip()
        key = hashlib.sha256(token.encode()).digest()
        with self._lock:
            known = self._verified.get(key)
        if known is not None:
            return known
        name, _, secret = token.partition(".")
        cfg = self._users.get(name)
        if cfg is None or not secret or len(token) > 256 or not verify_token(token, cfg.token_hash):
            raise UnauthorizedError("token refused: it matches no user of this server")
        user = User(cfg.name, cfg.role)
        with self._lock:
            self._verified[key] = user
        return user


def require(user: User, role: str) -> None:
    if not user.at_least(role):
        raise ForbiddenError("user %s has role %s; this needs %s or above" % (user.name, user.role, role))
