"""PUS-15 on the flight application, over the link: housekeeping made while nobody listened is
played back on command, byte for byte what realtime carried, and told apart from realtime."""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

import pytest
from spacepackets.ecss.tm import PusTm as PeerTm
from twin_rig import Rig

from flight.dictionary import PLAYBACK_DEST
from ground.dictionary import decode_hk
from ground.server.decode import decode_tm
from protocols.cuc import CucTime


def _fly_without_contact(r: Rig, seconds: float) -> None:
    """The twin flies on; what it sends down is lost (no station in view), commands wait."""
    for _ in range(int(seconds * 10)):
        r.twin.step()
        r.twin.link.ground_read()
        r.ms += 100


def _events(r: Rig, name: str) -> list[dict]:
    return [aux for _t, n, aux in r.term.events if n == name]


def _summary(r: Rig, store: int = 0) -> list[dict]:
    r.term.tm.clear()
    assert r.send("store_summary", {"store": store}) == [1, 3, 7]
    assert r.until(lambda: any((tm.service, tm.subtype) == (15, 13) for tm in r.term.tm), 10)
    tm = next(tm for tm in r.term.tm if (tm.service, tm.subtype) == (15, 13))
    return decode_tm(tm)["stores"]


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    r = Rig(tmp_path)
    r.run(3.0)
    return r


def test_housekeeping_made_out_of_contact_is_played_back_complete(rig: Rig) -> None:
    r = rig
    r.run(30)
    seen = {(t, sid) for t, sid, _v in r.term.hk}
    t_lost = r.app.obt()
    _fly_without_contact(r, 300)  # five minutes without a station: 30 core samples
    r.run(2)
    hk = next(s for s in _summary(r, 1))
    assert hk["name"] == "hk" and hk["packets"] >= 35 and hk["lost"] == 0
    r.term.playback.clear()
    assert r.send(
        "store_dump", {"store": 1, "from_s": int(t_lost), "to_s": int(r.app.obt()), "rate": 20}
    ) == [1, 3, 7]
    assert r.until(lambda: _events(r, "PLAYBACK_DONE"), 60)
    done = _events(r, "PLAYBACK_DONE")[-1]
    played = r.term.playback
    assert done == {"store": 1, "packets": len(played), "status": 0}
    assert all(tm.dest_id == PLAYBACK_DEST + 1 and (tm.service, tm.subtype) == (3, 25) for tm in played)
    core = sorted(struct.unpack(">I", tm.timestamp[:4])[0] for tm in played if tm.source_data[0] == 1)
    assert len(core) >= 29 and all(b - a == 10 for a, b in itertools.pairwise(core))  # no sample missing
    assert not seen & {(float(t), 1) for t in core}  # none of them had come down in realtime
    # the peer library reads them as the PUS-C packets they are, CRC included
    for tm in played:
        peer = PeerTm.unpack(tm.pack(), timestamp_len=6)
        assert peer.service == 3 and peer.tm_data == tm.source_data


def test_played_back_housekeeping_is_what_realtime_carried(rig: Rig) -> None:
    r = rig
    r.run(35)
    realtime = {t: values for t, sid, values in r.term.hk if sid == 1}
    assert len(realtime) >= 3
    r.term.playback.clear()
    assert r.send("store_dump_seq", {"store": 1, "from_seq": 0, "to_seq": 1000, "rate": 50}) == [1, 3, 7]
    assert r.until(lambda: _events(r, "PLAYBACK_DONE"), 30)
    played = {}
    for tm in r.term.playback:
        sid, values = decode_hk(tm.source_data)
        if sid == 1:
            played[CucTime.unpack(tm.timestamp).seconds()] = values
    assert set(realtime) <= set(played)  # every realtime sample is in the store ...
    assert all(played[t] == values for t, values in realtime.items())  # ... with the same values


