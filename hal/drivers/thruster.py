"""Thruster valve behind two switches in series: ARM (power to the valve driver) and FIRE.

    valve = ThrusterValve(arm_pin, fire_pin, clock, max_on_ms=200, budget_ms=60000)
    token = valve.request_arm()       # step 1: a one-time code, valid for arm_window_ms
    valve.confirm_arm(token)          # step 2 (a separate command): closes the ARM switch
    valve.fire(50)                    # opens the valve; never blocks
    valve.poll()                      # every tick: closes the valve on time, disarms when idle

Interlocks, each refusal an InterlockError saying which one:
- arming takes two steps with a matching, unexpired token, so one corrupted or replayed command
  cannot arm; an inhibit (launch inhibit, FDIR safe mode) blocks arming and safes the valve;
- a pulse is 1..max_on_ms long and must fit in the remaining on-time budget;
- an armed valve that sees no pulse for auto_disarm_ms disarms itself; after every pulse the
  valve stays armed only until then.
The FIRE pin is dropped before ARM, so the valve never sees power removed while commanded open.
`poll()` is what closes the valve: call it from the fastest rate group. A late poll still closes
the valve and is counted in `overruns` (the on-time it allowed is in `total_on_ms`).
"""

from hal.clock import ticks_add, ticks_diff
from hal.errors import ConfigError, HalError, InterlockError

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

# which interlock refused (InterlockError.reason): the numbers of flight/dictionary.py's failure
# reasons, so the board sends them down as they are (tests/flight/test_failure_reasons.py)
_R_ARM_EXPIRED = const(1)
_R_ARM_NOT_PENDING = const(2)
_R_ARM_WRONG_TOKEN = const(3)
_R_ALREADY_ARMED = const(4)
_R_NOT_ARMED = const(5)
_R_THRUSTER_INHIBITED = const(6)
_R_PULSE_IN_PROGRESS = const(7)
_R_ON_TIME_BUDGET = const(8)

SAFE = 0
ARM_PENDING = 1
ARMED = 2
FIRING = 3
STATE_NAMES = ("SAFE", "ARM_PENDING", "ARMED", "FIRING")


