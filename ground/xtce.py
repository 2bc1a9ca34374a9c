"""XTCE 1.2 mission database of the project, built from flight/dictionary.py only (one source).

    xml = to_xtce()          # `cubesat dict xtce`; Yamcs loads it as an `xtce` MDB

Telemetry: an abstract CCSDS primary header container, an abstract PUS-C TM header (with the CUC
time, 4 + 2 octets) restricted to TM packets of the spacecraft's APID, and one container per
report: PUS-1 verification stages, TM(3,25) per SID, TM(5,x) per event, 9.2, 17.2, 20.2, and the
variable-length 11.13 (an array of entries sized by its count) and 13.x (a file part sized by the
packet length).
Each parameter's encoding is the one packed onboard (TM_TYPES: B/H/I integers, f32 otherwise).
Commands: an abstract `pus_tc` MetaCommand whose container is the CCSDS + PUS-C TC header (Yamcs'
PUS post-processor fills the sequence count, the length and the CRC), and one MetaCommand per
dictionary command: function id (PUS-8) then its arguments, as ground/dictionary.py encodes them,
hazardous ones critical, with PUS-1 Accepted/Execution/Complete verifiers (Yamcs' Pus1Verifier on
reports 1.1/1.2, 1.3/1.4, 1.7/1.8 quoting the TC's request id; a failure report fails the command
with its code and reason).
"""

from __future__ import annotations

import datetime
import struct
import xml.etree.ElementTree as ET
from types import ModuleType

from flight.dictionary import (
    APID,
    COMMANDS,
    EVENTS,
    FAIL_REASONS,
    FAILURES,
    HK_SETS,
    MODES,
    PARAMS,
    TELEMETRY,
    TM_ENUMS,
    TM_TYPES,
)
from ground.pus import report
from ground.pus.verification import STAGES, is_failure
from ground.xtce_builder import STRUCT_BITS, XtceBuilder
from hal.sim.env.environment import EPOCH_UNIX
from protocols import (
    pus_1_verification,
    pus_3_hk,
    pus_5_event,
    pus_9_time,
    pus_11_schedule,
    pus_13_large_packet,
    pus_17_test,
    pus_20_param,
)

_EPOCH = datetime.datetime.fromtimestamp(EPOCH_UNIX, datetime.timezone.utc)
MISSION_EPOCH = _EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ")  # onboard time 0 (the twin's RTC epoch)
_ARG_INTS = {"u8": (8, False), "u16": (16, False), "u32": (32, False), "i16": (16, True), "i32": (32, True)}
BOOLEANS = ("sunlit", "heater")  # 0/1 values
CCSDS_HEADER = (("version", 3), ("type", 1), ("sec_hdr", 1), ("apid", 11), ("seq_flags", 2))
CCSDS_HEADER += (("seq_count", 14), ("length", 16))
PUS_TM_HEADER = (("pus_version", 4), ("time_ref", 4), ("service", 8), ("subtype", 8))
PUS_TM_HEADER += (("msg_counter", 16), ("dest_id", 16))
# name, bits, initial value (None: assigned by each command)
PUS_TC_HEADER = (
    ("ccsds_version", 3, 0),
    ("ccsds_type", 1, 1),
    ("ccsds_sec_hdr", 1, 1),
    ("ccsds_apid", 11, APID),
    ("ccsds_seq_flags", 2, 3),
    ("ccsds_seq_count", 14, 0),
    ("ccsds_length", 16, 0),
    ("pus_version", 4, 2),
    ("pus_ack_flags", 4, 15),
    ("pus_service", 8, None),
    ("pus_subtype", 8, None),
    ("pus_source_id", 16, 0),
)
VERIFICATION = {sub: stage.replace(" ", "_") for sub, stage in STAGES.items()}  # "acceptance_failed"


def enumerations() -> dict[str, dict[str, int]]:
    """The enumerated telemetry types: {type name: {label: value}}."""
    out = {"mode": dict(MODES)}
    for name, values in TM_ENUMS.items():
        out[name] = dict(values)
    out["failure_code"] = {name: code for code, (name, _t) in FAILURES.items()}
    out["failure_reason"] = {"NONE": 0, **{name: code for code, (name, _t) in FAIL_REASONS.items()}}
    out["event_id"] = {name: ev[0] for name, ev in EVENTS.items()}
    out["param_id"] = {name.replace(".", "_").upper(): pid for pid, (name, *_r) in PARAMS.items()}
    return out


