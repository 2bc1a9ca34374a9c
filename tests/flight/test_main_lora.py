"""A board whose definition says `"link": "lora"` flies its ground link over its SX1276: the same
flight.main.boot path a real board runs, on the simulated board and radio medium, commanded by a
ground station radio with SDLS, every stage verified."""

from __future__ import annotations

from pathlib import Path

import flight.main
from flight.lora_link import LoraLink
from ground.lora_ground import LoraGroundStation
from ground.terminal import Terminal
from hal.sim.board.world import SimWorld
from protocols import lora

KEY = bytes(range(32))


def test_a_lora_board_boots_its_link_on_the_radio_and_is_commanded(tmp_path: Path) -> None:
    (tmp_path / "sdls_key.hex").write_text(KEY.hex())
    world = SimWorld()
    world.board.defn = dict(world.board.defn, link="lora")
    _system, app = flight.main.boot(flash=str(tmp_path), system=world)
    assert isinstance(app.comms.io, LoraLink) and app.radio is app.comms.io
    assert app.comms.framer.frame_len == lora.FRAME_LEN

    station = LoraGroundStation(world.clock, world.medium)
    term = Terminal(key=KEY, interleave=lora.INTERLEAVE, frame_len=lora.FRAME_LEN, t1_ms=12000)
    term.start(0)
    req = term.command("ping")
    for tick in range(600):  # a deadline of 60 simulated s; a round trip is a few packets on air
        now_ms = tick * 100
        up = term.uplink(now_ms)
        if up:
            station.ground_write(up)
        app.step()
        world.advance(100)
        down = station.ground_read()
        if down:
            term.downlink(down, now_ms)
        if 7 in term.verdict(req):
            break
    assert term.verdict(req) == [1, 3, 7]
    assert station.packets_in > 0 and station.sizes_in == {lora.CADU_LEN}
