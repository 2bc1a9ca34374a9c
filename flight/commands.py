"""Telecommand intake: decode arguments from the dictionary, route, verify (PUS-1).

    class Test:  # a component: a method per dictionary command it runs
        def tc_ping(self, v):
            emit(test.SERVICE, test.REPORT, test.encode_report())   # protocols/pus_17_test.py

    d = Dispatcher(emit, audit=audit.append)
    d.components = (Test(),)
    d.handle(tc_bytes)        # emits 1.1/1.2, 1.3/1.4, 1.7/1.8 with failure codes

Stages (ECSS-E-ST-70-41C service 1): acceptance checks the packet, the service/subtype/
function and every argument (length, range); start runs the command's preconditions (mode,
interlocks); completion runs it. Successful stages are reported when the TC's acknowledgement
flags ask for them; failures always are, with the request id, a failure code from
dictionary.FAIL, then the failure data: one reason byte (which check refused, numbered in the
dictionary's failure reasons, 0 when none is named) and a short text (never key material).
"""

import struct

from flight.dictionary import COMMANDS, FAIL, HAZARD_ROLES
from flight.errors import CommandError
from protocols import errors
from protocols import pus_1_verification as verification
from protocols.pus import ACK_ACCEPTANCE, ACK_COMPLETION, ACK_START, PusTc

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


ARG_FORMATS = {"u8": ">B", "u16": ">H", "u32": ">I", "i16": ">h", "i32": ">i", "f32": ">f", "enum": ">B"}
_SIZE = {"u8": 1, "u16": 2, "u32": 4, "i16": 2, "i32": 4, "f32": 4, "enum": 1}
# authority of the frame that carried a command (flight.comms decides it from the SDLS SPI)
LEVEL_NONE = 0  # not authenticated on a keyed spacecraft
LEVEL_OPERATOR = 1
LEVEL_ADMIN = 2
# failure reasons: numbers of flight/dictionary.py's table (no string on the board)
_R_NOT_ON_BOARD = const(10)
_R_NEEDS_OPERATOR_KEY = const(17)
_R_NEEDS_ADMIN_KEY = const(18)
_R_SOFTWARE_ERROR = const(19)
_R_ARG_1 = const(24)  # argument k (1..8) is _R_ARG_1 + k - 1

# what a handler returns to report its completion later, through Dispatcher.complete (a command
# that runs over many ticks: its 1,7 or 1,8 comes when it ends, as PUS-1 allows)
DEFER = object()


def required_level(name):
    """Authority a command needs onboard: hazardous ones an authenticated frame, admin ones the
    admin key. The ground checks roles too; this is the check a raw frame cannot bypass."""
    roles = HAZARD_ROLES.get(name)
    if roles is None:
        return LEVEL_NONE
    return LEVEL_ADMIN if "operator" not in roles else LEVEL_OPERATOR


def decode_args(name, spec, data):
    """Argument values (in dictionary order) from application data, or CommandError."""
    values = []
    i = 0
    n = len(data)
    for aname, kind, lo, hi, _unit in spec:
        arg = _R_ARG_1 + len(values)  # the reason naming this argument
        if kind == "tc":
            if i >= n:
                raise CommandError(FAIL["BAD_LENGTH"], "%s: %s missing" % (name, aname), arg)
            try:
                values.append(PusTc.unpack(bytes(data[i:])))
            except errors.ProtocolError as exc:
                raise CommandError(FAIL["ARG_RANGE"], "%s: %s: %s" % (name, aname, exc), arg) from None
            i = n
            continue
        if kind[:4] in ("byte", "text"):
            size = int(kind[5:] if kind[0] == "b" else kind[4:])
        else:
            size = _SIZE[kind]
        if i + size > n:
            raise CommandError(
                FAIL["BAD_LENGTH"], "%s: %d bytes, %s needs %d more" % (name, n, aname, i + size - n), arg
            )
        if kind[:4] in ("byte", "text"):  # text: NUL-padded UTF-8, its handler decodes it
            values.append(bytes(data[i : i + size]))
        else:
            v = struct.unpack_from(ARG_FORMATS[kind], data, i)[0]
            if kind == "enum":
                if v not in hi.values():
                    raise CommandError(
                        FAIL["ARG_RANGE"],
                        "%s: %s=%d not one of %s" % (name, aname, v, sorted(hi.values())),
                        arg,
                    )
            elif v != v or not lo <= v <= hi:
                raise CommandError(
                    FAIL["ARG_RANGE"], "%s: %s=%r outside %r..%r" % (name, aname, v, lo, hi), arg
                )
            values.append(v)
        i += size
    if i != n:
        raise CommandError(FAIL["BAD_LENGTH"], "%s: %d bytes, expected %d" % (name, n, i))
    return values


