"""Buses of a real board from its definition, through MicroPython's `machine` module."""

import machine


class MachineBoard:
    def __init__(self, defn):
        self.defn = defn
        self._i2c = {}

    def i2c(self, bus_id):
        if bus_id not in self._i2c:
            d = self.defn["i2c"][bus_id]
            self._i2c[bus_id] = machine.I2C(
                bus_id, scl=machine.Pin(d["scl"]), sda=machine.Pin(d["sda"]), freq=d["freq"]
            )
        return self._i2c[bus_id]

    def spi(self, bus_id):
        d = self.defn["spi"][bus_id]
        return machine.SPI(
            bus_id,
            baudrate=d.get("baud", 5000000),
            sck=machine.Pin(d["sck"]),
            mosi=machine.Pin(d["mosi"]),
            miso=machine.Pin(d["miso"]),
        )

    def uart(self, uart_id):
        d = self.defn["uart"][uart_id]
        return machine.UART(uart_id, baudrate=d["baud"], tx=machine.Pin(d["tx"]), rx=machine.Pin(d["rx"]))

    def pin(self, pin_id, mode=None):
        return machine.Pin(pin_id, machine.Pin.OUT if mode is None else mode)

    def pwm(self, pin_id):
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
    """The flight computer itself: time passes on its own, so `advance` does nothing."""

    def __init__(self, defn, link=None, watchdog_ms=5000):
        from hal.clock import RealClock

        self.board = MachineBoard(defn)
        self.clock = RealClock()
        uart_id = defn.get("link_uart", 0)
        self.link = link if link is not None else self.board.uart(uart_id)
        self.watchdog = machine.WDT(timeout=watchdog_ms)
        self.rtc_s = None  # uptime until the ground sets the time (TC 9,128)
        self.reset_cause = reset_cause()

    def advance(self, ms):
        pass
