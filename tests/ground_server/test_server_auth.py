"""Operators are authenticated by the server: a viewer or an unauthenticated client gets 0
commands executed, a forged token is refused, hazardous commands need the role and a confirm."""

from __future__ import annotations

import httpx
import pytest
from server_harness import Ground

from ground.server.auth import Authenticator, hash_token, new_token, verify_token
from ground.server.config import UserConfig
from ground.server.errors import ClientError, UnauthorizedError


def _post(ground: Ground, body: dict, token: str | None) -> httpx.Response:
    headers = {"Authorization": "Bearer " + token} if token is not None else {}
    return httpx.post(ground.url + "/api/v1/spacecraft/sat1/commands", json=body, headers=headers, timeout=15)


def test_viewer_and_unauthenticated_clients_execute_nothing(ground: Ground) -> None:
    before = ground.executed()
    archived = len(ground.server.store.commands(None, 0, 10000))
    op_user, _ = ground.tokens["operator"].split(".", 1)
    forged = [
        None,  # no header at all
        "operator.not-the-secret",
        op_user + "." + "x" * 32,
        "nobody.abcdef",
        ground.tokens["operator"] + "x",
        ground.tokens["operator"].replace("operator.", "admin."),  # someone else's name on it
        "x" * 5000,
    ]
    for token in forged:
        r = _post(ground, {"command": "ping"}, token)
        assert r.status_code == 401, (token, r.text)
        assert r.json()["error"] == "unauthorized"
    r = httpx.get(ground.url + "/api/v1/telemetry", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401
    for body in ({"command": "ping"}, {"command": "mode_set", "args": {"mode": "SAFE"}}):
        r = _post(ground, body, ground.tokens["viewer"])
        assert r.status_code == 403 and "viewer" in r.json()["message"], r.text
    # the viewer may read, though
    assert httpx.get(
        ground.url + "/api/v1/events", headers={"Authorization": "Bearer " + ground.tokens["viewer"]}
    ).is_success
    # an operator's ping goes through: exactly one command executed onboard since `before`
    r = ground.client("operator").send("ping")
    assert r.ok and r.data["user"] == "operator"
    assert ground.executed() == before + 1
    rows = ground.server.store.commands(None, 0, 10000)
    assert len(rows) == archived + 1 and rows[-1]["user"] == "operator"


def test_hazardous_needs_role_and_confirmation(ground: Ground) -> None:
    before = ground.executed()
    r = _post(ground, {"command": "thruster_arm"}, ground.tokens["operator"])
    assert r.status_code == 403 and "confirm" in r.json()["message"]
    r = _post(
        ground, {"command": "time_set", "args": {"seconds": 5}, "confirm": True}, ground.tokens["operator"]
    )
    assert r.status_code == 403 and "admin" in r.json()["message"]
    r = _post(ground, {"command": "thruster_arm", "confirm": True}, ground.tokens["viewer"])
    assert r.status_code == 403
    with pytest.raises(ClientError) as info:
        ground.client("viewer").send("ping")
    assert info.value.status == 403
    assert ground.executed() == before
    # with the role and the confirmation it is sent (the board decides: SAFE mode refuses arming)
    r = ground.client("operator").send("thruster_arm", confirm=True, wait="done")
    assert r.status in ("completed", "failed") and ground.executed() == before + 1


def test_tokens_are_stored_hashed_and_checked() -> None:
    token, line = new_token("alice")
    stored = line.split('"')[1]
    assert token not in line and stored.startswith("scrypt$")
    assert verify_token(token, stored) and not verify_token(token + "x", stored)
    assert verify_token("t", hash_token("t")) and not verify_token("t", "plain")
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    pb = "pbkdf2_sha256$1000$%s$%s" % (
        base64.urlsafe_b64encode(salt).decode().rstrip("="),
        base64.urlsafe_b64encode(hashlib.pbkdf2_hmac("sha256", b"bob.s3cret", salt, 1000))
        .decode()
        .rstrip("="),
    )
    auth = Authenticator([UserConfig("alice", "admin", stored), UserConfig("bob", "viewer", pb)])
    assert auth.user_for("Bearer " + token).role == "admin"
    assert auth.user_for("Bearer " + token).name == "alice"  # the second time from the cache
    assert auth.user_for("Bearer bob.s3cret").role == "viewer"
    for bad in (None, "Bearer ", "Bearer bob.wrong", "Token " + token, "Bearer alice." + "x" * 300):
        with pytest.raises(UnauthorizedError):
            auth.user_for(bad)
