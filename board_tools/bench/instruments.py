"""Bench instruments over Modbus: a programmable power supply (PSU) and an electronic load.

Both speak plain Modbus (no SCPI), like the Riden RD60xx supplies and most cheap DC loads:
holding registers only (read FC3, write FC6/FC16), values as unsigned 16-bit integers in fixed
units. The register maps (what each address holds, its unit and range) are in `register_maps`,
which the simulated instruments in `sim_instruments` implement too; a real instrument with another
layout gets its own `RegisterMap` and the same client code.

Errors: every failure is a `BenchError`. Instrument failures are `InstrumentError`s naming the
instrument: `InstrumentTimeoutError` (no valid answer within timeout x (retries + 1)),
`InstrumentUnreachableError` (cannot connect, connection dropped), `InstrumentRejectedError` (a Modbus
exception response: bad address, bad value, ...), `SetpointError` (a value the register cannot
hold, caught before anything is sent).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar
from urllib.parse import parse_qs, urlparse

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.client.base import ModbusBaseSyncClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType
from pymodbus.pdu import ExceptionResponse, ModbusPDU

from board_tools.bench.register_maps import LOAD_MAP, MODE_CC, PSU_MAP, RegisterMap
from board_tools.errors import BoardToolsError

T = TypeVar("T")

EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    5: "acknowledge",
    6: "device busy",
    11: "gateway target failed to respond",
}


class BenchError(BoardToolsError):
    """Anything that goes wrong on the bench: instruments, target, plan."""


class InstrumentError(BenchError):
    def __init__(self, instrument: str, message: str) -> None:
        super().__init__("%s: %s" % (instrument, message))
        self.instrument = instrument


class InstrumentTimeoutError(InstrumentError):
    """The instrument did not answer in time (after the configured retries)."""


class InstrumentUnreachableError(InstrumentError):
    """No connection to the instrument (refused, dropped, no such port)."""


class InstrumentRejectedError(InstrumentError):
    """The instrument answered with a Modbus exception response."""

    def __init__(self, instrument: str, message: str, function_code: int, exception_code: int) -> None:
        super().__init__(instrument, message)
        self.function_code = function_code
        self.exception_code = exception_code


class SetpointError(InstrumentError, ValueError):
    """A setpoint that the register cannot represent (negative, too large)."""


_URL_FORMS = "tcp://HOST:PORT[?unit=N] or rtu:///dev/PORT[?baud=N&unit=N]"


@dataclass(frozen=True)
class Endpoint:
    """Where an instrument is: tcp://HOST:PORT[?unit=N] or rtu:///dev/ttyUSB0[?baud=115200&unit=N]."""

    kind: str
    host: str = ""
    port: int = 502
    device: str = ""
    baud: int = 115200
    unit: int = 1

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        u = urlparse(url)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        unknown = set(q) - {"unit", "baud"}
        if unknown:
            raise BenchError("instrument URL %r: unknown option(s) %s" % (url, ", ".join(sorted(unknown))))
        try:
            unit = int(q.get("unit", "1"))
            if u.scheme == "tcp" and u.hostname:
                return cls("tcp", host=u.hostname, port=u.port or 502, unit=unit)
            if u.scheme == "rtu" and u.path:
                return cls("rtu", device=u.path, baud=int(q.get("baud", "115200")), unit=unit)
        except ValueError as exc:
            raise BenchError("instrument URL %r: %s; expected %s" % (url, exc, _URL_FORMS)) from None
        raise BenchError("instrument URL %r: expected %s" % (url, _URL_FORMS))

    def __str__(self) -> str:
        if self.kind == "tcp":
            return "tcp://%s:%d?unit=%d" % (self.host, self.port, self.unit)
        return "rtu://%s?baud=%d&unit=%d" % (self.device, self.baud, self.unit)

    def client(self, timeout: float, retries: int) -> ModbusBaseSyncClient:
        if self.kind == "tcp":
            return ModbusTcpClient(self.host, port=self.port, timeout=timeout, retries=retries)
        return ModbusSerialClient(
            self.device, framer=FramerType.RTU, baudrate=self.baud, timeout=timeout, retries=retries
        )


