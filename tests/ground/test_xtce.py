"""The XTCE export read back as Yamcs would: containers decode real reports, MetaCommands encode
the same bytes as build_tc, types and enumerations are the dictionary's (ground/xtce.py)."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest

from flight.dictionary import COMMANDS, EVENTS, FAILURES, HK_SETS, MODES, TELEMETRY, TM_ENUMS, TM_TYPES
from flight.telemetry import _layout
from ground.dictionary import build_tc, decode_hk
from ground.xtce import APID, to_xtce
from protocols.crc import crc16
from protocols.pus import pack_tm

X = "{http://www.omg.org/spec/XTCE/20180204}"
ROOT = ET.fromstring(to_xtce())


def _by_name(tag: str) -> dict[str, ET.Element]:
    return {e.get("name"): e for e in ROOT.iter(X + tag)}  # type: ignore[misc]


PTYPES = {e.get("name"): e for e in ROOT.find(X + "TelemetryMetaData/" + X + "ParameterTypeSet")}
ATYPES = {e.get("name"): e for e in ROOT.find(X + "CommandMetaData/" + X + "ArgumentTypeSet")}
PARAMS = {p.get("name"): p.get("parameterTypeRef") for p in ROOT.iter(X + "Parameter")}
CONTAINERS = _by_name("SequenceContainer")
METACOMMANDS = _by_name("MetaCommand")


def _encoding(t: ET.Element) -> tuple[str, int, bool]:
    """(kind, bits, signed) of a type's encoding: int, float or binary (bits -1: variable)."""
    enc = t.find(".//" + X + "IntegerDataEncoding")
    if enc is not None:
        return "int", int(enc.get("sizeInBits")), enc.get("encoding") == "twosComplement"
    enc = t.find(".//" + X + "FloatDataEncoding")
    if enc is not None:
        return "float", int(enc.get("sizeInBits")), True
    size = t.find(".//" + X + "FixedValue")
    return "binary", -1 if size is None else int(size.text), False


def _labels(t: ET.Element) -> dict[str, int]:
    return {e.get("label"): int(e.get("value")) for e in t.iter(X + "Enumeration")}


def _chain(name: str) -> list[ET.Element]:
    """The container and its bases, outermost (the CCSDS header) first."""
    out = []
    while name:
        c = CONTAINERS[name]
        out.insert(0, c)
        base = c.find(X + "BaseContainer")
        name = base.get("containerRef") if base is not None else None
    return out


def _decode(packet: bytes, name: str) -> dict[str, object]:
    """Decode a packet with container `name` as Yamcs does, checking every restriction on the way."""
    bits = int.from_bytes(packet, "big")
    pos = 0
    total = 8 * len(packet)
    values: dict[str, object] = {}
    for c in _chain(name):
        for cond in c.iter(X + "Comparison"):
            assert str(values[cond.get("parameterRef")]) == cond.get("value"), (name, cond.attrib)
        for entry in c.find(X + "EntryList"):
            pname = entry.get("parameterRef")
            t = PTYPES[PARAMS[pname]]
            kind, size, signed = _encoding(t)
            raw = (bits >> (total - pos - size)) & ((1 << size) - 1)
            pos += size
            if kind == "float":
                value: object = struct.unpack(">f", raw.to_bytes(4, "big"))[0]
            elif signed and raw >> (size - 1):
                value = raw - (1 << size)
            else:
                value = raw
            labels = {v: k for k, v in _labels(t).items()}
            values[pname] = labels.get(value, value)  # type: ignore[call-overload]
    assert pos == total - 16, "%s: %d bits decoded, %d before the CRC" % (name, pos, total - 16)
    return values


def test_each_housekeeping_set_is_its_onboard_report() -> None:
    for sid, (set_name, _p, _on, names) in HK_SETS.items():
        c = CONTAINERS["hk_%s" % set_name]
        entries = [e.get("parameterRef") for e in c.find(X + "EntryList")]
        assert entries == list(names)
        sizes = [_encoding(PTYPES[PARAMS[p]])[1] for p in ["hk_sid", *entries]]
        assert sum(sizes) == 8 * len(_layout(sid, (_Values(sid, {}),))[0])
        cond = {e.get("parameterRef"): e.get("value") for e in c.iter(X + "Comparison")}
        assert cond == {"hk_sid": str(sid)}
    for name in TELEMETRY:  # u32 counters stay 32-bit unsigned integers, f32 values floats
        fmt = TM_TYPES.get(name, "f")
        want = ("float", 32, True) if fmt == "f" else ("int", 8 * struct.calcsize(fmt), False)
        assert _encoding(PTYPES[PARAMS[name]]) == want, name
    assert PTYPES[PARAMS["audit_head"]].tag == X + "IntegerParameterType"


