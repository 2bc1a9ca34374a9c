"""Board detection and the real-board definitions, on CPython.

detect() maps each MicroPython port (and, on esp32 and pyboard, the MCU in os.uname().machine) to
its definition, gives the twin and the emulated boards the simulated board, and refuses hardware
it does not know instead of flying the simulator there. Every definition records its heap budget
with the source, and builds on its port's `machine` (tests/upy_board.py's fakes keep each port's
quirks: stm32 bus pins fixed by bus id, no machine.PWM on stock stm32 firmware, ESP32 SPI ids).
"""

from __future__ import annotations

import os
import sys
import types

import pytest
import upy_board

from hal import boards
from hal.boards import UnknownBoardError, board_for
from hal.errors import HalError

REAL = [n for n in boards.names() if not boards.definition(n).get("simulated")]

# (sys.platform, os.uname().machine) as stock firmware reports them -> definition
KNOWN = [
    ("rp2", "Raspberry Pi Pico with RP2040", "rp2040-flight"),
    ("rp2", "Raspberry Pi Pico W with RP2040", "rp2040-flight"),
    ("samd", "Adafruit Feather M4 Express with SAMD51J19A", "samd51-pycubed"),
    ("pyboard", "PYBv1.1 with STM32F405RG", "stm32f4-pyboard"),
    ("pyboard", "PYBv1.0 with STM32F405RG", "stm32f4-pyboard"),
    ("pyboard", "PYBLITEv1.0 with STM32F411RE", "stm32f4-pyboard"),
    ("pyboard", "PYBD-SF2W with STM32F722IEK", "stm32f7-pyboard"),
    ("pyboard", "PYBD-SF6W with STM32F767IIK", "stm32f7-pyboard"),
    ("esp32", "Generic ESP32 module with ESP32", "esp32-flight"),
    ("esp32", "ESP32 module (spiram) with ESP32", "esp32-flight"),
    ("esp32", "TinyPICO with ESP32-PICO-D4", "esp32-flight"),
    ("esp32", "ESP32C3 module with ESP32C3", "esp32c3-flight"),
    ("esp32", "LOLIN_C3_MINI with ESP32-C3FH4", "esp32c3-flight"),
]
# real hardware no definition describes: refused, naming what was seen
UNKNOWN = [
    ("nrf", "Arduino Nano 33 BLE Sense with NRF52840", "'nrf'"),
    ("mimxrt", "Teensy 4.1 with MIMXRT1062DVJ6A", "'mimxrt'"),
    ("esp8266", "ESP module with ESP8266", "'esp8266'"),
    ("esp32", "ESP32S3 module with ESP32S3", "ESP32S3"),
    ("esp32", "ESP32C6 module with ESP32C6", "ESP32C6"),
    ("esp32", "", "'esp32'"),
    ("pyboard", "NUCLEO-F767ZI with STM32F767", "NUCLEO-F767ZI"),
    ("pyboard", "PYBD-SF? with STM32H743", "STM32H743"),
]


@pytest.mark.parametrize(("platform", "machine", "board"), KNOWN)
def test_each_port_and_mcu_maps_to_its_board(platform: str, machine: str, board: str) -> None:
    assert board_for(platform, machine) == board


@pytest.mark.parametrize(("platform", "machine", "named"), UNKNOWN)
def test_unknown_hardware_is_refused_by_name(platform: str, machine: str, named: str) -> None:
    with pytest.raises(UnknownBoardError, match=r"no board definition for sys\.platform") as info:
        board_for(platform, machine)
    assert named in str(info.value)
    assert isinstance(info.value, HalError)


@pytest.mark.parametrize("platform", ["webassembly", "linux", "darwin"])
def test_emulated_boards_fly_the_simulated_board(platform: str) -> None:
    # the WebAssembly port (the emulated board) and the unix port (the `emulated` bundle's second
    # board) are MicroPython without flight hardware
    assert board_for(platform, "", "micropython") == "sim-twin"


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32", "rp2", "esp32"])
def test_cpython_is_the_twin_whatever_its_platform(platform: str) -> None:
    assert board_for(platform, "", "cpython") == "sim-twin"


def test_detect_on_this_interpreter_is_the_twin() -> None:
    assert boards.detect() == "sim-twin"


