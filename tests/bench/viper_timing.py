"""Hot-path timings on MicroPython: the viper path against the pure code, in the same run.

    micropython tests/bench/viper_timing.py        (from the repository root)

Prints one line per operation, "ROW name viper_us pure_us", then "IMPL <rs.IMPL>". Each figure
is the best of 5 batches (the least disturbed by the rest of the machine), in microseconds per
operation. tests/bench/test_viper_bench.py runs it, checks the rows and writes .bench/viper.json.
Not a test: nothing here asserts a time.
"""

import gc
import sys
import time

sys.path.insert(0, ".")

from protocols import cltu, crc, randomizer, rs, sync


def _best_us(fn, n):
    fn()
    best = None
    for _ in range(5):
        gc.collect()
        t0 = time.ticks_us()
        for _ in range(n):
            fn()
        us = time.ticks_diff(time.ticks_us(), t0) / n
        if best is None or us < best:
            best = us
    return best


def _bytes(n, seed):
    out = bytearray(n)
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = x >> 16 & 0xFF
    return out


def _cltu_decode_pure(data):
    saved = cltu._hot
    cltu._hot = None  # the module's one switch: its pure code
    try:
        return cltu.decode(data)
    finally:
        cltu._hot = saved


def _cadu(frame, cadu, into, rand):
    rs_into, rand_into = rs.encode_into, randomizer.randomize_into
    rs.encode_into, randomizer.randomize_into = into, rand
    try:
        sync.build_cadu_into(frame, cadu, 5)
    finally:
        rs.encode_into, randomizer.randomize_into = rs_into, rand_into


def main():
    frame = bytes(_bytes(223 * 5, 1))
    out = bytearray(255 * 5)
    buf = bytearray(_bytes(1279, 2))
    tc = cltu.encode(bytes(_bytes(49, 3)))
    cadu = bytearray(sync.cadu_len(223 * 5, 5))
    fast_rs, fast_rand, fast_crc = rs.encode_into, randomizer.randomize_into, crc.crc16
    rows = (
        (
            "rs_encode_i5_1115B",
            lambda: fast_rs(frame, out, 5),
            lambda: rs.encode_into_py(frame, out, 5),
            200,
            10,
        ),
        (
            "randomize_1279B",
            lambda: fast_rand(buf, 0, 1279),
            lambda: randomizer.randomize_into_py(buf, 0, 1279),
            2000,
            50,
        ),
        ("crc16_1115B", lambda: fast_crc(frame), lambda: crc.crc16_py(frame), 2000, 50),
        ("cltu_decode_49B", lambda: cltu.decode(tc), lambda: _cltu_decode_pure(tc), 2000, 300),
        (
            "cadu_i5_rs_randomize_asm",
            lambda: _cadu(frame, cadu, fast_rs, fast_rand),
            lambda: _cadu(frame, cadu, rs.encode_into_py, randomizer.randomize_into_py),
            200,
            10,
        ),
    )
    for name, fast, pure, n_fast, n_pure in rows:
        print("ROW %s %.3f %.3f" % (name, _best_us(fast, n_fast), _best_us(pure, n_pure)))
    print("IMPL %s %s %s %s" % (rs.IMPL, randomizer.IMPL, crc.IMPL, cltu.IMPL))


main()
