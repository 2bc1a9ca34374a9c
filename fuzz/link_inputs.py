"""The fuzz target's realistic inputs (fuzz/atheris_decoders.py): valid link objects of a chosen
geometry, built once and cached (RS codeblocks, TM frames full of space packets, TC frames), and
the four ways a fuzz body is turned into a decoder's input (its module docstring says which).
"""

from __future__ import annotations

from protocols import rs, spacepacket, tcframe, tmframe

RAW, RAW_SIZED, CORRUPT, CORRUPT_RESIZED = 0, 1, 2, 3

_SEEDS: dict = {}


def pattern(n: int, salt: int) -> bytes:
    """n deterministic bytes that look like data (no long runs), different per salt."""
    x = (salt * 0x9E3779B1 + 0x7F4A7C15) & 0xFFFFFFFF
    out = bytearray(n)
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = x >> 24
    return bytes(out)


def seed(key, build):
    obj = _SEEDS.get(key)
    if obj is None:
        if len(_SEEDS) > 2000:  # a long run meets many geometries: bound the memory
            _SEEDS.clear()
        obj = _SEEDS[key] = build()
    return obj


def rs_seed(k: int, depth: int, dual: bool) -> tuple[bytes, bytes]:
    """(payload, codeblock) for k' data symbols per codeword at this depth."""

    def build():
        payload = pattern(k * depth, k * 8 + depth)
        return payload, rs.encode_py(payload, depth, dual)

    return seed(("rs", k, depth, dual), build)


def tm_frames(frame_len: int, count: int, salt: int) -> list[bytes]:
    """count consecutive TM frames of frame_len bytes (OCF + FECF) full of space packets."""

    def build():
        framer = tmframe.TmFramerBytes(frame_len, 0x2A, salt % 8)
        frames: list[bytes] = []
        n = 0
        while len(frames) < count:
            size = 1 + (n * 97 + salt * 31) % 300
            pkt = spacepacket.SpacePacket(0, 0x10 + n % 40, pattern(size, n + salt), n % 0x4000).pack()
            frames += framer.add_packet(pkt)
            n += 1
        return frames[:count]

    return seed(("tm", frame_len, count, salt), build)


def tc_frame(data_len: int, seg: bool, salt: int) -> bytes:
    def build():
        return tcframe.TcFrame(
            0x2A, salt % 64, pattern(data_len, salt), seq=salt, map_id=salt % 64 if seg else None
        ).pack()

    return seed(("tc", data_len, seg, salt), build)


def tile(body: bytes, n: int) -> bytes:
    if not body:
        return bytes(n)
    return (body * (n // len(body) + 1))[:n]


def shape(seed: bytes, mode: int, body: bytes) -> bytes:
    """The input a decoder gets: raw body, body at the real size, or the corrupted seed."""
    if mode == RAW:
        return body
    if mode == RAW_SIZED:
        return tile(body, len(seed))
    out = bytearray(seed)
    ops = body
    if mode == CORRUPT_RESIZED and ops:
        k, ops = ops[0], ops[1:]
        if k & 0x80:  # cut up to 127 bytes off the end
            del out[max(0, len(out) - (k & 0x7F)) :]
        else:  # or append up to 127 bytes taken from the start of the seed
            out += seed[:k]
        if not out:
            return b""
    for i in range(0, len(ops) - 3, 4):
        pos = ((ops[i] << 8) | ops[i + 1]) % len(out)
        xor = ops[i + 2]
        for p in range(pos, min(len(out), pos + 1 + (ops[i + 3] & 0x0F))):
            out[p] ^= xor
    return bytes(out)


def damaged_symbols_ok(seed: bytes, got: bytes, depth: int) -> bool:
    """True when every codeword has at most 16 corrupted symbols (RS must then correct it)."""
    if len(got) != len(seed):
        return False
    per_codeword = [0] * depth
    for i in range(len(seed)):
        if seed[i] != got[i]:
            per_codeword[i % depth] += 1
    return max(per_codeword) <= 16
