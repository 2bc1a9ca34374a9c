"""PUS-15 packet stores: packets kept in flash in order, played back by time or sequence range,
a full store wraps or refuses, and a power cut at any byte loses no stored packet. Runs on
MicroPython too (the board's own interpreter)."""

import struct

from memfs import MemFs, PowerCut

from flight.dictionary import PLAYBACK_DEST
from flight.packet_store import PacketStore
from protocols.crc import crc16
from protocols.pus import pack_tm


def _tm(i, t):
    """A housekeeping TM packet like the board's, numbered i in its data, made at onboard time t."""
    return bytes(
        pack_tm(3, 25, struct.pack(">BI", 1, i), 0x10, i & 0x3FFF, i & 0xFFFF, 0, struct.pack(">IH", t, 0))
    )


PER = 200 // 38  # records per 200-byte segment: 8 framing + 4 sequence + a 26-byte packet


def _store(fs, wrap=True, full=None):
    return PacketStore(
        fs, 1, 4, 200, wrap, (lambda sid, lost: full.append((sid, lost))) if full is not None else None
    )


def _fill(st, first, n):
    for i in range(first, first + n):
        st.add(_tm(i, 1000 + i), 1000 + i)


def _dump(st, lo, hi, by_time=True):
    st.start_dump(lo, hi, by_time)
    out = []
    while True:
        p = st.next_playback()
        if p is None:
            return out
        out.append(p)


def _number(pkt):
    return struct.unpack_from(">I", pkt, 6 + 7 + 6 + 1)[0]


def test_packets_come_back_in_order_marked_as_playback_with_a_valid_crc():
    st = _store(MemFs())
    _fill(st, 0, 5)
    got = _dump(st, 0, 0xFFFFFFFF)
    assert [_number(p) for p in got] == [0, 1, 2, 3, 4]
    for i, p in enumerate(got):
        orig = _tm(i, 1000 + i)
        assert struct.unpack_from(">H", p, 11)[0] == PLAYBACK_DEST + 1
        assert p[:11] == orig[:11] and p[13:-2] == orig[13:-2]  # only the destination and CRC differ
        assert (p[-2] << 8 | p[-1]) == crc16(bytes(p[:-2]))
    assert st.dump[5] == 5


def test_time_and_sequence_ranges_select_exactly_their_packets():
    st = _store(MemFs())
    _fill(st, 0, 12)  # three segments
    assert [_number(p) for p in _dump(st, 1003, 1007)] == [3, 4, 5, 6, 7]
    assert [_number(p) for p in _dump(st, 9, 11, by_time=False)] == [9, 10, 11]
    assert _dump(st, 2000, 3000) == []  # an empty range ends at once
    assert _dump(st, 500, 900) == []


def test_a_reboot_finds_every_packet_and_continues_the_numbering():
    fs = MemFs()
    _fill(_store(fs), 0, 9)
    st = _store(fs)
    assert st.next_seq == 9 and st.packets() == 9 and st.last_t == 1008
    _fill(st, 9, 3)
    assert [_number(p) for p in _dump(_store(fs), 0, 0xFFFFFFFF)] == list(range(12))


def test_a_full_wrapping_store_overwrites_its_oldest_segment_and_says_how_many_went():
    full = []
    st = _store(MemFs(), full=full)
    _fill(st, 0, 30)  # 4 segments hold 4 * PER
    got = [_number(p) for p in _dump(st, 0, 0xFFFFFFFF)]
    assert got == list(range(30 - len(got), 30)) and 3 * PER < len(got) <= 4 * PER
    assert st.overwritten == 30 - len(got) == sum(lost for _sid, lost in full)
    assert all(sid == 1 and lost > 0 for sid, lost in full)


def test_a_full_stopping_store_refuses_new_packets_keeps_the_old_and_reports_once():
    full = []
    st = _store(MemFs(), wrap=False, full=full)
    _fill(st, 0, 30)
    got = [_number(p) for p in _dump(st, 0, 0xFFFFFFFF)]
    assert got == list(range(len(got))) and st.refused == 30 - len(got)
    assert full == [(1, 0)]
    assert st.delete_to(1004) > 0  # room again: the next packet is kept
    _fill(st, 100, 1)
    assert [_number(p) for p in _dump(st, 0, 0xFFFFFFFF)][-1] == 100


def test_delete_up_to_a_time_keeps_every_later_packet():
    st = _store(MemFs())
    _fill(st, 0, 14)
    gone = st.delete_to(1006)
    left = [_number(p) for p in _dump(st, 0, 0xFFFFFFFF)]
    assert left[0] <= 7 and left == list(range(left[0], 14)) and gone == left[0]
    assert st.delete_to(0) == 0