def _telemetry(b: XtceBuilder) -> None:
    enums = enumerations()
    for name, (unit, ylo, yhi, rlo, rhi, desc) in TELEMETRY.items():
        fmt = TM_TYPES.get(name, "f")
        if name in enums:
            b.enum_type(name + "_type", enums[name], STRUCT_BITS[fmt][0])
        elif name in BOOLEANS:
            t = b.new_type("Boolean", name + "_type")
            b.int_encoding(t, STRUCT_BITS[fmt][0])  # type: ignore[arg-type]
        elif fmt == "f":
            b.alarms(b.float_type(name + "_type", unit), (ylo, yhi, rlo, rhi))  # type: ignore[arg-type]
        else:
            bits, signed = STRUCT_BITS[fmt]
            b.alarms(b.int_type(name + "_type", bits, signed, unit), (ylo, yhi, rlo, rhi))  # type: ignore[arg-type]
        b.param(name, name + "_type", desc)
    # headers
    for field, bits in CCSDS_HEADER:
        b.int_type("u%d" % bits, bits)
        b.param("ccsds_" + field, "u%d" % bits)
    b.container("ccsds_packet", ["ccsds_" + f for f, _b in CCSDS_HEADER], abstract=True)
    for field, bits in PUS_TM_HEADER:
        b.int_type("u%d" % bits, bits)
        b.param("tm_" + field, "u%d" % bits)
    b.time_type()
    b.param("tm_obt", "cuc_time", "Onboard time of the report (CUC)")
    tm_entries = ["tm_" + f for f, _b in PUS_TM_HEADER] + ["tm_obt"]
    conds = {"ccsds_type": 0, "ccsds_sec_hdr": 1, "ccsds_apid": APID}
    b.container("pus_tm", tm_entries, "ccsds_packet", abstract=True, **conds)
    # PUS-1 verification
    b.enum_type("failure_code", enums["failure_code"], 16)
    b.enum_type("failure_reason", enums["failure_reason"], 8)
    request = (("version", 3), ("type", 1), ("sec_hdr", 1), ("apid", 11), ("seq_flags", 2), ("seq_count", 14))
    for field, bits in request:  # the request id: the verified TC's packet id and sequence control
        b.param("verif_" + field, "u%d" % bits, "Verified TC: %s" % field)
    b.param("verif_failure_code", "failure_code")
    b.param("verif_failure_reason", "failure_reason", "Which check refused (0: none named)")
    for sub, stage in VERIFICATION.items():
        entries = ["verif_" + f for f, _b in request]
        if is_failure(sub):
            entries += ["verif_failure_code", "verif_failure_reason"]
        b.container(
            "tm_1_%d_%s" % (sub, stage),
            entries,
            "pus_tm",
            tm_service=pus_1_verification.SERVICE,
            tm_subtype=sub,
        )
    # PUS-3 housekeeping: one container per SID
    b.fmt_param("hk_sid", "B", "Housekeeping set id")
    hk = _report(pus_3_hk, "hk")
    b.container(hk[0], ["hk_sid"], "pus_tm", abstract=True, **hk[1])
    for sid, (set_name, _period, _on, names) in HK_SETS.items():
        b.container("hk_%s" % set_name, list(names), hk[0], hk_sid=sid)
    # PUS-5 events: one container per event, any severity (subtype 1..4)
    b.enum_type("event_id", enums["event_id"], 16)
    b.param("event_id", "event_id")
    b.container("tm_5_event", ["event_id"], "pus_tm", abstract=True, tm_service=pus_5_event.SERVICE)
    b.enum_type("param_id", enums["param_id"], 16)
    known = {"from": "mode_type", "to": "mode_type", "reset_cause": "reset_cause_type"}
    known["param_id"] = "param_id"
    for ev, (_id, _sev, fmt, aux, desc) in EVENTS.items():
        names = ["event_%s_%s" % (ev.lower(), a) for a in aux]
        for pname, a, ch in zip(names, aux, fmt.lstrip(">")):
            b.fmt_param(pname, ch, "%s: %s" % (ev, desc), known.get(a))
        b.container("event_%s" % ev.lower(), names, "tm_5_event", event_id=ev)
    # the other reports
    b.param("time_report_obt", "cuc_time", "Onboard time of a TM(9,2) time report")
    name, kind = _report(pus_9_time, "time")
    b.container(name, ["time_report_obt"], "pus_tm", **kind)
    _variable_reports(b)
    name, kind = _report(pus_17_test, "pong")
    b.container(name, [], "pus_tm", **kind)
    b.fmt_param("param_count", "B", "Parameters in a TM(20,2) report (1 onboard)")
    b.param("param_report_id", "param_id")
    fmt = pus_20_param.ENTRY  # ">Hf": the id (param_id above), the value
    b.fmt_param("param_report_value", fmt[2], "Value of the reported parameter")
    name, kind = _report(pus_20_param, "param")
    b.container(name, ["param_count", "param_report_id", "param_report_value"], "pus_tm", **kind)


