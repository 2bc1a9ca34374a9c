"""A command as the server tracks it: who sent it, each stage with its time, its reply."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

# PUS-1 subtypes that end a command, and the status they leave it in
FINAL = {2: "rejected", 4: "failed", 7: "completed", 8: "failed"}
DONE = ("completed", "failed", "rejected", "unconfirmed")
MAX_WAIT_S = 120.0  # the longest one API request waits for a stage


def reached(rec: dict[str, Any], wait: str) -> bool:
    """Whether a command (as a dict) has reached stage `wait`, or ended ("done": only ended)."""
    if rec["status"] in DONE:
        return True
    if wait == "done":
        return False
    return any(s["stage"] == wait for s in rec["stages"])


@dataclass
class CommandRecord:
    id: int
    scid: int
    user: str
    name: str
    args: dict[str, Any]
    request: tuple[int, int]  # (apid, sequence count): what the PUS-1 reports quote
    kind: tuple[int, int]  # TC (service, subtype)
    t: float = field(default_factory=time.time)  # when it was queued (the link's clock)
    stages: list[dict[str, Any]] = field(default_factory=list)
    status: str = "queued"
    failure: dict[str, Any] | None = None
    reply: dict[str, Any] | None = None
    embedded: int | None = None  # the record of the command this one carries (time-tagged schedule)
    # as_dict() at the last change, for readers on other threads (the API's event loop) that must
    # not wait for the link's lock: replaced whole, never mutated
    snapshot: dict[str, Any] | None = field(default=None, repr=False)

    def has(self, stage: str) -> bool:
        return any(s["stage"] == stage for s in self.stages)

    @property
    def done(self) -> bool:
        return self.status in DONE

    def add(
        self, stage: str, subtype: int | None, detail: str, status: str | None, t: float
    ) -> dict[str, Any]:
        entry = {"stage": stage, "t": t, "subtype": subtype, "detail": detail}
        self.stages.append(entry)
        if status is not None:
            self.status = status
        return entry

    def publish(self) -> dict[str, Any]:
        """Take a new snapshot (call after every change, holding the link's lock); returns it."""
        self.snapshot = self.as_dict()
        return self.snapshot

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scid": self.scid,
            "user": self.user,
            "name": self.name,
            "args": self.args,
            "request": {"apid": self.request[0], "seq": self.request[1]},
            "t": self.t,
            "status": self.status,
            "stages": list(self.stages),
            "failure": self.failure,
            "reply": self.reply,
            "embedded": self.embedded,
        }
