"""CBOR subset, vectors from RFC 8949 Appendix A."""

from _check import raises, unhex

from protocols import cbor, errors


def test_rfc8949_appendix_a_integers_and_strings():
    cases = [
        (0, "00"),
        (23, "17"),
        (24, "1818"),
        (1000, "1903e8"),
        (1000000, "1a000f4240"),
        (1000000000000, "1b000000e8d4a51000"),
        (18446744073709551615, "1bffffffffffffffff"),
        (-1, "20"),
        (-1000, "3903e7"),
        (-18446744073709551616, "3bffffffffffffffff"),
        ("", "60"),
        ("a", "6161"),
        ("IETF", "6449455446"),
        (b"", "40"),
        (b"\x01\x02\x03\x04", "4401020304"),
        ([], "80"),
        ([1, [2, 3], [4, 5]], "8301820203820405"),
        ({}, "a0"),
        ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
        (False, "f4"),
        (True, "f5"),
        (None, "f6"),
    ]
    for value, hexed in cases:
        assert cbor.dumps(value) == unhex(hexed), value
        assert cbor.loads(unhex(hexed)) == value


def test_rfc8949_floats_decode():
    assert cbor.loads(unhex("f93c00")) == 1.0
    assert cbor.loads(unhex("f97bff")) == 65504.0
    assert cbor.loads(unhex("fa47c35000")) == 100000.0
    assert cbor.loads(unhex("fb3ff199999999999a")) == 1.1
    assert cbor.loads(unhex("f9fc00")) == float("-inf")
    assert cbor.loads(unhex("f90001")) == 5.960464477539063e-8


def test_float_encoding_like_cbor2():
    assert cbor.dumps(1.5) == unhex("fb3ff8000000000000")
    assert cbor.dumps(float("inf")) == unhex("f97c00")


def test_tags_pass_through():
    value = cbor.loads(unhex("c11a514b67b0"))  # RFC 8949: 1(1363896240)
    assert value == cbor.Tag(1, 1363896240)
    assert cbor.dumps(value) == unhex("c11a514b67b0")


def test_errors():
    raises(errors.TruncatedError, cbor.loads, unhex("1903"))
    exc = raises(errors.TruncatedError, cbor.loads, unhex("5a ffffffff 00"))  # 4 GiB string declared
    assert exc.field == "cbor.string"
    raises(errors.OversizedError, cbor.loads, unhex("0000"))
    raises(errors.FieldValueError, cbor.loads, unhex("5f"))  # indefinite length
    raises(errors.FieldValueError, cbor.loads, unhex("81" * 40 + "00"))  # too deep
    exc = raises(
        errors.FieldValueError, cbor.loads, unhex("a1 c1 00 00")
    )  # tagged map key (found by atheris)
    assert exc.field == "cbor.map_key"
    raises(errors.FieldValueError, cbor.loads, unhex("a1 80 00"))  # array as map key
    raises(errors.EncodeError, cbor.dumps, 1 << 64)
    raises(errors.EncodeError, cbor.dumps, object())