class ThrusterValve:
    def __init__(
        self,
        arm_pin,
        fire_pin,
        clock,
        max_on_ms=200,
        arm_window_ms=10000,
        auto_disarm_ms=60000,
        budget_ms=None,
        name="thruster",
    ):
        for label, value in (
            ("max_on_ms", max_on_ms),
            ("arm_window_ms", arm_window_ms),
            ("auto_disarm_ms", auto_disarm_ms),
        ):
            if not isinstance(value, int) or value <= 0:
                raise ConfigError("%s: %s must be a positive int of ms, got %r" % (name, label, value))
        if budget_ms is not None and budget_ms < 0:
            raise ConfigError("%s: budget_ms must be >= 0, got %r" % (name, budget_ms))
        self.arm_pin = arm_pin
        self.fire_pin = fire_pin
        self.clock = clock
        self.name = name
        self.max_on_ms = max_on_ms
        self.arm_window_ms = arm_window_ms
        self.auto_disarm_ms = auto_disarm_ms
        self.budget_ms = budget_ms
        self.state = SAFE
        self.inhibited = False
        self._token = 0
        self._tokens_issued = 0
        self._lapsed = False  # the last arm request ran out of its window unconfirmed
        self._t_state = clock.ticks_ms()
        self._pulse_ms = 0
        # housekeeping
        self.pulses = 0
        self.total_on_ms = 0
        self.overruns = 0
        self.refusals = 0
        try:
            self.safe()
        except HalError:
            pass  # switches that do not answer yet (a propulsion unit still powering up, which starts
            # with its valves shut): the valve is SAFE, and the first command that needs them says so

    def _refuse(self, why, reason):
        self.refusals += 1
        raise InterlockError("%s: %s" % (self.name, why), reason)

    def _enter(self, state):
        self.state = state
        self._t_state = self.clock.ticks_ms()

    def safe(self):
        """Close the valve and remove arm power, whatever the state (FDIR entry point). The valve
        is SAFE afterwards even when a switch raises (a propulsion unit's register that did not
        answer: the unit closes its valves on its own limit); the error still propagates."""
        try:
            self.fire_pin.value(0)
            self.arm_pin.value(0)
        finally:
            if self.state == FIRING:
                self._account(ticks_diff(self.clock.ticks_ms(), self._t_state))
            self._token = 0
            self._enter(SAFE)

    def inhibit(self, on=True):
        self.inhibited = bool(on)
        if on:
            self.safe()

    def request_arm(self):
        """Step 1 of arming; returns the token `confirm_arm` must quote."""
        if self.inhibited:
            self._refuse("inhibited", _R_THRUSTER_INHIBITED)
        if self.state in (ARMED, FIRING):
            self._refuse("already armed", _R_ALREADY_ARMED)
        self._tokens_issued += 1
        self._lapsed = False
        # a 16-bit code that changes every request and is never 0 (0 means "no token")
        self._token = ((self.clock.ticks_ms() * 40503 + self._tokens_issued * 7919) & 0xFFFF) or 1
        self._enter(ARM_PENDING)
        return self._token

    def confirm_arm(self, token):
        """Step 2: close the ARM switch if `token` matches the pending request in its window."""
        if self.inhibited:
            self._refuse("inhibited", _R_THRUSTER_INHIBITED)
        if self.state != ARM_PENDING:
            if self._lapsed:  # poll() already dropped it: say why, not just that nothing is pending
                self._refuse("arm request expired", _R_ARM_EXPIRED)
            self._refuse("no arm request pending", _R_ARM_NOT_PENDING)
        if ticks_diff(self.clock.ticks_ms(), self._t_state) > self.arm_window_ms:
            self.safe()
            self._refuse("arm request expired", _R_ARM_EXPIRED)
        if token != self._token:
            self.safe()
            self._refuse("wrong arm token", _R_ARM_WRONG_TOKEN)
        self._token = 0
        self._lapsed = False
        self.arm_pin.value(1)
        self._enter(ARMED)

    def remaining_budget_ms(self):
        if self.budget_ms is None:
            return None
        return max(0, self.budget_ms - self.total_on_ms)

    def fire(self, duration_ms):
        """Open the valve for duration_ms (1..max_on_ms); poll() closes it."""
        if not isinstance(duration_ms, int) or not 0 < duration_ms <= self.max_on_ms:
            raise ConfigError("%s: pulse must be 1..%d ms, got %r" % (self.name, self.max_on_ms, duration_ms))
        if self.inhibited:
            self._refuse("inhibited", _R_THRUSTER_INHIBITED)
        if self.state == FIRING:
            self._refuse("pulse in progress", _R_PULSE_IN_PROGRESS)
        if self.state != ARMED:
            self._refuse("not armed", _R_NOT_ARMED)
        left = self.remaining_budget_ms()
        if left is not None and duration_ms > left:
            self._refuse("on-time budget: %d ms left, %d ms asked" % (left, duration_ms), _R_ON_TIME_BUDGET)
        self._pulse_ms = duration_ms
        self.fire_pin.value(1)
        self._enter(FIRING)

    def _account(self, on_ms):
        self.pulses += 1
        self.total_on_ms += on_ms

    def poll(self):
        """Advance the state machine; returns the state. Never blocks."""
        now = self.clock.ticks_ms()
        elapsed = ticks_diff(now, self._t_state)
        if self.state == FIRING:
            if elapsed >= self._pulse_ms:
                self.fire_pin.value(0)
                if elapsed > self._pulse_ms:
                    self.overruns += 1
                self._account(elapsed)
                self._enter(ARMED)
        elif self.state == ARMED:
            if elapsed >= self.auto_disarm_ms:
                self.safe()
        elif self.state == ARM_PENDING:
            if elapsed > self.arm_window_ms:
                self.safe()
                self._lapsed = True
        return self.state

    def deadline_ms(self):
        """Tick count at which the open valve must close (for a scheduler); None if not firing."""
        if self.state != FIRING:
            return None
        return ticks_add(self._t_state, self._pulse_ms)
