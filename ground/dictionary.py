"""Ground view of flight/dictionary.py: typed, range-checked command encoding, limits, roles, XTCE."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from flight.commands import ARG_FORMATS
from flight.dictionary import COMMANDS, FAIL_REASONS, FAILURES, HAZARD_ROLES, HK_SETS, TELEMETRY, TM_TYPES
from ground.errors import GroundError
from protocols import pus_1_verification, pus_3_hk, pus_8_function
from protocols.errors import DecodeError
from protocols.pus import PusTc

ROLES = ("viewer", "operator", "admin")


class BadCommandError(GroundError, ValueError):
    """A telecommand the dictionary does not allow: unknown name, bad or out-of-range argument
    (flight.errors.CommandError is another thing: a command that failed onboard)."""


class ReportError(GroundError, ValueError):
    """A report the dictionary cannot decode: an unknown housekeeping set, a wrong length."""


class PermissionDenied(GroundError, PermissionError):  # noqa: N818 - the operator-facing name
    """The operator's role may not send this command, or a hazardous one was not confirmed."""


@dataclass(frozen=True)
class Command:
    name: str
    service: int
    subtype: int
    function_id: int | None
    args: tuple
    hazardous: bool
    description: str


def command(name: str) -> Command:
    if name not in COMMANDS:
        raise BadCommandError("unknown command %r; known: %s" % (name, ", ".join(sorted(COMMANDS))))
    return Command(name, *COMMANDS[name])


def command_of(tc: PusTc) -> Command | None:
    """The dictionary command a telecommand is (service, subtype and, for PUS-8, function id)."""
    fid = pus_8_function.decode_request(tc.app_data)[0] if len(tc.app_data) >= 2 else None
    for name, (service, subtype, function_id, *_rest) in COMMANDS.items():
        if (service, subtype) == (tc.service, tc.subtype) and function_id in (None, fid):
            return command(name)
    return None


