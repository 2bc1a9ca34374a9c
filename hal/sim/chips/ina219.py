"""TI INA219 model: the register arithmetic of datasheet section 8.5 over physical V and I."""

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

from hal.sim.chips.base import Register16Chip

# registers and fields, datasheet SBOS448 section 8.6 (as hal.drivers.ina219 names them)
_CONFIG = const(0x00)
_SHUNT_VOLTAGE = const(0x01)
_BUS_VOLTAGE = const(0x02)  # BD[12:0] - CNVR OVF
_POWER = const(0x03)
_CURRENT = const(0x04)
_CALIBRATION = const(0x05)  # FS[15:1] -
_RST = const(0x8000)  # Configuration RST
_POR_CONFIG = const(0x399F)  # 32 V range, /8 gain, 12-bit ADCs, shunt and bus continuous
_BD_SHIFT = const(3)
_BD_MASK = const(0x1FFF)
_CNVR = const(0x02)  # Bus Voltage: conversion ready
_CAL_MASK = const(0xFFFE)  # calibration bit 0 is read-only


class SimINA219(Register16Chip):
    def __init__(self, bus_volts, current_amps, shunt_ohms=0.1):
        self.bus_volts = bus_volts
        self.current_amps = current_amps
        self.shunt_ohms = shunt_ohms
        super().__init__()

    def power_on_values(self):
        self.words[_CONFIG] = _POR_CONFIG

    def on_write(self, reg, value):
        if reg == _CONFIG and value & _RST:
            self.reset()
        elif reg == _CALIBRATION:
            self.words[_CALIBRATION] = value & _CAL_MASK

    def refresh(self, reg):
        v_shunt = self.current_amps() * self.shunt_ohms
        shunt_raw = max(-32000, min(32000, int(round(v_shunt / 10e-6))))  # PGA /8: +-320 mV
        self.words[_SHUNT_VOLTAGE] = shunt_raw & 0xFFFF
        bus_raw = int(round(self.bus_volts() / 4e-3)) & _BD_MASK
        cal = self.words[_CALIBRATION]
        current_raw = (shunt_raw * cal) // 4096 if cal else 0
        ovf = 1 if not -32768 <= current_raw <= 32767 else 0
        self.words[_BUS_VOLTAGE] = (bus_raw << _BD_SHIFT) | _CNVR | ovf  # a conversion completed
        self.words[_CURRENT] = current_raw & 0xFFFF
        self.words[_POWER] = (abs(current_raw) * bus_raw) // 5000 & 0xFFFF if cal else 0