def test_enumerations_are_the_dictionarys() -> None:
    assert _labels(PTYPES["mode_type"]) == MODES
    assert _labels(PTYPES["reset_cause_type"]) == TM_ENUMS["reset_cause"]
    assert _labels(PTYPES["failure_code"]) == {name: code for code, (name, _t) in FAILURES.items()}
    assert _labels(PTYPES["event_id"]) == {name: ev[0] for name, ev in EVENTS.items()}
    for cname, (*_h, args, _hz, _d) in COMMANDS.items():
        for aname, kind, _lo, hi, _u in args:
            if kind == "enum":
                assert _labels(ATYPES["%s_%s_type" % (cname, aname)]) == hi


def _tm(service: int, subtype: int, data: bytes) -> bytes:
    return bytes(pack_tm(service, subtype, data, APID, 1, 2, 0, bytes(6)))


class _Values:
    """A component with every value of set `sid`: `given`'s, else the value's place in the set."""

    def __init__(self, sid: int, given: dict) -> None:
        self.names = HK_SETS[sid][3]
        self.given = given

    def value(self, name: str):
        return self.given.get(name, self.names.index(name) + 1)


def test_containers_decode_real_reports() -> None:
    stamp = struct.pack(">IH", 86400, 0x8000)
    values = {"audit_head": 3145866510, "mode": 3, "batt_v": 7.4, "reset_cause": 1, "uptime_s": 4000000000}
    for sid, (set_name, *_r) in HK_SETS.items():
        # the flight's own layout of the set's report (flight/telemetry.py), packed as it packs
        buf, fields = _layout(sid, (_Values(sid, values),))
        data = bytearray(buf)
        for i in range(0, len(fields), 4):  # flat: component, name, struct format, offset, ...
            part, name, fmt, offset = fields[i : i + 4]
            struct.pack_into(fmt, data, offset, part.value(name))
        pkt = bytes(pack_tm(3, 25, data, APID, 7, 9, 0, stamp))
        got = _decode(pkt, "hk_%s" % set_name)
        assert got["tm_obt"] == (86400 << 16) | 0x8000  # raw CUC: scaled by 2^-16 s in cuc_time
        for name, value in decode_hk(bytes(data))[1].items():
            mapping = _labels(PTYPES[PARAMS[name]])
            assert got[name] == {v: k for k, v in mapping.items()}.get(value, value), name
    assert got["audit_head"] == 3145866510
    # an event with its payload, a PUS-1 failure with code and reason, a parameter report
    ev = _decode(_tm(5, 1, struct.pack(">HBBB", 2, 1, 3, 0)), "event_mode_change")
    assert (ev["event_id"], ev["event_mode_change_from"], ev["event_mode_change_to"]) == (
        "MODE_CHANGE",
        "SAFE",
        "NOMINAL",
    )
    fail = _decode(_tm(1, 2, struct.pack(">HHHB", 0x1810, 0xC005, 5, 1)), "tm_1_2_acceptance_failed")
    assert (fail["verif_failure_code"], fail["verif_failure_reason"]) == ("INTERLOCK", "ARM_EXPIRED")
    assert (fail["verif_apid"], fail["verif_seq_flags"], fail["verif_seq_count"]) == (0x10, 3, 5)
    rep = _decode(_tm(20, 2, struct.pack(">BHf", 1, 11, 60.0)), "tm_20_2_param")
    assert (rep["param_report_id"], rep["param_report_value"]) == ("COMMS_BEACON_S", 60.0)


def _sample(kind: str, lo: object, hi: object) -> object:
    if kind == "enum":
        return list(hi)[-1]  # type: ignore[call-overload]
    if kind == "f32":
        return -1.25
    if kind == "tc":
        return build_tc("param_set", {"param_id": 11, "value": 120}, APID, 9, "admin").pack()
    if kind.startswith("bytes"):
        return bytes(range(int(kind[5:])))
    if kind.startswith("text"):  # Yamcs takes the padded bytes
        return b"files/a.bin".ljust(int(kind[4:]), b"\x00")
    return hi  # the largest value: every bit of the field counts


