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

    def pin(self, pin_id, mode=None):
        return machine.Pin(pin_id, machine.Pin.OUT if mode is None else mode)

    def pwm(self, pin_id):
        return machine.PWM(machine.Pin(pin_id))

    def adc(self, pin_id):
        return machine.ADC(machine.Pin(pin_id))
