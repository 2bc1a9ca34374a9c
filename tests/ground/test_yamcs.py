"""A real Yamcs 5.12 (pip fprime-yamcs-bundle, Java 17) on the instance `cubesat dict yamcs` writes
loads the XTCE export and decodes the
twin's downlink: every housekeeping value it holds equals the project's decode of the same packets;
the telecommands it sends are byte-identical to build_tc's (`cubesat send`).

Needs `java` (./dev.sh setup installs openjdk-17-jre-headless) and the pip bundle (the dev extras):
without them the tests fail, they do not skip; about 10 s (Yamcs starts in ~7 s)."""

from __future__ import annotations

import base64
import math
import socket
import struct
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from yamcs_harness import Yamcs, eng, running_yamcs

from flight.dictionary import HK_SETS, TM_TYPES
from ground.dictionary import build_tc, decode_hk
from ground.downlink import Downlink
from ground.flight_twin import SCID, FlightTwin
from ground.passes import parse_time
from ground.pus.events import decode_event
from ground.server.decode import onboard_time
from ground.terminal import Terminal
from ground.xtce import APID, enumerations
from ground.yamcs_instance import YamcsPorts, java_command, write_instance
from hal.sim.env.environment import EPOCH_UNIX
from protocols import pus_11_schedule
from protocols.pus import PusTc


@pytest.fixture(scope="module")  # one Yamcs (~7 s to start) for the module's tests
def yamcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Yamcs, socket.socket]]:
    """Yamcs on the instance `cubesat dict yamcs` writes; its TC link sends to the test's socket."""
    tc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tc.bind(("127.0.0.1", 0))
    tc.settimeout(10)
    try:
        with running_yamcs(tmp_path_factory.mktemp("yamcs"), tc.getsockname()[1], SCID) as y:
            yield y, tc
    finally:
        tc.close()


