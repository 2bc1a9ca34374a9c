"""The scripting API (ground.server.scripting) over HTTP, against a running ground server, in
the spirit of COSMOS `cmd`/`wait_check` and the fprime-gds IntegrationTestAPI. Standard library
only (urllib, http.client).

    gs = GroundClient("http://127.0.0.1:8700", token, spacecraft="sat1")
    r = gs.send("ping")
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from ground.server.errors import ClientError, WaitTimeoutError
from ground.server.scripting import CommandResult, ScriptingApi, check_wait

PAGE = 10000  # rows per request: the most the API gives at once
Page = tuple[list[dict], "int | None"]  # rows, and the cursor of the next page (None: no more)


def collect_pages(page: Callable[[int, int], Page], limit: int, after: int = 0) -> Page:
    """Up to `limit` rows from `page(after, n)` (at most PAGE at a time), following its cursor;
    returns them and the cursor to go on from (None when nothing is left)."""
    rows: list[dict] = []
    while True:
        got, cursor = page(after, min(PAGE, limit - len(rows)))
        rows += got
        if cursor is None or len(rows) >= limit:
            return rows, cursor
        after = cursor


class GroundClient(ScriptingApi):
    def __init__(
        self, url: str, token: str | None = None, spacecraft: str | None = None, timeout: float = 10.0
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.spacecraft = spacecraft
        self.timeout = timeout
        self.last: CommandResult | None = None

    def now(self) -> float:
        return time.monotonic()

    def wait(self, seconds: float) -> None:
        time.sleep(seconds)

    # --- plumbing ---------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        return h

    def request(
        self, method: str, path: str, body: dict | None = None, timeout: float | None = None,
        raw: bytes | None = None,
    ) -> Any:  # fmt: skip
        """raw: bytes to send as they are (application/octet-stream) instead of a JSON body."""
        data = json.dumps(body).encode() if body is not None else raw
        headers = self._headers()
        if data is not None:
            headers["Content-Type"] = "application/json" if body is not None else "application/octet-stream"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("message", exc.reason)
            except (ValueError, AttributeError):
                message = str(exc.reason)
            raise ClientError("%s (HTTP %d)" % (message, exc.code), exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ClientError("cannot reach the ground server at %s: %s" % (self.url, reason)) from None

    def _craft(self, spacecraft: str | None) -> str:
        name = spacecraft or self.spacecraft
        if name is None:
            crafts = self.request("GET", "/api/v1/health")["spacecraft"]
            if len(crafts) != 1:
                raise ClientError("the server has spacecraft %s: say which one" % ", ".join(crafts))
            name = self.spacecraft = crafts[0]
        return name

    # --- commanding ------------------------------------------------------------------------------
    def send(
        self, cmd: str, args: dict[str, Any] | None = None, *, wait: str = "completed",
        timeout: float = 10.0, confirm: bool = False, spacecraft: str | None = None, **kwargs: Any,
    ) -> CommandResult:  # fmt: skip
        body = {
            "command": cmd, "args": {**(args or {}), **kwargs}, "confirm": confirm,
            "wait": wait, "timeout": timeout,
        }  # fmt: skip
        path = "/api/v1/spacecraft/%s/commands" % urllib.parse.quote(self._craft(spacecraft))
        result = CommandResult(self.request("POST", path, body, timeout + 10))
        self.last = result
        return check_wait(cmd, wait, timeout, result)

    def command(self, cid: int, wait: str | None = None, timeout: float = 0.0) -> CommandResult:
        query = "?" + urllib.parse.urlencode({"wait": wait, "timeout": timeout}) if wait else ""
        return CommandResult(self.request("GET", "/api/v1/commands/%d%s" % (cid, query), None, timeout + 10))

    # --- telemetry ---------------------------------------------------------------------------------
    def parameters(self, spacecraft: str | None = None) -> dict[str, dict[str, float]]:
        path = "/api/v1/spacecraft/%s/parameters" % urllib.parse.quote(self._craft(spacecraft))
        return self.request("GET", path)["parameters"]

    def wait_for(
        self, param: str, predicate: Callable[[float], bool], timeout: float = 30.0,
        spacecraft: str | None = None,
    ) -> float:  # fmt: skip
        name = self._craft(spacecraft)
        deadline = time.monotonic() + timeout
        last = None
        with self.live(name) as stream:  # subscribed first: no value falls between the two
            now = self.parameters(name).get(param)
            if now is not None and predicate(now["value"]):
                return now["value"]
            for kind, item in stream.items(deadline):
                values = item.get("data", {}).get("values", {}) if kind == "tm" else {}
                if param in values:
                    last = values[param]
                    if predicate(last):
                        return last
        raise WaitTimeoutError("%s: condition not met within %g s (last value %r)" % (param, timeout, last))

    def _range_query(self, since: float, until: float | None, spacecraft: str | None, limit: int) -> str:
        q: dict[str, Any] = {"since": since, "limit": limit}
        if until is not None:
            q["until"] = until
        if spacecraft or self.spacecraft:
            q["spacecraft"] = spacecraft or self.spacecraft
        return urllib.parse.urlencode(q)

    def page(
        self, what: str, since: float = 0.0, until: float | None = None, spacecraft: str | None = None,
        limit: int = 1000, after: int = 0,
    ) -> Page:  # fmt: skip
        """One request: up to `limit` (<= PAGE) "commands" or "events" with an id above `after`."""
        query = self._range_query(since, until, spacecraft, limit) + "&after=%d" % after
        got = self.request("GET", "/api/v1/%s?%s" % (what, query), timeout=max(self.timeout, 60.0))
        return got[what], got.get("next")

    def fetch(
        self, what: str, since: float = 0.0, until: float | None = None, spacecraft: str | None = None,
        limit: int = 1000, after: int = 0,
    ) -> Page:  # fmt: skip
        """Up to `limit` "commands" or "events" (any number: pages of PAGE) and the next cursor."""
        return collect_pages(lambda a, n: self.page(what, since, until, spacecraft, n, a), limit, after)

    def events(
        self, since: float = 0.0, spacecraft: str | None = None, limit: int = 1000, until: float | None = None
    ) -> list[dict]:
        """Events received at or after `since` (and before `until`; Unix time, ground receive time)."""
        return self.fetch("events", since, until, spacecraft, limit)[0]

    def history(
        self, since: float = 0.0, until: float | None = None, spacecraft: str | None = None, limit: int = 1000
    ) -> list[dict]:
        """Commands sent in [since, until): user, role, status, failure and timed stages."""
        return self.fetch("commands", since, until, spacecraft, limit)[0]

    def archive_parameters(self) -> list[str]:
        """The parameters the server's archive holds samples of (`cubesat archive params`)."""
        return self.request("GET", "/api/v1/archive/parameters")["parameters"]

    def samples(
        self, param: str, t0: float = 0.0, t1: float = 1e12, spacecraft: str | None = None
    ) -> tuple[list[float], list[float]]:
        """(onboard times, values) of `param` archived with t0 <= t < t1."""
        q = urllib.parse.urlencode(
            {"spacecraft": self._craft(spacecraft), "parameter": param, "from": t0, "to": t1}
        )
        got = self.request("GET", "/api/v1/archive/samples?" + q, timeout=max(self.timeout, 60.0))
        return got["t"], got["value"]

    def status(self, spacecraft: str | None = None) -> dict[str, Any]:
        """The link's status: name, SCID, link, secured, and its statistics (frames, COP-1, ...)."""
        name = self._craft(spacecraft)
        for sc in self.request("GET", "/api/v1/spacecraft")["spacecraft"]:
            if sc["name"] == name:
                return sc
        raise ClientError("the server has no spacecraft %r" % name, 404)

    def spacecraft_names(self) -> dict[int, str]:
        """SCID -> the spacecraft's name in the server's config."""
        return {sc["scid"]: sc["name"] for sc in self.request("GET", "/api/v1/spacecraft")["spacecraft"]}

    def telemetry_page(
        self, since: float = 0.0, service: int | None = None, limit: int = 1000, after: int = 0
    ) -> Page:
        """One request: up to `limit` (<= PAGE) decoded TM packets with an id above `after`."""
        q: dict[str, Any] = {"since": since, "limit": limit, "after": after}
        if service is not None:
            q["service"] = service
        if self.spacecraft:
            q["spacecraft"] = self.spacecraft
        got = self.request(
            "GET", "/api/v1/telemetry?" + urllib.parse.urlencode(q), timeout=max(self.timeout, 60.0)
        )
        return got["packets"], got.get("next")

    def telemetry(
        self, since: float = 0.0, service: int | None = None, limit: int = 1000, after: int = 0
    ) -> list[dict]:
        """Up to `limit` decoded TM packets (any number: pages of PAGE), oldest first."""
        return collect_pages(lambda a, n: self.telemetry_page(since, service, n, a), limit, after)[0]

    # --- file transfers (ground/server/transfers.py) ---------------------------------------------
    def transfers(self, spacecraft: str | None = None, limit: int = 100) -> list[dict]:
        """The newest `limit` transfers, newest first (running ones with bytes, resent, eta_s)."""
        q: dict[str, Any] = {"limit": limit}
        if spacecraft or self.spacecraft:
            q["spacecraft"] = spacecraft or self.spacecraft
        return self.request("GET", "/api/v1/transfers?" + urllib.parse.urlencode(q))["transfers"]

    def transfer(self, tid: int) -> dict:
        return self.request("GET", "/api/v1/transfers/%d" % tid)

    def put_file(self, data: bytes, remote: str, spacecraft: str | None = None) -> dict:
        """Uplink `data` to the board's `remote` path (files/..., a slot: admin); the new transfer."""
        q = urllib.parse.urlencode({"spacecraft": self._craft(spacecraft), "remote": remote})
        return self.request("POST", "/api/v1/transfers?" + q, raw=data, timeout=max(self.timeout, 60.0))

    def get_file(self, remote: str, spacecraft: str | None = None, timeout: float = 10.0) -> dict:
        """Ask the spacecraft for its file `remote` (the file_downlink command); the command's record."""
        body = {"spacecraft": self._craft(spacecraft), "remote": remote, "timeout": timeout}
        return self.request("POST", "/api/v1/transfers/downlink", body, timeout + 10)

    def cancel_transfer(self, tid: int) -> dict:
        return self.request("POST", "/api/v1/transfers/%d/cancel" % tid, {})

    def resume_transfer(self, tid: int) -> dict:
        """A failed or cancelled uplink again, as a new transfer (returned)."""
        return self.request("POST", "/api/v1/transfers/%d/resume" % tid, {})

    def live(self, spacecraft: str | None = None) -> LiveStream:
        return LiveStream(self, spacecraft)


