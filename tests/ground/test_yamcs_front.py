"""The ground server as Yamcs' front end (`cubesat dict yamcs` + a spacecraft's `yamcs` table): a
real Yamcs gets the twin's TM frames from the server over 10 minutes of mission, with no invalid
frame, and decodes every housekeeping value as the server's archive holds it, sample for sample;
commands issued in Yamcs (with yamcs-client) go up through the server (COP-1, SDLS) and their
PUS-1 verifiers complete.

About 25 s: Yamcs starts in ~7 s and the twin flies 10 minutes at 50x."""

from __future__ import annotations

import json
import socket
import struct
import sys
import urllib.parse
from pathlib import Path

import pytest
from yamcs.client import YamcsClient
from yamcs_harness import Yamcs, eng, free_port, running_yamcs

from flight.dictionary import HK_SETS, TM_TYPES
from ground.passes import parse_time
from ground.server.store import SqliteStore
from ground.xtce import enumerations
from hal.sim.env.environment import EPOCH_UNIX

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ground_server"))
from server_harness import start_ground, until

MISSION_S = 600
KEY = bytes(range(32))


def _archived(y: Yamcs, name: str, t0: str, t1: str) -> dict[float, object]:
    """Yamcs' archived values of one parameter: {onboard time (Unix s, to 10 ms): value}. Yamcs'
    PUS preprocessor stamps a packet 1 ms after its CUC time (the MDB's tm_obt is exact)."""
    out: dict[float, object] = {}
    query = {"start": t0, "stop": t1, "limit": 1000, "order": "asc"}
    while True:
        page = y.get("/archive/cubesat/parameters/cubesat/%s?%s" % (name, urllib.parse.urlencode(query)))
        for pv in page.get("parameter", []):
            out[round(parse_time(pv["generationTime"]), 2)] = eng(pv)
        token = page.get("continuationToken")
        if not token:
            return out
        query["next"] = token


def _server_samples(store) -> dict[str, dict[float, object]]:
    """The server archive's housekeeping samples: {parameter: {onboard time (Unix s): value}}."""
    enums = enumerations()
    out = {}
    for _sid, (_set, _period, _on, names) in HK_SETS.items():
        for name in names:
            times, values = store.samples(42, name, 0, 1e12)
            labels = {v: k for k, v in enums.get(name, {}).items()}
            out[name] = {round(EPOCH_UNIX + t, 2): labels.get(v, v) for t, v in zip(times, values)}
    return out


def test_yamcs_behind_the_server_sees_every_sample_and_its_commands_complete(tmp_path: Path) -> None:
    tc_port = free_port(socket.SOCK_DGRAM)
    with running_yamcs(tmp_path / "yamcs", tc_port, 42) as y:
        yamcs_cfg = {"tm_frames": "127.0.0.1:%d" % y.ports.tm_frames, "tc_port": tc_port}
        ground, stop = start_ground(tmp_path / "ground", key=KEY, craft_extra={"yamcs": yamcs_cfg})
        try:
            link = ground.server.links["sat1"]
            until(lambda: ground.twin.app.uptime() >= MISSION_S, 60, "10 minutes of mission")
            # commands from Yamcs: through the server's COP-1 and SDLS to the twin
            processor = YamcsClient("127.0.0.1:%d" % y.ports.http).get_processor("cubesat", "realtime")
            ids = {
                name: processor.issue_command("/cubesat/" + name, args=args).id
                for name, args in (
                    ("ping", {}),
                    ("param_set", {"param_id": 11, "value": 90.0}),
                    ("mode_set", {"mode": "SAFE"}),
                )
            }
            for name, cid in ids.items():
                path = "/archive/cubesat/commands/" + urllib.parse.quote(cid, safe="")

                def complete(path: str = path) -> dict:
                    attrs = {a["name"]: list(a["value"].values())[-1] for a in y.get(path).get("attr", [])}
                    return attrs if attrs.get("CommandComplete_Status") else {}

                attrs = y.wait("verification of " + name, complete, 20)
                for stage in ("Accepted", "Execution", "Complete", "CommandComplete"):
                    key = stage + "_Status" if stage == "CommandComplete" else "Verifier_%s_Status" % stage
                    if attrs[key] != "OK":  # type: ignore[index]
                        # all of the command's history, untruncated: which stage, when, and why
                        pytest.fail("%s: %s is %s\n%s" % (name, key, attrs[key], json.dumps(attrs, indent=1)))  # type: ignore[index]
            # the server archived them too, as Yamcs' commands, with their stages
            mine = [c for c in ground.server.store.commands(42, 0, 100) if c["user"] == "yamcs"]
            assert sorted(c["name"] for c in mine) == sorted(ids), mine
        finally:
            stop()
        store = SqliteStore(str(ground.archive), readonly=True)  # all of it, now the link has stopped
        try:
            archive = _server_samples(store)
        finally:
            store.close()
        stats = link.stats()  # the link thread has stopped: no frame after this
        frames = stats["frames"]
        assert stats["yamcs"]["yamcs_frames_out"] == frames and stats["yamcs"]["refused"] == 0, stats
        tm = y.wait(
            "all frames",
            lambda: (lambda s: s if int(s.get("dataInCount", 0)) >= frames else None)(
                y.get("/links/cubesat/tm_frames")
            ),
            15,
        )
        assert int(tm["dataInCount"]) == frames, tm  # type: ignore[index]
        assert tm.get("extra", {}).get("Invalid frames", "0") == "0", tm  # type: ignore[union-attr]
        # every housekeeping sample, as both archives hold it
        t0, t1 = "2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z"
        compared = 0
        for name, want in archive.items():
            if not want:  # a set that is off (adcs): Yamcs has none either
                assert _archived(y, name, t0, t1) == {}, name
                continue

            def all_of(n: str = name, count: int = len(want)) -> dict | None:
                got = _archived(y, n, t0, t1)
                return got if len(got) >= count else None

            got = y.wait(name, all_of, 15)
            assert set(got) == set(want), (name, sorted(set(got) ^ set(want))[:5])  # type: ignore[arg-type]
            for t, v in want.items():
                g = got[t]  # type: ignore[index]
                if TM_TYPES.get(name, "f") == "f":
                    same = struct.pack(">f", g) == struct.pack(">f", v)  # type: ignore[arg-type]
                    assert same or (g != g and v != v), (name, t, g, v)  # the f32 sent, or both NaN
                else:
                    assert g == v or g == bool(v), (name, t, g, v)
            compared += len(want)
        assert compared > 27 * 10, compared  # 10 minutes of core (10 s) and health (60 s) sets
