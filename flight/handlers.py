"""Telecommand handlers of the flight application: each registered with the dispatcher, with an
optional start check (mode, interlocks) raising CommandError with its PUS-1 failure code.

A mixin of FlightApp (flight/app.py): the handlers use the application's subsystems directly.
"""

import struct

from flight import modes
from flight.commands import CommandError
from flight.dictionary import EVENTS, FAIL, HK_SETS, MODE_NAMES
from flight.errors import ParamError
from flight.payload import EXPERIMENTS
from flight.telemetry import HK_COUNTDOWN, HK_ENABLED, HK_PERIOD

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


# failure reasons: numbers of flight/dictionary.py's table (no string on the board)
_R_FDIR_INHIBIT = const(9)
_R_NO_THRUSTERS = const(10)
_R_PROP_MODE = const(11)
_R_MODE_TRANSITION = const(12)
_R_NOT_DETUMBLED = const(13)
_R_PAYLOAD_MODE = const(14)
_R_PAYLOAD_BUSY = const(15)
_R_NO_RADIO = const(20)
_R_NOTHING_RUNNING = const(21)
_R_LINK_NOT_SECURED = const(22)
_R_ARG_1 = const(24)


class CommandHandlers:
    def _register_commands(self):
        d = self.dispatcher
        d.register("ping", lambda v: self._emit(17, 2, b""))
        d.register("verification_query", self._verification_query)
        d.register("hk_enable", lambda v: self._hk_set(v[0], 1), self._check_sid)
        d.register("hk_disable", lambda v: self._hk_set(v[0], 0), self._check_sid)
        d.register("hk_oneshot", lambda v: self.hk_report(v[0]), self._check_sid)
        d.register("hk_interval", self._hk_interval, self._check_sid)
        d.register("event_enable", lambda v: self.events.set_enabled(v[0], True), self._check_event)
        d.register("event_disable", lambda v: self.events.set_enabled(v[0], False), self._check_event)
        d.register("mode_set", self._mode_set, self._check_mode_set)
        d.register("mode_override", lambda v: self.set_mode(v[0], modes.REASON_COMMAND))
        d.register("radio_reset", self._radio_reset)
        d.register("fdir_reset", self._fdir_reset)
        d.register("thruster_arm", self._arm, self._check_prop)
        d.register("thruster_arm_confirm", lambda v: self.propulsion.confirm_arm(v[0]), self._check_prop)
        d.register("thruster_fire", lambda v: self.propulsion.fire(v[0], v[1]), self._check_fire)
        d.register("thruster_disarm", lambda v: self.propulsion.safe(), self._check_thrusters)
        d.register("payload_start", self._payload_start, self._check_payload)
        d.register("payload_stop", self._payload_stop)
        d.register("rekey", self._rekey)
        d.register("file_downlink", lambda v: self.file_service().downlink(v[0]))
        d.register("update", self.update_command)
        d.register("time_report", self._time_report)
        d.register("time_set", self._time_set)
        d.register("schedule_enable", lambda v: self.schedule.set_enabled(True))
        d.register("schedule_disable", lambda v: self.schedule.set_enabled(False))
        d.register("schedule_reset", lambda v: self.schedule.reset())
        d.register("schedule_insert", lambda v: self.schedule.insert(v[0], v[1].pack(), int(self.obt())))
        d.register("schedule_delete", lambda v: self.schedule.delete(v[0], v[1]))
        d.register("schedule_list", lambda v: self._emit(11, 13, self.schedule.summary()))
        d.register("param_get", self._param_get)
        d.register("param_set", self._param_set)
        self.stores.register(d, self._emit, CommandError, FAIL)

    def _verification_query(self, v):
        if not self.stores.repeat_reports(v[0], v[1], self._emit):
            raise CommandError(FAIL["UNKNOWN_ID"], "no recent request %d/%d" % (v[0], v[1]))

    def _fdir_reset(self, v):
        self.fdir.reset()
        self._propulsion_inhibit()

    def _check_sid(self, v):
        if v[0] not in HK_SETS:
            raise CommandError(FAIL["UNKNOWN_ID"], "no housekeeping set %d" % v[0], _R_ARG_1)

    def _hk_set(self, sid, on):
        st = self._hk[sid]
        st[HK_ENABLED] = on
        st[HK_COUNTDOWN] = 1  # report at the next cycle

    def _hk_interval(self, v):
        st = self._hk[v[0]]
        st[HK_PERIOD] = v[1]
        st[HK_COUNTDOWN] = min(st[HK_COUNTDOWN], v[1])

    def _check_event(self, v):
        if v[0] not in [e[0] for e in EVENTS.values()]:
            raise CommandError(FAIL["UNKNOWN_ID"], "no event %d" % v[0], _R_ARG_1)

    def _check_mode_set(self, v):
        if not self.modes.allowed(v[0]):
            raise CommandError(
                FAIL["WRONG_MODE"],
                "%s -> %s not allowed" % (MODE_NAMES[self.modes.mode], MODE_NAMES[v[0]]),
                _R_MODE_TRANSITION,
            )
        if v[0] == modes.NOMINAL and self.modes.mode != modes.NOMINAL and not self.detumbled():
            raise CommandError(
                FAIL["INTERLOCK"], "still tumbling: NOMINAL needs a completed detumble", _R_NOT_DETUMBLED
            )

    def _mode_set(self, v):
        self.set_mode(v[0], modes.REASON_COMMAND)

    def _radio_reset(self, v):
        if self.radio is None:
            raise CommandError(FAIL["EXEC_FAILED"], "no radio on this board", _R_NO_RADIO)
        try:
            self.radio.recover()
        except OSError as exc:
            raise CommandError(FAIL["EXEC_FAILED"], "radio: %s" % exc) from None

    def _check_thrusters(self, v):
        if self.propulsion is None:
            raise CommandError(FAIL["EXEC_FAILED"], "no thrusters on this board", _R_NO_THRUSTERS)

    def _check_prop(self, v):
        self._check_thrusters(v)
        if self.modes.mode not in (modes.NOMINAL, modes.DETUMBLE):
            raise CommandError(FAIL["WRONG_MODE"], "propulsion only in DETUMBLE or NOMINAL", _R_PROP_MODE)
        if self.fdir.prop_inhibited:
            raise CommandError(FAIL["INTERLOCK"], "propulsion inhibited by FDIR", _R_FDIR_INHIBIT)

    def _arm(self, v):
        token = self.propulsion.request_arm()
        self.events.report("ARM_PENDING", token)

    def _check_fire(self, v):
        self._check_prop(v)
        self.propulsion.check_fire(v[0], v[1], int(self.params["prop.max_pulse_ms"]))

    def _check_payload(self, v):
        if self.modes.mode != modes.NOMINAL:
            raise CommandError(FAIL["WRONG_MODE"], "payload runs in NOMINAL only", _R_PAYLOAD_MODE)
        if v[0] not in EXPERIMENTS:
            raise CommandError(FAIL["UNKNOWN_ID"], "no experiment %d" % v[0], _R_ARG_1)
        if self.payload.active is not None:
            raise CommandError(
                FAIL["INTERLOCK"], "experiment %d already running" % self.payload.active[0], _R_PAYLOAD_BUSY
            )

    def _payload_start(self, v):
        self.payload.start(v[0], v[1], v[2], self.obt())

    def _payload_stop(self, v):
        if not self.payload.stop():
            raise CommandError(FAIL["EXEC_FAILED"], "no experiment running", _R_NOTHING_RUNNING)

    def _rekey(self, v):
        if self.comms.security is None:
            raise CommandError(FAIL["EXEC_FAILED"], "link not secured: nothing to rekey", _R_LINK_NOT_SECURED)
        if not self.comms.rekey(v[0], v[1]):
            raise CommandError(FAIL["UNKNOWN_ID"], "no security association %d" % v[0], _R_ARG_1)

    def _time_report(self, v):
        self._time_rate_exp = v[0]
        self._emit(9, 2, bytes(self.stamp()))

    def _time_set(self, v):
        self.time_offset += v[0] - self.obt()

    def _param_get(self, v):
        try:
            value = self.params.get(v[0])
        except ParamError as exc:
            raise CommandError(exc.code, str(exc), exc.reason) from None
        self._emit(20, 2, struct.pack(">BHf", 1, v[0], value))

    def _param_set(self, v):
        try:
            value = self.params.set(v[0], v[1])
        except ParamError as exc:
            raise CommandError(exc.code, str(exc), exc.reason) from None
        self._apply_params()
        self.events.report("PARAM_CHANGED", v[0], value)
        self._emit(20, 2, struct.pack(">BHf", 1, v[0], value))

    def _apply_params(self):
        p = self.params
        self.bdot.gain = p["adcs.bdot_gain"]
        self.bdot.done_rate = p["adcs.done_rate_dps"] / 57.29578
        self.sun_pointing.kp = p["adcs.sun_gain"]