class ModbusInstrument:
    """One instrument behind one Modbus unit id. Not thread-safe: one caller at a time.

    `timeout` bounds each attempt; pymodbus retries a request that got no answer `retries`
    times, and a dropped connection is re-opened up to `retries` times, so every call returns
    or raises within about (retries + 1) x (timeout + reconnect_delay).
    """

    regmap: RegisterMap

    def __init__(
        self,
        endpoint: Endpoint | str,
        *,
        name: str | None = None,
        regmap: RegisterMap | None = None,
        timeout: float = 1.0,
        retries: int = 2,
        reconnect_delay: float = 0.05,
    ) -> None:
        self.endpoint = endpoint if isinstance(endpoint, Endpoint) else Endpoint.parse(endpoint)
        if regmap is not None:
            self.regmap = regmap
        self.name = name or self.regmap.model
        self.timeout = timeout
        self.retries = retries
        self.reconnect_delay = reconnect_delay
        self.client = self.endpoint.client(timeout, retries)
        self.transactions = 0

    def close(self) -> None:
        self.client.close()

    def __enter__(self: T) -> T:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, what: str, request: Callable[[], ModbusPDU]) -> ModbusPDU:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = request()
                break
            except ModbusIOException as exc:
                # a late answer must not be taken for the next request's: start a fresh connection
                self.client.close()
                raise InstrumentTimeoutError(self.name, "%s: no response (%s)" % (what, exc)) from None
            except (ConnectionException, OSError) as exc:
                # OSError: pymodbus lets e.g. ECONNRESET from recv() through unwrapped
                self.client.close()
                if attempt > self.retries:
                    raise InstrumentUnreachableError(
                        self.name, "%s: cannot reach %s (%s)" % (what, self.endpoint, exc)
                    ) from None
                time.sleep(self.reconnect_delay)
            except ModbusException as exc:
                self.client.close()
                raise InstrumentError(self.name, "%s: %s" % (what, exc)) from None
        self.transactions += 1
        if isinstance(response, ExceptionResponse) or response.isError():
            code = getattr(response, "exception_code", 0)
            raise InstrumentRejectedError(
                self.name,
                "%s: exception response %d (%s)" % (what, code, EXCEPTION_NAMES.get(code, "unknown")),
                response.function_code,
                code,
            )
        return response

    def read_raw(self, address: int, count: int = 1) -> list[int]:
        unit = self.endpoint.unit
        rsp = self._call(
            "read %d..%d" % (address, address + count - 1),
            lambda: self.client.read_holding_registers(address, count=count, device_id=unit),
        )
        regs = list(rsp.registers)
        if len(regs) != count:
            raise InstrumentError(
                self.name, "read %d: asked %d registers, got %d" % (address, count, len(regs))
            )
        return regs

    def write_raw(self, address: int, values: Sequence[int]) -> None:
        unit = self.endpoint.unit
        vals = list(values)
        if len(vals) == 1:
            self._call(
                "write %d=%d" % (address, vals[0]),
                lambda: self.client.write_register(address, vals[0], device_id=unit),
            )
        else:
            self._call(
                "write %d..%d" % (address, address + len(vals) - 1),
                lambda: self.client.write_registers(address, vals, device_id=unit),
            )

    def read(self, *names: str) -> dict[str, int]:
        """Raw values of the named registers, in one transaction."""
        first, count = self.regmap.span(*names)
        regs = self.read_raw(first, count)
        return {n: regs[self.regmap[n].address - first] for n in names}

    def value(self, raw: dict[str, int], name: str) -> float:
        """Engineering value of a raw register (rounded: 700 mA reads 0.7, not 0.7000000000000001)."""
        return round(raw[name] * self.regmap[name].scale, 9)

    def _raw(self, name: str, value: float) -> int:
        reg = self.regmap[name]
        scaled = value / reg.scale
        raw = int(round(scaled)) if math.isfinite(scaled) else -1  # nan, inf: never a register value
        if not 0 <= raw <= 0xFFFF:
            raise SetpointError(
                self.name, "%s=%g %s does not fit a 16-bit register" % (name, value, reg.unit)
            )
        return raw

    def write(self, **values: float) -> None:
        """Write engineering values (V, A, 0/1) to consecutive registers, then read them back.

        The read-back catches an instrument that acknowledged but clamped or ignored the write.
        """
        regs = sorted((self.regmap[n] for n in values), key=lambda r: r.address)
        if [r.address for r in regs] != list(range(regs[0].address, regs[0].address + len(regs))):
            raise BenchError("%s: write() needs consecutive registers, got %s" % (self.name, list(values)))
        raw = [self._raw(r.name, values[r.name]) for r in regs]
        self.write_raw(regs[0].address, raw)
        back = self.read_raw(regs[0].address, len(regs))
        if back != raw:
            raise InstrumentError(
                self.name, "wrote %s=%s, read back %s" % ([r.name for r in regs], raw, back)
            )

    def identify(self) -> int:
        """Check that the instrument at the endpoint is the model this map describes."""
        model = self.read("MODEL")["MODEL"]
        if model != self.regmap.model_id:
            raise InstrumentError(
                self.name, "model id %d at %s, expected %d" % (model, self.endpoint, self.regmap.model_id)
            )
        return model


