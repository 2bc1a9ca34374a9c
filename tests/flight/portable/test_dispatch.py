"""PUS-1 verification paths of the dispatcher, on MicroPython as on CPython: every stage's
success and failure report, with its failure code, from real handlers raising CommandError."""

from memfs import MemFs

from flight.commands import CommandError, Dispatcher, decode_args
from flight.dictionary import COMMANDS, FAIL
from flight.params import ParamError, ParamTable
from protocols.pus import PusTc


def _d():
    out = []
    d = Dispatcher(lambda s, t, data: out.append((t, bytes(data[4:6]))))
    return d, out


def _code(b):
    return (b[0] << 8) | b[1] if b else None


class _Part:
    """A component: it runs ping, mode_set (always refused at start), radio_reset (fails) and
    fdir_reset (a bug in its handler)."""

    def tc_check(self, name, v):
        if name == "mode_set":
            raise CommandError(FAIL["WRONG_MODE"], "not now")

    def tc_ping(self, v):
        pass

    def tc_mode_set(self, v):
        pass

    def tc_radio_reset(self, v):
        raise CommandError(FAIL["EXEC_FAILED"], "broke")

    def tc_fdir_reset(self, v):
        raise ZeroDivisionError("oops")


class _Other:
    def tc_ping(self, v):
        raise AssertionError("the first component that has a command runs it")

    def tc_mode_override(self, v):
        pass


def test_stages_and_codes():
    d, out = _d()
    d.components = (_Part(), _Other())
    assert d.handle(PusTc(17, 1, apid=0x10, seq_count=1).pack())
    assert [t for t, _ in out] == [1, 3, 7]
    del out[:]
    assert not d.handle(PusTc(8, 1, b"\x00\x01\x02", apid=0x10, seq_count=2).pack())
    assert out == [(1, b""), (4, b"\x00\x04")]
    del out[:]
    assert not d.handle(PusTc(8, 1, b"\x00\x03", apid=0x10, seq_count=3).pack())
    assert [t for t, _ in out] == [1, 3, 8] and _code(out[-1][1]) == FAIL["EXEC_FAILED"]
    del out[:]
    assert not d.handle(PusTc(8, 1, b"\x00\x04", apid=0x10, seq_count=4).pack())
    assert [t for t, _ in out] == [1, 3, 8] and _code(out[-1][1]) == FAIL["EXEC_FAILED"]
    del out[:]
    assert not d.handle(PusTc(99, 9, apid=0x10, seq_count=5).pack())
    assert out == [(2, b"\x00\x01")]
    del out[:]
    # a second component's command, unchecked by the first component's tc_check
    assert d.handle(PusTc(8, 1, b"\x00\x02\x01", apid=0x10, seq_count=6).pack())
    assert [t for t, _ in out] == [1, 3, 7]
    del out[:]
    # a dictionary command no component runs: accepted, refused at its start (NOT_ON_BOARD)
    assert not d.handle(PusTc(8, 1, b"\x00\x0c", apid=0x10, seq_count=7).pack())
    assert out == [(1, b""), (4, b"\x00\x06")]
    assert d.ok == 2 and d.failed == 5


def test_argument_decoding_failures():
    spec = COMMANDS["hk_interval"][3]
    assert decode_args("hk_interval", spec, b"\x01\x00\x05") == [1, 5]
    for data, code in (
        (b"\x01", FAIL["BAD_LENGTH"]),
        (b"\x01\x00\x05\x00", FAIL["BAD_LENGTH"]),
        (b"\x01\x00\x00", FAIL["ARG_RANGE"]),
    ):
        try:
            decode_args("hk_interval", spec, data)
        except CommandError as exc:
            assert exc.code == code, data
        else:
            raise AssertionError("accepted %r" % data)


def test_param_errors_carry_codes():
    t = ParamTable(MemFs())
    for pid, value, code in ((999, 1.0, FAIL["UNKNOWN_ID"]), (1, 0.9, FAIL["ARG_RANGE"])):
        try:
            t.set(pid, value)
        except ParamError as exc:
            assert exc.code == code and isinstance(exc, CommandError)
        else:
            raise AssertionError("accepted %r" % ((pid, value),))
