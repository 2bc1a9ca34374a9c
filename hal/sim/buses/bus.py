"""Simulated buses with MicroPython's `machine` API, routing to register-level chip models.

A chip model on I2C implements `read(reg, n) -> bytes` and `write(reg, data)` (register
auto-increment rules are the chip's business). Every bus can inject faults per address:
NACK and timeout raise OSError with MicroPython's errno values, `stuck` returns one byte
value forever, `bitflip` flips bits with a probability, `noise` adds random LSB noise.
A fault may be permanent (count=None) or last a number of transactions.
"""

from hal.sim.prng import Prng

ENODEV = 19  # what machine.I2C raises on a NACK
EIO = 5
ETIMEDOUT = 110


class Fault:
    NACK = "nack"
    TIMEOUT = "timeout"
    STUCK = "stuck"
    BITFLIP = "bitflip"
    NOISE = "noise"  # I2C/UART: random low-bit errors; ADC: gaussian noise, `value` = sigma in LSB
    DROP = "drop"  # UART: bytes lost on the wire

    def __init__(self, kind, count=None, value=0xFF, probability=1.0):
        self.kind = kind
        self.count = count
        self.value = value
        self.probability = probability


class FaultSet:
    """Faults keyed by device address (or pin/channel id); shared by all simulated buses."""

    def __init__(self, seed=7):
        self._faults = {}
        self.rng = Prng(seed)
        self.injected = 0

    def inject(self, key, fault):
        self._faults[key] = fault

    def clear(self, key=None):
        if key is None:
            self._faults = {}
        elif key in self._faults:
            del self._faults[key]

    def active(self, key):
        fault = self._faults.get(key)
        if fault is None:
            return None
        if fault.count is not None:
            if fault.count <= 0:
                del self._faults[key]
                return None
            fault.count -= 1
        self.injected += 1
        return fault

    def before(self, key):
        """Raise for transaction-level faults; return a data fault (or None) to apply after."""
        fault = self.active(key)
        if fault is None:
            return None
        if fault.kind == Fault.NACK:
            raise OSError(ENODEV)
        if fault.kind == Fault.TIMEOUT:
            raise OSError(ETIMEDOUT)
        return fault

    def corrupt(self, fault, buf):
        if fault is None:
            return
        for i in range(len(buf)):
            if fault.kind == Fault.STUCK:
                buf[i] = fault.value
            elif fault.kind == Fault.BITFLIP and self.rng.random() < fault.probability:
                buf[i] ^= 1 << self.rng.randrange(8)
            elif fault.kind == Fault.NOISE and self.rng.random() < fault.probability:
                buf[i] ^= self.rng.randrange(4)  # the two least significant bits jitter


class SimI2C:
    """machine.I2C look-alike: scan, readfrom_mem(_into), writeto_mem, readfrom_into, writeto."""

    def __init__(self, devices=None, faults=None):
        self.devices = devices if devices is not None else {}
        self.faults = faults if faults is not None else FaultSet()
        self._pointer = {}
        self.transactions = 0

    def attach(self, addr, device):
        self.devices[addr] = device

    def _device(self, addr):
        self.transactions += 1
        dev = self.devices.get(addr)
        if dev is None or getattr(dev, "powered", True) is False:
            raise OSError(ENODEV)
        return dev

    def scan(self):
        found = []
        for addr in sorted(self.devices):
            try:
                self._device(addr)
                self.faults.before(addr)
                found.append(addr)
            except OSError:
                pass
        return found

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        dev = self._device(addr)
        fault = self.faults.before(addr)
        data = dev.read(memaddr, len(buf))
        for i in range(len(buf)):
            buf[i] = data[i]
        self.faults.corrupt(fault, buf)

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf, addrsize)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        dev = self._device(addr)
        fault = self.faults.before(addr)
        data = bytearray(buf)
        self.faults.corrupt(fault, data)
        dev.write(memaddr, data)

    def writeto(self, addr, buf, stop=True):
        """Plain write: first byte is the register pointer, the rest is written from it."""
        dev = self._device(addr)
        self.faults.before(addr)
        if len(buf):
            self._pointer[addr] = buf[0]
            if len(buf) > 1:
                dev.write(buf[0], bytes(buf[1:]))
        return len(buf)

    def readfrom_into(self, addr, buf, stop=True):
        dev = self._device(addr)
        fault = self.faults.before(addr)
        data = dev.read(self._pointer.get(addr, 0), len(buf))
        for i in range(len(buf)):
            buf[i] = data[i]
        self.faults.corrupt(fault, buf)

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(addr, buf, stop)
        return bytes(buf)


