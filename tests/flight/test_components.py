"""The flight components (flight/commands.py): each subsystem runs its own commands, by methods
named after the dictionary's; the wiring (flight/assembly.py) only lists them."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from twin_rig import Rig

from flight.dictionary import COMMANDS, HK_SETS, PARAM_IDS
from ground import pus
from ground.server.decode import REPLY_TO, decode_tm
from ground.server.decode import REPORTS as GROUND_REPORTS
from protocols import pus_3_hk, pus_9_time, pus_11_schedule, pus_15_storage, pus_17_test, pus_20_param

ON_DEMAND = (pus_9_time, pus_11_schedule, pus_15_storage, pus_17_test, pus_20_param)


def _commands_of(part: object) -> set[str]:
    return {n[3:] for n in dir(part) if n.startswith("tc_") and n != "tc_check"}


def test_every_dictionary_command_runs_on_exactly_one_component(tmp_path: Path) -> None:
    app = Rig(tmp_path).twin.app  # the sim-twin: every chip, thrusters and radio included
    parts = app.dispatcher.components
    runs: dict[str, list[str]] = {}
    for part in parts:
        for name in _commands_of(part):
            assert name in COMMANDS, "%s.tc_%s names no dictionary command" % (type(part).__name__, name)
            runs.setdefault(name, []).append(type(part).__name__)
    assert sorted(runs) == sorted(COMMANDS), "commands no component runs: %s" % (set(COMMANDS) - set(runs))
    twice = {n: owners for n, owners in runs.items() if len(owners) > 1}
    assert not twice, twice
    # each subsystem is the one that runs its commands
    owner = {name: owners[0] for name, owners in runs.items()}
    assert owner["thruster_fire"] == "Propulsion" and owner["payload_start"] == "Payload"
    assert owner["mode_set"] == "ModeManager" and owner["param_set"] == "ParamTable"
    assert owner["store_dump"] == "PacketStoreService" and owner["schedule_insert"] == "Schedule"
    assert owner["hk_enable"] == "Telemetry" and owner["rekey"] == "Comms"
    # every component that checks or reports through the others was given the application
    assert all(getattr(p, "app", app) is app for p in parts)


def test_a_component_s_start_check_covers_only_its_own_commands(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.run(2.0)  # BOOT -> SAFE
    # payload's check refuses payload_start outside NOMINAL; the hk set check refuses a bad sid;
    # commands of other components pass through untouched by either
    assert rig.send("payload_start", {"experiment": 1, "period_s": 10, "samples": 5}) == [1, 4]
    assert rig.send("hk_oneshot", {"sid": 9}) == [1, 4]
    assert rig.send("hk_oneshot", {"sid": 1}) == [1, 3, 7]
    assert rig.send("event_disable", {"event_id": 19}) == [1, 3, 7]
    assert rig.send("ping") == [1, 3, 7]


def test_every_housekeeping_value_comes_from_one_component(tmp_path: Path) -> None:
    app = Rig(tmp_path).twin.app
    owners: dict[str, str] = {}
    parts = set()
    for sid, (_set, _period, _on, names) in HK_SETS.items():
        _buf, fields = app.telemetry.layouts[sid]
        assert list(fields[1::4]) == list(names)
        for part, name in zip(fields[0::4], fields[1::4]):
            owners[name] = type(part).__name__
            parts.add(part)
    assert owners["batt_v"] == owners["solar_w"] == "Sensors" and owners["soc"] == "PowerMonitor"
    assert owners["mode"] == "ModeManager" and owners["heater"] == "HeaterController"
    assert owners["loads_shed"] == "LoadShedder" and owners["payload_files"] == "Payload"
    assert owners["cmd_ok"] == owners["obt_s"] == "Telemetry" and owners["rate_dps"] == "Adcs"
    for name in owners:  # no second component answers a name: one source per value
        answering = []
        for part in parts:
            try:
                part.value(name)
                answering.append(part)
            except KeyError:
                pass
        assert len(answering) == 1, (name, answering)


def test_each_subsystem_runs_its_own_tasks(tmp_path: Path) -> None:
    app = Rig(tmp_path).twin.app
    owner = {t.name: type(t.fn.__self__).__name__ for t in app.executive.tasks}
    assert owner == {
        "link_rx": "Comms",  # the link's two units, which take turns between uplink and downlink
        "thrusters": "Propulsion",
        "link_tx": "Comms",
        "sensors": "Sensors",
        "adcs": "Adcs",
        "power": "LoadShedder",
        "thermal": "HeaterController",
        "fdir": "Fdir",
        "modes": "ModeManager",
        "schedule": "Schedule",
        "payload": "Payload",
        "housekeeping": "Telemetry",
        "playback": "FlightApp",  # the packet stores and the services loaded on demand
        "radio": "Comms",
        "downlink_files": "Payload",
        "memory": "FlightApp",
    }


def test_each_report_goes_down_as_its_service_codec_says_and_the_ground_reads_it(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    assert not rig.twin.app.release_codecs  # CPython keeps them (FlightApp.release_codecs)
    rig.twin.app.release_codecs = True  # as on a board: this test's twin is alone in its thread
    rig.run(2.0)
    asks = {  # the report's kind (its codec's names): the command that asks for it
        (pus_17_test.SERVICE, pus_17_test.REPORT): ("ping", None),
        (pus_9_time.SERVICE, pus_9_time.REPORT): ("time_report", {"rate_exp": 8}),
        (pus_11_schedule.SERVICE, pus_11_schedule.REPORT): ("schedule_list", None),
        (pus_15_storage.SERVICE, pus_15_storage.REPORT): ("store_summary", {"store": 0}),
        (pus_20_param.SERVICE, pus_20_param.REPORT): ("param_get", {"param_id": PARAM_IDS["comms.beacon_s"]}),
    }
    # every report the ground decodes by kind is asked for here but housekeeping, which every
    # test's terminal reads
    assert set(asks) == set(GROUND_REPORTS) - {(pus_3_hk.SERVICE, pus_3_hk.REPORT)}
    for kind, (command, values) in asks.items():
        before = len(rig.term.tm)
        assert rig.send(command, values) == [1, 3, 7]
        assert rig.until(lambda n=before: len(rig.term.tm) > n, 10)
        tm = rig.term.tm[-1]
        assert (tm.service, tm.subtype) == kind
        assert REPLY_TO[pus.tc(command)] == kind
        decoded = decode_tm(tm)
        assert decoded["type"] == "TM(%d,%d)" % kind and "hex" not in decoded, decoded
    assert decoded["params"] == [{"id": PARAM_IDS["comms.beacon_s"], "name": "comms.beacon_s", "value": 60.0}]
    # the layout the flight packed with is the codec's: 3 stores, each entry its ENTRY format
    assert rig.send("store_summary", {"store": 0}) == [1, 3, 7]
    data = rig.term.tm[-1].source_data
    count, rows = pus_15_storage.decode_report(data)
    assert count == 3 and len(data) == 1 + 3 * struct.calcsize(pus_15_storage.ENTRY)
    assert [r[0] for r in rows] == [1, 2, 3] and len(rows[0]) == len(pus_15_storage.FIELDS.split())
    # the codecs of these on-demand reports were loaded for each report and released after it
    # (FlightApp.report_once): a board keeps none of them resident
    assert not {"protocols." + codec.__name__.rpartition(".")[2] for codec in ON_DEMAND} & set(sys.modules)