def _encode(cname: str, user: dict[str, object], seq: int) -> bytes:
    """The packet Yamcs sends: base header arguments, assignments, the command's entries; then the
    PUS post-processor's sequence count, packet length and CRC."""
    mc = METACOMMANDS[cname]
    base = METACOMMANDS[mc.find(X + "BaseMetaCommand").get("metaCommandRef")]
    values = {a.get("name"): a.get("initialValue") for a in base.iter(X + "Argument")}
    values.update({a.get("argumentName"): a.get("argumentValue") for a in mc.iter(X + "ArgumentAssignment")})
    values.update(user, ccsds_seq_count=seq)
    types = {
        a.get("name"): ATYPES[a.get("argumentTypeRef")] for m in (base, mc) for a in m.iter(X + "Argument")
    }
    acc, nbits = 0, 0
    for m in (base, mc):
        for entry in m.find(X + "CommandContainer/" + X + "EntryList"):
            if entry.tag == X + "FixedValueEntry":
                size, raw = int(entry.get("sizeInBits")), int(entry.get("binaryValue"), 16)
            else:
                t = types[entry.get("argumentRef")]
                kind, size, _signed = _encoding(t)
                value = values[entry.get("argumentRef")]
                if kind == "binary":
                    assert size in (-1, 8 * len(value))  # type: ignore[arg-type]
                    size, raw = 8 * len(value), int.from_bytes(value, "big")  # type: ignore[arg-type]
                elif kind == "float":
                    raw = int.from_bytes(struct.pack(">f", float(value)), "big")  # type: ignore[arg-type]
                else:
                    raw = _labels(t).get(value, None)  # type: ignore[arg-type]
                    raw = int(value) if raw is None else raw  # type: ignore[call-overload]
                    lo_hi = t.find(X + "ValidRange")
                    if lo_hi is not None:
                        assert float(lo_hi.get("minInclusive")) <= raw <= float(lo_hi.get("maxInclusive"))
                    raw &= (1 << size) - 1
            acc, nbits = (acc << size) | raw, nbits + size
    assert nbits % 8 == 0
    pkt = bytearray(acc.to_bytes(nbits // 8, "big"))
    struct.pack_into(">H", pkt, 4, len(pkt) + 2 - 7)
    return bytes(pkt + crc16(pkt).to_bytes(2, "big"))


@pytest.mark.parametrize("cname", sorted(COMMANDS))
def test_metacommands_encode_what_build_tc_packs(cname: str) -> None:
    args = {a[0]: _sample(*a[1:4]) for a in COMMANDS[cname][3]}
    want = build_tc(cname, args, APID, 5, role="admin", confirmed=True).pack()
    assert _encode(cname, args, 5).hex() == want.hex()
    hazard = METACOMMANDS[cname].find(X + "DefaultSignificance")
    assert (hazard is not None) == COMMANDS[cname][4]


def test_every_command_has_pus1_verifiers_on_its_request_id() -> None:
    inputs = ["/yamcs/cmd/arg/ccsds_apid", "/yamcs/cmdHist/ccsds-seqcount", "verif_apid", "verif_seq_count"]
    inputs += ["tm_subtype", "verif_failure_code", "verif_failure_reason"]
    for cname in COMMANDS:
        vs = METACOMMANDS[cname].find(X + "VerifierSet")
        assert [v.tag[len(X) :] for v in vs] == ["AcceptedVerifier", "ExecutionVerifier", "CompleteVerifier"]
        for v, sub in zip(vs, ("1", "3", "7")):
            alg = v.find(X + "CustomAlgorithm")
            assert "Pus1Verifier({stage: %s," % sub in alg.find(X + "AlgorithmText").text
            assert [i.get("parameterRef") for i in alg.iter(X + "InputParameterInstanceRef")] == inputs
            triggers = [t.get("parameterRef") for t in alg.iter(X + "OnParameterUpdateTrigger")]
            assert triggers == ["verif_seq_count"]  # a verification report, never another packet


def test_the_named_telemetry_values_are_the_flight_codes() -> None:
    from flight import boot
    from flight.sensors import Sensors

    assert TM_ENUMS["reset_cause"] == {
        "POWER_ON": boot.POWER_ON,
        "WATCHDOG": boot.WATCHDOG,
        "SOFT": boot.SOFT,
        "BROWN_OUT": boot.BROWN_OUT,
    }
    s = Sensors()
    assert s.rate(0.5) == (0.5, TM_ENUMS["rate_src"]["MAGNETOMETER"])  # no gyro reading
    s.omega = (0.0, 0.0, 0.0)
    assert s.rate(0.5) == (0.0, TM_ENUMS["rate_src"]["GYRO"])
