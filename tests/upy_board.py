"""Boot flight.main on MicroPython's unix port as if it ran on a real board (or on CPython).

    micropython -X heapsize=1M tests/upy_board.py <port> "<os.uname().machine>" <flash dir> <ticks> \
        [--slow-link-ms=N]

The unix port has no `machine` buses, so a fake `machine` stands in for the board's: the chips
never answer (I2C NACKs as OSError ENODEV, SPI reads zeros, the UART is silent), which the
flight application must take as faults, not as a crash. Each port's fake keeps the quirks of the
real one that a board definition can trip on: stm32 fixes bus pins by bus id (explicit pins are
refused) and stock firmware before micropython PR #18881 has no machine.PWM; ESP32 SPI ids are 1
and 2, pins 34-39 are inputs only; bus ids and pin names outside the chip are refused.
`sys.platform` and `os.uname()` are replaced by the board's (entries in sys.modules, which
`import` consults first) so `hal.boards.detect()` takes the real path.

Prints one `key value...` line per fact: board, boot (the flight.main line seen), ticks, task
errors, group timings, the heap; then "done".
"""

import sys

ENODEV = 19
SLOW_LINK_MS = [0]

# Per port: bus ids, pin names (a set, or a range of GPIO numbers), pins that are inputs only,
# ADC-capable pins, whether bus pins are fixed by the bus id, whether machine.PWM exists.
PY_PINS = ["X%d" % i for i in range(1, 23)] + ["Y%d" % i for i in range(1, 13)]
PORTS = {
    "rp2": {"i2c": (0, 1), "spi": (0, 1), "uart": (0, 1), "pins": range(0, 30), "adc": (26, 27, 28, 29)},
    "samd": {
        "i2c": range(0, 8),
        "spi": range(0, 8),
        "uart": range(0, 8),
        "pins": ["P%s%02d" % (g, n) for g in "AB" for n in range(32)],
        "adc": ["PA02", "PA03", "PA04", "PA05", "PA06", "PA07", "PB08", "PB09"],
    },
    "pyboard": {
        "i2c": (1, 2),
        "spi": (1, 2),
        "uart": (1, 2, 3, 4, 6),
        "pins": PY_PINS,
        "adc": ["X%d" % i for i in (1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 19, 20, 21, 22)] + ["Y11", "Y12"],
        "fixed": True,
        "no_pwm": True,
    },
    "esp32": {
        "i2c": (0, 1),
        "spi": (1, 2),
        "uart": (0, 1, 2),
        "pins": [p for p in range(40) if p not in (20, 24, 28, 29, 30, 31)],
        "inputs": range(34, 40),
        "adc": range(32, 40),
    },
    "esp32c3": {"i2c": (0,), "spi": (1,), "uart": (0, 1), "pins": range(0, 22), "adc": range(0, 5)},
}


class _Obj:
    pass


