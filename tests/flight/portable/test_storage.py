"""Power-loss safety: cut a write at every byte offset, reboot, and find the old or the new
state, never a corrupt or empty one. Runs on MicroPython too (the board's own interpreter)."""

from _check import raises
from memfs import MemFs, PowerCut

from flight.audit import AuditLog
from flight.params import ParamTable
from flight.schedule import Schedule
from flight.storage import RecordLog, SlotStore, StorageError, crc32, frame_record, scan_records


def _cut_everywhere(fs, action, max_units=400):
    """Yield (k, fs after a power cut k units into `action`) until the action completes uncut."""
    k = 0
    while k <= max_units:
        trial = fs.clone()
        trial.budget = k
        try:
            action(trial)
        except PowerCut:
            trial.budget = None
            yield k, trial
            k += 1
            continue
        trial.budget = None
        yield k, trial
        return
    raise AssertionError("action never completed within %d units" % max_units)


def test_crc32_matches_the_standard_check_value():
    assert crc32(b"123456789") & 0xFFFFFFFF == 0xCBF43926


def test_slot_store_survives_a_cut_at_every_byte():
    fs = MemFs()
    SlotStore(fs, "cfg").save(b"generation-1")
    SlotStore(fs, "cfg").load()
    s = SlotStore(fs, "cfg")
    s.load()
    s.save(b"generation-2 is longer")  # both slots now hold a record
    cuts = 0
    for _k, after in _cut_everywhere(fs, lambda f: _save(f, b"generation-3")):
        got = SlotStore(after, "cfg").load()
        assert got in (b"generation-2 is longer", b"generation-3"), got
        cuts += 1
    assert cuts > 20  # the record is 12 + 14 + 4 bytes: every offset was tried


def _save(fs, payload):
    s = SlotStore(fs, "cfg")
    s.load()
    s.save(payload)


def test_slot_store_first_save_cut_gives_nothing_not_garbage():
    for k, after in _cut_everywhere(MemFs(), lambda f: _save(f, b"first")):
        got = SlotStore(after, "cfg").load()
        assert got in (None, b"first"), (k, got)


def test_slot_store_detects_bit_rot_and_falls_back():
    fs = MemFs()
    _save(fs, b"old")
    _save(fs, b"new")
    s = SlotStore(fs, "cfg")
    assert s.load() == b"new"
    fs.files["cfg." + s.slot][12] ^= 0x01  # a flipped bit in the newest record
    s2 = SlotStore(fs, "cfg")
    assert s2.load() == b"old" and s2.torn == 1


def test_slot_store_refuses_oversized_and_unverified_writes():
    fs = MemFs()
    raises(StorageError, SlotStore(fs, "x", max_len=4).save, b"12345")

    class LyingFs(MemFs):
        def read(self, name):
            data = MemFs.read(self, name)
            return data[:-1] + b"\x00" if data else data

    raises(StorageError, SlotStore(LyingFs(), "x").save, b"abc")


def test_record_log_keeps_every_committed_record_through_a_cut_append():
    fs = MemFs()
    log = RecordLog(fs, "ev", segment_bytes=100)
    for i in range(6):
        log.append(b"record %d" % i)  # 18 bytes each: rotates once
    before = RecordLog(fs, "ev").records()
    assert before[-1] == b"record 5" and len(before) >= 5
    for _k, after in _cut_everywhere(fs, lambda f: RecordLog(f, "ev", 100).append(b"record 6")):
        got = RecordLog(after, "ev").records()
        assert got == before or got == before + [b"record 6"] or got == before[-len(got) :], got  # noqa: RUF005
        assert b"record 5" in got  # the newest committed record always survives
        # and the log goes on after the reboot: the torn bytes are skipped, not fatal
        RecordLog(after, "ev", 100).append(b"after")
        assert RecordLog(after, "ev").records()[-1] == b"after"


def test_scan_records_skips_garbage_and_rejects_bad_crc():
    a = frame_record(b"alpha")
    b = bytearray(frame_record(b"beta"))
    b[5] ^= 0xFF
    recs, skipped = scan_records(b"\xa5\x5a\xff" + a + bytes(b) + frame_record(b"gamma")[:-1])
    assert recs == [b"alpha"] and skipped > 0
    raises(StorageError, frame_record, bytes(5000))


def test_parameters_survive_a_cut_set():
    fs = MemFs()
    ParamTable(fs).set(11, 120.0)

    def change(f):
        ParamTable(f).set(11, 300.0)

    for _k, after in _cut_everywhere(fs, change, 2000):
        v = ParamTable(after).get(11)
        assert v in (120.0, 300.0), v


def test_schedule_survives_a_cut_insert():
    fs = MemFs()
    Schedule(fs).insert(100, b"\x18\x10\xc0\x01tc-one", 0)

    def add(f):
        Schedule(f).insert(200, b"\x18\x10\xc0\x02tc-two", 0)

    for _k, after in _cut_everywhere(fs, add, 2000):
        entries = [(e[0], e[3]) for e in Schedule(after).entries]
        assert entries in (
            [(100, b"\x18\x10\xc0\x01tc-one")],
            [(100, b"\x18\x10\xc0\x01tc-one"), (200, b"\x18\x10\xc0\x02tc-two")],
        )


def test_audit_chain_resumes_after_a_cut_append():
    fs = MemFs()
    a = AuditLog(fs)
    for i in range(3):
        a.append(i, 1, "cmd %d" % i)
    for _k, after in _cut_everywhere(fs, lambda f: AuditLog(f).append(9, 1, "cut here")):
        b = AuditLog(after)
        assert b.seq in (3, 4)
        b.append(10, 1, "next")
        from flight.audit import verify

        ok, _i, why = verify(b.records(), anchor=bytes(16))
        assert ok, why


def test_host_fs_write_replaces_content_of_any_length():
    import os

    from flight.storage import HostFs

    # relative: the working folder is writable on every interpreter and board; a name of this run's
    # own, as runs share it (pytest-xdist workers, test_micropython.py's runners, other runs in the tree)
    try:
        tag = "%08x" % int.from_bytes(os.urandom(4), "big")
    except (AttributeError, NotImplementedError, OSError):  # a port without urandom: one run per board
        tag = "0"
    root = "hostfs-test-%s.tmp" % tag
    fs = HostFs(root)
    for data in (b"abcdef", b"ghijkl", b"mn", b"", b"opqrstuv"):  # same length: in place; else new
        fs.write("x", data)
        assert fs.read("x") == data
    fs.remove("x")
    s = SlotStore(fs, "k")
    for i in range(4):
        s.save(bytes([i]) * 8)
        assert SlotStore(fs, "k").load() == bytes([i]) * 8
    fs.remove("k.a")
    fs.remove("k.b")
    os.rmdir(root)