def test_yamcsadmin_finds_the_instance_ok_and_the_mdb_has_every_housekeeping_set(
    yamcs, tmp_path: Path
) -> None:
    y, _tc = yamcs
    etc = write_instance(tmp_path, YamcsPorts(), SCID)
    check = subprocess.run(
        [*java_command(etc, "org.yamcs.cli.YamcsAdminCli"), "confcheck"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert check.returncode == 0 and "Configuration OK" in check.stdout, check.stdout + check.stderr
    for _sid, (set_name, *_rest) in HK_SETS.items():
        container = y.get("/mdb/cubesat/containers/cubesat/hk_" + set_name)
        assert [e["parameter"]["name"] for e in container["entry"]] == list(HK_SETS[_sid][3])


def test_yamcs_decodes_the_twins_downlink_as_the_project_does(yamcs, tmp_path: Path) -> None:
    y, _tc = yamcs
    assert "loaded: " in y.log.read_text() and "tm containers" in y.log.read_text()
    twin = FlightTwin(tmp_path / "flash")
    twin.run_ms(61_000)  # core (10 s) and health (60 s) reports, the boot events
    dl = Downlink(scid=SCID, keep_raw=True)
    list(dl.feed(twin.link.ground_read()))
    packets = dl.raw or []
    want: dict[str, object] = {}  # the project's decode; the last report of each value wins
    enums = enumerations()
    events: dict[str, dict[str, int]] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for raw, tm in packets:
            s.sendto(raw, ("127.0.0.1", y.ports.tm_packets))
            if (tm.service, tm.subtype) == (3, 25):
                for name, value in decode_hk(tm.source_data)[1].items():
                    labels = {v: k for k, v in enums.get(name, {}).items()}
                    want[name] = labels.get(value, value)
            elif tm.service == 5:  # events: the id and the payload, modes and causes by name
                event, aux = decode_event(tm.source_data)
                events[event] = aux
    sids = {tm.source_data[0] for _r, tm in packets if (tm.service, tm.subtype) == (3, 25)}
    assert sids >= {1, 3}, sids

    def tm_link() -> dict:
        return y.get("/links/cubesat/tm_packets")

    y.wait("packets on the UDP link", lambda: int(tm_link().get("dataInCount", 0)) == len(packets), 15)
    link = tm_link()
    assert link["extra"]["Invalid datagrams"] == "0"
    names = [n for sid in sorted(sids) for n in HK_SETS[sid][3]]
    assert len(names) == 27
    for name in names:
        url = "/processors/cubesat/realtime/parameters/cubesat/" + name
        value = y.wait(name, lambda url=url: y.get(url).get("engValue") and y.get(url), 10)
        got, exp = eng(value), want[name]  # type: ignore[arg-type]
        if TM_TYPES.get(name, "f") == "f":
            same = (math.isnan(got) and math.isnan(exp)) or struct.pack(">f", got) == struct.pack(">f", exp)  # type: ignore[arg-type]
            assert same, (name, got, exp)
        elif isinstance(got, bool):
            assert got == bool(exp), name
        else:
            assert got == exp, (name, got, exp)
    assert "BOOT" in events
    for event, aux in events.items():
        for a, value in aux.items():
            name = "event_%s_%s" % (event.lower(), a)
            enum = {"from": "mode", "to": "mode"}.get(a, a)
            labels = {v: k for k, v in enums.get(enum, {}).items()}
            got = eng(y.get("/processors/cubesat/realtime/parameters/cubesat/" + name))
            assert got == labels.get(value, value), (name, got, value)
    # the CUC time field: decoded by the MDB (tm_obt) and by the PUS preprocessor (generation time)
    obt = y.get("/processors/cubesat/realtime/parameters/cubesat/tm_obt")
    last = EPOCH_UNIX + (onboard_time(packets[-1][1]) or 0.0)
    stamp = parse_time(obt["engValue"]["stringValue"])
    generated = parse_time(obt["generationTime"])
    assert abs(stamp - last) < 0.001 and abs(generated - last) < 0.001


def test_yamcs_sends_the_commands_cubesat_send_builds(yamcs) -> None:
    y, tc = yamcs
    cases = [
        ("ping", {}),
        ("param_set", {"param_id": 11, "value": 120.0}),
        ("mode_set", {"mode": "NOMINAL"}),
        ("thruster_fire", {"thruster": 1, "duration_ms": 100}),
        ("rekey", {"spi": 7, "wrapped_key": bytes(range(32)).hex()}),
    ]
    for name, args in cases:
        y.post_command(name, args)
        sent = tc.recv(4096)  # the post-processor numbers the packets: compare at its count
        want = build_tc(name, args, APID, PusTc.unpack(sent).seq_count, role="admin", confirmed=True)
        assert sent.hex() == want.pack().hex(), name


def test_yamcs_commands_execute_on_the_twin_and_their_verifiers_complete(yamcs, tmp_path: Path) -> None:
    """Yamcs' TCs go up through the project's COP-1 terminal; the twin's PUS-1 reports come back
    to Yamcs, whose Accepted, Execution and Complete verifiers pass on them, and whose command
    fails, with the board's code and reason, on a failure report."""
    y, tc = yamcs
    twin, term, dl = FlightTwin(tmp_path / "flash"), Terminal(), Downlink(scid=SCID, keep_raw=True)
    term.start(0)
    ms = 0
    ids = {}
    cases = (
        ("ping", {}, 7),
        ("param_set", {"param_id": 11, "value": 90.0}, 7),
        ("mode_set", {"mode": "SAFE"}, 7),
        ("thruster_fire", {"thruster": 0, "duration_ms": 50}, 4),  # refused at start in SAFE mode
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tm_out:
        for name, args, last in cases:
            ids[name] = y.post_command(name, args)
            req = term.send_tc(PusTc.unpack(tc.recv(4096)), name)
            for _ in range(200):  # at most 20 s of mission
                if term.done(req):
                    break
                up = term.uplink(ms)
                if up:
                    twin.link.ground_write(up)
                twin.step()
                down = twin.link.ground_read()
                term.downlink(down, ms)
                list(dl.feed(down))
                for raw, _tm in dl.raw or []:  # one datagram per packet, as the board sent them
                    tm_out.sendto(raw, ("127.0.0.1", y.ports.tm_packets))
                dl.raw = []
                ms += 100
            assert term.reports.get(req, [])[-1:] == [last], (name, term.stages(req))

    def complete(cid: str) -> dict:
        entry = y.get("/archive/cubesat/commands/" + urllib.parse.quote(cid, safe=""))
        attrs = {a["name"]: list(a["value"].values())[-1] for a in entry.get("attr", [])}
        return attrs if attrs.get("CommandComplete_Status") else {}

    for name, _args, last in cases:
        attrs = y.wait("verification of " + name, lambda cid=ids[name]: complete(cid), 10)
        if last == 7:
            for stage in ("Accepted", "Execution", "Complete"):
                assert attrs["Verifier_%s_Status" % stage] == "OK", (name, attrs)  # type: ignore[index]
            assert attrs["CommandComplete_Status"] == "OK", (name, attrs)  # type: ignore[index]
        else:  # the stage whose failure report came fails the command, with the board's words
            assert (attrs["Verifier_Accepted_Status"], attrs["Verifier_Execution_Status"]) == ("OK", "NOK")  # type: ignore[index]
            assert attrs["CommandComplete_Status"] == "NOK", (name, attrs)  # type: ignore[index]
            assert attrs["CommandComplete_Message"] == "WRONG_MODE: PROP_MODE", (name, attrs)  # type: ignore[index]


def test_yamcs_decodes_the_variable_length_reports(yamcs, tmp_path: Path) -> None:
    """TM(11,13) lists each scheduled command, TM(13,x) carries a payload file's parts: made by the
    flight's own Schedule and Payload, decoded by Yamcs entry for entry and byte for byte."""
    from flight.payload import Payload
    from flight.schedule import Schedule
    from flight.storage import HostFs
    from protocols.pus import pack_tm

    y, _tc = yamcs
    fs = HostFs(str(tmp_path))
    schedule = Schedule(fs)
    tcs = [build_tc("ping", {}, APID, seq, "operator").pack() for seq in (700, 701)]
    schedule.insert(5000, tcs[1], 0)
    schedule.insert(4000, tcs[0], 0)
    payload = Payload(fs)
    content = bytes(range(256)) * 2 + b"end"  # 515 bytes: three parts of 200, 200, 115
    fs.write("exp_9.bin", content)
    payload.queue.append("exp_9.bin")
    reports = [(11, 13, pus_11_schedule.encode_report(schedule.summary()))]
    while (part := payload.next_part()) is not None:
        reports.append((13, *part))
    assert [r[1] for r in reports] == [13, 1, 2, 3]
    parts = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for seq, (service, subtype, data) in enumerate(reports):
            packet = bytes(pack_tm(service, subtype, data, APID, seq, 2, 0, bytes(6)))
            s.sendto(packet, ("127.0.0.1", y.ports.tm_packets))
            what = "report %d.%d" % (service, subtype)
            if service == 11:
                v = y.wait(what, lambda: y.get(PARAMETER + "schedule_entries").get("engValue"), 10)
                rows = [_members(e["aggregateValue"]) for e in v["arrayValue"]]  # type: ignore[index]
                assert rows == [
                    {"release": 4000, "apid": APID, "seq": 700},
                    {"release": 5000, "apid": APID, "seq": 701},
                ]
                continue
            part = struct.unpack_from(">H", data, 2)[0]
            y.wait(what, lambda part=part: _eng_or_none(y.get(PARAMETER + "file_part")) == part, 10)
            assert eng(y.get(PARAMETER + "file_transaction")) == 9, what
            parts.append(base64.b64decode(y.get(PARAMETER + "file_data")["engValue"]["binaryValue"]))
    assert parts[0] == content[:200] and b"".join(parts) == content


PARAMETER = "/processors/cubesat/realtime/parameters/cubesat/"


def _eng_or_none(value: dict) -> object:
    return eng(value) if "engValue" in value else None


def _members(aggregate: dict) -> dict[str, int]:
    return {
        m: int(next(v for k, v in x.items() if k.endswith("Value")))
        for m, x in zip(aggregate["name"], aggregate["value"])
    }