def _report(service_codec: ModuleType, short: str) -> tuple[str, dict[str, int]]:
    """The container name ("tm_<service>_<subtype>_<short>") and the restriction on the PUS
    header of a service's report (its protocols/pus_* module's SERVICE and REPORT)."""
    service, subtype = report(service_codec)
    return "tm_%d_%d_%s" % (service, subtype, short), {"tm_service": service, "tm_subtype": subtype}


def _dynamic(parent: ET.Element, ref: str, slope: int = 1, intercept: int = 0) -> None:
    """A size from another parameter of the packet: slope * value + intercept."""
    dv = XtceBuilder.el(parent, "DynamicValue")
    XtceBuilder.el(dv, "ParameterInstanceRef", parameterRef=ref)
    XtceBuilder.el(dv, "LinearAdjustment", slope=slope, intercept=intercept)


def _variable_reports(b: XtceBuilder) -> None:
    """The reports whose length varies: TM(11,13) lists its entries (flight/schedule.py summary),
    TM(13,1/2/3) carry a part of a payload file (flight/payload.py next_part)."""
    b.fmt_param("schedule_count", "B", "Time-tagged commands waiting (TM(11,13))")
    fmt, names = pus_11_schedule.ENTRY, pus_11_schedule.FIELDS.split()
    aggregate = b.new_type("Aggregate", "schedule_entry_type")
    members = b.el(aggregate, "MemberList")  # type: ignore[arg-type]
    for name, kind in zip(names, fmt[1:]):  # one struct character per field, after the ">"
        bits = 8 * struct.calcsize(">" + kind)
        b.int_type("u%d" % bits, bits)
        b.el(members, "Member", name=name, typeRef="u%d" % bits)
    arr = b.new_type("Array", "schedule_entries_type", arrayTypeRef="schedule_entry_type")
    dim = b.el(b.el(arr, "DimensionList"), "Dimension")  # type: ignore[arg-type]
    b.el(b.el(dim, "StartingIndex"), "FixedValue", "0")
    _dynamic(b.el(dim, "EndingIndex"), "schedule_count", intercept=-1)  # count 0: no entry
    b.param("schedule_entries", "schedule_entries_type", "Release time (onboard s) and request id of each")
    name, kind = _report(pus_11_schedule, "schedule")
    b.container(name, ["schedule_count", "schedule_entries"], "pus_tm", **kind)
    b.fmt_param("file_transaction", "H", "Payload file downlink: transaction (the file's serial)")
    b.fmt_param("file_part", "H", "Payload file downlink: part number, from 1 (subtype 1 first, 3 last)")
    data = b.new_type("Binary", "file_data_type")
    # the rest of the source data: (ccsds_length + 1) - PUS header 7 - time 6 - 4 - CRC 2 bytes
    size = b.el(b.el(data, "BinaryDataEncoding"), "SizeInBits")  # type: ignore[arg-type]
    _dynamic(size, "ccsds_length", 8, -8 * 18)
    b.param("file_data", "file_data_type", "Payload file downlink: the part's bytes")
    parts = ["file_transaction", "file_part", "file_data"]
    b.container("tm_13_file_part", parts, "pus_tm", tm_service=pus_13_large_packet.SERVICE)


def _arg_type(b: XtceBuilder, cname: str, aname: str, kind: str, lo: object, hi: object, unit: str) -> str:
    tname = "%s_%s_type" % (cname, aname)
    if kind == "enum":
        b.enum_type(tname, hi, 8, "Argument")  # type: ignore[arg-type]
    elif kind.startswith(("bytes", "text")) or kind == "tc":
        # "text<N>" goes as its N bytes (UTF-8, NUL-padded), like "bytes<N>"
        t = b.new_type("Binary", tname, "Argument")
        enc = b.el(t, "BinaryDataEncoding")
        if kind != "tc":  # "tc": an embedded telecommand, the rest of the packet (no size: variable)
            b.el(
                b.el(enc, "SizeInBits"), "FixedValue", str(8 * int(kind[4:] if kind[0] == "t" else kind[5:]))
            )
    else:
        t = b.float_type(tname, unit, "Argument") if kind == "f32" else None
        if kind != "f32":
            bits, signed = _ARG_INTS[kind]
            t = b.int_type(tname, bits, signed, unit, "Argument")
        b.el(t, "ValidRange", minInclusive=repr(lo), maxInclusive=repr(hi))
    return tname


