"""Our MicroPython Modbus RTU client against a real pymodbus RTU server over a pty pair."""

from __future__ import annotations

import asyncio
import os
import select
import threading
import tty
from collections.abc import Iterator

import crcmod.predefined
import pytest
from pymodbus import FramerType
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import ModbusSerialServer

from hal.drivers.modbus_rtu import ModbusExceptionError, ModbusFrameError, ModbusRtuClient, crc16_modbus
from hal.errors import DeviceTimeoutError


class PtyUart:
    """machine.UART look-alike over a pty master fd."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)

    def any(self) -> int:
        return 1 if select.select([self.fd], [], [], 0)[0] else 0

    def read(self, n: int = 256) -> bytes:
        try:
            return os.read(self.fd, n)
        except BlockingIOError:
            return b""

    def write(self, data: bytes) -> int:
        return os.write(self.fd, data)


class WallClock:
    def sleep_ms(self, ms: int) -> None:
        select.select([], [], [], ms / 1000)


@pytest.fixture()
def propulsion() -> Iterator[tuple[ModbusRtuClient, ModbusDeviceContext]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    device = ModbusDeviceContext(
        hr=ModbusSequentialDataBlock(1, list(range(100))),
        ir=ModbusSequentialDataBlock(1, [1000 + i for i in range(50)]),
    )
    context = ModbusServerContext(devices={1: device}, single=False)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict = {}

    async def serve() -> None:
        server = ModbusSerialServer(context, framer=FramerType.RTU, port=os.ttyname(slave), baudrate=115200)
        holder["server"] = server
        # background=True returns once the server holds the port open (termios set): from then on
        # a request written to the master waits in the pty until the server reads it
        await server.serve_forever(background=True)
        ready.set()
        await server.serving

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    assert ready.wait(5), "the pymodbus server did not open the pty within 5 s"
    client = ModbusRtuClient(PtyUart(master), WallClock(), timeout_ms=1000, retries=1)
    yield client, device
    asyncio.run_coroutine_threadsafe(holder["server"].shutdown(), loop).result(5)
    thread.join(5)
    os.close(master)
    os.close(slave)


def test_crc_equals_crcmod_modbus() -> None:
    ref = crcmod.predefined.mkCrcFun("modbus")
    for data in (b"", b"\x01\x03\x00\x00\x00\x0a", bytes(range(256))):
        assert crc16_modbus(data) == ref(data)
    # the classic example frame: 01 03 00 00 00 0A -> CRC C5 CD (low byte first)
    assert crc16_modbus(b"\x01\x03\x00\x00\x00\x0a") == 0xCDC5


def test_read_write_against_pymodbus(propulsion) -> None:
    client, _ = propulsion
    assert client.read_holding_registers(1, 10, 4) == [10, 11, 12, 13]
    assert client.read_input_registers(1, 2, 3) == [1002, 1003, 1004]
    # the server (pymodbus) holds the state: what we wrote must come back from it, around the
    # untouched neighbours whose initial values we know
    client.write_single_register(1, 5, 0xBEEF)
    assert client.read_holding_registers(1, 4, 3) == [4, 0xBEEF, 6]
    client.write_multiple_registers(1, 20, [7, 8, 9])
    assert client.read_holding_registers(1, 19, 5) == [19, 7, 8, 9, 23]


def test_exception_response_from_pymodbus(propulsion) -> None:
    client, _ = propulsion
    with pytest.raises(ModbusExceptionError) as info:
        client.read_holding_registers(1, 98, 10)  # beyond the 100 registers
    assert info.value.code == 2 and "illegal data address" in str(info.value)
    assert client.exceptions == 1
    assert client.read_holding_registers(1, 0, 2) == [0, 1]  # the link is still usable


def test_missing_unit_is_reported_by_pymodbus_as_device_failure(propulsion) -> None:
    client, _ = propulsion
    with pytest.raises(ModbusExceptionError) as info:
        client.read_holding_registers(7, 0, 1)
    assert info.value.code == 4


class _SilentUart:
    def any(self) -> int:
        return 0

    def read(self, n: int = 256) -> bytes:
        return b""

    def write(self, data: bytes) -> int:
        return len(data)


def test_silent_bus_times_out_after_bounded_retries() -> None:
    from hal.sim.buses.clock import VirtualClock

    clock = VirtualClock()
    client = ModbusRtuClient(_SilentUart(), clock, timeout_ms=100, retries=2)
    with pytest.raises(DeviceTimeoutError):
        client.read_holding_registers(1, 0, 1)
    assert client.timeouts == 3
    assert clock.ticks_ms() == 300  # three bounded waits, no hang


class _CorruptingUart:
    """A bus that answers with a corrupted CRC: the client must refuse the frame."""

    def __init__(self) -> None:
        self.out = b""

    def any(self) -> int:
        return len(self.out)

    def read(self, n: int = 256) -> bytes:
        data, self.out = self.out[:n], self.out[n:]
        return data

    def write(self, data: bytes) -> int:
        reply = bytes((data[0], 3, 2, 0x12, 0x34))
        c = crc16_modbus(reply) ^ 0x0001
        self.out = reply + bytes((c & 0xFF, c >> 8))
        return len(data)


def test_bad_crc_is_detected_and_counted() -> None:
    client = ModbusRtuClient(_CorruptingUart(), WallClock(), retries=2)
    with pytest.raises(ModbusFrameError):
        client.read_holding_registers(1, 0, 1)
    assert client.crc_errors == 3