class LiveStream:
    """Server-sent events: `for kind, item in stream.items(deadline)`; a context manager."""

    def __init__(self, client: GroundClient, spacecraft: str | None) -> None:
        u = urllib.parse.urlsplit(client.url)
        self.conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port or 80, timeout=5.0)
        path = "/api/v1/live" + ("?spacecraft=" + urllib.parse.quote(spacecraft) if spacecraft else "")
        try:
            self.conn.request("GET", path, headers=client._headers())
            self.resp = self.conn.getresponse()
        except OSError as exc:
            raise ClientError("cannot reach the ground server at %s: %s" % (client.url, exc)) from None
        if self.resp.status != 200:
            body = self.resp.read()
            try:
                message = json.loads(body)["message"]
            except (ValueError, KeyError, TypeError):
                message = body[:200].decode(errors="replace")
            raise ClientError("%s (HTTP %d)" % (message, self.resp.status), self.resp.status)
        self.resp.readline()  # ": connected": the subscription exists from here on

    def items(self, deadline: float | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        event, data = "message", []
        while deadline is None or time.monotonic() < deadline:
            try:
                line = self.resp.readline()
            except TimeoutError:
                raise ClientError("the live stream went silent (no keepalive for 5 s)") from None
            if not line:
                return  # the server closed the stream
            text = line.decode().rstrip("\r\n")
            if text.startswith("event:"):
                event = text[6:].strip()
            elif text.startswith("data:"):
                data.append(text[5:].strip())
            elif not text and data:
                yield event, json.loads("\n".join(data))
                event, data = "message", []

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> LiveStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
