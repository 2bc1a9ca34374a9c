"""Simulated bench instruments: real pymodbus TCP servers whose registers follow a circuit model.

    with SimBench(board_ohms=40.0) as bench:       # PSU and e-load servers on 127.0.0.1
        psu = bench.connect_psu()                   # instruments.PowerSupply on bench.psu.url
        psu.set(8.0, 1.0); psu.on()
        psu.read_all().amps                         # 0.2 A: 8 V into the 40 ohm board

The circuit: the PSU output feeds the board under test (a resistor) and, in parallel, the
e-load input (a constant-current sink that saturates like a fully-on MOSFET near 0 V). The PSU
regulates voltage (CV) until the demand at its setpoint exceeds the current limit, then it
regulates current (CC) and the rail drops to where demand equals the limit: a heavy e-load can
brown the board out, exactly as on a real bench. Settling is instantaneous.

Each instrument runs its own server in its own thread and event loop: Modbus TCP on an ephemeral
127.0.0.1 port, or (`rtu=True`) Modbus RTU on one end of a pseudo-terminal null modem, the
client opening the other end as it would a USB-serial adapter. The register maps are
`register_maps.PSU_MAP` / `LOAD_MAP`: reserved addresses and writes to measured registers get
ILLEGAL_ADDRESS, out-of-range values ILLEGAL_VALUE, anything but FC3/FC6/FC16 ILLEGAL_FUNCTION.
`stalled = True` makes an instrument stop answering (timeout tests).
"""

from __future__ import annotations

import asyncio
import os
import pty
import select
import threading
import tty
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from board_tools.bench.instruments import BenchError, ElectronicLoad, PowerSupply
from board_tools.bench.register_maps import LOAD_MAP, PSU_MAP, RegisterMap

SUPPORTED_FC = (3, 6, 16)  # what RD60xx-class instruments implement


@dataclass(frozen=True)
class OperatingPoint:
    volts: float
    psu_amps: float
    board_amps: float
    load_amps: float
    cc: bool


class BenchCircuit:
    """Shared state of the wiring; setpoints are raw register values, as the instruments hold them."""

    def __init__(self, board_ohms: float | None = 40.0, load_r_on: float = 0.05) -> None:
        self.lock = threading.Lock()
        self.board_ohms = board_ohms  # None: nothing connected to the PSU but the e-load
        self.load_r_on = load_r_on  # the e-load's pass element fully on: I <= V / r_on
        self.psu = {r.name: r.initial for r in PSU_MAP.registers if r.writable}
        self.load = {r.name: r.initial for r in LOAD_MAP.registers if r.writable}

    def _demand(self, volts: float) -> tuple[float, float]:
        board = volts / self.board_ohms if self.board_ohms else 0.0
        load = 0.0
        if self.load["INPUT"]:
            load = min(self.load["I_SET"] * LOAD_MAP["I_SET"].scale, volts / self.load_r_on)
        return board, load

    def solve(self) -> OperatingPoint:
        """DC operating point (call with the lock held)."""
        if not self.psu["OUTPUT"]:
            return OperatingPoint(0.0, 0.0, 0.0, 0.0, False)
        v_set = self.psu["V_SET"] * PSU_MAP["V_SET"].scale
        i_lim = self.psu["I_SET"] * PSU_MAP["I_SET"].scale
        board, load = self._demand(v_set)
        if board + load <= i_lim:
            return OperatingPoint(v_set, board + load, board, load, False)
        # CC: demand rises monotonically with voltage, so bisect for demand(v) == limit
        lo, hi = 0.0, v_set
        for _ in range(48):
            mid = (lo + hi) / 2
            if sum(self._demand(mid)) > i_lim:
                hi = mid
            else:
                lo = mid
        board, load = self._demand(lo)
        return OperatingPoint(lo, board + load, board, load, True)


