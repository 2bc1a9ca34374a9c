# Runs (MicroPython, not CPython) in every fresh board instance just before prelude.py; see board.mjs.
# The `machine` module a port would have (Pin, UART, WDT, resets, reset_cause...), built on the JS side
# (board.mjs `api`). Only the function is defined here: prelude.py calls it and deletes it, so no name
# stays in __main__.


def _emuboard_machine(_js, uctypes, sleep_ms):
    flight_uart = _js.uart_id()

    class machine:  # noqa: N801 - stands in for the module
        PWRON_RESET = 1
        HARD_RESET = 2
        WDT_RESET = 3
        DEEPSLEEP_RESET = 4
        SOFT_RESET = 5

        class Pin:
            IN = 0
            OUT = 1
            OPEN_DRAIN = 2
            ALT = 3
            PULL_UP = 1
            PULL_DOWN = 2
            IRQ_FALLING = 4
            IRQ_RISING = 8

            def __init__(self, pin_id, mode=-1, pull=-1, *, value=None, **kw):
                self._id = pin_id
                self._v = 0
                self.init(mode, pull, value=value)

            def init(self, mode=-1, pull=-1, *, value=None, **kw):
                if value is not None:
                    self._v = 1 if value else 0

            def value(self, v=None):
                if v is None:
                    return self._v
                self._v = 1 if v else 0

            __call__ = value

            def on(self):
                self._v = 1

            def off(self):
                self._v = 0

            high = on
            low = off

            def toggle(self):
                self._v ^= 1

            def irq(self, handler=None, trigger=12, **kw):
                return None

            def __repr__(self):
                return "Pin(%r)" % (self._id,)

        class UART:
            # Only UART(flight id) is wired to the host channel; the others are unconnected pins.
            def __init__(self, uart_id, baudrate=115200, *args, **kw):
                self._id = uart_id
                self._wired = uart_id == flight_uart
                self.init(baudrate, *args, **kw)

            def init(self, baudrate=115200, bits=8, parity=None, stop=1, *, timeout=0, **kw):
                self.baudrate = baudrate
                self._timeout = timeout

            def deinit(self):
                pass

            def any(self):
                return _js.uart_any() if self._wired else 0

            def _wait(self):
                # Honour the `timeout` (ms) given to init, as ports do for the first byte.
                t = self._timeout
                while t > 0 and not self.any():
                    sleep_ms(1)
                    t -= 1

            def readinto(self, buf, nbytes=-1):
                n = len(buf) if nbytes < 0 or nbytes > len(buf) else nbytes
                self._wait()
                if not self._wired or n == 0:
                    return None
                k = _js.uart_readinto(uctypes.addressof(buf), n)
                return k or None

            def read(self, nbytes=-1):
                self._wait()
                n = self.any()
                if nbytes >= 0 and nbytes < n:
                    n = nbytes
                if not n:
                    return None
                buf = bytearray(n)
                k = _js.uart_readinto(uctypes.addressof(buf), n)
                return bytes(buf[:k])

            def readline(self):
                out = bytearray()
                one = bytearray(1)
                while self.readinto(one):
                    out += one
                    if one[0] == 10:
                        break
                return bytes(out) if out else None

            def write(self, buf):
                if isinstance(buf, str):
                    buf = buf.encode()
                n = len(buf)
                if self._wired and n:
                    _js.uart_write(uctypes.addressof(buf), n)
                return n

            def flush(self):
                pass

            def txdone(self):
                return True

            def __repr__(self):
                return "UART(%d, baudrate=%d)" % (self._id, self.baudrate)

        class WDT:
            def __init__(self, wdt_id=0, timeout=5000):
                _js.wdt_start(timeout)

            def feed(self):
                _js.wdt_feed()

        def reset():
            _js.request_reset(2)
            raise SystemExit

        def soft_reset():
            raise SystemExit

        @staticmethod
        def deepsleep(ms=0):
            _js.request_reset(4)
            raise SystemExit

        @staticmethod
        def lightsleep(ms=0):
            sleep_ms(ms)

        def idle():
            pass

        def reset_cause():
            return _js.reset_cause()

        def unique_id():
            return bytes(_js.unique_id())

        @staticmethod
        def freq(hz=None):
            return 125_000_000 if hz is None else None

        def disable_irq():
            return 0

        @staticmethod
        def enable_irq(state=0):
            pass

    return machine