def _as_micropython(monkeypatch, platform: str, machine: str | None) -> None:
    impl = types.SimpleNamespace(name="micropython", _machine="fallback with ESP32C3")
    monkeypatch.setattr(sys, "implementation", impl)
    monkeypatch.setattr(sys, "platform", platform)
    if machine is None:
        monkeypatch.delattr(os, "uname", raising=False)
    else:
        monkeypatch.setattr(os, "uname", lambda: types.SimpleNamespace(machine=machine))


@pytest.mark.parametrize(("platform", "machine", "board"), KNOWN)
def test_detect_reads_sys_platform_and_os_uname(monkeypatch, platform: str, machine: str, board: str) -> None:
    _as_micropython(monkeypatch, platform, machine)
    name = boards.detect()
    monkeypatch.undo()
    assert name == board


def test_detect_falls_back_to_sys_implementation_machine_without_os_uname(monkeypatch) -> None:
    _as_micropython(monkeypatch, "esp32", None)
    name = boards.detect()
    monkeypatch.undo()
    assert name == "esp32c3-flight"


def test_detect_refuses_an_unknown_platform(monkeypatch) -> None:
    _as_micropython(monkeypatch, "nrf", "Arduino Nano 33 BLE Sense with NRF52840")
    with pytest.raises(UnknownBoardError) as info:
        boards.detect()
    monkeypatch.undo()
    assert "'nrf'" in str(info.value) and "sim-twin" in str(info.value)


def test_definitions_load_by_name_and_unknown_names_are_refused() -> None:
    assert set(REAL) == {
        "rp2040-flight",
        "samd51-pycubed",
        "stm32f4-pyboard",
        "stm32f7-pyboard",
        "esp32-flight",
        "esp32c3-flight",
    }
    for name in boards.names():
        assert boards.definition(name)["name"] == name
    with pytest.raises(KeyError, match="unknown board 'nrf52'; known: esp32-flight"):
        boards.definition("nrf52")


# the budgets of ../shared/BOARDS.md; ESP32-C3 from micropython issue #14293, STM32F7 the F4 floor
BUDGETS_KIB = {
    "rp2040-flight": 200,
    "samd51-pycubed": 160,
    "stm32f4-pyboard": 90,
    "stm32f7-pyboard": 90,
    "esp32-flight": 100,
    "esp32c3-flight": 110,
}


@pytest.mark.parametrize("name", REAL)
def test_each_definition_records_its_heap_budget_and_source(name: str) -> None:
    d = boards.definition(name)
    assert d["heap_budget"] == BUDGETS_KIB[name] * 1024
    assert "micropython" in d["heap_source"] and len(d["heap_source"]) > 40


@pytest.mark.parametrize("name", REAL)
def test_each_definition_is_complete(name: str) -> None:
    # chips and magnetorquers of every definition: tests/hal/portable/test_boards.py
    d = boards.definition(name)
    assert d["uart"][d["link_uart"]]["role"] == "ground-link"
    assert d["mpy_arch"] in ("armv6m", "armv7emsp", "armv7emdp", "xtensawin", "rv32imc")
    assert len(d.get("sun_adc", ())) in (0, 6)
    addresses = [a for bus in d["i2c"].values() for a in bus["devices"].values()]
    assert len(addresses) == len(set(addresses)) or len(d["i2c"]) > 1


def _pins(d: dict) -> list:
    pins = []
    for bus in d["i2c"].values():
        pins += [bus["scl"], bus["sda"]]
    for bus in d.get("spi", {}).values():
        pins += [bus["sck"], bus["mosi"], bus["miso"]]
        for dev in bus["devices"].values():
            pins += list(dev.values())
    for u in d["uart"].values():
        pins += [u["tx"], u["rx"]] + ([u["de"]] if "de" in u else [])
    pins += [p for p in d.get("sun_adc", ()) if p is not None]
    for m in d["magnetorquers"]:
        pins += [m["pwm"], m["dir"]]
    pins += list(d.get("burnwire", {}).values())
    return pins


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n,
            marks=pytest.mark.xfail(
                strict=True, reason="samd51-pycubed drives coil 3 on PA22/PA23, the ground-link UART's pins"
            ),
        )
        if n == "samd51-pycubed"
        else n
        for n in REAL
    ],
)
def test_no_pin_does_two_jobs(name: str) -> None:
    pins = _pins(boards.definition(name))
    assert sorted(p for p in set(pins) if pins.count(p) > 1) == []


