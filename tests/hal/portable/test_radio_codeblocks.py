"""The space link's shortened RS(255,223) codeblocks over the simulated LoRa link (DESIGN: a radio
with 255-byte payloads carries shortened codeblocks): with the radio's CRC on, a hit packet
is dropped; with it off, Reed-Solomon repairs the damaged bits the radio lets through."""

from _sx1276_rig import Rig

from hal.drivers.sx1276 import SX1276
from protocols import rs


def _blocks(n):
    out = []
    for k in range(n):
        data = bytes((k * 31 + i * 7) & 0xFF for i in range(223))
        out.append((data, rs.encode(data)))
    return out


def _fly(rig, crc):
    ground = rig.radio("ground", sf=7, bw_hz=500000, crc=crc)
    sat = rig.radio("sat", sf=7, bw_hz=500000, crc=crc)
    ground.start_receive()
    results = []
    for data, block in _blocks(6):
        assert len(block) == 255
        sat.send(block)
        event = SX1276.NONE
        for _ in range(5):
            event = ground.poll()
            if event != SX1276.NONE:
                break
            rig.clock.advance_ms(1)
            rig.medium.update()
        results.append((data, event, bytes(ground.packet()) if event == SX1276.RX_DONE else None))
    return results


def test_radio_crc_drops_damaged_codeblocks():
    rig = Rig(corrupt=0.5, seed=3)
    results = _fly(rig, crc=True)
    dropped = [r for r in results if r[1] == SX1276.RX_CRC_ERROR]
    assert len(dropped) == rig.medium.corrupted >= 1
    for data, event, got in results:
        if event == SX1276.RX_DONE:
            assert rs.decode(got) == (data, 0)


def test_rs_repairs_what_a_crc_less_radio_lets_through():
    rig = Rig(corrupt=0.5, seed=3)
    results = _fly(rig, crc=False)
    assert all(event == SX1276.RX_DONE for _d, event, _g in results)
    corrected = 0
    for data, _event, got in results:
        decoded, fixed = rs.decode(got)
        assert decoded == data
        corrected += fixed
    assert corrected == rig.medium.corrupted >= 1  # one flipped bit = one symbol corrected
