"""The scripting API for test procedures, one interface for two grounds:

- `ground.server.client.GroundClient`: a running ground server over HTTP, in wall-clock time;
- `ground.twin_ground.TwinGround`: the server's link code stepped with the twin in simulated
  time (`cubesat mission`), where a 60 s wait takes a fraction of a second and every run of a
  procedure is the same run.

    r = gs.send("param_set", param_id="comms.beacon_s", value=30)   # waits for "completed"
    assert r.ok, r.describe()
    gs.reply().get("params")                 # the decoded TM(20,2) of the last command
    gs.wait_for("mode", lambda v: v == 2, timeout=30)
    for ev in gs.events(since=t0): print(ev["text"])

Timeouts and `wait(seconds)` are in the ground's own seconds (wall or simulated).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from ground.server.errors import ClientError, WaitTimeoutError
from ground.server.records import DONE


class CommandResult:
    """A command as the server reported it: status, stages with their times, failure, reply."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    id = property(lambda self: int(self.data["id"]))
    status = property(lambda self: str(self.data["status"]))
    stages = property(lambda self: [s["stage"] for s in self.data["stages"]])
    failure = property(lambda self: self.data.get("failure"))
    reply = property(lambda self: self.data.get("reply"))
    embedded = property(lambda self: self.data.get("embedded"))  # id of a command it carries

    @property
    def done(self) -> bool:
        return self.status in DONE

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def describe(self) -> str:
        text = ", ".join(s for s in self.stages if s != "queued") or "no verification report yet"
        f = self.failure
        if f:
            text += " (failure code %d %s%s: %s%s)" % (
                f["code"], f["name"], " (%s)" % f["reason_text"] if f.get("reason_text") else "",
                f["text"], "; " + f["detail"] if f.get("detail") else "",
            )  # fmt: skip
        return text

    def __repr__(self) -> str:
        return "CommandResult(%s #%d: %s)" % (self.data["name"], self.id, self.status)


def check_wait(cmd: str, wait: str, timeout: float, result: CommandResult) -> CommandResult:
    """`result` if it reached stage `wait` (or ended); WaitTimeoutError otherwise."""
    if wait != "queued" and not result.done and (wait == "done" or wait not in result.stages):
        raise WaitTimeoutError("%s: no '%s' within %g s (%s)" % (cmd, wait, timeout, result.describe()))
    return result


class ScriptingApi(ABC):
    last: CommandResult | None = None

    @abstractmethod
    def now(self) -> float:
        """The ground's monotonic seconds (deadlines of the waits below)."""

    @abstractmethod
    def wait(self, seconds: float) -> None:
        """Let `seconds` pass (COSMOS `wait`)."""

    @abstractmethod
    def send(
        self, cmd: str, args: dict[str, Any] | None = None, *, wait: str = "completed",
        timeout: float = 10.0, confirm: bool = False, spacecraft: str | None = None, **kwargs: Any,
    ) -> CommandResult:  # fmt: skip
        """Send `cmd` with `args` (or keyword arguments) and wait until stage `wait` (queued,
        accepted, started, completed, done) or the command's end. WaitTimeoutError if neither."""

    @abstractmethod
    def command(self, cid: int, wait: str | None = None, timeout: float = 0.0) -> CommandResult:
        """A command by id, after waiting (at most `timeout`) for stage `wait` or its end."""

    @abstractmethod
    def parameters(self, spacecraft: str | None = None) -> dict[str, dict[str, float]]:
        """The latest value of each parameter: {name: {"t_onboard": t, "value": v}}."""

    @abstractmethod
    def wait_for(
        self, param: str, predicate: Callable[[float], bool], timeout: float = 30.0,
        spacecraft: str | None = None,
    ) -> float:  # fmt: skip
        """The first value of `param` (latest or new housekeeping) that satisfies `predicate`."""

    @abstractmethod
    def events(
        self, since: float = 0.0, spacecraft: str | None = None, limit: int = 1000, until: float | None = None
    ) -> list[dict]:
        """Events received at or after `since` (and before `until`; Unix time, ground receive time)."""

    @abstractmethod
    def history(
        self, since: float = 0.0, until: float | None = None, spacecraft: str | None = None, limit: int = 1000
    ) -> list[dict]:
        """Commands sent in [since, until): user, role, status, failure and timed stages."""

    @abstractmethod
    def samples(
        self, param: str, t0: float = 0.0, t1: float = 1e12, spacecraft: str | None = None
    ) -> tuple[list[float], list[float]]:
        """(onboard times, values) of `param` archived with t0 <= t < t1."""

    @abstractmethod
    def telemetry(
        self, since: float = 0.0, service: int | None = None, limit: int = 1000, after: int = 0
    ) -> list[dict]:
        """Up to `limit` decoded TM packets received at or after `since`, oldest first."""

    def wait_event(self, name: str, timeout: float = 30.0, since: float = 0.0, poll: float = 0.1) -> dict:
        """The first event `name` received at or after `since` (ground time), waiting up to
        `timeout` (fprime-gds `await_event`). WaitTimeoutError names the events that did come."""
        deadline = self.now() + timeout
        while True:
            got = self.events(since, limit=100_000)
            for event in got:
                if event["name"] == name:
                    return event
            if self.now() >= deadline:
                seen = [e["name"] for e in got][-20:]
                raise WaitTimeoutError("no %s event within %g s (came: %s)" % (name, timeout, seen or "none"))
            self.wait(poll)

    def reply(self, result: CommandResult | int | None = None, timeout: float = 5.0) -> dict[str, Any] | None:
        """The decoded TM reply of a command (the last one sent by default), once it has ended."""
        target = result if result is not None else self.last
        if target is None:
            raise ClientError("no command sent yet")
        cid = target if isinstance(target, int) else target.id
        return self.command(cid, "done", timeout).reply

    def arm_thruster(
        self, timeout: float = 10.0, spacecraft: str | None = None
    ) -> tuple[CommandResult, int | None, CommandResult | None]:
        """Both steps of arming: thruster_arm, then at once thruster_arm_confirm quoting the token
        of the ARM_PENDING event the server handed it as its reply (inside the board's window,
        1 s of wall time at 10x). (arm, token or None, confirm or None when there was no token)."""
        deadline = self.now() + timeout
        arm = self.send("thruster_arm", wait="done", timeout=timeout, confirm=True, spacecraft=spacecraft)
        token = (arm.reply or {}).get("args", {}).get("token") if arm.ok else None
        if token is None:
            return arm, None, None
        left = max(0.5, deadline - self.now())
        confirm = self.send(
            "thruster_arm_confirm", {"token": token}, wait="done", timeout=left, confirm=True,
            spacecraft=spacecraft,
        )  # fmt: skip
        return arm, token, confirm
