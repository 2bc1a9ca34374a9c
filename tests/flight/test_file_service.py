"""The onboard file service (flight/file_service.py) on the twin, with the ground's CFDP entity
(ground/file_transfer.py) at the other end of the real link: uplink and downlink, refusals, a
lossy channel, a power cut in the middle of an uplink, cancel."""

from __future__ import annotations

import hashlib
import os
import random
import sys
from pathlib import Path

import pytest
from twin_rig import Rig

import flight.file_service as file_service
from flight.audit import unpack
from flight.dictionary import CFDP_APID
from ground.file_transfer import FileTransfers
from ground.twin_ground import flip_bits
from protocols.cfdp_directives import CANCEL_REQUEST_RECEIVED, FILESTORE_REJECTION, NO_ERROR


def fly(rig: Rig, ft: FileTransfers, done, max_s: float, uplink=None) -> bool:
    for _ in range(int(max_s * 10)):
        if done():
            return True
        rig.run(0.1, uplink)
        ft.poll(rig.ms)
    return done()


def board_root(rig: Rig) -> Path:
    """The board's boot directory: the flash folder, files/ and the A/B slots."""
    return Path(rig.app.fs.root).parent


def received(rig: Rig) -> list[dict]:
    """The board's audit records of incoming transactions: "cfdp <seq> <name> <size> B condition <c>"."""
    out = []
    for payload in rig.app.audit.records():
        text = unpack(payload)[4]
        if text.startswith("cfdp "):
            _, seq, name, size, _b, _c, cond = text.split()
            out.append({"transaction": int(seq), "name": name, "size": int(size), "condition": int(cond)})
    return out


def events(rig: Rig, name: str) -> list[dict]:
    return [aux for _t, n, aux in rig.term.events if n == name]


@pytest.fixture
def link(tmp_path: Path) -> tuple[Rig, FileTransfers]:
    (tmp_path / "board").mkdir()
    rig = Rig(tmp_path / "board" / "flash")
    ft = FileTransfers(rig.term, downloads=tmp_path / "down")
    rig.run(3.0)
    return rig, ft


def test_a_file_goes_up_into_the_board_filesystem_and_comes_back_down(link, tmp_path: Path) -> None:
    rig, ft = link
    data = random.Random(1).randbytes(30_000)
    (tmp_path / "exp.cfg").write_bytes(data)
    t = ft.put(tmp_path / "exp.cfg", "files/exp.cfg", rig.ms)
    assert fly(rig, ft, lambda: t.done, 120)
    assert t.ok and t.condition == NO_ERROR
    root = Path(board_root(rig))
    assert (root / "files/exp.cfg").read_bytes() == data
    assert fly(rig, ft, lambda: received(rig), 30)  # once the board has the Finished's ACK
    assert received(rig) == [{"transaction": t.seq, "name": "files/exp.cfg", "size": 30_000, "condition": 0}]
    assert not any(p.name.endswith(".part") for p in root.rglob("*"))
    assert fly(rig, ft, lambda: rig.app.files is None, 5)  # idle: the service is let go

    # and down again, by command; the file arrives under its board name in the ground's folder
    assert rig.send("file_downlink", {"name": "files/exp.cfg"}) == [1, 3, 7]
    assert fly(rig, ft, lambda: any(x.direction == "down" and x.done for x in ft.finished), 120)
    down = [x for x in ft.finished if x.direction == "down"][-1]
    assert down.ok and down.remote == "files/exp.cfg", down.progress(rig.ms)
    assert (
        hashlib.sha256((tmp_path / "down/files/exp.cfg").read_bytes()).digest()
        == hashlib.sha256(data).digest()
    )
    progress = down.progress(rig.ms)
    assert progress["bytes"] == progress["size"] == 30_000 and progress["state"] == "done"


