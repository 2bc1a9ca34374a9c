"""Buses of a real board from its definition, through MicroPython's `machine` module.

A bus is keyed in the definition by the index the flight application asks for and carries the
port's own bus `id` when that differs (pyboard I2C(1), ESP32 SPI(2)). Ports that fix a bus's pins
by its id (stm32: `fixed_bus_pins`) are given the id alone; the others get the pins.
"""

import machine


class _OnOffPwm:
    """A coil drive for firmware without machine.PWM (stm32 before micropython PR #18881): the
    pin is on at half duty or more, off below. Magnetorquers then run bang-bang (full dipole or
    none), which B-dot tolerates; the proportional sun-pointing law loses its fine control."""

    def __init__(self, pin):
        self.pin = pin
        self._freq = 0
        self._duty = 0

    def freq(self, hz=None):
        if hz is None:
            return self._freq
        self._freq = hz

    def duty_u16(self, value=None):
        if value is None:
            return self._duty
        self._duty = value
        self.pin.value(1 if value >= 0x8000 else 0)

    def deinit(self):
        self.pin.value(0)


class MachineBoard:
    def __init__(self, defn):
        self.defn = defn
        self._fixed = defn.get("fixed_bus_pins", False)
        self._i2c = {}
        # pins the board reads, opened as inputs when no mode is given: a radio's DIO0 (driven by
        # the radio; on the ESP32 an input-only pin) and the burn wire's deployment switch
        inputs = [dev.get("dio0") for bus in defn.get("spi", {}).values() for dev in bus["devices"].values()]
        inputs.append(defn.get("burnwire", {}).get("switch"))
        self._inputs = [p for p in inputs if p is not None]

    def reset(self):
        """Restart the board (a commanded reboot): boot_select runs again."""
        machine.reset()

    def i2c(self, bus_id):
        if bus_id not in self._i2c:
            d = self.defn["i2c"][bus_id]
            hw = d.get("id", bus_id)
            if self._fixed:
                self._i2c[bus_id] = machine.I2C(hw, freq=d["freq"])
            else:
                self._i2c[bus_id] = machine.I2C(
                    hw, scl=machine.Pin(d["scl"]), sda=machine.Pin(d["sda"]), freq=d["freq"]
                )
        return self._i2c[bus_id]

    def spi(self, bus_id):
        d = self.defn["spi"][bus_id]
        hw = d.get("id", bus_id)
        baud = d.get("baud", 5000000)
        if self._fixed:
            return machine.SPI(hw, baudrate=baud)
        return machine.SPI(
            hw,
            baudrate=baud,
            sck=machine.Pin(d["sck"]),
            mosi=machine.Pin(d["mosi"]),
            miso=machine.Pin(d["miso"]),
        )

    def uart(self, uart_id):
        d = self.defn["uart"][uart_id]
        hw = d.get("id", uart_id)
        if self._fixed:
            return machine.UART(hw, baudrate=d["baud"])
        return machine.UART(hw, baudrate=d["baud"], tx=machine.Pin(d["tx"]), rx=machine.Pin(d["rx"]))

    def pin(self, pin_id, mode=None):
        if mode is None:
            mode = machine.Pin.IN if pin_id in self._inputs else machine.Pin.OUT
        return machine.Pin(pin_id, mode)

    def pwm(self, pin_id):
        if not hasattr(machine, "PWM"):
            return _OnOffPwm(machine.Pin(pin_id, machine.Pin.OUT))
        return machine.PWM(machine.Pin(pin_id))

    def adc(self, pin_id):
        return machine.ADC(machine.Pin(pin_id))


# machine.reset_cause() values differ by port: map them to 0 power-on, 1 watchdog, 2 soft, 3 brown-out
def reset_cause():
    cause = machine.reset_cause()
    for attr, code in (("WDT_RESET", 1), ("SOFT_RESET", 2), ("BROWNOUT_RESET", 3)):
        if cause == getattr(machine, attr, -1):
            return code
    return 0


class MachineSystem:
    """The flight computer itself: time passes on its own, so `advance` does nothing.

    `cpu_us` is the execution-time clock the executive measures tasks and rate groups with
    (time.ticks_us), so overruns are counted and reported on the board."""

    def __init__(self, defn, link=None, watchdog_ms=5000):
        from hal.clock import RealClock

        self.board = MachineBoard(defn)
        self.clock = RealClock()
        self.cpu_us = self.clock.ticks_us
        uart_id = defn.get("link_uart", 0)
        self.link = link if link is not None else self.board.uart(uart_id)
        self.watchdog = machine.WDT(timeout=watchdog_ms)
        self.rtc_s = None  # uptime until the ground sets the time (TC 9,128)
        self.reset_cause = reset_cause()

    def advance(self, ms):
        pass
