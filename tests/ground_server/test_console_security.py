"""The web console's sessions without a browser: a forged cookie, a change without the CSRF token
or from another site's page, a bad login, and the pages' security headers. Each is refused with
its status and message, and the server goes on commanding."""

from __future__ import annotations

import httpx
import pytest
from server_harness import Ground

from ground.server.sessions import COOKIE


def _session(ground: Ground, role: str = "operator") -> tuple[httpx.Client, str]:
    c = httpx.Client(base_url=ground.url, timeout=20)
    r = c.post("/api/v1/session", json={"token": ground.tokens[role]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"] == role and body["role"] == role and len(body["csrf"]) > 30
    assert COOKIE in c.cookies
    set_cookie = r.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    return c, body["csrf"]


def _ping(c: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    body = {"command": "ping", "args": {}, "wait": "completed", "timeout": 20}
    return c.post("/api/v1/spacecraft/sat1/commands", json=body, headers=headers)


def test_a_session_commands_with_its_csrf_token_and_only_so(ground: Ground) -> None:
    c, csrf = _session(ground)
    before = ground.executed()
    assert _ping(c, {}).status_code == 403  # the cookie alone: what a cross-site form would send
    r = _ping(c, {"X-CSRF-Token": "x" * 43})
    assert r.status_code == 403 and "CSRF" in r.json()["message"]
    r = _ping(c, {"X-CSRF-Token": csrf, "Origin": "http://evil.example"})
    assert r.status_code == 403 and "cross-site" in r.json()["message"]
    assert ground.executed() == before  # nothing of that reached the spacecraft
    r = _ping(c, {"X-CSRF-Token": csrf, "Origin": ground.url})
    assert r.status_code == 200 and r.json()["status"] == "completed", r.text
    assert r.json()["user"] == "operator"
    assert c.get("/api/v1/dictionary").status_code == 200  # reading needs no CSRF token
    # logging out ends the session: the same cookie is refused afterwards
    assert c.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 200
    forged = httpx.Client(base_url=ground.url, cookies={COOKIE: c.cookies.get(COOKIE) or "gone"})
    assert forged.get("/api/v1/dictionary").status_code == 401


def test_forged_sessions_and_bad_logins_are_refused(ground: Ground) -> None:
    forged = httpx.Client(base_url=ground.url, cookies={COOKIE: "A" * 43}, timeout=20)
    r = forged.get("/api/v1/dictionary")
    assert r.status_code == 401 and "log in again" in r.json()["message"]
    anon = httpx.Client(base_url=ground.url, timeout=20)
    assert anon.post("/api/v1/session", json={"token": "operator.forged"}).status_code == 401
    assert anon.post("/api/v1/session", json={"token": ""}).status_code == 400
    assert anon.post("/api/v1/session", content=b"{not json").status_code == 400
    assert anon.post("/api/v1/session", json={"token": "x" * 20000}).status_code == 413
    assert anon.get("/api/v1/session").status_code == 401
    assert anon.get("/console/../../etc/passwd").status_code == 404
    assert anon.get("/vendor/evil.js").status_code == 404
    c, csrf = _session(ground)  # and the server still commands
    assert _ping(c, {"X-CSRF-Token": csrf}).json()["status"] == "completed"


PAGES = ["/", "/console/console.js", "/console/console.css", "/vendor/uPlot.iife.min.js"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_served_with_a_strict_policy(ground: Ground, path: str) -> None:
    r = httpx.get(ground.url + path, timeout=20)
    assert r.status_code == 200 and len(r.content) > 500
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"


def test_the_dictionary_the_form_is_built_from(ground: Ground) -> None:
    c, _csrf = _session(ground, "viewer")
    d = c.get("/api/v1/dictionary").json()
    mode = d["commands"]["mode_override"]
    assert mode["hazardous"] and mode["roles"] == ["operator", "admin"]
    assert mode["args"][0]["enum"] == ["SAFE", "DETUMBLE", "NOMINAL"]
    beacon = next(p for p in d["params"] if p["name"] == "comms.beacon_s")
    assert (beacon["id"], beacon["min"], beacon["max"], beacon["unit"]) == (11, 10.0, 3600.0, "s")
    assert d["telemetry"]["batt_v"]["unit"] == "V" and d["hk_sets"]["1"]["name"] == "core"


def test_non_finite_values_go_out_as_null() -> None:
    # an onboard value can be NaN (a sensor with no reading): JSON has no NaN and browsers refuse it
    from ground.server.requests import SafeJSONResponse, json_text

    assert json_text({"a": float("nan"), "b": [float("inf"), 1.5], "c": "x"}) == (
        '{"a": null, "b": [null, 1.5], "c": "x"}'
    )
    assert SafeJSONResponse({"v": -float("inf")}).body == b'{"v": null}'