def _commands(b: XtceBuilder) -> None:
    base = b.el(b.cmds, "MetaCommand", name="pus_tc", abstract="true")
    args = b.el(base, "ArgumentList")
    entries = b.el(b.el(base, "CommandContainer", name="pus_tc"), "EntryList")
    for name, bits, init in PUS_TC_HEADER:
        b.int_type("tc_u%d" % bits, bits, where="Argument")
        b.el(args, "Argument", name=name, argumentTypeRef="tc_u%d" % bits, initialValue=init)
        b.el(entries, "ArgumentRefEntry", argumentRef=name)
    for cname, (service, subtype, fid, cargs, hazardous, desc) in COMMANDS.items():
        mc = b.el(b.cmds, "MetaCommand", name=cname, shortDescription=desc)
        assign = b.el(b.el(mc, "BaseMetaCommand", metaCommandRef="pus_tc"), "ArgumentAssignmentList")
        b.el(assign, "ArgumentAssignment", argumentName="pus_service", argumentValue=service)
        b.el(assign, "ArgumentAssignment", argumentName="pus_subtype", argumentValue=subtype)
        if cargs:
            alist = b.el(mc, "ArgumentList")
            for aname, kind, lo, hi, unit in cargs:
                tname = _arg_type(b, cname, aname, kind, lo, hi, unit)
                b.el(alist, "Argument", name=aname, argumentTypeRef=tname)
        cc = b.el(mc, "CommandContainer", name=cname)
        el = b.el(cc, "EntryList")
        if fid is not None:
            b.el(el, "FixedValueEntry", name="function_id", binaryValue="%04X" % fid, sizeInBits=16)
        for aname, *_r in cargs:
            b.el(el, "ArgumentRefEntry", argumentRef=aname)
        b.el(cc, "BaseContainer", containerRef="pus_tc")
        if hazardous:
            b.el(mc, "DefaultSignificance", consequenceLevel="critical", reasonForWarning="hazardous")
        _verifiers(b, b.el(mc, "VerifierSet"))


# PUS-1 verifiers: XTCE stage, the success subtype (its failure is the next one), window (s)
VERIFIERS = (("Accepted", 1, 60), ("Execution", 3, 60), ("Complete", 7, 600))
# Pus1Verifier's inputs, in the order it reads them, then the ones its failure message names
VERIFIER_INPUTS = (
    ("sentApid", "/yamcs/cmd/arg/ccsds_apid"),
    ("sentSeq", "/yamcs/cmdHist/ccsds-seqcount"),  # set by Yamcs' PUS post-processor
    ("rcvdApid", "verif_apid"),
    ("rcvdSeq", "verif_seq_count"),
    ("subtype", "tm_subtype"),
    ("code", "verif_failure_code"),
    ("reason", "verif_failure_reason"),
)


def _verifiers(b: XtceBuilder, vs: ET.Element) -> None:
    """Each stage runs Yamcs' own PUS-1 verifier (org.yamcs.pus.Pus1Verifier): OK on the success
    report quoting this TC's APID and sequence count, failed on the failure report, whose code
    and reason become the command's failure message.

    The verifier finishes synchronously as each report is processed, so 1.1, 1.3 and 1.7 arriving
    back to back (one tick onboard) pass in order; a condition verifier finishes on a timer thread
    and a later stage could complete the command, cancelling a pending earlier one. It is triggered
    only by a verification report (verif_seq_count is in no other packet): other packets carry
    subtypes 1..8 too and would meet the previous report's stale request id."""
    for stage, subtype, window in VERIFIERS:
        v = b.el(vs, stage + "Verifier")
        alg = b.el(v, "CustomAlgorithm", name="verify_%s" % stage.lower())
        text = 'org.yamcs.pus.Pus1Verifier({stage: %d, template: "{code}: {reason}"})' % subtype
        b.el(alg, "AlgorithmText", text, language="Java")
        inputs = b.el(alg, "InputSet")
        for name, ref in VERIFIER_INPUTS:
            b.el(inputs, "InputParameterInstanceRef", parameterRef=ref, inputName=name)
        b.el(b.el(alg, "TriggerSet"), "OnParameterUpdateTrigger", parameterRef="verif_seq_count")
        # every stage watches from the release on: the board reports 1.1, 1.3 and 1.7 in one tick
        window_s = "PT%dS" % window
        b.el(v, "CheckWindow", timeToStopChecking=window_s, timeWindowIsRelativeTo="commandRelease")


def to_xtce(name: str = "cubesat") -> str:
    """The XTCE 1.2 SpaceSystem: TM containers and types, MetaCommands with their containers."""
    b = XtceBuilder(name, MISSION_EPOCH)
    _telemetry(b)
    _commands(b)
    ET.indent(b.root)
    return ET.tostring(b.root, encoding="unicode", xml_declaration=True)