def test_a_power_cut_at_any_byte_of_any_write_loses_no_stored_packet():
    base = MemFs()
    _fill(_store(base), 0, 4 * PER)  # full: the next packet overwrites the oldest segment
    k = 0
    while True:
        fs = base.clone()
        fs.budget = k
        try:
            _fill(_store(fs), 4 * PER, 3)
            done = True
        except PowerCut:
            done = False
        fs.budget = None
        got = [_number(p) for p in _dump(_store(fs), 0, 0xFFFFFFFF)]
        # the segment overwritten on purpose went; of the rest, nothing was lost or garbled
        assert got == list(range(got[0], got[-1] + 1)), (k, got)
        assert got[-1] >= 4 * PER - 1 and got[0] <= PER, (k, got)
        st = _store(fs)
        _fill(st, 50, 1)  # and the store goes on after the reboot
        assert [_number(p) for p in _dump(st, 0, 0xFFFFFFFF)][-1] == 50
        if done:
            break
        k += 1
    assert k > 100  # every byte of three records and the segment switch was cut


def test_a_dump_cut_by_a_reset_leaves_the_store_as_it_was():
    fs = MemFs()
    st = _store(fs)
    _fill(st, 0, 10)
    st.start_dump(0, 0xFFFFFFFF, True)
    first = [_number(st.next_playback()) for _ in range(4)]
    assert first == [0, 1, 2, 3]
    again = _store(fs)  # the reset: no playback state survives, every packet does
    assert again.dump is None and [_number(p) for p in _dump(again, 0, 0xFFFFFFFF)] == list(range(10))
    assert [_number(p) for p in _dump(again, 4, 9, by_time=False)] == [4, 5, 6, 7, 8, 9]  # resume


def test_garbage_in_a_segment_is_skipped_and_storing_goes_on_after_it():
    fs = MemFs()
    st = _store(fs)
    _fill(st, 0, 2)
    fs.files["ps1.0"] += b"\xa5\x5a\x00\x30 torn"  # a record cut short
    st = _store(fs)
    _fill(st, 2, 2)
    assert [_number(p) for p in _dump(_store(fs), 0, 0xFFFFFFFF)] == [0, 1, 2, 3]


def test_a_failing_filesystem_counts_the_loss_and_raises_nothing():
    class FullFs(MemFs):
        def append(self, name, data):
            raise OSError(28)  # ENOSPC

    st = _store(FullFs())
    _fill(st, 0, 3)
    assert st.errors == 3 and st.packets() == 0


def test_a_filesystem_that_fills_before_the_store_makes_it_wrap_early():
    class SmallFs(MemFs):
        def append(self, name, data):
            if sum(len(b) for b in self.files.values()) + len(data) > 2 * 200:
                raise OSError(28)  # ENOSPC: room for two of the store's four segments
            MemFs.append(self, name, data)

    full = []
    st = _store(SmallFs(), full=full)
    _fill(st, 0, 20)
    got = [_number(p) for p in _dump(st, 0, 0xFFFFFFFF)]
    assert got == list(range(20 - len(got), 20)) and PER <= len(got) <= 2 * PER  # the newest kept
    assert st.errors == 0 and st.overwritten == 20 - len(got) == sum(lost for _s, lost in full)


def _recorder(said):
    def report(name, *aux):  # events.report; no tuple star-unpacking on MicroPython
        rec = [name]
        rec.extend(aux)
        said.append(tuple(rec))

    return report


class _App:
    def emit(self, service, subtype, data, downlink=True):
        pass


def test_a_reset_in_the_middle_of_a_playback_is_reported_once_at_the_next_boot():
    from flight.packet_store import PacketStoreService

    fs = MemFs()
    said = []
    svc = PacketStoreService(fs, _recorder(said))
    svc.app = _App()
    for i in range(5):
        svc.keep(3, _tm(i, 1000 + i))
    svc.tc_store_dump([1, 0, 2000, 1])
    queue = []
    svc.task(queue, 10)
    assert len(queue) == 1 and svc.playing is not None
    # the board resets here: a new service on the same flash finds the playback that never ended
    said.clear()
    svc = PacketStoreService(fs, _recorder(said))
    svc.boot()
    assert said == [("PLAYBACK_DONE", 1, 0, 3)]
    svc.boot()  # reported once
    assert said == [("PLAYBACK_DONE", 1, 0, 3)]
    assert svc.stores[1].packets() == 5  # nothing stored was lost
    # a playback that ends leaves nothing for a later boot to report
    svc.tc_store_dump([1, 0, 2000, 50])
    svc.task(queue, 100)
    svc.task(queue, 100)
    assert said[-1] == ("PLAYBACK_DONE", 1, 5, 0)
    said.clear()
    PacketStoreService(fs, _recorder(said)).boot()
    assert said == []