class SimPin:
    """machine.Pin look-alike; a chip model may drive an input pin (`drive`) to fire the IRQ."""

    IN = 0
    OUT = 1
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, pin_id=None, mode=OUT, value=0):
        self.id = pin_id
        self.mode = mode
        self._value = value
        self._handler = None
        self._trigger = 0
        self.listeners = []

    def init(self, mode=None, value=None):
        if mode is not None:
            self.mode = mode
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return self._value
        self._set(1 if v else 0)

    def on(self):
        self._set(1)

    def off(self):
        self._set(0)

    def irq(self, handler=None, trigger=IRQ_RISING):
        self._handler = handler
        self._trigger = trigger

    def drive(self, v):
        """Set by the simulated chip (an input from the MCU's point of view)."""
        self._set(1 if v else 0)

    def _set(self, v):
        old = self._value
        self._value = v
        if old != v:
            for listener in self.listeners:
                listener(self, v)
            if self._handler is not None:
                if (v and self._trigger & self.IRQ_RISING) or (not v and self._trigger & self.IRQ_FALLING):
                    self._handler(self)


class SimPWM:
    """machine.PWM look-alike."""

    def __init__(self, pin=None, freq=1000, duty_u16=0):
        self.pin = pin
        self._freq = freq
        self._duty = duty_u16

    def freq(self, f=None):
        if f is None:
            return self._freq
        self._freq = f

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        if not 0 <= d <= 65535:
            raise ValueError("duty must be 0..65535")
        self._duty = d

    def deinit(self):
        self._duty = 0


class SimADC:
    """machine.ADC look-alike; `source()` returns the physical input as a fraction of full scale."""

    def __init__(self, source, faults=None, key=None):
        self.source = source
        self.faults = faults
        self.key = key

    def read_u16(self):
        noise = 0.0
        if self.faults is not None:
            fault = self.faults.active(self.key)
            if fault is not None and fault.kind == Fault.STUCK:
                return fault.value
            if fault is not None and fault.kind == Fault.NOISE:
                noise = self.faults.rng.gauss(fault.value) / 65535
        x = self.source() + noise
        if x <= 0:
            return 0
        if x >= 1:
            return 65535
        return int(x * 65535 + 0.5)


class SimUART:
    """machine.UART look-alike; `pair()` makes two connected ends."""

    def __init__(self, rx=None, tx=None, faults=None, key=None):
        self._rx = rx if rx is not None else bytearray()
        self._tx = tx if tx is not None else bytearray()
        self.faults = faults
        self.key = key

    @classmethod
    def pair(cls, faults=None):
        """Two connected ends; faults keyed "a" act on what end a writes, "b" on end b."""
        a2b = bytearray()
        b2a = bytearray()
        return cls(b2a, a2b, faults, "a"), cls(a2b, b2a, faults, "b")

    def any(self):
        return len(self._rx)

    def read(self, n=-1):
        if not self._rx:
            return None
        if n < 0 or n > len(self._rx):
            n = len(self._rx)
        data = bytes(self._rx[:n])
        self._rx[:n] = b""
        return data

    def readinto(self, buf, n=-1):
        if not self._rx:
            return None
        if n < 0 or n > len(buf):
            n = len(buf)
        n = min(n, len(self._rx))
        buf[:n] = self._rx[:n]
        self._rx[:n] = b""
        return n

    def write(self, buf):
        """Bytes go on the wire; a DROP fault loses them, BITFLIP/NOISE/STUCK corrupt them."""
        fault = self.faults.active(self.key) if self.faults is not None else None
        if fault is not None and fault.kind == Fault.DROP:
            return len(buf)
        data = bytearray(buf)
        if fault is not None:
            self.faults.corrupt(fault, data)
        self._tx += data
        return len(buf)
