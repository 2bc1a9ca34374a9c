"""The spacecraft enforces who may command what: a raw frame cannot bypass the ground's role check.

With an admin key provisioned (SDLS SPI 2), frames authenticated with the operators' key (SPI 1)
run routine and hazardous commands but not admin ones (time_set, rekey), not even wrapped in a
time-tagged command; frames on a virtual channel without a FARM are rejected and counted.
"""

from __future__ import annotations

import struct

from flight.dictionary import FAIL
from ground.dictionary import build_tc
from ground.flight_twin import FlightTwin
from protocols import cltu, sdls, tcframe
from protocols.pus import PusTm

OPERATOR_KEY = bytes(range(32))
ADMIN_KEY = bytes(range(100, 132))


def _reports(twin: FlightTwin) -> list[PusTm]:
    from protocols import sync, tm_extractor, tmframe

    dec = sync.CaduDecoder(223 * twin.interleave, twin.interleave)
    ext = tm_extractor.PacketExtractor()
    out = []
    for raw in dec.feed(twin.link.ground_read()):
        for pkt in ext.feed(tmframe.unpack(raw)):
            out.append(PusTm.unpack(pkt, timestamp_len=6))
    return out


class Ground:
    def __init__(self, twin: FlightTwin) -> None:
        self.twin = twin
        self.sas = {1: sdls.SecurityAssociation(1, OPERATOR_KEY), 2: sdls.SecurityAssociation(2, ADMIN_KEY)}
        self.seq = 0

    def command(self, name: str, spi: int, vcid: int = 0, **values: object) -> list[tuple[int, int]]:
        """Send a command on a BD frame under `spi`; the PUS-1 (subtype, failure code) reports."""
        tc = build_tc(name, values, 0x10, self.seq, "admin", True)
        self.seq += 1
        frame = sdls.secure_frame(self.sas[spi], 0x2A, vcid, 0, tc.pack(), bypass=True)
        self.twin.link.ground_read()
        self.twin.link.ground_write(cltu.encode(frame))
        out: list[tuple[int, int]] = []
        for _ in range(30):  # until the last report (a command is answered a few ticks later)
            self.twin.run_ms(100)
            for tm in _reports(self.twin):
                if tm.service != 1:
                    continue
                if struct.unpack_from(">H", tm.source_data, 2)[0] & 0x3FFF == tc.seq_count:
                    code = struct.unpack_from(">H", tm.source_data, 4)[0] if tm.subtype in (2, 4, 8) else None
                    out.append((tm.subtype, code))
            if out and out[-1][0] in (2, 4, 7, 8):
                break
        return out


def test_admin_commands_need_the_admin_key_onboard(tmp_path) -> None:
    twin = FlightTwin(tmp_path / "flash", key=OPERATOR_KEY, admin_key=ADMIN_KEY)
    ground = Ground(twin)
    assert ground.command("ping", spi=1) == [(1, None), (3, None), (7, None)]
    # hazardous but operator-level: the operators' key is enough
    assert (7, None) in ground.command("mode_override", spi=1, mode="SAFE")
    # admin-level: refused at acceptance, nothing executed, audited
    before = twin.app.time_offset
    assert ground.command("time_set", spi=1, seconds=1_000_000) == [(2, FAIL["NOT_AUTHORISED"])]
    assert twin.app.time_offset == before and twin.app.dispatcher.refused_auth == 1
    # nor can it be smuggled in as a time-tagged command
    stored = ground.command("schedule_insert", spi=1, release_s=4_000_000_000, command="time_set seconds=5")
    assert stored == [(2, FAIL["NOT_AUTHORISED"])] and twin.app.dispatcher.refused_auth == 2
    # the admin key may
    assert (7, None) in ground.command("time_set", spi=2, seconds=1_000_000)
    assert twin.app.time_offset != before
    assert (7, None) in ground.command(
        "schedule_insert", spi=2, release_s=4_000_000_000, command="time_set seconds=5"
    )
    # and the authority survives a reboot with the counters; the board is back at its anti-replay
    # high-water mark, so a ground moves on past it (what ground.terminal does on the BOOT event)
    twin.power_cycle()
    ground.sas[1].last_sn += sdls.PERSIST_STRIDE
    assert ground.command("time_set", spi=1, seconds=7) == [(2, FAIL["NOT_AUTHORISED"])]


def test_one_key_alone_is_the_whole_authority(tmp_path) -> None:
    twin = FlightTwin(tmp_path / "flash", key=OPERATOR_KEY)
    ground = Ground(twin)
    assert (7, None) in ground.command("time_set", spi=1, seconds=1_000_000)
    # an SPI the spacecraft does not know is an authentication failure, not an authority
    assert ground.command("ping", spi=2) == [] and twin.app.comms.auth_rejects == 1


def test_frames_for_a_virtual_channel_without_a_farm_are_rejected(tmp_path) -> None:
    twin = FlightTwin(tmp_path / "flash")
    app = twin.app
    vr = app.comms.farm.vr
    for vcid in (5, 7):
        frame = tcframe.TcFrame(0x2A, vcid, build_tc("ping", {}, 0x10, 1, "operator").pack(), seq=vr).pack()
        twin.link.ground_write(cltu.encode(frame))
        twin.run_ms(300)
    assert app.comms.wrong_vc == 2 and app.comms.rejected == 2
    assert app.comms.farm.vr == vr and app.dispatcher.ok == 0  # VC 0's FARM never saw them
    frame = tcframe.TcFrame(0x2A, 0, build_tc("ping", {}, 0x10, 2, "operator").pack(), seq=vr).pack()
    twin.link.ground_write(cltu.encode(frame))
    twin.run_ms(300)
    assert app.comms.farm.vr == (vr + 1) & 0xFF and app.dispatcher.ok == 1


def test_the_anti_replay_counter_is_kept_as_a_high_water_mark(tmp_path) -> None:
    """The board writes its SDLS counter to flash once every PERSIST_STRIDE frames (a flash write
    per frame made every command tick overrun at a board's speed), as last accepted + STRIDE: after
    a restart nothing it accepted can come back, and numbers up to the mark are refused too."""
    twin = FlightTwin(tmp_path / "flash", key=OPERATOR_KEY)
    ground = Ground(twin)
    store = twin.app.comms.keys._stores[1]
    saves = []
    real_save = store.save
    store.save = lambda payload: (saves.append(payload), real_save(payload))[1]
    for _ in range(2 * sdls.PERSIST_STRIDE):
        assert ground.command("ping", spi=1)[-1] == (7, None)
    last = ground.sas[1].last_sn
    # the first mark (STRIDE) was written at boot; the next at sn STRIDE + 1 (mark 2 x STRIDE + 1)
    assert last == 2 * sdls.PERSIST_STRIDE and len(saves) == 1
    twin.power_cycle()
    assert twin.app.comms.security.sas[1].last_sn == last + 1  # the mark written at sn 17
    rejects = twin.app.comms.auth_rejects
    assert ground.command("ping", spi=1) == [] and twin.app.comms.auth_rejects == rejects + 1
    ground.sas[1].last_sn = last + sdls.PERSIST_STRIDE  # what a ground does on the BOOT event
    assert ground.command("ping", spi=1)[-1] == (7, None)
