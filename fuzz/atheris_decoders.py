"""Coverage-guided fuzzing of every decoder in protocols/, C core and pure Python.

    ./dev.sh fuzz 100000
    # or: .venv/bin/pip install atheris && .venv/bin/python fuzz/atheris_decoders.py -atheris_runs=100000

Input layout: byte 0 picks the target, bytes 1 and 2 its parameters, the rest is the body.

The link decoders (RS codeblocks and batches, CLTUs, CADU streams, TM and TC frames) get
inputs of their real sizes whatever the input length: a valid object of the chosen geometry
(interleave depth, shortened or full codeblock, frame length, number of CADUs, TC frame
length, randomization) is built once and cached, and the body corrupts it. The low two bits
of byte 2 choose how the body is used:
  0  the body as it is (raw bytes of any length);
  1  the body repeated to the object's real size (raw bytes at the real size);
  2  the valid object with the body applied as corruption: 4-byte ops of position (16 bits),
     xor value and burst length (1..16 bytes);
  3  as 2, after cutting or extending the object by the body's first byte.
The other targets (space packets, PUS, KISS, CLCW, find_asm/FrameSync, the flight
software's telecommand dispatcher and keyed uplink, which must never raise at all) take the
body raw, except CFDP: its byte 1 picks a valid PDU (every kind, four header geometries, file
data up to 1000 bytes) and, in its low two bits, one of the four body modes above.

A finding is: any exception that is not a protocols.errors.ProtocolError, any disagreement
between the C and the pure path, a codeword with at most 16 corrupted symbols that RS does
not give back, a CLTU that decode() accepts but the streaming receiver does not return
identically, and any crash or hang. tests/protocols/test_fuzz_target.py runs test_one_input
without atheris and checks that every link decoder is reached at its real size.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    import atheris
except ImportError:  # the pytest check imports test_one_input without atheris
    atheris = None

with atheris.instrument_imports() if atheris is not None else contextlib.nullcontext():
    from flight.commands import Dispatcher
    from flight.comms import Comms
    from flight.dictionary import COMMANDS
    from fuzz import link_inputs as li
    from fuzz.link_inputs import CORRUPT
    from protocols import (
        cfdp,
        cfdp_directives,
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
        tm_extractor,
        tmframe,
    )
    from protocols._accel import native
    from protocols.cfdp_filestore import MemoryFileStore
    from protocols.cfdp_lean_rx import Receiver as LeanReceiver
    from protocols.cfdp_lean_tx import Sender as LeanSender


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
# one component that runs every dictionary command and does nothing: decoding is what is fuzzed
DISPATCH.components = (type("AllCommands", (), {"tc_" + n: lambda self, v: None for n in COMMANDS})(),)
PIPE = _Pipe()
COMMS = Comms(PIPE, 0x2A, DISPATCH.handle, key=bytes(32))

DEPTHS = rs.INTERLEAVE_DEPTHS


def _outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except errors.ProtocolError as exc:
        return ("err", type(exc), exc.field, exc.offset)


def _both(pure, fast, *args):
    """Run the pure path and, where there is one, the C path: they must agree."""
    a = _outcome(pure, *args)
    if fast is not None:
        b = _outcome(fast, *args)
        if a != b:
            raise AssertionError("C and pure disagree: %r vs %r" % (a, b))
    return a


# --- the link decoders at their real sizes --------------------------------------------------------


def _fuzz_rs(a: int, b: int, body: bytes) -> None:
    depth = DEPTHS[a % 6]
    dual = bool(a & 0x08)
    k = rs.K_MAX if not a & 0x10 else 1 + (b >> 2) % 64
    mode = b & 3
    payload, block = li.rs_seed(k, depth, dual)
    got = li.shape(block, mode, body)
    result = _both(rs.decode_py, native and native.decode, got, depth, dual)
    if mode == CORRUPT and li.damaged_symbols_ok(block, got, depth):
        if result[0] != "ok" or result[1][0] != payload:
            raise AssertionError("RS did not correct <= 16 symbols per codeword: %r" % (result[:3],))


def _fuzz_rs_batch(a: int, b: int, body: bytes) -> None:
    depth = DEPTHS[a % 6]
    k = rs.K_MAX if not a & 0x10 else 1 + (b >> 2) % 64
    nblocks = 1 + (a >> 5) % 3
    blocks = li.rs_seed(k, depth, True)[1] * nblocks
    got = li.shape(blocks, b & 3, body)
    block_len = (k + rs.NROOTS) * depth
    _both(rs.decode_batch_py, native and native.decode_batch, got, block_len, depth, True)


def _fuzz_cltu(a: int, b: int, body: bytes) -> None:
    randomize = bool(a & 1)
    seg = bool(a & 2)
    data_len = 1 + ((a >> 2) << 6 | b >> 2) % (tcframe.MAX_FRAME_LEN - 8)
    frame = li.tc_frame(data_len, seg, a)
    seed = li.seed(("cltu", data_len, seg, a, randomize), lambda: cltu.encode(frame, randomize))
    got = li.shape(seed, b & 3, body)
    result = _outcome(cltu.decode, got, randomize)
    receiver = cltu.CltuReceiver(randomize=randomize)
    cut = len(got) // 3
    received = receiver.feed(got[:cut]) + receiver.feed(got[cut:])
    if result[0] == "ok":
        if received != [result[1][0]]:
            raise AssertionError("CltuReceiver disagrees with cltu.decode on a valid CLTU")
        _outcome(tcframe.unpack_with_fill, result[1][0], seg)


def _fuzz_cadu(a: int, b: int, body: bytes) -> None:
    depth = DEPTHS[a % 6]
    frame_len = rs.K_MAX * depth if not a & 0x10 else max(depth, (16 + (b >> 2) % 48) * depth)
    count = 1 + (a >> 5) % 3
    frames = li.tm_frames(frame_len, count, a)
    stream = li.seed(
        ("cadu", frame_len, count, a), lambda: b"".join(sync.build_cadu(f, depth) for f in frames)
    )
    got = li.shape(stream, b & 3, body)
    decoder = sync.CaduDecoder(frame_len, depth)
    half = len(got) // 2
    good = decoder.feed_frames(got[:half]) + decoder.feed_frames(got[half:]) + decoder.flush_frames()
    extractor = tm_extractor.PacketExtractor()
    for frame in good:
        extractor.feed(frame)
    # the first CADU's codeblock through both paths
    n = sync.cadu_len(frame_len, depth)
    if len(got) >= n:
        block = got[sync.ASM_LEN : n]
        plain = _both(randomizer.randomize_py, native and native.randomize, block)[1]
        _both(rs.decode_py, native and native.decode, plain, depth, True)
    _both(sync.find_asm_py, native and native.find_asm, got, b, n + b)


def _fuzz_tm_frame(a: int, b: int, body: bytes) -> None:
    frame_len = (1115, 1784, 892, 223, 2048, 446, 1024, 128)[a % 8]
    frame = li.tm_frames(frame_len, 1, a >> 3)[0]
    got = li.shape(frame, b & 3, body)
    checked = _outcome(tmframe.unpack, got, True, frame_len)
    if len(got) >= 2:
        _both(crc.crc16_py, native and native.crc16, got[:-2])
    unchecked = _outcome(tmframe.unpack, got, False)  # header fields reached despite the corruption
    extractor = tm_extractor.PacketExtractor(max_packet_len=64 + b)
    for result in (checked, unchecked):
        if result[0] == "ok":
            try:
                extractor.feed(result[1])
            except errors.ProtocolError:
                pass


def _fuzz_tc_frame(a: int, b: int, body: bytes) -> None:
    seg = bool(a & 2)
    data_len = 1 + ((a >> 2) << 6 | b >> 2) % (tcframe.MAX_FRAME_LEN - 8)
    frame = li.tc_frame(data_len, seg, a)
    got = li.shape(frame, b & 3, body)
    _outcome(tcframe.TcFrame.unpack, got, seg, True)
    _outcome(tcframe.TcFrame.unpack, got, seg, False)
    _outcome(tcframe.unpack_with_fill, got + b"\x55" * (a & 7), seg)


LINK = (_fuzz_rs, _fuzz_rs_batch, _fuzz_cltu, _fuzz_cadu, _fuzz_tm_frame, _fuzz_tc_frame)


# --- small targets: the body raw -----------------------------------------------------------------


def _fuzz_small(pick: int, arg: int, body: bytes) -> None:
    if pick == 0:
        _both(spacepacket.scan_packets_py, native and native.scan_packets, body, arg)
        spacepacket.PacketStream(max_packet_len=64 + arg).feed(body)
    elif pick == 1:
        _outcome(pus.PusTc.unpack, body)
        _outcome(pus.PusTm.unpack, body, arg % 9)
    elif pick == 2:
        sync.FrameSync(40 + arg).feed(body)
        _both(sync.find_asm_py, native and native.find_asm, body, arg)
    elif pick == 3:
        kiss.KissDecoder(max_frame=16 + arg).feed(body)
    elif pick == 4:
        _both(crc.crc16_py, native and native.crc16, body, arg * 257)
        _both(randomizer.randomize_py, native and native.randomize, body)
    elif pick == 5:
        _outcome(tmframe.clcw_unpack, body)
    elif pick == 6:
        DISPATCH.handle(body)  # the flight dispatcher: never raises, every bad packet a failure report
    elif pick == 7:
        PIPE.data = cltu.encode(body) if arg & 1 and body else body  # the flight uplink, SDLS-keyed
        COMMS.poll(0.0)
    elif pick == 8:
        _both(spacepacket.split_packets_py, native and native.split_packets, body, arg, 7 + arg)
    elif pick == 9:
        _outcome(cltu.decode, body)
        cltu.CltuReceiver().feed(body)
    elif pick == 10:
        sync.CaduDecoder(40, 1).feed(body)
    else:
        _fuzz_cfdp(arg, body)


def _cfdp_seeds() -> list[bytes]:
    """Valid CFDP PDUs of every kind in four header geometries, file data up to 1000 bytes."""
    cd = cfdp_directives
    out = []
    for id_len, seq_len, crc_on, large in (
        (1, 1, False, False),
        (2, 4, True, False),
        (4, 2, True, True),
        (8, 8, False, True),
    ):
        hdr = cfdp.PduHeader(3, 77, 5, id_len, seq_len, cfdp.ACKNOWLEDGED, crc_on, large)
        pdus = [
            cfdp.FileData(hdr, 4096, li.pattern(1000, id_len)),
            cfdp.FileData(hdr, 0, li.pattern(40, seq_len), b"seg", cfdp.RCS_START),
            cd.Eof(hdr, 1 << 20, 0x12345678),
            cd.Eof(hdr, 10, 0, cd.FILE_SIZE_ERROR, 5),
            cd.Finished(hdr, cd.FILESTORE_REJECTION, 1, 1, [b"\x10\x03abc\x00\x00"], 3),
            cd.Ack(hdr, cd.FINISHED),
            cd.Metadata(hdr, 1 << 20, "/data/hk.bin", "hk.bin", 3, True, [(2, b"msg"), (5, b"\x01")]),
            cd.Nak(hdr, 0, 9000, [(0, 0), (100, 600), (2000, 2500)]),
            cd.Prompt(hdr, 1),
            cd.KeepAlive(hdr, 4242),
        ]
        out += [bytes(p.pack()) for p in pdus]
    return out


def _fuzz_cfdp(arg: int, body: bytes) -> None:
    """A valid PDU (picked by arg >> 2), shaped by arg & 3 like the link decoders' inputs; what
    decodes must pack into bytes that decode to the same PDU."""
    seeds = li.seed(("cfdp",), _cfdp_seeds)
    got = li.shape(seeds[(arg >> 2) % len(seeds)], arg & 3, body)
    result = _outcome(cfdp.decode, got)
    if result[0] == "ok":
        again = cfdp.decode(result[1].pack())
        if again != result[1]:
            raise AssertionError("CFDP PDU does not survive pack/decode: %r" % (result[1],))
    # the board's lean machines take the same bytes: taken, or a ProtocolError, nothing else
    store = MemoryFileStore()
    store.create("f")
    store.write("f", 0, b"0123456789")
    _outcome(LeanReceiver(store, 5, 0).feed, got, 0)
    _outcome(LeanSender(store, "f", "g", 3, 5, 77, 0).feed, got, 0)


SMALL = 12
PICKS = 2 * len(LINK) + SMALL  # the link decoders take half the inputs


def test_one_input(data: bytes) -> None:
    if len(data) < 3:
        return
    pick, a, b, body = data[0] % PICKS, data[1], data[2], data[3:]
    if pick < 2 * len(LINK):
        LINK[pick % len(LINK)](a, b, body)
    else:
        _fuzz_small(pick - 2 * len(LINK), a, body)


# libFuzzer grows inputs slowly by default (17 bytes after 20000 runs, 4 corruption ops): let it
# use up to 512 bytes (127 ops, enough to pass RS's 16 symbols per codeword) from the start,
# unless the command line says otherwise. Realistic sizes come from the seeds, not the length.
DEFAULT_OPTIONS = ("-len_control=0", "-max_len=512")


def main() -> None:
    argv = list(sys.argv)
    for option in DEFAULT_OPTIONS:
        if not any(arg.startswith(option.split("=")[0] + "=") for arg in argv[1:]):
            argv.append(option)
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
