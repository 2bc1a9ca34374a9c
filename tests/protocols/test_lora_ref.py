"""The LoRa link profile against independent references: the CADU of a real TM frame fits one
SX127x packet, its shortened RS(255,223) codeblock (virtual fill) decodes with reedsolo, CLTUs
cut into packets come back whole, and the time on air is the datasheet's formula worked by hand."""

from __future__ import annotations

import math

import reedsolo
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.drivers.sx1276 import time_on_air_us
from protocols import cltu, lora, rs, sync, tcframe, tmframe
from protocols.pus import PusTm

# reedsolo as the CCSDS conventional code: generator alpha^11 (0xAD), first root j=112
RSC = reedsolo.RSCodec(nsym=32, nsize=255, fcr=112, prim=0x187, generator=0xAD, c_exp=8)


def _reference_pn(nbytes: int) -> bytes:
    """CCSDS pseudo-randomizer, bit-serial from h(x) = x^8 + x^7 + x^5 + x^3 + 1, all ones first."""
    reg = [1] * 8
    bits = []
    for _ in range(nbytes * 8):
        bits.append(reg[0])
        reg = [*reg[1:], reg[7] ^ reg[5] ^ reg[3] ^ reg[0]]
    return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


def _tm_frames(n: int) -> list[bytes]:
    framer = tmframe.TmFramerBytes(lora.FRAME_LEN, 0x2A, vcid=0)
    frames: list[bytes] = []
    for i in range(n):
        frames += framer.add_packet(
            PusTm(3, 25, bytes([1]) + bytes(range(i, i + 60)), apid=0x10, seq_count=i).pack()
        )
    return frames + framer.flush()


def test_profile_geometry() -> None:
    assert lora.INTERLEAVE == 1
    assert lora.FRAME_LEN == 219 and lora.VIRTUAL_FILL == 4
    assert lora.CADU_LEN == sync.cadu_len(lora.FRAME_LEN, 1) == 4 + 219 + 32 == lora.PACKET_MAX == 255


def test_cadu_of_a_tm_frame_fits_one_packet_and_decodes_with_reedsolo() -> None:
    pn = _reference_pn(255)
    frames = _tm_frames(5)
    assert len(frames) >= 2
    for frame in frames:
        assert len(frame) == lora.FRAME_LEN
        cadu = sync.build_cadu(frame, lora.INTERLEAVE)
        assert len(cadu) == lora.CADU_LEN <= 255
        assert cadu[:4] == bytes.fromhex("1acffc1d")
        block = bytes(a ^ b for a, b in zip(cadu[4:], pn))  # de-randomize with the reference PN
        assert len(block) == 251  # a shortened codeblock: 4 virtual fill symbols are not sent
        # dual basis (CCSDS) -> conventional, then reedsolo's shortened decode (it pads the fill)
        conv = bytes(rs.FROM_DUAL[b] for b in block)
        decoded = bytes(RSC.decode(conv)[0])
        assert bytes(rs.TO_DUAL[b] for b in decoded) == frame
        # and with the virtual fill written out, it is a full-length reedsolo codeword
        full = bytes(4) + conv
        assert RSC.check(full)[0]
        assert tmframe.unpack(frame).scid == 0x2A


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=219, max_size=219), st.data())
def test_damaged_shortened_codeblock_is_corrected_like_reedsolo(frame: bytes, draw: st.DataObject) -> None:
    block = bytearray(rs.encode(frame, 1, dual_basis=False))
    assert len(block) == 251
    nerr = draw.draw(st.integers(0, 16))
    for p in draw.draw(st.lists(st.integers(0, 250), min_size=nerr, max_size=nerr, unique=True)):
        block[p] ^= draw.draw(st.integers(1, 255))
    ours, fixed = rs.decode(bytes(block), 1, dual_basis=False)
    theirs = bytes(RSC.decode(bytes(block))[0])
    assert ours == theirs == frame
    assert fixed == nerr


def _big_tc_frame(seq: int, size: int) -> bytes:
    return tcframe.TcFrame(0x2A, 0, bytes((seq + i * 13) & 0xFF for i in range(size)), seq=seq).pack()


def test_cltus_split_into_packets_and_reassemble() -> None:
    frames = [_big_tc_frame(0, 1000), _big_tc_frame(1, 40), _big_tc_frame(2, 300)]
    stream = b"".join(cltu.encode(f) for f in frames)
    packets = [bytes(p) for p in lora.segments(stream)]
    assert len(stream) > 4 * 255
    assert len(packets) == math.ceil(len(stream) / 255)
    assert all(1 <= len(p) <= 255 for p in packets)
    assert all(len(p) == 255 for p in packets[:-1])
    assert b"".join(packets) == stream
    # the board feeds packets as they arrive; CLTUs spanning packets come out whole
    rx = cltu.CltuReceiver()
    got = []
    for p in packets:
        got += rx.feed(p)
    assert [tcframe.unpack_with_fill(g).pack() for g in got] == frames


def test_segment_size_is_checked() -> None:
    import pytest

    from protocols import errors

    with pytest.raises(errors.EncodeError):
        lora.segments(b"abc", 256)
    assert [bytes(p) for p in lora.segments(b"abcdef", 4)] == [b"abcd", b"ef"]


def test_beacon_is_not_a_cadu() -> None:
    assert not lora.is_cadu(b"CS" + bytes(12))
    assert not lora.is_cadu(bytes(255))
    cadu = bytearray(sync.build_cadu(bytes(219), 1))
    assert lora.is_cadu(cadu)
    cadu[0] ^= 0x03  # two wrong ASM bits: the frame synchronizer still takes it
    assert lora.is_cadu(cadu)


def test_time_on_air_of_one_cadu_worked_from_the_datasheet() -> None:
    # SX1276 datasheet rev. 7, 4.1.1.7, for the profile: SF9, BW 125 kHz, CR 4/5, 8-symbol
    # preamble, explicit header, payload CRC off, LowDataRateOptimize off (Tsym < 16 ms), PL 255:
    #   Tsym      = 2^9 / 125 kHz                                          = 4.096 ms
    #   Tpreamble = (8 + 4.25) * 4.096                                     = 50.176 ms
    #   symbols   = 8 + max(ceil((8*255 - 4*9 + 28 + 16*0 - 20*0) / (4*9)) * (4+1), 0)
    #             = 8 + ceil(2032 / 36) * 5 = 8 + 57 * 5                   = 293
    #   Tpayload  = 293 * 4.096                                            = 1200.128 ms
    #   Tpacket   = 50.176 + 1200.128                                      = 1250.304 ms
    assert time_on_air_us(255, 9, 125000, cr=5, preamble=8, crc=False) == 1250304
    assert time_on_air_us(lora.CADU_LEN, lora.SF, lora.BW_HZ, lora.CR, lora.PREAMBLE, lora.CRC) == 1250304
    # a 58-byte uplink packet (one CLTU of a small TC): ceil((464-36+28)/36) = 13 -> 8 + 65 symbols
    assert time_on_air_us(58, 9, 125000, cr=5, preamble=8, crc=False) == round((12.25 + 73) * 4096)
