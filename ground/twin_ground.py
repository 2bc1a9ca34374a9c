"""The ground server's link, archive and playback planner on the twin, in simulated time.

    twin = FlightTwin(flash)
    with TwinGround(twin, "out/mission.sqlite", ber=2e-4) as gs:
        gs.wait(20)                                  # 20 simulated seconds
        assert gs.send("ping").ok                    # the scripting API (ground.server.scripting)
        gs.wait_for("mode", lambda v: v == 2, timeout=600)

The ground is the server's own `SpacecraftLink` (COP-1, SDLS, decoding, reply matching, the
SQLite archive, the playback planner), stepped after each tick of the twin on a simulated clock
instead of running on a thread against the wall clock. A procedure therefore runs as fast as the
twin and the same way every time, and the archive it leaves is a server archive
(`cubesat history/events/archive` read it). The channel flips bits at `ber` both ways.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ground.flight_twin import FlightTwin
from ground.server.auth import User, new_token
from ground.server.client import collect_pages
from ground.server.clock import SimClock
from ground.server.config import LinkConfig, PlaybackConfig, ServerConfig, SpacecraftConfig, UserConfig
from ground.server.errors import ClientError, GroundServerError, WaitTimeoutError
from ground.server.records import reached
from ground.server.scripting import CommandResult, ScriptingApi, check_wait
from ground.server.server import GroundServer
from ground.server.store import SqliteStore


def flip_bits(data: bytes, ber: float, rnd: random.Random) -> bytes:
    """The channel: each bit flips with probability `ber`."""
    if ber <= 0 or not data:
        return data
    out = bytearray(data)
    nbits = len(out) * 8
    pos = int(rnd.expovariate(ber))
    while pos < nbits:
        out[pos >> 3] ^= 0x80 >> (pos & 7)
        pos += 1 + int(rnd.expovariate(ber))
    return bytes(out)


class TwinChannel:
    """The twin's ground side as the byte link a server link reads and writes."""

    def __init__(self, twin: FlightTwin, ber: float, rnd: random.Random) -> None:
        self.twin = twin
        self.ber = ber
        self.rnd = rnd

    def read(self, timeout: float = 0.0) -> bytes:
        return flip_bits(self.twin.link.ground_read(), self.ber, self.rnd)

    def write(self, data: bytes) -> None:
        self.twin.link.ground_write(flip_bits(data, self.ber, self.rnd))

    def close(self) -> None:
        pass