def test_downlink_data_waits_while_the_tm_queue_is_half_full(link) -> None:
    rig, _ft = link
    root = Path(board_root(rig))
    (root / "files").mkdir(exist_ok=True)
    (root / "files/log.bin").write_bytes(bytes(5000))
    assert rig.send("file_downlink", {"name": "files/log.bin"}) == [1, 3, 7]
    board = rig.app.files
    queue = rig.app.tm_queue
    filler = [b"x" * 10] * (board.queue_max // 2 - len(queue))
    queue.extend(filler)
    before = board.tx.progress
    board.task()
    board.task()
    assert board.tx.progress == before  # no File Data while the queue is half full
    del queue[-len(filler) :]
    board.task()
    assert board.tx.progress > before


@pytest.mark.parametrize(
    ("remote", "reason", "patch"),
    [
        ("../boot_state.json", 1, None),
        ("lib/evil.py", 1, None),
        ("files/big.bin", 2, ("MAX_FILE", 4096)),
        ("files/full.bin", 3, ("free_bytes", lambda path: 70_000)),
    ],
)
def test_refused_uplinks_end_with_filestore_rejection_and_leave_nothing(
    link, tmp_path: Path, monkeypatch, remote, reason, patch
) -> None:
    rig, ft = link
    if patch:
        monkeypatch.setattr(file_service, patch[0], patch[1])
    (tmp_path / "f.bin").write_bytes(bytes(8000))
    t = ft.put(tmp_path / "f.bin", remote, rig.ms)
    assert fly(rig, ft, lambda: t.done, 60)
    assert t.condition == FILESTORE_REJECTION and not t.ok
    assert fly(rig, ft, lambda: events(rig, "FILE_REFUSED"), 30)
    refused = events(rig, "FILE_REFUSED")
    assert refused and refused[-1]["reason"] == reason and refused[-1]["condition"] == FILESTORE_REJECTION
    root = Path(board_root(rig))
    assert not (root / "boot_state.json").exists() and not (root / "lib").exists()
    assert not any(p.suffix in (".bin", ".part") for p in root.rglob("*"))
    # the service is free again: the next file goes through
    (tmp_path / "ok.bin").write_bytes(b"ok")
    monkeypatch.undo()
    t2 = ft.put(tmp_path / "ok.bin", "files/ok.bin", rig.ms)
    assert fly(rig, ft, lambda: t2.done, 60) and t2.ok


def test_an_uplink_survives_a_lossy_link(link, tmp_path: Path) -> None:
    rig, ft = link
    rnd = random.Random(7)

    def channel(up: bytes) -> bytes:  # 10% of uplink chunks lost, the rest at BER 1e-4
        return b"" if rnd.random() < 0.1 else flip_bits(up, 1e-4, rnd)

    data = os.urandom(20_000)
    (tmp_path / "a.bin").write_bytes(data)
    t = ft.put(tmp_path / "a.bin", "files/a.bin", rig.ms)
    assert fly(rig, ft, lambda: t.done, 300, uplink=channel)
    assert t.ok, t.progress(rig.ms)
    assert Path(board_root(rig), "files/a.bin").read_bytes() == data


def test_a_power_cut_mid_uplink_resumes_from_the_checkpoint(link, tmp_path: Path) -> None:
    rig, ft = link
    data = os.urandom(60_000)
    (tmp_path / "big.bin").write_bytes(data)
    t = ft.put(tmp_path / "big.bin", "files/big.bin", rig.ms)
    assert fly(rig, ft, lambda: t.bytes_done() > 30_000, 120)
    flash = Path(board_root(rig), "flash")
    assert (flash / "cfdp.a").exists()  # the transaction's checkpoint
    rig.twin.power_cycle()
    assert rig.app.files is not None and rig.app.files.rx is not None  # resumed at boot
    rig.term.start(rig.ms)  # a new FARM after the reboot: COP-1 resynchronises
    assert fly(rig, ft, lambda: t.done, 300)
    assert t.ok, t.progress(rig.ms)
    assert Path(board_root(rig), "files/big.bin").read_bytes() == data
    assert t.resent() > 0  # what the board lost with the power went again
    assert fly(rig, ft, lambda: rig.app.files is None, 5)
    assert not (flash / "cfdp.a").exists() and not (flash / "cfdp.b").exists()
    assert fly(rig, ft, lambda: received(rig), 30)
    assert received(rig)[-1]["condition"] == 0


def test_a_power_cut_mid_downlink_goes_on_from_the_checkpoint(link, tmp_path: Path) -> None:
    rig, ft = link
    data = os.urandom(80_000)
    (board_root(rig) / "files").mkdir(exist_ok=True)
    (board_root(rig) / "files" / "log.bin").write_bytes(data)
    assert rig.send("file_downlink", {"name": "files/log.bin"}) == [1, 3, 7]
    downs = lambda: [x for x in list(ft.active.values()) + ft.finished if x.direction == "down"]  # noqa: E731
    assert fly(rig, ft, lambda: downs() and downs()[0].bytes_done() > 40_000, 300)
    flash = Path(board_root(rig), "flash")
    assert (flash / "cfdp.a").exists() or (flash / "cfdp.b").exists()  # the downlink's checkpoint
    sent = rig.app.files.tx.progress
    rig.twin.power_cycle()
    tx = rig.app.files.tx  # resumed at boot, the same transaction, from its checkpoint
    assert tx is not None and tx.seq == downs()[0].seq and 0 < tx.progress <= sent
    rig.term.start(rig.ms)
    assert fly(rig, ft, lambda: downs()[0].done, 300)
    down = downs()[0]
    assert down.ok and len(downs()) == 1, down.progress(rig.ms)  # one transaction, carried over
    assert (tmp_path / "down" / "files" / "log.bin").read_bytes() == data
    assert fly(rig, ft, lambda: rig.app.files is None, 10)
    assert not (flash / "cfdp.a").exists() and not (flash / "cfdp.b").exists()


def test_the_ground_cancels_an_uplink_and_a_downlink(link, tmp_path: Path) -> None:
    rig, ft = link
    (tmp_path / "c.bin").write_bytes(os.urandom(200_000))
    t = ft.put(tmp_path / "c.bin", "files/c.bin", rig.ms)
    assert fly(rig, ft, lambda: t.bytes_done() > 5000, 60)
    ft.cancel(t, rig.ms)  # EOF (cancel): the board drops the transaction and its part file
    assert t.condition == CANCEL_REQUEST_RECEIVED
    assert fly(rig, ft, lambda: received(rig), 30)
    assert received(rig)[-1]["condition"] == CANCEL_REQUEST_RECEIVED
    assert not any(p.suffix in (".bin", ".part") for p in board_root(rig).rglob("*"))

    (board_root(rig) / "files").mkdir(exist_ok=True)
    (board_root(rig) / "files/d.bin").write_bytes(os.urandom(200_000))
    assert rig.send("file_downlink", {"name": "files/d.bin"}) == [1, 3, 7]
    assert fly(
        rig, ft, lambda: any(x.direction == "down" and x.bytes_done() > 5000 for x in ft.active.values()), 60
    )
    down = next(x for x in ft.active.values() if x.direction == "down")
    ft.cancel(down, rig.ms)  # Finished (cancel): the board's sender ends and acknowledges it
    assert fly(rig, ft, lambda: down.done, 30)
    assert down.condition == CANCEL_REQUEST_RECEIVED
    assert fly(rig, ft, lambda: rig.app.files is None, 30)  # no transaction left onboard
    assert rig.send("file_downlink", {"name": "files/d.bin"}) == [1, 3, 7]  # free for the next


def test_bad_pdus_are_counted_and_the_flight_goes_on(link) -> None:
    rig, _ft = link
    hdr = bytes([0x10 | CFDP_APID >> 8, CFDP_APID & 0xFF, 0xC0, 0, 0, 3])
    for junk in (b"\x00\x01\x02\x03", os.urandom(40), bytes(30)):
        rig.app._deliver(hdr + junk, "link", 2)
    board = rig.app.files
    assert board.bad_pdus == 3 and board.rx is None
    assert rig.send("ping") == [1, 3, 7]


def test_a_slot_takes_files_from_the_admin_key_only_and_never_the_running_slot(
    tmp_path: Path, monkeypatch
) -> None:
    import types

    (tmp_path / "board").mkdir()
    monkeypatch.setitem(sys.modules, "boot_select", types.SimpleNamespace(read_state=lambda: {"active": "a"}))
    rig = Rig(tmp_path / "board" / "flash", key=bytes(range(32)), admin_key=bytes(range(32, 64)))
    ft = FileTransfers(rig.term, downloads=tmp_path / "down")  # the terminal holds the operators' key
    rig.run(3.0)
    (tmp_path / "m.mpy").write_bytes(b"M" * 300)
    reasons = []
    for remote in ("slot_b/flight/m.mpy", "slot_a/flight/m.mpy", "files/m.mpy"):
        t = ft.put(tmp_path / "m.mpy", remote, rig.ms)
        assert fly(rig, ft, lambda t=t: t.done, 60)
        if remote.startswith("slot"):
            assert t.condition == FILESTORE_REJECTION
            seen = len(reasons)
            assert fly(rig, ft, lambda seen=seen: len(events(rig, "FILE_REFUSED")) > seen, 30)
            reasons.append(events(rig, "FILE_REFUSED")[-1]["reason"])
        else:
            assert t.ok  # the operators' own folder
    assert reasons == [file_service.NOT_AUTHORISED, file_service.OUTSIDE]  # inactive slot, running slot
    assert not (tmp_path / "board" / "slot_b").exists() and not (tmp_path / "board" / "slot_a").exists()


def test_the_slot_check_lets_the_boot_selector_go_again(tmp_path: Path, monkeypatch) -> None:
    """On a board, main.py drops boot_select before the app runs: the slot check of a slot uplink
    imports it again (it finds the running slot from sys.path) and lets it go, so a transfer does
    not keep it on the heap."""
    import json
    import shutil

    shutil.copyfile(
        Path(__file__).resolve().parents[2] / "firmware_builds" / "boot_select.py",
        tmp_path / "boot_select.py",
    )
    (tmp_path / "boot_state.json").write_text(json.dumps({"active": "a", "pending": None}))
    monkeypatch.delitem(sys.modules, "boot_select", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path / "slot_a"))  # where boot_select.start() put the slot
    assert file_service.FileService._inactive_slot(None) == "b"
    assert "boot_select" not in sys.modules


