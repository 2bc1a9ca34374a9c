"""One hardware-in-the-loop suite, three targets:

    pytest hil_tests                          # --target twin (default): flight software on CPython
    pytest hil_tests --target emulated        # the flight bundle deployed into real MicroPython (WebAssembly)
    pytest hil_tests --target serial --port /dev/ttyACM0 [--key-file k.hex] [--reset-cmd CMD]   # a board

Every test talks to the target the same way: an operator terminal (ground.terminal) sends
dictionary commands through COP-1 as CLTUs and reads CADUs back, over a pty or serial line.
Target-specific actions (reset, fault injection) are methods of `Target`; a test that needs one
the target cannot do is skipped with the reason. On a target whose state outlives the test (a
real board) every parameter a test changes is put back, and thrusters are disarmed, at teardown.
How to run it against a real board: README.md here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hil_target import EmulatedTarget, SequenceNumbers, SerialTarget, Target, TwinTarget


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop target")
    group.addoption("--target", default="twin", choices=("twin", "emulated", "serial"), help="what to test")
    group.addoption("--port", default=None, help="ground-link port of the board (--target serial)")
    group.addoption(
        "--key-file",
        default=None,
        help="SDLS key (hex) the board was provisioned with; the ground's anti-replay counter is kept "
        "in KEY_FILE.sn",
    )
    group.addoption(
        "--speed", type=float, default=1.0, help="mission seconds per wall second (--target serial)"
    )
    group.addoption(
        "--reset-cmd",
        default=None,
        help="shell command that resets the board, e.g. 'mpremote connect /dev/ttyACM1 reset' (serial)",
    )


@pytest.fixture(scope="session")
def sequence_numbers(request: pytest.FixtureRequest) -> SequenceNumbers:
    # only a real board outlives the run: its key file gets the counter file alongside
    key_file = request.config.getoption("--key-file")
    if request.config.getoption("--target") == "serial" and key_file:
        return SequenceNumbers(Path(key_file + ".sn"))
    return SequenceNumbers()


@pytest.fixture(scope="session")
def emulated_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from firmware_builds.build import build

    out = tmp_path_factory.mktemp("dist")
    build("emulated", out)
    return out / "emulated"


@pytest.fixture
def target(
    request: pytest.FixtureRequest, tmp_path: Path, sequence_numbers: SequenceNumbers
) -> Iterator[Target]:
    opt = request.config.getoption
    kind = opt("--target")
    if kind == "twin":
        t: Target = TwinTarget(tmp_path / "flash", sequence_numbers)
    elif kind == "emulated":
        t = EmulatedTarget(tmp_path / "flash", request.getfixturevalue("emulated_bundle"), sequence_numbers)
    else:
        port = opt("--port")
        if not port:
            pytest.skip("--target serial needs --port")
        key_file = opt("--key-file")
        key = bytes.fromhex(Path(key_file).read_text().strip()) if key_file else None
        t = SerialTarget(port, key, opt("--speed"), opt("--reset-cmd"), sequence_numbers)
    try:
        t.wait_link()
        yield t
        if t.persistent:
            t.wait_link()  # a reset in the test: wait for COP-1 to resynchronise first
            for undo in reversed(t.undo):
                undo()
    finally:
        t.close()
