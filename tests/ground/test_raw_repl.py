"""Entering the raw REPL of a board whose app keeps printing: a lost Ctrl-C is retried, and a board
that never answers ends in one clear error within the deadline instead of a hang."""

from __future__ import annotations

import os
import pty
import select
import threading
import time
import tty
from collections.abc import Iterator

import pytest
import serial
from mpremote.transport_serial import SerialTransport

from board_tools.flash import deploy_session
from board_tools.flash.deploy import BoardError, status
from board_tools.flash.raw_repl import RawReplTimeoutError, enter_raw_repl

PROMPT = b"raw REPL; CTRL-B to exit\r\n>"


class ChattyBoard:
    """A pty 'board' printing a heartbeat every 20 ms. It ignores the first `deaf` Ctrl-Cs (lost in a
    reboot), then stops its app and answers the raw-REPL handshake as MicroPython does; deaf=None
    never answers."""

    def __init__(self, deaf: int | None) -> None:
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self.deaf = deaf
        self.ctrl_c = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        app_running, n, next_beat = True, 0, time.monotonic()
        while not self._stop.is_set():
            if app_running and time.monotonic() >= next_beat:
                n += 1
                os.write(self.master, b"heartbeat %d\r\n" % n)
                next_beat += 0.02
            r, _, _ = select.select([self.master], [], [], 0.005)
            if not r:
                continue
            try:
                data = os.read(self.master, 256)
            except OSError:
                return
            for b in data:
                if b == 0x03:
                    self.ctrl_c += 1
                    if self.deaf is not None and self.ctrl_c > self.deaf:
                        app_running = False
                elif app_running:
                    continue  # the app owns the console: bytes go nowhere
                elif b == 0x01:
                    os.write(self.master, PROMPT)
                elif b == 0x04:
                    os.write(self.master, b"OK\x04\x04>soft reboot\r\n" + PROMPT)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def chatty(request: pytest.FixtureRequest) -> Iterator[ChattyBoard]:
    board = ChattyBoard(request.param)
    try:
        yield board
    finally:
        board.close()


@pytest.mark.parametrize("chatty", [2], indirect=True)
def test_a_lost_ctrl_c_is_sent_again_until_the_prompt(chatty: ChattyBoard) -> None:
    t = SerialTransport(chatty.port, baudrate=115200, timeout=1)
    try:
        enter_raw_repl(t, attempt_s=0.5, total_s=30)
        assert t.in_raw_repl
        assert chatty.ctrl_c == 3  # two lost, the third stopped the app
        assert isinstance(t.serial, serial.Serial)  # the real port is back in place
    finally:
        t.close()


@pytest.mark.parametrize("chatty", [None], indirect=True)
def test_a_board_that_never_stops_printing_is_a_clear_error_not_a_hang(chatty: ChattyBoard) -> None:
    t = SerialTransport(chatty.port, baudrate=115200, timeout=1)
    try:
        t0 = time.monotonic()
        with pytest.raises(RawReplTimeoutError) as info:
            enter_raw_repl(t, attempt_s=0.5, total_s=2)
        assert time.monotonic() - t0 < 2 + 5  # bounded although bytes never stop (it used to hang)
        assert "kept printing" in str(info.value) and "never showed the raw REPL prompt" in str(info.value)
        assert chatty.ctrl_c >= 3
    finally:
        t.close()


@pytest.mark.parametrize("chatty", [None], indirect=True)
def test_status_on_a_board_that_never_stops_printing_raises_board_error(
    chatty: ChattyBoard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy_session, "ATTEMPT_S", 0.5)
    monkeypatch.setattr(deploy_session, "TOTAL_S", 2.0)
    with pytest.raises(BoardError) as info:
        status(chatty.port)
    assert str(info.value).startswith("no raw REPL on %s: " % chatty.port)
    assert "kept printing" in str(info.value)


def test_a_silent_board_says_so() -> None:
    master, slave = pty.openpty()
    tty.setraw(slave)
    t = SerialTransport(os.ttyname(slave), baudrate=115200, timeout=0.2)
    try:
        with pytest.raises(RawReplTimeoutError, match="stayed silent"):
            enter_raw_repl(t, attempt_s=0.5, total_s=1)
    finally:
        t.close()
        os.close(master)
        os.close(slave)
