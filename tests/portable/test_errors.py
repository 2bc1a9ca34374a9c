"""The error hierarchy: every decoder error names its field and offset."""

from _check import raises

from protocols import errors


def test_truncated_names_field_and_offset():
    exc = errors.TruncatedError("spacepacket.header", 4, 6, 2)
    assert isinstance(exc, errors.DecodeError)
    assert isinstance(exc, errors.ProtocolError)
    assert exc.field == "spacepacket.header"
    assert exc.offset == 4
    assert exc.needed == 6 and exc.got == 2
    assert str(exc) == "spacepacket.header at offset 4: truncated, need 6 bytes, got 2"


def test_crc_error_reports_both_values():
    exc = errors.CrcError("tmframe.fecf", 1113, 0x1234, 0xABCD)
    assert "0x1234" in str(exc) and "0xABCD" in str(exc)
    assert exc.expected == 0x1234 and exc.got == 0xABCD


def test_every_decode_error_is_catchable_as_protocol_error():
    for exc in (
        errors.OversizedError("f", 0, 10, 11),
        errors.VersionError("f", 0, 0, 1),
        errors.LengthError("f", 0, 5, 6),
        errors.FieldValueError("f", 0, "reserved value"),
        errors.UncorrectableError("rs.codeword", 0),
        errors.SyncError("sync.asm", 0, "no ASM"),
    ):

        def boom(e=exc):
            raise e

        caught = raises(errors.ProtocolError, boom)
        assert caught is exc
        assert caught.offset == 0


def test_encode_error_is_not_a_decode_error():
    exc = errors.EncodeError("spacepacket.apid", "out of range 0..2047: 4096")
    assert isinstance(exc, errors.ProtocolError)
    assert not isinstance(exc, errors.DecodeError)
