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