@dataclass(frozen=True)
class PsuReading:
    v_set: float
    i_set: float
    volts: float
    amps: float
    watts: float
    cc: bool
    output: bool


@dataclass(frozen=True)
class LoadReading:
    mode: int
    i_set: float
    input: bool
    volts: float
    amps: float
    watts: float


class PowerSupply(ModbusInstrument):
    regmap = PSU_MAP

    def set(self, volts: float, amps: float) -> None:
        """Voltage setpoint and current limit, written together (FC16) and verified."""
        self.write(V_SET=volts, I_SET=amps)

    def set_voltage(self, volts: float) -> None:
        self.write(V_SET=volts)

    def set_current_limit(self, amps: float) -> None:
        self.write(I_SET=amps)

    def output(self, on: bool) -> None:
        self.write(OUTPUT=1 if on else 0)

    def on(self) -> None:
        self.output(True)

    def off(self) -> None:
        self.output(False)

    def read_all(self) -> PsuReading:
        r = self.read("V_SET", "I_SET", "V_OUT", "I_OUT", "P_OUT", "CV_CC", "OUTPUT")
        return PsuReading(
            v_set=self.value(r, "V_SET"),
            i_set=self.value(r, "I_SET"),
            volts=self.value(r, "V_OUT"),
            amps=self.value(r, "I_OUT"),
            watts=self.value(r, "P_OUT"),
            cc=r["CV_CC"] == 1,
            output=r["OUTPUT"] == 1,
        )

    def output_state(self) -> tuple[bool, float]:
        """(output enabled, measured volts): what a powered target sees, in one transaction."""
        r = self.read("V_OUT", "OUTPUT")
        return r["OUTPUT"] == 1, self.value(r, "V_OUT")


class ElectronicLoad(ModbusInstrument):
    regmap = LOAD_MAP

    def set(self, amps: float) -> None:
        """Constant-current mode at `amps` (mode and setpoint in one verified write)."""
        self.write(MODE=MODE_CC, I_SET=amps)

    def input(self, on: bool) -> None:
        self.write(INPUT=1 if on else 0)

    def on(self) -> None:
        self.input(True)

    def off(self) -> None:
        self.input(False)

    def read_all(self) -> LoadReading:
        r = self.read("MODE", "I_SET", "INPUT", "V_IN", "I_IN", "P_IN")
        return LoadReading(
            mode=r["MODE"],
            i_set=self.value(r, "I_SET"),
            input=r["INPUT"] == 1,
            volts=self.value(r, "V_IN"),
            amps=self.value(r, "I_IN"),
            watts=self.value(r, "P_IN"),
        )
