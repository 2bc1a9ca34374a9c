"""An in-orbit update from the ground, step by step over one link session (`cubesat uplink-bundle`).

    up = BundleUplink(term, ft, Path("out/emulated"), max_attempts=3)
    while not up.done:
        ...pump the link (term.uplink / term.downlink)...; ft.poll(now_ms); up.step(now_ms)
    up.error or "landed"

1. the board's boot pointer (boot_state.json) and its active slot's manifest.json come down by
   CFDP (ground/file_transfer.py);
2. ground/bundle_diff.py plans the uplink: only the files whose SHA-256 the active slot does not
   hold, then the new manifest as a delta against the active one (a few hundred bytes), each into
   the inactive slot by CFDP (class 2: lost segments are sent again);
3. `update STAGE`: the board completes the slot from its active one and verifies every SHA-256
   (flight/update.py); the command completes when that ends (a failure names the file);
   `update SWITCH` puts it on trial for
   `max_attempts` boots; `update REBOOT`. The board's BOOT event closes the campaign: from there
   boot_select runs the new slot, and rolls back to the old one unless the new software marks itself
   good within `max_attempts` boots.

Every step is checked: a refused command or transfer, or a failed staging, ends the campaign with
its reason in `error`. `log` holds one line per step for the operator.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ground.bundle_diff import DELTA, PATCH, UplinkPlan, UplinkPlanError, plan_uplink
from ground.file_transfer import CONDITIONS, FileTransfers, Transfer

STATE = "boot_state.json"


class BundleUplink:
    def __init__(
        self,
        terminal,
        transfers: FileTransfers,
        bundle: Path,
        max_attempts: int = 3,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.term = terminal
        self.ft = transfers
        self.bundle = Path(bundle)
        self.max_attempts = max_attempts
        self.echo = echo or (lambda line: None)
        self.log: list[str] = []
        self.error: str | None = None
        self.done = False
        self.plan: UplinkPlan | None = None
        self.active: str | None = None
        self.target: str | None = None
        self.bytes_uplinked = 0
        self._steps = self._campaign()
        self._wait: Callable[[], bool] = lambda: True
        self._now = 0
        self._asked = 0  # when the last command went up: transfers started before it are older

    def _say(self, line: str) -> None:
        self.log.append(line)
        self.echo(line)

    def step(self, now_ms: int) -> None:
        """Advance when what the current step waits for has happened."""
        self._now = now_ms
        while not self.done and self._wait():
            try:
                self._wait = next(self._steps)
            except StopIteration:
                self.done = True
            except _StepError as exc:
                self.error = str(exc)
                self._say("update failed: %s" % exc)
                self.done = True

    # --- the campaign: a generator that yields what it waits for ----------------------------------
    def _campaign(self):
        pointer = yield from self._fetch(STATE)
        state = json.loads(pointer.read_text())
        if state.get("pending"):
            raise _StepError(
                "slot %s is on trial: wait for its good report or its rollback" % state["pending"]
            )
        self.active = state["active"]
        self.target = "b" if self.active == "a" else "a"
        manifest = yield from self._fetch("slot_%s/manifest.json" % self.active)
        raw = manifest.read_bytes()
        try:
            self.plan = plan = plan_uplink(self.bundle, json.loads(raw), raw)
        except (UplinkPlanError, ValueError) as exc:
            raise _StepError(str(exc)) from None
        self._say("slot %s active; %s into slot %s" % (self.active, plan.describe(), self.target))
        for rel in plan.uplink:
            local = self.bundle / rel
            made = {DELTA: plan.delta, PATCH: plan.rom_patch}
            if rel in made:  # made here, next to the downlinked manifest they were planned against
                local = manifest.with_name(rel)
                local.write_bytes(made[rel] or b"")
            t = self.ft.put(local, "slot_%s/%s" % (self.target, rel), self._now)
            yield lambda t=t: t.done
            if not t.ok:
                raise _StepError("uplink of %s: %s" % (rel, _condition(t)))
            self.bytes_uplinked += t.size
            p = t.progress(self._now)
            self._say("  %s: %d B in %.1f s, %d B resent" % (rel, t.size, p["elapsed_s"], p["resent"]))
        # STAGE completes when the board has verified the whole slot; a failure names the file
        yield from self._command("STAGE")
        self._say(
            "slot %s staged: %d files verified onboard"
            % (self.target, len(plan.uplink) + len(plan.reused) - 1)
        )
        yield from self._command("SWITCH")
        boots = len(self._events("BOOT"))
        yield from self._command("REBOOT")
        yield lambda: len(self._events("BOOT")) > boots
        self._say("rebooted: slot %s on trial for %d boots" % (self.target, self.max_attempts))

    def _fetch(self, remote: str):
        """Ask the board for `remote` (file_downlink) and wait for it; its local Path."""
        yield from self._command("file_downlink", {"name": remote})
        yield lambda: self._received(remote) is not None
        t = self._received(remote)
        if t is None or not t.ok:
            raise _StepError("downlink of %s: %s" % (remote, _condition(t)))
        return t.local

    def _received(self, remote: str) -> Transfer | None:
        for t in reversed(self.ft.finished):
            if t.direction == "down" and t.remote == remote and t.started_ms >= self._asked:
                return t
        return None

    def _command(self, name: str, values: dict | None = None):
        if name in ("STAGE", "SWITCH", "CANCEL", "REBOOT"):
            values, label = {"action": name, "max_attempts": self.max_attempts}, "update %s" % name
            name = "update"
        else:
            label = name
        self._asked = self._now
        req = self.term.command(name, values or {})
        yield lambda: self.term.done(req)
        if self.term.verdict(req)[-1] != 7:
            _code, text = self.term.failures.get(req, (0, "no completion report"))
            raise _StepError("%s refused: %s" % (label, text))

    def _events(self, name: str) -> list[dict]:
        return [aux for _t, n, aux in self.term.events if n == name]


class _StepError(Exception):
    pass


def _condition(t: Transfer | None) -> str:
    if t is None:
        return "no transfer"
    return CONDITIONS.get(t.condition or 0, "condition %s" % t.condition)