def test_an_empty_range_and_a_second_playback_get_clear_answers(rig: Rig) -> None:
    r = rig
    r.run(12)
    assert r.send("store_dump", {"store": 1, "from_s": 4000000000, "to_s": 4000000100, "rate": 5}) == [
        1,
        3,
        7,
    ]
    assert r.until(lambda: _events(r, "PLAYBACK_DONE"), 10)
    assert _events(r, "PLAYBACK_DONE")[-1] == {"store": 1, "packets": 0, "status": 1}
    # a long playback at one packet a second: a second one is refused, an abort ends the first
    assert r.send("store_dump", {"store": 2, "from_s": 0, "to_s": 4000000000, "rate": 1}) == [1, 3, 7]
    req = r.term.command("store_dump", {"store": 1, "from_s": 0, "to_s": 4000000000, "rate": 1})
    assert r.until(lambda: r.term.done(req), 10)
    assert r.term.verdict(req) == [1, 4]
    assert "INTERLOCK" in r.term.stages(req) and "playback is already running" in r.term.stages(req)
    assert r.send("store_abort", {"store": 2}) == [1, 3, 7]
    assert r.until(lambda: len(_events(r, "PLAYBACK_DONE")) == 2, 10)
    assert _events(r, "PLAYBACK_DONE")[-1]["status"] == 2


def test_played_back_boot_events_do_not_make_the_ground_think_the_board_rebooted(rig: Rig) -> None:
    r = rig
    r.run(5)
    assert r.send("store_dump", {"store": 2, "from_s": 0, "to_s": 4000000000, "rate": 10}) == [1, 3, 7]
    assert r.until(lambda: _events(r, "PLAYBACK_DONE"), 30)
    boots = [tm for tm in r.term.playback if tm.service == 5 and tm.source_data[:2] == b"\x00\x01"]
    assert boots  # the BOOT event came back from the store ...
    assert [n for _t, n, _a in r.term.events].count("BOOT") == 1  # ... as history, not as a reboot
    assert r.send("ping") == [1, 3, 7]  # COP-1 and the security association carried on


def test_a_disabled_store_keeps_nothing_until_enabled(rig: Rig) -> None:
    r = rig
    assert r.send("store_disable", {"store": 1}) == [1, 3, 7]
    before = _summary(r, 1)[0]
    r.run(30)
    off = _summary(r, 1)[0]
    assert off["packets"] == before["packets"] and not off["enabled"]
    assert r.send("store_enable", {"store": 1}) == [1, 3, 7]
    r.run(30)
    on = _summary(r, 1)[0]
    assert on["packets"] >= before["packets"] + 3 and on["enabled"]
    # deleting up to now keeps the segment being written, so every packet of this short run
    assert r.send("store_delete", {"store": 1, "to_s": int(r.app.obt())}) == [1, 3, 7]
    assert _summary(r, 1)[0]["packets"] >= on["packets"]


def test_a_reset_in_the_middle_of_a_playback_is_reported_and_loses_nothing(rig: Rig) -> None:
    from flight.boot import WATCHDOG

    r = rig
    r.run(20)
    before = _summary(r, 1)[0]["packets"]
    assert r.send("store_dump", {"store": 1, "from_s": 0, "to_s": 4000000000, "rate": 1}) == [1, 3, 7]
    r.run(3)
    assert r.app.stores.playing is not None
    r.twin.reset(WATCHDOG)  # the board resets with the playback under way
    assert r.until(lambda: _events(r, "PLAYBACK_DONE"), 30)
    assert _events(r, "PLAYBACK_DONE")[-1] == {"store": 1, "packets": 0, "status": 3}
    names = [n for _t, n, _a in r.term.events]
    assert names.index("PLAYBACK_DONE") > len(names) - 1 - names[::-1].index("BOOT")  # after the BOOT
    assert r.app.stores.playing is None and _summary(r, 1)[0]["packets"] >= before  # nothing lost
    # a dump after the reset runs and ends as any other
    assert r.send("store_dump", {"store": 1, "from_s": 0, "to_s": 4000000000, "rate": 50}) == [1, 3, 7]
    assert r.until(lambda: _events(r, "PLAYBACK_DONE")[-1]["status"] == 0, 60)
