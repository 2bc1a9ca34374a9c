# The board speed calibration kernel: a small, fixed piece of work in the style of the flight code
# (bit-level CRC over a bytearray, small objects with attribute access and method calls, dict and
# list churn, integer arithmetic). It is run on the interpreter in use and on this machine's
# MicroPython unix port; the ratio of the two times relates the interpreter to the published
# board-vs-unix-port factors (hal/boards/*.py `speed_vs_unix`, docs/board-speed.md).
#
# Plain Python that runs unchanged on MicroPython (unix and WebAssembly ports) and CPython. Run as a
# script it prints "KERNEL_US <best of 9 runs, microseconds>"; board.mjs calls speed_kernel() itself
# and times it from JavaScript.


class _Cell:
    def __init__(self, v):
        self.v = v
        self.n = 0

    def bump(self, d):
        self.v = (self.v + d) & 0xFFFF
        self.n += 1
        return self.v


def speed_kernel(rounds=4):
    buf = bytearray(128)
    for i in range(128):
        buf[i] = (i * 37 + 11) & 0xFF
    total = 0
    for r in range(rounds):
        crc = 0xFFFF
        for b in buf:
            crc ^= b << 8
            for _ in range(8):
                if crc & 0x8000:
                    crc = ((crc << 1) ^ 0x1021) & 0xFFFF
                else:
                    crc = (crc << 1) & 0xFFFF
        cells = [_Cell(i) for i in range(32)]
        table = {}
        for i in range(400):
            c = cells[i & 31]
            table[i & 63] = c.bump(i ^ r)
        values = list(table.values())
        values.sort()
        total = (total + crc + values[0] + len(values) + sum(values[:8])) & 0xFFFFFF
    return total


def _now_us():
    import time

    if hasattr(time, "ticks_us"):
        return time.ticks_us()
    return time.perf_counter_ns() // 1000


def _best_us(runs=9, rounds=4):
    import time

    speed_kernel(1)  # warm up
    best = None
    for _ in range(runs):
        t0 = _now_us()
        speed_kernel(rounds)
        t1 = _now_us()
        us = time.ticks_diff(t1, t0) if hasattr(time, "ticks_diff") else t1 - t0
        if best is None or us < best:
            best = us
    return best


if __name__ == "__main__":
    print("KERNEL_US", _best_us())