def route(service, subtype, fid):
    """(name, argument spec) of the dictionary's command TC(service, subtype) with function id
    `fid` (None where the subtype alone names the command), or None. A scan of the dictionary
    per telecommand: a lookup table would hold 1.6 KB of a board's heap for the whole flight
    (and the scan walks keys, as items() would make a tuple per command)."""
    for name in COMMANDS:
        c = COMMANDS[name]
        if c[2] == fid and c[1] == subtype and c[0] == service:
            return name, c[3]
    return None


class Dispatcher:
    """Verifies and runs telecommands on the components that own them.

    A component is any object with a method `tc_<name>(values)` per command of
    flight/dictionary.py's COMMANDS it runs (the completion stage), and optionally
    `tc_check(name, values)`, the start stage of each of them (preconditions: mode, interlocks;
    raises CommandError to refuse). `components` is the sequence the wiring sets (the first that
    has the method runs the command): no table of handlers, bound methods or closures is kept.
    `handle(raw, source, level)` takes a packet's bytes, `execute(tc, source, level)` an
    unpacked PusTc; both return True when the command completed. Acceptance also refuses a
    command (and any TC it carries) that needs more authority than `level` (`required_level`). A
    dictionary command no component on this board runs is refused at its start (EXEC_FAILED,
    reason NOT_ON_BOARD). The verification reports (which, and when: the module docstring) are
    TM(1, n) packets through `emit(service, subtype, data)`; a CommandError becomes the stage's
    failure report, any other exception from `tc_<name>` a failure with reason _R_SOFTWARE_ERROR
    (the software runs on).

    `audit(text)`, when given, gets one line per command that passed argument decoding: REFUSED
    (authority or check), FAILED or OK with its values (bytes shown only as their length).
    Counters: `ok`, `failed` (every failure report, plus packets too short to report against),
    `refused_auth`, `by_code` (failures per FAIL code). `now` is stored but not used.
    """

    components = ()

    def __init__(self, emit, audit=None, now=None):
        self.emit = emit  # emit(service, subtype, data) queues a TM packet
        self.audit = audit  # audit(text) records every command that passed argument decoding
        self.now = now
        self.ok = 0
        self.failed = 0
        self.refused_auth = 0
        self.by_code = {}

    def runner(self, name):
        """(component, its tc_<name> method) of the component that runs command `name`, or None."""
        # a method name of loaded code is an interned string already; the name of a command no
        # component on this board runs is interned once (bounded by the dictionary)
        attr = "tc_" + name
        for c in self.components:
            run = getattr(c, attr, None)
            if run is not None:
                return c, run
        return None

    def _report(self, subtype, req, code=None, message="", reason=0):
        if code is not None:
            self.failed += 1
            self.by_code[code] = self.by_code.get(code, 0) + 1
        # kept in flash by the verification packet store
        self.emit(verification.SERVICE, subtype, verification.encode_report(req, code, reason, message))

    def handle(self, raw, source="link", level=LEVEL_ADMIN):
        """Verify and run one telecommand packet that arrived with authority `level`; returns True
        when it completed."""
        try:
            tc = PusTc.unpack(raw)
        except errors.ProtocolError as exc:
            # a packet we cannot trust: report against its header when there is one
            if len(raw) >= 4:
                req = bytes(raw[0:4])
                self._report(verification.ACCEPTANCE_FAILED, req, FAIL["BAD_PACKET"], str(exc))
            else:
                self.failed += 1
            return False
        return self.execute(tc, source, level)

    def _needs(self, name, values):
        need = required_level(name)
        for v in values:
            if isinstance(v, PusTc):  # a stored command needs the authority it will run with
                inner = route(v.service, v.subtype, None)
                if inner is None and len(v.app_data) >= 2:
                    inner = route(v.service, v.subtype, v.app_data[0] << 8 | v.app_data[1])
                if inner is not None:
                    need = max(need, required_level(inner[0]))
        return need

    def execute(self, tc, source="link", level=LEVEL_ADMIN):
        pid, psc = tc.request_id()
        req = struct.pack(">HH", pid, psc)
        ack = tc.ack_flags
        fid = None
        data = tc.app_data
        found = route(tc.service, tc.subtype, None)
        if found is None and len(data) >= 2:
            fid = (data[0] << 8) | data[1]
            found = route(tc.service, tc.subtype, fid)
            data = data[2:]
        if found is None:
            self._report(
                verification.ACCEPTANCE_FAILED,
                req,
                FAIL["UNKNOWN_SERVICE"],
                "no TC(%d,%d) fid %s" % (tc.service, tc.subtype, fid),
            )
            return False
        name, spec = found
        try:
            values = decode_args(name, spec, data)
        except CommandError as exc:
            self._report(verification.ACCEPTANCE_FAILED, req, exc.code, exc.message, exc.reason)
            return False
        need = self._needs(name, values)
        if level < need:
            self.refused_auth += 1
            msg = "%s needs %s authentication" % (name, "admin" if need == LEVEL_ADMIN else "operator")
            why = _R_NEEDS_ADMIN_KEY if need == LEVEL_ADMIN else _R_NEEDS_OPERATOR_KEY
            self._report(verification.ACCEPTANCE_FAILED, req, FAIL["NOT_AUTHORISED"], msg, why)
            self._audit("%s %s REFUSED %d %s" % (source, name, FAIL["NOT_AUTHORISED"], msg))
            return False
        if ack & ACK_ACCEPTANCE:
            self._report(verification.ACCEPTED, req)
        runs = self.runner(name)
        try:
            if runs is None:
                raise CommandError(FAIL["EXEC_FAILED"], "%s: not on this board" % name, _R_NOT_ON_BOARD)
            check = getattr(runs[0], "tc_check", None)
            if check is not None:
                check(name, values)
        except CommandError as exc:
            self._report(verification.START_FAILED, req, exc.code, exc.message, exc.reason)
            self._audit("%s %s REFUSED %d %s" % (source, name, exc.code, exc.message))
            return False
        if ack & ACK_START:
            self._report(verification.STARTED, req)
        self.current = (req, ack, source, name)  # a deferring handler keeps this for complete()
        try:
            deferred = runs[1](values) is DEFER
        except CommandError as exc:
            self.complete(self.current, exc.code, exc.message, exc.reason)
            return False
        except Exception as exc:  # a handler bug: the command failed, the software runs on
            self._report(
                verification.COMPLETION_FAILED,
                req,
                FAIL["EXEC_FAILED"],
                "%s: %s" % (type(exc).__name__, exc),
                _R_SOFTWARE_ERROR,
            )
            self._audit("%s %s FAILED %s" % (source, name, type(exc).__name__))
            return False
        if not deferred:
            self.complete(self.current, detail=_short(values))
        return True

    def complete(self, token, code=None, message="", reason=0, detail=""):
        """The end of a command: its completion (1,7 when asked for) or, with `code`, its failure
        (1,8), and its audit line. `token` is `current` as it ran: a handler that returned DEFER
        keeps it and calls this when the command ends."""
        req, ack, source, name = token
        if code is not None:
            self._report(verification.COMPLETION_FAILED, req, code, message, reason)
            self._audit("%s %s FAILED %d %s" % (source, name, code, message))
            return
        self.ok += 1
        if ack & ACK_COMPLETION:
            self._report(verification.COMPLETED, req)
        self._audit("%s %s OK %s" % (source, name, detail))

    def _audit(self, text):
        if self.audit is not None:
            self.audit(text)


def _short(values):
    out = []
    for v in values:
        if isinstance(v, (bytes, bytearray)):
            out.append("<%d bytes>" % len(v))  # e.g. a wrapped key: never in the log
        elif isinstance(v, PusTc):
            out.append("TC(%d,%d)" % (v.service, v.subtype))
        else:
            out.append(repr(v))
    return ",".join(out)
