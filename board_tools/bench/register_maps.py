"""The Modbus register maps of the bench instruments (board_tools/bench/instruments.py is the
client, sim_instruments.py the simulated instruments that implement these maps). Both speak plain
Modbus holding registers, values as unsigned 16-bit integers in fixed units; a real instrument
with another layout gets its own `RegisterMap` (e.g. an RD6006 has 10 mV voltage steps: scale
0.01, and OUTPUT at 18) and the same client code.

Power supply (`PSU_MAP`, unit id 1), modelled on the RD6006 layout with mV/mA units:

    addr  name     access  unit    range          meaning
    0     MODEL    R       -       6006           model id (checked by `identify()`)
    1     FW       R       -       100            firmware version x100
    2-7   -        -       -       -              reserved: ILLEGAL_ADDRESS
    8     V_SET    RW      mV      0..60000       output voltage setpoint
    9     I_SET    RW      mA      0..6000        current limit (CC above it)
    10    V_OUT    R       mV                     measured output voltage
    11    I_OUT    R       mA                     measured output current
    12    P_OUT    R       10 mW                  measured output power
    13    CV_CC    R       -       0 CV, 1 CC     regulation mode
    14    OUTPUT   RW      -       0 off, 1 on    output enable

Electronic load (`LOAD_MAP`, unit id 1):

    addr  name     access  unit    range          meaning
    0     MODEL    R       -       8500
    1     FW       R       -       100
    2-7   -
    8     MODE     RW      -       0 CC           operating mode (only CC here; others rejected)
    9     I_SET    RW      mA      0..30000       CC sink current
    10    INPUT    RW      -       0 off, 1 on    input enable
    11    V_IN     R       mV                     measured input voltage
    12    I_IN     R       mA                     measured sink current
    13    P_IN     R       10 mW                  measured power
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Register:
    address: int
    name: str
    writable: bool = False
    scale: float = 1.0  # engineering units per LSB (0.001: the register counts mV or mA)
    unit: str = ""
    lo: int = 0  # raw range the instrument accepts on write
    hi: int = 0xFFFF
    initial: int = 0


class RegisterMap:
    def __init__(self, model: str, model_id: int, registers: Iterable[Register]) -> None:
        self.model = model
        self.model_id = model_id
        self.registers = tuple(registers)
        self.by_name = {r.name: r for r in self.registers}
        self.by_address = {r.address: r for r in self.registers}

    def __getitem__(self, name: str) -> Register:
        return self.by_name[name]

    def span(self, *names: str) -> tuple[int, int]:
        """(first address, count) covering the named registers: one read transaction for all."""
        addrs = [self.by_name[n].address for n in names]
        return min(addrs), max(addrs) - min(addrs) + 1


PSU_MAP = RegisterMap(
    "PSU",
    6006,
    (
        Register(0, "MODEL", initial=6006),
        Register(1, "FW", initial=100),
        Register(8, "V_SET", True, 0.001, "V", 0, 60000),
        Register(9, "I_SET", True, 0.001, "A", 0, 6000, initial=1000),
        Register(10, "V_OUT", scale=0.001, unit="V"),
        Register(11, "I_OUT", scale=0.001, unit="A"),
        Register(12, "P_OUT", scale=0.01, unit="W"),
        Register(13, "CV_CC"),
        Register(14, "OUTPUT", True, lo=0, hi=1),
    ),
)

LOAD_MAP = RegisterMap(
    "LOAD",
    8500,
    (
        Register(0, "MODEL", initial=8500),
        Register(1, "FW", initial=100),
        Register(8, "MODE", True, lo=0, hi=0),  # 0 = CC; CV/CR/CP are not modelled
        Register(9, "I_SET", True, 0.001, "A", 0, 30000),
        Register(10, "INPUT", True, lo=0, hi=1),
        Register(11, "V_IN", scale=0.001, unit="V"),
        Register(12, "I_IN", scale=0.001, unit="A"),
        Register(13, "P_IN", scale=0.01, unit="W"),
    ),
)

MODE_CC = 0
