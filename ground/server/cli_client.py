"""What `cubesat send` and `cubesat watch` do when a ground server owns the link.

The CLI resolves the server (--server, $CUBESAT_SERVER or the [client] table of --config) and
the token ($CUBESAT_TOKEN, --token-file or the config's client.token_file), then calls these.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from ground.server.client import GroundClient
from ground.server.config import load_config
from ground.server.errors import ClientError, ConfigError, WaitTimeoutError
from ground.server.records import MAX_WAIT_S

# exit codes, as the standalone `cubesat send` documents them
EXIT_OK, EXIT_LINK, EXIT_REFUSED, EXIT_FAILED, EXIT_NO_ANSWER, EXIT_UNVERIFIED = 0, 1, 2, 3, 4, 5


def resolve(server: str | None, token_file: str | None, config: str | None) -> tuple[str | None, str | None]:
    """(server URL or None for standalone, token or None)."""
    cfg_server = cfg_token_file = None
    if config is not None:
        cfg = load_config(config)  # ConfigError: the caller shows it
        cfg_server, cfg_token_file = cfg.client_server, cfg.client_token_file
    url = server or os.environ.get("CUBESAT_SERVER") or cfg_server
    if url is None:
        return None, None
    token = os.environ.get("CUBESAT_TOKEN")
    path = token_file or cfg_token_file
    if path is not None:
        try:
            with open(os.path.expanduser(path)) as fh:
                token = fh.read().strip()
        except OSError as exc:
            raise ConfigError("cannot read token file %s: %s" % (path, exc.strerror or exc)) from None
    return url, token


def spacecraft_for(url: str, token: str | None, spacecraft: str | None, scid: int | None) -> str | None:
    """The server's spacecraft to use: --spacecraft, or the one whose SCID is --scid (ClientError
    with status 404 if the server has none, or --spacecraft names another)."""
    if scid is None:
        return spacecraft
    names = GroundClient(url, token).spacecraft_names()
    known = ", ".join("%s (SCID %d)" % (n, s) for s, n in sorted(names.items()))
    if scid not in names:
        raise ClientError("the ground server has no spacecraft with SCID %d; it has %s" % (scid, known), 404)
    if spacecraft is not None and names[scid] != spacecraft:
        raise ClientError(
            "--spacecraft %s and --scid %d disagree; the server has %s" % (spacecraft, scid, known), 404
        )
    return names[scid]


def _store_text(s: dict[str, Any]) -> str:
    flags = ("" if s["enabled"] else ", disabled") + (", playing back" if s["playing"] else "")
    return "store %s (%d): %d packets (%d..%d), made %d..%d s, %d B, %d lost%s" % (
        s["name"], s["store"], s["packets"], s["first_seq"], s["next_seq"] - 1,
        s["oldest_s"], s["newest_s"], s["bytes"], s["lost"], flags,
    )  # fmt: skip


def reply_text(reply: dict[str, Any] | None) -> str:
    """A decoded TM reply as the operator reads it."""
    if not reply:
        return ""
    kind = reply.get("type", "TM")
    if "params" in reply:
        body = ", ".join("%s (%d) = %g" % (p["name"] or "?", p["id"], p["value"]) for p in reply["params"])
    elif "values" in reply:
        body = "set %s: " % reply.get("set") + ", ".join("%s=%g" % kv for kv in reply["values"].items())
    elif "entries" in reply:
        body = "%d entries" % reply["count"] + "".join(
            "; release %d s: request %d/%d" % (e["release_s"], e["apid"], e["seq"]) for e in reply["entries"]
        )
    elif "stores" in reply:
        body = "; ".join(_store_text(s) for s in reply["stores"])
    elif reply.get("pong"):
        body = "pong"
    elif "obt_s" in reply:
        body = "onboard time %.1f s" % reply["obt_s"]
    else:
        body = reply.get("hex", "")
    return "reply %s: %s" % (kind, body)


def send(
    url: str, token: str | None, spacecraft: str | None, name: str, values: dict[str, Any],
    confirm: bool, timeout: float, echo: Callable[[str], None], scid: int | None = None,
) -> int:  # fmt: skip
    """Send through the server, print the stages and the decoded reply; the exit code."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    try:
        gs = GroundClient(url, token, spacecraft_for(url, token, spacecraft, scid))
        if name == "thruster_arm" and confirm:
            return _arm(gs, url, timeout, echo)
        try:
            result = gs.send(name, values, wait="done", timeout=min(timeout, MAX_WAIT_S), confirm=confirm)
        except WaitTimeoutError:
            assert gs.last is not None
            result = gs.last
            while not result.done and time.monotonic() < deadline:  # the server waits 120 s at most
                result = gs.command(result.id, "done", min(deadline - time.monotonic(), MAX_WAIT_S))
    except ClientError as exc:
        echo("%s: %s" % (name, exc))
        if exc.status in (400, 401, 403, 404, 413, 422):
            return EXIT_REFUSED
        return EXIT_LINK
    line = "%s: %s" % (name, result.describe())
    if result.status in ("completed", "failed", "rejected"):
        line += " in %.0f ms (command #%d, user %s)" % (
            (time.monotonic() - t0) * 1000, result.id, result.data["user"],
        )  # fmt: skip
    logging.getLogger("cubesat.send").info(
        line, extra={"fields": {"server": url, "command": name, "args": values, "record": result.data}}
    )
    echo(line)
    if result.reply:
        echo(reply_text(result.reply))
    if result.ok:
        return EXIT_OK
    if result.status in ("failed", "rejected"):
        return EXIT_FAILED
    delivered = any(s in result.stages for s in ("accepted", "started"))
    return EXIT_UNVERIFIED if delivered else EXIT_NO_ANSWER