def encode_args(cmd: Command, values: dict[str, object]) -> bytes:
    """Application data for the command: function id (PUS-8) then each argument, big-endian."""
    extra = set(values) - {a[0] for a in cmd.args}
    if extra:
        raise BadCommandError("%s: unexpected argument(s) %s" % (cmd.name, ", ".join(sorted(extra))))
    out = bytearray()
    if cmd.function_id is not None:
        out += pus_8_function.encode_request(cmd.function_id)
    for name, kind, lo, hi, unit in cmd.args:
        if name not in values:
            raise BadCommandError("%s: missing argument %r" % (cmd.name, name))
        raw = values[name]
        if kind == "enum":
            if raw not in hi:
                raise BadCommandError(
                    "%s: %s must be one of %s, got %r" % (cmd.name, name, ", ".join(hi), raw)
                )
            out += struct.pack(">B", hi[raw])
            continue
        if kind == "tc":  # an embedded telecommand (time-tagged schedule): a PusTc or its bytes
            packed = raw.pack() if isinstance(raw, PusTc) else bytes(raw)  # type: ignore[arg-type]
            try:
                PusTc.unpack(packed)
            except Exception as exc:
                raise BadCommandError(
                    "%s: %s is not a valid telecommand: %s" % (cmd.name, name, exc)
                ) from None
            out += packed
            continue
        if kind.startswith("text"):  # UTF-8, NUL-padded to its size
            size = int(kind[4:])
            data = bytes(raw).rstrip(b"\x00") if isinstance(raw, (bytes, bytearray)) else str(raw).encode()
            if len(data) > size or b"\x00" in data:
                raise BadCommandError(
                    "%s: %s must be text of at most %d bytes, got %r" % (cmd.name, name, size, raw)
                )
            out += data + bytes(size - len(data))
            continue
        if kind.startswith("bytes"):
            size = int(kind[5:])
            try:
                data = bytes.fromhex(raw) if isinstance(raw, str) else bytes(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise BadCommandError(
                    "%s: %s must be %d bytes in hex digits, got %r" % (cmd.name, name, size, raw)
                ) from None
            if len(data) != size:
                raise BadCommandError("%s: %s must be %d bytes, got %d" % (cmd.name, name, size, len(data)))
            out += data
            continue
        try:
            num = float(raw) if kind == "f32" else int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise BadCommandError("%s: %s must be a number, got %r" % (cmd.name, name, raw)) from None
        if num != num or not lo <= num <= hi:
            raise BadCommandError("%s: %s=%s out of range %s..%s %s" % (cmd.name, name, raw, lo, hi, unit))
        out += struct.pack(ARG_FORMATS[kind], num)
    return bytes(out)


def check_permission(cmd: Command, role: str, confirmed: bool) -> None:
    if role not in ROLES:
        raise PermissionDenied("unknown role %r; roles: %s" % (role, ", ".join(ROLES)))
    if role == "viewer":
        raise PermissionDenied("role 'viewer' cannot send commands")
    if cmd.hazardous:
        allowed = HAZARD_ROLES.get(cmd.name, ("admin",))
        if role not in allowed:
            raise PermissionDenied(
                "%s is hazardous and needs role %s (you are %s)" % (cmd.name, " or ".join(allowed), role)
            )
        if not confirmed:
            raise PermissionDenied("%s is hazardous: repeat with --confirm to send it" % cmd.name)


def build_tc(
    name: str, values: dict[str, object], apid: int, seq: int, role: str, confirmed: bool = False
) -> PusTc:
    """The telecommand; an embedded command written as text gets sequence count seq + 1."""
    cmd = command(name)
    check_permission(cmd, role, confirmed)
    values = dict(values)
    for aname, kind, *_rest in cmd.args:
        if kind == "tc" and isinstance(values.get(aname), str):
            text = str(values[aname])
            values[aname] = embedded_tc(name, aname, text, apid, (seq + 1) & 0x3FFF, role, confirmed)
    return PusTc(cmd.service, cmd.subtype, encode_args(cmd, values), apid=apid, seq_count=seq)


def embedded_tc(
    name: str, aname: str, text: str, apid: int, seq: int, role: str, confirmed: bool = False
) -> PusTc:
    """An embedded command written as on the command line: "param_set param_id=11 value=120"."""
    words = text.split()
    if not words:
        raise BadCommandError("%s: %s is empty" % (name, aname))
    inner_args = {}
    for w in words[1:]:
        if "=" not in w:
            raise BadCommandError("%s: %s arguments are key=value, got %r" % (name, aname, w))
        k, v = w.split("=", 1)
        inner_args[k] = v
    return build_tc(words[0], inner_args, apid, seq, role, confirmed)


def embedded_args(name: str, values: dict[str, object]) -> list[tuple[str, str]]:
    """(argument, text) of each embedded command of `name` given as text in `values`."""
    return [
        (aname, str(values[aname]))
        for aname, kind, *_rest in command(name).args
        if kind == "tc" and isinstance(values.get(aname), str)
    ]


def limit_state(name: str, value: float) -> str:
    """'ok', 'yellow' or 'red' for a telemetry value against the dictionary limits."""
    _, ylo, yhi, rlo, rhi, _ = TELEMETRY[name]
    if (rlo is not None and value < rlo) or (rhi is not None and value > rhi):
        return "red"
    if (ylo is not None and value < ylo) or (yhi is not None and value > yhi):
        return "yellow"
    return "ok"


def to_xtce(name: str = "cubesat") -> str:
    """The XTCE 1.2 mission database (ground/xtce.py): containers, typed parameters, MetaCommands."""
    from ground import xtce

    return xtce.to_xtce(name)


# each housekeeping set's values as one struct format (the flight packs them field by field in
# the same order and formats: flight/telemetry.py)
HK_FORMATS = {sid: ">" + "".join(TM_TYPES.get(n, "f") for n in s[3]) for sid, s in HK_SETS.items()}


def decode_hk(data: bytes) -> tuple[int, dict[str, float]]:
    """(sid, {parameter: value}) of a TM(3,25) report (protocols/pus_3_hk.py), its values named by
    the dictionary's HK_SETS; ReportError for an unknown set or a wrong length."""
    try:
        sid, values = pus_3_hk.decode_report(data, HK_FORMATS)
    except DecodeError as exc:
        raise ReportError("housekeeping report: %s" % exc) from None
    return sid, dict(zip(HK_SETS[sid][3], values))


def failure_text(code: int) -> str:
    return FAILURES[code][1] if code in FAILURES else "unknown failure code"


def failure_name(code: int) -> str:
    """A PUS-1 failure code by its dictionary name: 4 -> "WRONG_MODE"."""
    return FAILURES[code][0] if code in FAILURES else "code %d" % code


ARG_REASONS = range(24, 32)  # reasons 24..31 name argument 1..8 of the command


def failure_notice(data: bytes) -> tuple[int, int | None, str]:
    """(code, reason, text) of a PUS-1 failure report's source data (protocols/pus_1_verification.py:
    request id, code, then a reason byte (FAIL_REASONS, 0: none named; None from an older board
    that sent only the text) and the board's short text); ReportError if it holds no code."""
    try:
        _apid, _seq, code, reason, text = pus_1_verification.decode_report(data)
    except DecodeError as exc:
        raise ReportError("verification report: %s" % exc) from None
    if code is None:
        raise ReportError("verification report: %d bytes hold no failure code" % len(data))
    return code, reason, text


def reason_name(reason: int | None) -> str | None:
    if not reason:
        return None
    return FAIL_REASONS[reason][0] if reason in FAIL_REASONS else "REASON_%d" % reason


def reason_text(reason: int | None, command_name: str | None = None) -> str | None:
    """What the operator reads for a reason byte: "arm request expired", "argument 2 (value)"."""
    if not reason:
        return None
    text = FAIL_REASONS[reason][1] if reason in FAIL_REASONS else "reason %d" % reason
    if reason in ARG_REASONS and command_name in COMMANDS:
        args = COMMANDS[command_name][3]  # type: ignore[index]
        k = reason - ARG_REASONS[0]
        if k < len(args):
            text += " (%s)" % args[k][0]
    return text


def failure_summary(code: int, reason: int | None, command_name: str | None = None) -> str:
    """A failure notice as the operator reads it: "INTERLOCK (arm request expired): interlock not
    satisfied" (the reason, when the board gave one, names an argument of `command_name`)."""
    why = reason_text(reason, command_name)
    return "%s%s: %s" % (failure_name(code), " (%s)" % why if why else "", failure_text(code))