def test_boot_looks_for_the_checkpoint_store_the_service_writes() -> None:
    # flight/assembly.py spells the store's name out (importing it would load the service)
    assembly = (Path(file_service.__file__).parent / "assembly.py").read_text()
    assert 'fs.size("%s.a") or fs.size("%s.b")' % (file_service.KEPT, file_service.KEPT) in assembly


def test_a_board_short_of_heap_refuses_a_transfer_once_and_flies_on(
    link, tmp_path: Path, monkeypatch
) -> None:
    import gc

    # the gate itself: CFDP not loaded, and the free heap against CFDP_HEAP
    monkeypatch.delitem(sys.modules, "protocols.cfdp_lean", raising=False)
    monkeypatch.setattr(gc, "mem_free", lambda: file_service.CFDP_HEAP - 1, raising=False)
    assert file_service.heap_short()
    monkeypatch.setattr(gc, "mem_free", lambda: file_service.CFDP_HEAP, raising=False)
    assert not file_service.heap_short()
    monkeypatch.undo()

    rig, ft = link
    monkeypatch.setattr(file_service, "heap_short", lambda: True)
    (tmp_path / "f.bin").write_bytes(bytes(3000))
    t = ft.put(tmp_path / "f.bin", "files/f.bin", rig.ms)
    assert fly(rig, ft, lambda: events(rig, "FILE_REFUSED"), 30)
    rig.run(5.0)  # the sender keeps trying: one refusal per transaction
    refused = events(rig, "FILE_REFUSED")
    assert [(r["reason"], r["condition"]) for r in refused] == [(file_service.NO_MEMORY, FILESTORE_REJECTION)]
    assert not t.ok and not (board_root(rig) / "files" / "f.bin").exists()
    assert rig.send("ping") == [1, 3, 7]  # the flight goes on


def test_a_downlink_keeps_at_most_two_segments_in_a_queue_that_does_not_drain(link) -> None:
    rig, _ft = link
    root = Path(board_root(rig))
    (root / "files").mkdir(exist_ok=True)
    (root / "files/big.bin").write_bytes(bytes(60_000))
    assert rig.send("file_downlink", {"name": "files/big.bin"}) == [1, 3, 7]
    board = rig.app.files
    queue = rig.app.tm_queue
    for _ in range(20):  # the radio down: the task runs, nothing leaves the queue
        board.task()
    cfdp = [p for p in queue if (p[0] & 7) << 8 | p[1] == CFDP_APID]
    assert 1 <= len(cfdp) <= file_service.IN_QUEUE + 1  # the Metadata, then at most IN_QUEUE segments
    assert board.tx.progress <= file_service.IN_QUEUE * file_service.SEGMENT
    queue.clear()  # the radio back: the file goes on
    board.task()
    assert board.tx.progress > file_service.IN_QUEUE * file_service.SEGMENT or board.tx.progress == 60_000