def fake_machine(spec):
    m = _Obj()
    m.__name__ = "machine"

    class Pin:
        IN, OUT, OPEN_DRAIN = 0, 1, 2
        PULL_UP, PULL_DOWN = 1, 2
        IRQ_RISING, IRQ_FALLING = 1, 2

        def __init__(self, pin_id, mode=-1, pull=-1, value=None):
            if pin_id not in spec["pins"]:
                raise ValueError("invalid pin %r" % (pin_id,))
            if mode == Pin.OUT and pin_id in spec.get("inputs", ()):
                raise ValueError("pin %r can only be input" % (pin_id,))
            self.id = pin_id
            self.mode = mode
            self._v = 0 if value is None else value

        def value(self, v=None):
            if v is None:
                return self._v
            self._v = 1 if v else 0

        def on(self):
            self._v = 1

        def off(self):
            self._v = 0

        def init(self, *args, **kwargs):
            pass

        def irq(self, *args, **kwargs):
            return None

    def _bus(kind, bus_id, kwargs, pin_args):
        if bus_id not in spec[kind]:
            raise ValueError("%s(%r) doesn't exist" % (kind.upper(), bus_id))
        given = [k for k in pin_args if k in kwargs]
        if given and spec.get("fixed"):
            if kind == "uart":
                raise TypeError("unexpected keyword argument '%s'" % given[0])
            raise ValueError("explicit choice of %s is not implemented" % "/".join(pin_args))

    class I2C:
        def __init__(self, bus_id, **kwargs):
            _bus("i2c", bus_id, kwargs, ("scl", "sda"))

        def scan(self):
            return []

        def _nack(self, *args, **kwargs):
            raise OSError(ENODEV)

        readfrom = readfrom_into = writeto = readfrom_mem = readfrom_mem_into = writeto_mem = _nack

    class SPI:
        def __init__(self, bus_id, baudrate=1000000, **kwargs):
            _bus("spi", bus_id, kwargs, ("sck", "mosi", "miso"))

        def write(self, buf):
            pass

        def read(self, n, write=0):
            return bytes(n)

        def readinto(self, buf, write=0):
            for i in range(len(buf)):
                buf[i] = 0  # MISO pulled low: no chip answers

        def write_readinto(self, wbuf, rbuf):
            self.readinto(rbuf)

    class UART:
        def __init__(self, bus_id, baudrate=9600, **kwargs):
            _bus("uart", bus_id, kwargs, ("tx", "rx"))

        def any(self):
            return 0

        def read(self, n=-1):
            return None

        def readinto(self, buf, n=-1):
            return None

        def write(self, buf):
            if SLOW_LINK_MS[0]:
                import time

                time.sleep_ms(SLOW_LINK_MS[0])  # a link that blocks: the fast group overruns
            return len(buf)

    class PWM:
        def __init__(self, pin, freq=0, duty_u16=0):
            if pin.id in spec.get("inputs", ()):
                raise ValueError("pin %r can only be input" % (pin.id,))
            self._f = freq
            self._d = duty_u16

        def freq(self, f=None):
            if f is None:
                return self._f
            self._f = f

        def duty_u16(self, d=None):
            if d is None:
                return self._d
            self._d = d

        def deinit(self):
            pass

    class ADC:
        def __init__(self, pin):
            if pin.id not in spec["adc"]:
                raise ValueError("Pin(%r) doesn't have ADC capabilities" % (pin.id,))

        def read_u16(self):
            return 0

    class WDT:
        last = None

        def __init__(self, id=0, timeout=5000):
            self.timeout = timeout
            self.fed = 0
            WDT.last = self

        def feed(self):
            self.fed += 1

    m.Pin, m.I2C, m.SPI, m.UART, m.ADC, m.WDT = Pin, I2C, SPI, UART, ADC, WDT
    if not spec.get("no_pwm"):
        m.PWM = PWM
    m.PWRON_RESET, m.HARD_RESET, m.WDT_RESET, m.DEEPSLEEP_RESET, m.SOFT_RESET = 1, 2, 3, 4, 5
    m.reset_cause = lambda: m.PWRON_RESET
    m.unique_id = lambda: b"\xe6\x61\x38\x52\x83\x2a\x49\x27"
    m.freq = lambda *a: 125000000
    m.reset = m.soft_reset = lambda: None
    m.idle = lambda: None
    return m


def _copy(module):
    fake = _Obj()
    for name in dir(module):
        try:
            setattr(fake, name, getattr(module, name))
        except (AttributeError, TypeError):
            pass
    return fake


def install(port, uname_machine):
    """Fake machine, sys.platform and os.uname for every module imported from now on."""
    import os

    spec = PORTS.get("esp32c3" if port == "esp32" and "C3" in uname_machine else port, PORTS["rp2"])
    fake_sys = _copy(sys)
    fake_sys.platform = port
    fake_os = _copy(os)

    def uname():
        u = _Obj()
        u.sysname = u.nodename = port
        u.release = u.version = "1.22.0"
        u.machine = uname_machine
        return u

    fake_os.uname = uname
    sys.modules["machine"] = fake_machine(spec)
    sys.modules["sys"] = fake_sys
    sys.modules["os"] = fake_os


def main(port, uname_machine, flash, ticks):
    install(port, uname_machine)
    import gc

    from hal.boards import detect

    print("board", detect())
    import flight.main

    app = flight.main.main(flash=flash, ticks=ticks)  # prints its "flight: boot ..." line
    ex = app.executive
    print("ticks", ex.tick)
    for task in ex.tasks:
        if task.errors:
            print("task_error", task.name, task.errors, task.last_error)
    for g in ex.groups:
        print("group", g.name, g.max_us, g.overruns)
    print("radio", app.radio is not None)
    names = ("mag_drv", "gyro_drv", "power_drv", "thermo_drv", "sun_drv")
    print("sensors", " ".join(n for n in names if getattr(app.sensors, n) is not None) or "none")
    from flight.dictionary import EVENTS
    from protocols.pus_5_event import decode_report

    names = {v[0]: name for name, v in EVENTS.items()}
    formats = {v[0]: v[2] for v in EVENTS.values()}

    events = app.stores.stores[2]  # the events packet store, in flash
    events.start_dump(0, 0xFFFFFFFF, False)
    logged = set()
    while True:
        pkt = events.next_playback()
        if pkt is None:
            break
        logged.add(names[decode_report(pkt[19:-2], formats)[0]])  # a TM(5,x)'s source data
    events.dump = None
    print("events", " ".join(sorted(logged)))
    print("watchdog_fed", sys.modules["machine"].WDT.last.fed)
    gc.collect()
    print("heap", gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0)
    print("done")


if __name__ == "__main__":
    sys.path.insert(0, ".")
    for arg in sys.argv[5:]:
        if arg.startswith("--slow-link-ms="):
            SLOW_LINK_MS[0] = int(arg.split("=")[1])
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
