"""Propulsion: the thruster valves behind one shared ARM switch, with FDIR hooks.

Arming is two commands: `thruster_arm` asks valve 0 (which carries the operator's two-step
token check) for a token, reported in the ARM_PENDING event; `thruster_arm_confirm` quotes it.
The other valves share the physical ARM switch, so they follow valve 0 into ARMED; when any
valve falls back to SAFE (auto-disarm, inhibit), all do. An anomaly (a valve closed late, a
refusal storm) disarms everything and inhibits propulsion until the inhibit is lifted.

The valves' switches are GPIOs or the registers of a propulsion unit with its own controller
(hal.drivers.modbus_rtu.RegisterSwitch). A unit that does not answer (HalError) fails the command
that needed it with EXEC_FAILED and the driver's line, leaves every valve SAFE and is an anomaly
(kind 2) once until an arming gets through again; the unit closes its valves on its own limit.

A component (flight/commands.py): it runs the thruster_* commands; `app` (the wiring sets it)
gives the mode, FDIR's inhibit and the pulse limit its start checks need.
"""

from flight import modes
from flight.dictionary import FAIL
from flight.errors import CommandError
from hal.drivers.thruster import ARMED, FIRING, SAFE
from hal.errors import ConfigError, HalError, InterlockError

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


# failure reasons (numbers of flight/dictionary.py's table; the valve's own come with its refusal)
_R_THRUSTER_INHIBITED = const(6)
_R_NOT_ARMED = const(5)
_R_FDIR_INHIBIT = const(9)
_R_PROP_MODE = const(11)
_R_PULSE_TOO_LONG = const(16)
_R_ARG_1 = const(24)


class Propulsion:
    def __init__(self, valves, on_event=None):
        self.valves = valves
        self.on_event = on_event
        self.inhibited = False
        self._overruns = [v.overruns for v in valves]
        self._pulses = [v.pulses for v in valves]
        self.anomalies = 0
        self.unit_errors = 0  # switch writes a propulsion unit did not answer
        self.unit_down = False  # reported as an anomaly; cleared by an arming that gets through
        self._noted = []  # anomalies found outside poll(), which returns them with its own

    def _fail(self, exc):
        if isinstance(exc, InterlockError):
            raise CommandError(FAIL["INTERLOCK"], str(exc), exc.reason) from None
        if isinstance(exc, HalError):  # the unit did not answer: make everything safe, say so
            self._unit_error()
            self.safe()
            raise CommandError(FAIL["EXEC_FAILED"], str(exc)) from None
        raise CommandError(FAIL["ARG_RANGE"], str(exc)) from None

    def _unit_error(self):
        self.unit_errors += 1
        if not self.unit_down:
            self.unit_down = True
            self._noted.append((0, 2))

    # --- commands ---------------------------------------------------------------------------
    def tc_check(self, name, v):
        if name == "thruster_disarm":  # always allowed: it makes the thrusters safe
            return
        app = self.app
        if app.modes.mode not in (modes.NOMINAL, modes.DETUMBLE):
            raise CommandError(FAIL["WRONG_MODE"], "propulsion only in DETUMBLE or NOMINAL", _R_PROP_MODE)
        if app.fdir.prop_inhibited:
            raise CommandError(FAIL["INTERLOCK"], "propulsion inhibited by FDIR", _R_FDIR_INHIBIT)
        if name == "thruster_fire":
            self.check_fire(v[0], v[1], int(app.params["prop.max_pulse_ms"]))

    def tc_thruster_arm(self, v):
        self.on_event("ARM_PENDING", self.request_arm())

    def tc_thruster_arm_confirm(self, v):
        self.confirm_arm(v[0])

    def tc_thruster_fire(self, v):
        self.fire(v[0], v[1])

    def task(self):
        """Fast cycle: close valves on time; anomalies go to FDIR."""
        self.app.thruster_anomalies.extend(self.poll())

    # --- the valves ---------------------------------------------------------------------------
    def request_arm(self):
        try:
            return self.valves[0].request_arm()
        except InterlockError as exc:
            self._fail(exc)

    def confirm_arm(self, token):
        try:
            self.valves[0].confirm_arm(token)
            for v in self.valves[1:]:
                v.confirm_arm(v.request_arm())  # same physical switch, already closed by valve 0
        except InterlockError as exc:
            self.safe()
            self._fail(exc)
        except HalError as exc:
            self._fail(exc)  # which makes everything safe
        self.unit_down = False

    def check_fire(self, index, duration_ms, max_pulse_ms):
        if index >= len(self.valves):
            raise CommandError(FAIL["ARG_RANGE"], "no thruster %d" % index, _R_ARG_1)
        if duration_ms > max_pulse_ms:
            raise CommandError(
                FAIL["ARG_RANGE"], "pulse %d ms > max %d ms" % (duration_ms, max_pulse_ms), _R_PULSE_TOO_LONG
            )
        v = self.valves[index]
        if self.inhibited or v.inhibited:
            raise CommandError(FAIL["INTERLOCK"], "propulsion inhibited", _R_THRUSTER_INHIBITED)
        if v.state != ARMED:
            raise CommandError(FAIL["INTERLOCK"], "thruster %d not armed" % index, _R_NOT_ARMED)

    def fire(self, index, duration_ms):
        try:
            self.valves[index].fire(duration_ms)
        except (InterlockError, ConfigError, HalError) as exc:
            self._fail(exc)

    def safe(self):
        """Every valve SAFE (its own safe() sees to it even when its unit does not answer); the
        first error a switch raised, or None."""
        failed = None
        for v in self.valves:
            try:
                v.safe()
            except HalError as exc:
                self._unit_error()
                failed = failed or exc
        return failed

    def tc_thruster_disarm(self, v):
        failed = self.safe()
        if failed is not None:
            raise CommandError(FAIL["EXEC_FAILED"], str(failed))

    def inhibit(self, on=True):
        self.inhibited = bool(on)
        for v in self.valves:
            v.inhibited = bool(on)
        if on:
            self.safe()

    def poll(self):
        """Fast rate group: close valves on time, keep the shared ARM switch consistent,
        and return [(thruster, kind)] anomalies (kind 1: valve closed late, 2: unit not answering)."""
        anomalies = self._noted
        self._noted = []
        states = []
        for v in self.valves:
            try:
                states.append(v.poll())
            except HalError:  # closing the valve or disarming did not reach its unit
                self._unit_error()
                states.append(v.state)
        if SAFE in states and any(s in (ARMED, FIRING) for s in states):
            self.safe()  # one valve dropped the shared ARM switch: every valve is unpowered now
        for i, v in enumerate(self.valves):
            if v.overruns != self._overruns[i]:
                self._overruns[i] = v.overruns
                anomalies.append((i, 1))
            if v.pulses != self._pulses[i]:
                self._pulses[i] = v.pulses
                if self.on_event is not None:
                    self.on_event("THRUSTER_FIRED", i, min(v.total_on_ms, 65535))
        return anomalies

    def armed(self):
        return any(v.state in (ARMED, FIRING) for v in self.valves)
