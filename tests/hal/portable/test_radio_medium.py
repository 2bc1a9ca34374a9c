"""Two (or three) simulated SX1276 radios talking through the RadioMedium: delivery, RSSI/SNR
reporting, FIFO wrap in continuous RX, loss, corruption vs CRC, channel mismatch, collisions."""

from _sx1276_rig import Rig

from hal.drivers.sx1276 import SX1276


def _pair(rig, **settings):
    ground = rig.radio("ground", **settings)
    sat = rig.radio("sat", **settings)
    sat.start_receive()
    return ground, sat


def test_packet_arrives_with_rssi_and_snr_on_both_ports():
    for freq in (437200000, 915000000):  # LF port (offset -164) and HF port (-157)
        rig = Rig()
        rig.medium.rssi_dbm = -105
        rig.medium.snr_db = 7.5
        ground, sat = _pair(rig, frequency_hz=freq, sf=7)
        ground.send(b"telecommand")
        rig.run_until(sat, SX1276.RX_DONE, 5)
        assert bytes(sat.packet()) == b"telecommand"
        assert sat.rssi_dbm == -105 and sat.snr_db == 7.5
        assert sat.rx_count == 1 and rig.chips["sat"].mode() == 5  # still in continuous RX


def test_negative_snr_adds_to_packet_strength():
    rig = Rig()
    rig.medium.rssi_dbm = -118
    rig.medium.snr_db = -5.0
    ground, sat = _pair(rig, sf=10)
    ground.send(b"weak")
    rig.run_until(sat, SX1276.RX_DONE, 5)
    assert sat.snr_db == -5.0
    assert sat.rssi_dbm == -118 - 5  # datasheet 5.5.5: -164 + PacketRssi + PacketSnr/4 below the noise


def test_largest_payload_and_fifo_wrap_in_continuous_rx():
    rig = Rig()
    ground, sat = _pair(rig, sf=7, bw_hz=500000)
    first = bytes((i * 7) & 0xFF for i in range(255))
    second = bytes((i * 13 + 1) & 0xFF for i in range(200))  # written at 255.., wraps past 0xFF
    ground.send(first)
    rig.run_until(sat, SX1276.RX_DONE, 5)
    assert bytes(sat.packet()) == first
    ground.send(second)
    rig.run_until(sat, SX1276.RX_DONE, 5)
    assert bytes(sat.packet()) == second
    assert rig.chips["sat"].regs[0x10] == 255  # FifoRxCurrentAddr: the second packet started at 255


def test_radio_goes_back_to_rx_after_transmitting():
    rig = Rig()
    ground, sat = _pair(rig, sf=7)
    ground.start_receive()
    sat.send(b"telemetry")
    assert rig.chips["sat"].mode() == 5  # listening again
    rig.run_until(ground, SX1276.RX_DONE, 5)
    ground.send(b"ack")
    rig.run_until(sat, SX1276.RX_DONE, 5)
    assert bytes(sat.packet()) == b"ack" and bytes(ground.packet()) == b"telemetry"


def test_corruption_is_flagged_by_crc_and_dropped():
    rig = Rig(corrupt=1.0)
    ground, sat = _pair(rig, sf=7)
    ground.send(b"frame")
    rig.run_until(sat, SX1276.RX_CRC_ERROR, 5)
    assert sat.crc_errors == 1 and sat.rx_count == 0


def test_without_crc_corruption_reaches_the_caller():
    rig = Rig(corrupt=1.0)
    ground, sat = _pair(rig, sf=7, crc=False)
    ground.send(b"frame")
    rig.run_until(sat, SX1276.RX_DONE, 5)
    got = bytes(sat.packet())
    diff = sum(bin(a ^ b).count("1") for a, b in zip(got, b"frame"))
    assert len(got) == 5 and diff == 1  # exactly one flipped bit, nobody noticed


def test_loss_rate_is_honoured():
    rig = Rig(loss=0.3, seed=11)
    ground, sat = _pair(rig, sf=7, bw_hz=500000)
    got = 0
    for i in range(60):
        ground.send(bytes((i,)))
        rig.clock.advance_ms(1)
        rig.medium.update()
        if sat.poll() == SX1276.RX_DONE:
            got += 1
            assert sat.packet()[0] == i
    assert got + rig.medium.lost == 60
    assert 30 <= got <= 54  # 42 expected; binomial sd 3.5


def test_radios_on_other_channels_hear_nothing():
    rig = Rig()
    ground = rig.radio("ground", sf=7)
    other_sf = rig.radio("other_sf", sf=8)
    other_freq = rig.radio("other_freq", sf=7, frequency_hz=437400000)
    same = rig.radio("same", sf=7)
    for r in (other_sf, other_freq, same):
        r.start_receive()
    ground.send(b"x")
    rig.clock.advance_ms(1)
    rig.medium.update()
    assert [r.poll() for r in (other_sf, other_freq, same)] == [SX1276.NONE, SX1276.NONE, SX1276.RX_DONE]


def test_overlapping_transmissions_collide():
    rig = Rig()
    a = rig.radio("a", sf=7)
    b = rig.radio("b", sf=7)
    rx = rig.radio("rx", sf=7)
    rx.start_receive()
    a.start_send(b"first")
    rig.clock.advance_ms(10)
    b.start_send(b"second")
    rig.run_until(b, SX1276.TX_DONE)
    assert a.poll() == SX1276.TX_DONE  # both senders finish normally ...
    assert rx.poll() == SX1276.NONE  # ... but the receiver got neither
    assert rig.medium.collisions == 1 and rig.medium.lost == 2


def test_sleeping_receiver_misses_packets_and_sleep_clears_fifo():
    rig = Rig()
    ground, sat = _pair(rig, sf=7)
    ground.send(b"one")
    rig.run_until(sat, SX1276.RX_DONE, 5)
    sat.sleep()
    assert bytes(rig.chips["sat"].fifo[:3]) == b"\x00\x00\x00"
    ground.send(b"two")
    rig.clock.advance_ms(5)
    rig.medium.update()
    assert sat.poll() == SX1276.NONE and rig.chips["sat"].received == 1


def test_packets_overwritten_between_polls_are_counted_as_missed():
    rig = Rig()
    ground, sat = _pair(rig, sf=7)
    ground.send(b"first")
    ground.send(b"second")  # arrives before the satellite polls
    rig.run_until(sat, SX1276.RX_DONE, 5)
    assert bytes(sat.packet()) == b"second"
    assert sat.rx_missed == 1 and sat.rx_count == 1
    ground.send(b"third")
    rig.run_until(sat, SX1276.RX_DONE, 5)
    assert bytes(sat.packet()) == b"third" and sat.rx_missed == 1  # nothing more lost
    sat.start_receive()  # the chip's count restarts with RX
    ground.send(b"fourth")
    rig.run_until(sat, SX1276.RX_DONE, 5)
    assert sat.rx_missed == 1
