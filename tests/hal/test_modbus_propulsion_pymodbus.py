"""The simulated propulsion unit (hal/sim/chips/modbus_propulsion.py) answers pymodbus's own RTU
client over a pty pair as a real Modbus server would: pymodbus frames the requests, checks the
CRCs and decodes the answers, exceptions included."""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Iterator

import pytest
from pymodbus import FramerType
from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ModbusException

from hal.sim.board.extras import EXAMPLE_THRUSTERS
from hal.sim.buses.clock import VirtualClock
from hal.sim.chips.modbus_propulsion import LIMIT_REG, SimModbusPropulsion

UNIT = 3
GAP_S = 0.005  # a request ends when the line is quiet this long (RTU's t3.5 is 0.3 ms at 115200)


def _serve(fd: int, unit: SimModbusPropulsion, stop: threading.Event) -> None:
    """Read one request frame at a time from the pty and write the unit's answer back."""
    buf = b""
    while not stop.is_set():
        ready = select.select([fd], [], [], GAP_S if buf else 0.05)[0]
        if ready:
            buf += os.read(fd, 512)
            continue
        if buf:
            reply = unit.receive(buf)
            buf = b""
            if reply:
                os.write(fd, reply)


@pytest.fixture()
def peer() -> Iterator[tuple[ModbusSerialClient, SimModbusPropulsion]]:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    unit = SimModbusPropulsion(VirtualClock(), EXAMPLE_THRUSTERS, unit=UNIT)
    stop = threading.Event()
    thread = threading.Thread(target=_serve, args=(master, unit, stop), daemon=True)
    thread.start()
    client = ModbusSerialClient(
        os.ttyname(slave), framer=FramerType.RTU, baudrate=115200, timeout=0.5, retries=0
    )
    assert client.connect()
    yield client, unit
    client.close()
    stop.set()
    thread.join(5)
    os.close(master)
    os.close(slave)


def test_pymodbus_switches_the_unit_and_reads_its_registers(peer) -> None:
    client, unit = peer
    assert not client.write_register(0, 1, device_id=UNIT).isError()
    assert unit.arm_pin.value() == 1
    assert not client.write_registers(1, [1, 0, 1, 0], device_id=UNIT).isError()
    assert unit.valves[0].is_open and not unit.valves[1].is_open and unit.valves[2].is_open
    assert client.read_holding_registers(0, count=5, device_id=UNIT).registers == [1, 1, 0, 1, 0]
    assert client.read_input_registers(0, count=1, device_id=UNIT).registers == [0b1011]
    assert client.read_holding_registers(LIMIT_REG, count=1, device_id=UNIT).registers == [1000]
    assert not client.write_register(0, 0, device_id=UNIT).isError()
    assert not any(v.is_open for v in unit.valves)
    assert unit.frames == 6 and unit.exceptions == 0


def test_pymodbus_decodes_the_units_exceptions(peer) -> None:
    client, unit = peer
    reply = client.read_holding_registers(5, count=1, device_id=UNIT)  # valves are 1..4
    assert reply.isError() and reply.exception_code == 2
    reply = client.write_register(1, 7, device_id=UNIT)  # a switch is 0 or 1
    assert reply.isError() and reply.exception_code == 3
    reply = client.write_register(LIMIT_REG, 60001, device_id=UNIT)
    assert reply.isError() and reply.exception_code == 3
    assert unit.exceptions == 3 and unit.limit_ms == 1000


def test_another_units_request_gets_no_answer(peer) -> None:
    client, unit = peer
    with pytest.raises(ModbusException):
        result = client.read_holding_registers(0, count=1, device_id=UNIT + 1)
        if result.isError():  # some pymodbus versions return the error instead of raising
            raise ModbusException(str(result))
    assert unit.ignored == 1 and unit.frames == 0