def _port(name: str) -> str:
    return {"rp2040": "rp2", "samd51": "samd", "stm32f4": "pyboard", "stm32f7": "pyboard"}.get(
        name.split("-")[0], name.split("-")[0]
    )


@pytest.fixture
def port_machine(monkeypatch):
    def install(name: str):
        fake = upy_board.fake_machine(upy_board.PORTS[_port(name)])
        monkeypatch.setitem(sys.modules, "machine", fake)
        monkeypatch.delitem(sys.modules, "hal.boards.machine_board", raising=False)
        return fake

    return install


@pytest.mark.parametrize("name", REAL)
def test_every_bus_pin_coil_and_adc_builds_on_its_port(port_machine, name: str) -> None:
    fake = port_machine(name)
    d = boards.definition(name)
    board = boards.open_board(name)
    for bus_id in d["i2c"]:
        assert board.i2c(bus_id) is board.i2c(bus_id)
    for bus_id in d.get("spi", {}):
        board.spi(bus_id)
    for uart_id in d["uart"]:
        board.uart(uart_id)
    for m in d["magnetorquers"]:
        board.pwm(m["pwm"]).duty_u16(0)
        board.pin(m["dir"]).value(0)
    for pin in d.get("burnwire", {}).values():
        board.pin(pin, fake.Pin.IN if pin == d["burnwire"]["switch"] else None)
    for dev in [dev for bus in d.get("spi", {}).values() for dev in bus["devices"].values()]:
        board.pin(dev["cs"])
        board.pin(dev["reset"])
        board.pin(dev["dio0"], fake.Pin.IN)
    for pin in d.get("sun_adc", ()):
        if pin is not None:
            assert board.adc(pin).read_u16() == 0


@pytest.mark.parametrize("name", REAL)
def test_pins_the_board_reads_open_as_inputs(port_machine, name: str) -> None:
    # FlightApp opens the radio's DIO0 with board.pin(pin) and no mode: driving it would fight the
    # radio (and the ESP32's DIO0 is on input-only GPIO35); the burn wire's switch is read too
    fake = port_machine(name)
    d = boards.definition(name)
    board = boards.open_board(name)
    reads = [dev["dio0"] for bus in d.get("spi", {}).values() for dev in bus["devices"].values()]
    reads.append(d["burnwire"]["switch"])
    for pin in reads:
        assert board.pin(pin).mode == fake.Pin.IN
    assert board.pin(d["magnetorquers"][0]["dir"]).mode == fake.Pin.OUT


def test_stm32_buses_are_opened_by_id_alone(port_machine) -> None:
    # the stm32 port raises "explicit choice of scl/sda is not implemented" and its UART takes
    # no tx/rx: the pyboard definitions' pins are the wiring, the bus id selects them
    port_machine("stm32f4-pyboard")
    board = boards.open_board("stm32f4-pyboard")
    board.i2c(0), board.spi(0), board.uart(0), board.uart(1)
    d = dict(boards.definition("stm32f4-pyboard"), fixed_bus_pins=False)
    from hal.boards.machine_board import MachineBoard

    with pytest.raises(ValueError, match="explicit choice of scl/sda"):
        MachineBoard(d).i2c(0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'tx'"):
        MachineBoard(d).uart(0)


def test_coils_without_machine_pwm_are_driven_on_or_off(port_machine) -> None:
    fake = port_machine("stm32f4-pyboard")
    assert not hasattr(fake, "PWM")
    board = boards.open_board("stm32f4-pyboard")
    pwm = board.pwm("Y1")
    pwm.freq(20000)
    pwm.duty_u16(40000)
    assert pwm.pin.value() == 1 and pwm.duty_u16() == 40000 and pwm.freq() == 20000
    pwm.duty_u16(20000)
    assert pwm.pin.value() == 0
    pwm.duty_u16(65535)
    pwm.deinit()
    assert pwm.pin.value() == 0


def test_machine_system_gives_the_executive_the_board_clock(port_machine) -> None:
    port_machine("esp32-flight")
    system = boards.open_system("esp32-flight")
    assert system.cpu_us == system.clock.ticks_us
    a = system.cpu_us()
    assert isinstance(a, int) and 0 <= a < (1 << 30)
    assert system.watchdog.timeout == 5000 and system.reset_cause == 0
