"""Coverage-guided fuzzing of every decoder in protocols/, C core and pure Python.

    ./dev.sh fuzz 100000
    # or: .venv/bin/pip install atheris && .venv/bin/python fuzz/atheris_decoders.py -atheris_runs=100000

The first input byte picks the decoder (or the flight software's telecommand dispatcher and
uplink, which must never raise at all). Any exception that is not a
protocols.errors.ProtocolError, any disagreement between the C and the pure path,
and any crash or hang is a finding.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import atheris

with atheris.instrument_imports():
    from flight.commands import Dispatcher
    from flight.comms import Comms
    from flight.dictionary import COMMANDS
    from protocols import (
        cbor,
        cltu,
        crc,
        errors,
        kiss,
        pus,
        randomizer,
        rs,
        spacepacket,
        sync,
        tcframe,
        tmframe,
    )
    from protocols._accel import native


class _Pipe:
    """The flight link for the fuzzer: one chunk in, CADUs out (discarded)."""

    def __init__(self) -> None:
        self.data: bytes | None = None

    def read(self) -> bytes | None:
        data, self.data = self.data, None
        return data

    def write(self, data) -> int:
        return len(data)


DISPATCH = Dispatcher(lambda service, subtype, data: None)
for _name in COMMANDS:
    DISPATCH.register(_name, lambda values: None)
PIPE = _Pipe()
COMMS = Comms(PIPE, 0x2A, DISPATCH.handle, key=bytes(32))


def _outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except errors.ProtocolError as exc:
        return ("err", type(exc), exc.field, exc.offset)


def _both(pure, fast, *args):
    a = _outcome(pure, *args)
    if fast is not None:
        b = _outcome(fast, *args)
        if a != b:
            raise AssertionError("C and pure disagree: %r vs %r" % (a, b))


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    pick, arg, body = data[0] % 16, data[1], data[2:]
    depth = rs.INTERLEAVE_DEPTHS[arg % 6]
    if pick == 0:
        _both(rs.decode_py, native and native.decode, body, depth, bool(arg & 0x80))
    elif pick == 1:
        k = 33 * depth + (arg % 50) * depth
        _both(rs.decode_batch_py, native and native.decode_batch, body, k, depth, True)
    elif pick == 2:
        _both(spacepacket.scan_packets_py, native and native.scan_packets, body, arg)
        spacepacket.PacketStream(max_packet_len=64 + arg).feed(body)
    elif pick == 3:
        _outcome(pus.PusTc.unpack, body)
        _outcome(pus.PusTm.unpack, body, arg % 9)
    elif pick == 4:
        _outcome(tmframe.unpack, body)
        ext = tmframe.PacketExtractor()
        try:
            ext.feed(tmframe.unpack(body, False))
        except errors.ProtocolError:
            pass
    elif pick == 5:
        _outcome(tcframe.TcFrame.unpack, body, bool(arg & 1), bool(arg & 2))
    elif pick == 6:
        _outcome(cltu.decode, body)
        cltu.CltuReceiver().feed(body)
    elif pick == 7:
        sync.FrameSync(40 + arg).feed(body)
        _both(sync.find_asm_py, native and native.find_asm, body, arg)
    elif pick == 8:
        _outcome(cbor.loads, body)
    elif pick == 9:
        kiss.KissDecoder(max_frame=16 + arg).feed(body)
    elif pick == 10:
        _both(crc.crc16_py, native and native.crc16, body, arg * 257)
        _both(randomizer.randomize_py, native and native.randomize, body)
    elif pick == 11:
        sync.CaduDecoder(40, 1).feed(body)
    elif pick == 12:
        _outcome(tmframe.Clcw.unpack, body)
    elif pick == 14:
        DISPATCH.handle(body)  # the flight dispatcher: never raises, every bad packet a failure report
    elif pick == 15:
        PIPE.data = cltu.encode(body) if arg & 1 and body else body  # the flight uplink, SDLS-keyed
        COMMS.poll(0.0)
    else:
        _both(spacepacket.split_packets_py, native and native.split_packets, body, arg, 7 + arg)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