def _result_line(name: str, result: Any, t0: float) -> str:
    line = "%s: %s" % (name, result.describe())
    if result.status in ("completed", "failed", "rejected"):
        line += " in %.0f ms (command #%d, user %s)" % (
            (time.monotonic() - t0) * 1000, result.id, result.data["user"],
        )  # fmt: skip
    return line


def _arm(gs: GroundClient, url: str, timeout: float, echo: Callable[[str], None]) -> int:
    """`send thruster_arm --confirm`: request, then the confirm as soon as the token is down."""
    t0 = time.monotonic()
    try:
        arm, token, confirm = gs.arm_thruster(timeout)
    except WaitTimeoutError as exc:
        echo("thruster_arm: %s" % exc)
        return EXIT_UNVERIFIED
    line = _result_line("thruster_arm", arm, t0)
    if token is not None:
        line += " (ARM_PENDING token %d)" % token
    echo(line)
    log = logging.getLogger("cubesat.send")
    log.info(line, extra={"fields": {"server": url, "command": "thruster_arm", "record": arm.data}})
    if confirm is None:
        if arm.ok:
            echo("thruster_arm: no ARM_PENDING event came down (event disabled?): not confirmed")
            return EXIT_FAILED
        return EXIT_FAILED if arm.status in ("failed", "rejected") else EXIT_NO_ANSWER
    line = _result_line("thruster_arm_confirm", confirm, t0)
    echo(line)
    log.info(
        line, extra={"fields": {"server": url, "command": "thruster_arm_confirm", "record": confirm.data}}
    )
    if confirm.ok:
        echo("thrusters armed")
        return EXIT_OK
    return EXIT_FAILED if confirm.status in ("failed", "rejected") else EXIT_UNVERIFIED


def packet_line(item: dict[str, Any]) -> str:
    d = item.get("data", {})
    t = item.get("t_onboard")
    head = "%8.1f %-9s" % (t if t is not None else -1.0, d.get("type", ""))
    if "values" in d:
        return head + " " + " ".join("%s=%.3g" % kv for kv in d["values"].items())
    if "event" in d:
        return head + " EVENT " + d["text"]
    if "stage" in d:
        req = d.get("request", {})
        text = "%s %s/%s" % (d["stage"], req.get("apid"), req.get("seq"))
        if "failure" in d:
            f = d["failure"]
            why = " (%s)" % f["reason_text"] if f.get("reason_text") else ""
            text += " %s%s: %s" % (f["name"], why, f["detail"] or f["text"])
        return head + " " + text
    return head + " " + reply_text(d).partition(": ")[2]


def watch(
    url: str, token: str | None, spacecraft: str | None, seconds: float, as_json: bool,
    echo: Callable[[str], None], scid: int | None = None,
) -> tuple[int, int]:  # fmt: skip
    """Print live packets for `seconds`; (packets seen, packets missed by id)."""
    spacecraft = spacecraft_for(url, token, spacecraft, scid)
    gs = GroundClient(url, token, spacecraft)
    seen = missed = 0
    last_id = None
    with gs.live(spacecraft) as stream:
        for kind, item in stream.items(time.monotonic() + seconds):
            if kind == "overflow":
                echo("watch: fell behind the server; some packets were not shown (they are archived)")
                break
            if kind != "tm":
                continue
            seen += 1
            if last_id is not None and item["id"] > last_id + 1 and spacecraft is None:
                missed += item["id"] - last_id - 1
            last_id = item["id"]
            echo(json.dumps(item) if as_json else packet_line(item))
    return seen, missed
