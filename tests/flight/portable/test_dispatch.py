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


def test_stages_and_codes():
    d, out = _d()

    def refuse(v):
        raise CommandError(FAIL["WRONG_MODE"], "not now")

    def fail(v):
        raise CommandError(FAIL["EXEC_FAILED"], "broke")

    def bug(v):
        raise ZeroDivisionError("oops")

    d.register("ping", lambda v: None)
    d.register("mode_set", lambda v: None, refuse)
    d.register("radio_reset", fail)
    d.register("fdir_reset", bug)
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
    assert d.ok == 1 and d.failed == 4


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