class TwinGround(ScriptingApi):
    """The scripting API on the twin; timeouts and waits are simulated seconds.

    The ground is a `GroundServer` in stepped mode (its links run no thread; `step` drives them on
    the twin's clock). `serve()` also starts its HTTP API and web console (the user `user`, with
    `token`), and `pace` then holds the simulation to at most that many times real time."""

    def __init__(
        self, twin: FlightTwin, archive: str, *, ber: float = 0.0, seed: int = 1, name: str = "sat1",
        user: str = "mission", playback: PlaybackConfig | None = None, frame_len: int | None = None,
        t1_ms: int = 4000, log_file: str | None = None, port: int = 0, pace: float | None = None,
    ) -> None:  # fmt: skip
        if twin.key is not None:
            raise GroundServerError("TwinGround flies an insecure twin (the server reads keys from files)")
        self.twin = twin
        self.clock = SimClock(twin.env.epoch)
        self.clock.advance(twin.t)
        self.pace = pace
        self._paced_from: tuple[float, float] | None = None  # (simulated t, wall t) pacing counts from
        craft = SpacecraftConfig(
            name, twin.scid, LinkConfig("twin", "in-process"), interleave=twin.interleave,
            playback=playback, frame_len=frame_len, t1_ms=t1_ms,
        )  # fmt: skip
        self.token, line = new_token(user)
        users = (UserConfig(user, "operator", line.split('"')[1]),)
        # the server's JSON-lines log (next to the archive unless told), each line with its
        # simulated time: COP-1 alerts at LOS and the planner's dumps are told there, not on the console
        log = log_file or str(Path(archive).with_suffix(".log"))
        cfg = ServerConfig(port=port, archive=archive, log_file=log, spacecraft=(craft,), users=users)
        self.store = SqliteStore(archive, clock=self.clock)
        self.channel = TwinChannel(twin, ber, random.Random(seed))
        self.server = GroundServer(
            cfg, self.store, openers={name: lambda: self.channel}, clock=self.clock, stepped=True
        )
        assert self.server.log_handler is not None
        self.server.log_handler.addFilter(self._stamp)
        self.link = self.server.links[name]
        self.user = User(user, "operator")
        self.after_step: list[Callable[[], None]] = []  # called after every tick (a procedure's probes)
        self.server.start_links()

    def serve(self) -> str:
        """The server's HTTP API and web console, on a thread; returns its URL."""
        return self.server.start()

    def _stamp(self, record: logging.LogRecord) -> bool:
        record.fields = {**(getattr(record, "fields", None) or {}), "t_sim": round(self.clock.time(), 3)}
        return True

    # --- time ---------------------------------------------------------------------------------------
    def step(self) -> None:
        """One tick of the twin, then one cycle of the ground link."""
        self.twin.step()
        self.clock.advance(self.twin.t - self.clock.t)
        self.link.step()
        for probe in self.after_step:
            probe()
        if self.pace:
            if self._paced_from is None:
                self._paced_from = (self.clock.t, time.monotonic())
            ahead = (self.clock.t - self._paced_from[0]) / self.pace - (
                time.monotonic() - self._paced_from[1]
            )
            if ahead > 0:
                time.sleep(ahead)

    def now(self) -> float:
        return self.clock.monotonic()

    def wait(self, seconds: float) -> None:
        end = self.clock.t + seconds - self.twin.tick_ms / 2000.0  # whole ticks; the clock is a float sum
        while self.clock.t < end:
            self.step()

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Step until `condition()` holds (True) or `timeout` simulated seconds pass (False)."""
        end = self.clock.t + timeout
        while not condition():
            if self.clock.t >= end:
                return False
            self.step()
        return True

    # --- commanding ---------------------------------------------------------------------------------
    def send(
        self, cmd: str, args: dict[str, Any] | None = None, *, wait: str = "completed",
        timeout: float = 10.0, confirm: bool = False, spacecraft: str | None = None, **kwargs: Any,
    ) -> CommandResult:  # fmt: skip
        try:
            rec = self.link.submit(self.user, cmd, {**(args or {}), **kwargs}, confirm)
        except GroundServerError as exc:  # refused, forbidden: as the HTTP client reports them
            raise ClientError("%s (HTTP %d)" % (exc, exc.status), exc.status) from None
        if wait != "queued":
            self.wait_until(lambda: reached(rec.as_dict(), wait), timeout)
        self.last = CommandResult(rec.as_dict())
        return check_wait(cmd, wait, timeout, self.last)

    def command(self, cid: int, wait: str | None = None, timeout: float = 0.0) -> CommandResult:
        rec = self.link.records.get(cid)
        if rec is None:
            archived = self.store.command(cid)
            if archived is None:
                raise ClientError("no command %d (HTTP 404)" % cid, 404)
            return CommandResult(archived)
        if wait is not None:
            self.wait_until(lambda: reached(rec.as_dict(), wait), timeout)
        return CommandResult(rec.as_dict())

    # --- telemetry ----------------------------------------------------------------------------------
    def parameters(self, spacecraft: str | None = None) -> dict[str, dict[str, float]]:
        return {k: {"t_onboard": t, "value": v} for k, (t, v) in self.link.parameters().items()}

    def wait_for(
        self, param: str, predicate: Callable[[float], bool], timeout: float = 30.0,
        spacecraft: str | None = None,
    ) -> float:  # fmt: skip
        latest = self.link.latest
        seen = latest.get(param)
        if seen is not None and predicate(seen[1]):
            return seen[1]

        def new_value_holds() -> bool:
            nonlocal seen
            now = latest.get(param)
            if now is None or now == seen:
                return False
            seen = now
            return predicate(now[1])

        if not self.wait_until(new_value_holds, timeout):
            last = None if seen is None else seen[1]
            raise WaitTimeoutError(
                "%s: condition not met within %g s (last value %r)" % (param, timeout, last)
            )
        assert seen is not None
        return seen[1]

    def _pages(self, what: str, since: float, until: float | None, limit: int) -> list[dict]:
        scid = self.link.scid
        return collect_pages(lambda a, n: self.store.page(what, scid, since, until, a, n), limit)[0]

    def events(
        self, since: float = 0.0, spacecraft: str | None = None, limit: int = 1000, until: float | None = None
    ) -> list[dict]:
        return self._pages("events", since, until, limit)

    def history(
        self, since: float = 0.0, until: float | None = None, spacecraft: str | None = None, limit: int = 1000
    ) -> list[dict]:
        return self._pages("commands", since, until, limit)

    def samples(
        self, param: str, t0: float = 0.0, t1: float = 1e12, spacecraft: str | None = None
    ) -> tuple[list[float], list[float]]:
        t, v = self.store.samples(self.link.scid, param, t0, t1)
        return list(t), list(v)

    def telemetry(
        self, since: float = 0.0, service: int | None = None, limit: int = 1000, after: int = 0
    ) -> list[dict]:
        scid = self.link.scid

        def page(after: int, n: int) -> tuple[list[dict], int | None]:
            got = self.store.packets(scid, since, n + 1, service, after)  # one more: a next page?
            return (got[:n], got[n - 1]["id"]) if len(got) > n else (got, None)

        return collect_pages(page, limit, after)[0]

    def close(self) -> None:
        self.server.stop()

    def __enter__(self) -> TwinGround:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