class PtyNullModem:
    """Two pseudo-terminals cross-connected by a copy thread: a virtual null-modem cable.

    One pty alone will not do: both Modbus ends open a tty *path*, and a pty has only one.
    """

    def __init__(self) -> None:
        self._fds: list[int] = []
        self.a, self._ma = self._pair()
        self.b, self._mb = self._pair()
        self._running = True
        self._thread = threading.Thread(target=self._pump, name="pty-null-modem", daemon=True)
        self._thread.start()

    def _pair(self) -> tuple[str, int]:
        master, slave = pty.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes pass as they are
        self._fds += [master, slave]
        return os.ttyname(slave), master

    def _pump(self) -> None:
        peer = {self._ma: self._mb, self._mb: self._ma}
        while self._running:
            ready, _, _ = select.select(list(peer), [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                    os.write(peer[fd], data)
                except OSError:  # an end closed and reopened (EIO): nothing to forward
                    continue

    def close(self) -> None:
        self._running = False
        self._thread.join(1.0)
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []


def _raw(value: float, scale: float) -> int:
    return max(0, min(0xFFFF, int(round(value / scale))))


class SimInstrument(ABC):
    """One Modbus TCP server (unit id `unit`) backed by `circuit`; start() / stop() or `with`."""

    regmap: RegisterMap

    def __init__(
        self,
        circuit: BenchCircuit,
        unit: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        rtu: bool = False,
        baud: int = 115200,
    ) -> None:
        self.circuit = circuit
        self.unit = unit
        self.host = host
        self.port = port  # 0: ephemeral; the bound port after start()
        self.rtu = rtu
        self.baud = baud
        self._modem: PtyNullModem | None = None
        self.stalled = False
        self.requests = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- the instrument's behaviour --------------------------------------------------------
    @abstractmethod
    def settings(self) -> dict[str, int]:
        """The writable registers' values: this instrument's part of the circuit state."""

    @abstractmethod
    def measured(self, op: OperatingPoint) -> dict[str, int]:
        """The read-only measurement registers at operating point `op`."""

    def _refresh(self, registers: list[int], start: int) -> None:
        with self.circuit.lock:
            values = dict(self.settings())
            values.update(self.measured(self.circuit.solve()))
        for reg in self.regmap.registers:
            registers[reg.address - start] = values.get(reg.name, reg.initial)

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        self.requests += 1
        while self.stalled:  # a hung instrument: the request is never answered
            await asyncio.sleep(0.01)
        if function_code not in SUPPORTED_FC:
            return ExcCodes.ILLEGAL_FUNCTION
        if set_values:
            regs = [self.regmap.by_address[address + i] for i in range(count)]
            values = [int(v) for v in set_values]
            if any(not r.lo <= v <= r.hi for r, v in zip(regs, values)):
                return ExcCodes.ILLEGAL_VALUE
            with self.circuit.lock:
                self.settings().update((r.name, v) for r, v in zip(regs, values))
        # pymodbus stores the written values after this returns; everything else is ours
        self._refresh(registers, start_address)
        return None

    def _device(self) -> SimDevice:
        data = [
            SimData(r.address, values=r.initial, datatype=DataType.REGISTERS, readonly=not r.writable)
            for r in self.regmap.registers
        ]
        return SimDevice(id=self.unit, simdata=data, action=self._action)

    # -- server lifecycle ------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._modem is not None:
            return "rtu://%s?baud=%d&unit=%d" % (self._modem.b, self.baud, self.unit)
        return "tcp://%s:%d?unit=%d" % (self.host, self.port, self.unit)

    def start(self, timeout: float = 5.0) -> SimInstrument:
        if self._thread is not None:
            raise BenchError("%s simulator already running" % self.regmap.model)
        self._ready.clear()
        self._error = None
        if self.rtu:
            self._modem = PtyNullModem()
        self._thread = threading.Thread(target=self._run, name="sim-%s" % self.regmap.model, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            self.stop()
            raise BenchError("%s simulator did not start: %s" % (self.regmap.model, self._error or "timeout"))
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server: ModbusSerialServer | ModbusTcpServer
        if self._modem is not None:
            server = ModbusSerialServer(
                self._device(), framer=FramerType.RTU, port=self._modem.a, baudrate=self.baud
            )
            await server.serve_forever(background=True)
        else:
            server = ModbusTcpServer(self._device(), address=(self.host, self.port))
            await server.serve_forever(background=True)
            self.port = server.transport.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await server.shutdown()

    def stop(self, timeout: float = 5.0) -> None:
        """Close the listener and all connections; clients then get InstrumentUnreachableError."""
        thread, loop, stop = self._thread, self._loop, self._stop
        self.stalled = False
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # loop already finished
                pass
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise BenchError("%s simulator did not stop within %.1f s" % (self.regmap.model, timeout))
        if self._modem is not None:
            self._modem.close()
            self._modem = None
        self._thread = self._loop = self._stop = None

    def __enter__(self) -> SimInstrument:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class SimPowerSupply(SimInstrument):
    regmap = PSU_MAP

    def settings(self) -> dict[str, int]:
        return self.circuit.psu

    def measured(self, op: OperatingPoint) -> dict[str, int]:
        return {
            "V_OUT": _raw(op.volts, 0.001),
            "I_OUT": _raw(op.psu_amps, 0.001),
            "P_OUT": _raw(op.volts * op.psu_amps, 0.01),
            "CV_CC": 1 if op.cc else 0,
        }


class SimElectronicLoad(SimInstrument):
    regmap = LOAD_MAP

    def settings(self) -> dict[str, int]:
        return self.circuit.load

    def measured(self, op: OperatingPoint) -> dict[str, int]:
        return {
            "V_IN": _raw(op.volts, 0.001),
            "I_IN": _raw(op.load_amps, 0.001),
            "P_IN": _raw(op.volts * op.load_amps, 0.01),
        }


class SimBench:
    """A PSU and an e-load wired to one board (`board_ohms`), each its own Modbus server."""

    def __init__(self, board_ohms: float | None = 40.0, rtu: bool = False) -> None:
        self.circuit = BenchCircuit(board_ohms)
        self.psu = SimPowerSupply(self.circuit, rtu=rtu)
        self.load = SimElectronicLoad(self.circuit, rtu=rtu)

    def start(self) -> SimBench:
        self.psu.start()
        try:
            self.load.start()
        except BaseException:
            self.psu.stop()
            raise
        return self

    def stop(self) -> None:
        try:
            self.load.stop()
        finally:
            self.psu.stop()

    def __enter__(self) -> SimBench:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def connect_psu(self, timeout: float = 1.0, retries: int = 2) -> PowerSupply:
        return PowerSupply(self.psu.url, timeout=timeout, retries=retries)

    def connect_load(self, timeout: float = 1.0, retries: int = 2) -> ElectronicLoad:
        return ElectronicLoad(self.load.url, timeout=timeout, retries=retries)
