"""The PUS services' codecs (protocols/pus_<n>_<name>.py): each report as the flight packs it and
the ground reads it back, and bad input as a specific error. Runs on MicroPython too."""

import struct

from _check import raises, unhex

from protocols import (
    errors,
    pus_1_verification,
    pus_3_hk,
    pus_5_event,
    pus_8_function,
    pus_9_time,
    pus_11_schedule,
    pus_13_large_packet,
    pus_15_storage,
    pus_17_test,
    pus_20_param,
)
from protocols.cuc import CucTime

REQ = unhex("1810 c005")  # a TC's packet id (APID 0x010) and sequence control (count 5)


def test_verification_success_and_failure_reports():
    assert pus_1_verification.encode_report(REQ) == REQ
    assert pus_1_verification.decode_report(REQ) == (0x010, 5, None, None, "")
    data = pus_1_verification.encode_report(REQ, 4, 24, "mode SAFE")
    assert data == REQ + unhex("0004 18") + b"mode SAFE"
    assert pus_1_verification.decode_report(data) == (0x010, 5, 4, 24, "mode SAFE")
    # the text is cut to TEXT_MAX octets; an older board's text right after the code has no reason
    long = pus_1_verification.encode_report(REQ, 9, 0, "x" * 80)
    assert len(long) == 4 + 3 + pus_1_verification.TEXT_MAX
    assert pus_1_verification.decode_report(REQ + unhex("0009") + b"busy") == (0x010, 5, 9, None, "busy")
    assert [s for s in range(1, 9) if pus_1_verification.is_failure(s)] == [2, 4, 6, 8]
    exc = raises(errors.TruncatedError, pus_1_verification.decode_report, REQ[:3])
    assert exc.field == "pus1.request_id" and (exc.needed, exc.got) == (4, 3)


def test_housekeeping_report_buffer_and_decode():
    buf = pus_3_hk.new_report(2, 7)
    assert len(buf) == 8 and buf[0] == 2
    struct.pack_into(">Hf", buf, pus_3_hk.VALUES + 1, 512, 0.5)
    buf[pus_3_hk.VALUES] = 3
    formats = {2: ">BHf", 1: ">f"}
    assert pus_3_hk.decode_report(buf, formats) == (2, (3, 512, 0.5))
    exc = raises(errors.LengthError, pus_3_hk.decode_report, bytes(buf[:-1]), formats)
    assert (exc.expected, exc.got) == (7, 6)
    raises(errors.FieldValueError, pus_3_hk.decode_report, b"\x09" + bytes(7), formats)
    raises(errors.TruncatedError, pus_3_hk.decode_report, b"", formats)


def test_event_report_round_trip_and_unknown_event():
    data = pus_5_event.encode_report(2, ">BBB", (1, 3, 0))
    assert data == unhex("0002 010300")
    formats = {2: ">BBB", 6: ">B"}
    assert pus_5_event.decode_report(data, formats) == (2, (1, 3, 0))
    assert pus_5_event.decode_report(unhex("0063 01"), formats) == (99, None)
    exc = raises(errors.TruncatedError, pus_5_event.decode_report, data[:4], formats)
    assert (exc.field, exc.needed, exc.got) == ("pus5.aux", 3, 2)
    raises(errors.TruncatedError, pus_5_event.decode_report, b"\x00", formats)
    assert (pus_5_event.INFO, pus_5_event.HIGH, pus_5_event.DISABLE) == (1, 4, 6)


def test_function_request():
    app_data = pus_8_function.encode_request(11, b"\x00\x32")
    assert app_data == unhex("000b 0032")
    assert pus_8_function.decode_request(app_data) == (11, b"\x00\x32")
    raises(errors.TruncatedError, pus_8_function.decode_request, b"\x00")


def test_time_report_is_the_cuc_field():
    stamp = CucTime(1000, 0x8000).pack()
    data = pus_9_time.encode_report(bytearray(stamp))
    assert data == stamp and type(data) is bytes
    assert pus_9_time.decode_report(data) == 1000.5
    raises(errors.TruncatedError, pus_9_time.decode_report, stamp[:5])


def test_entry_reports_schedule_storage_parameters():
    rows = [(100, 0x10, 7), (4000000000, 0x7FF, 0x3FFF)]
    data = pus_11_schedule.encode_report(rows)
    assert data == unhex("02 00000064 0010 0007 ee6b2800 07ff 3fff")
    assert pus_11_schedule.decode_report(data) == (2, rows)
    # a truncated report gives the entries that are whole; the count says how many were sent
    assert pus_11_schedule.decode_report(data[:-1]) == (2, rows[:1])
    assert pus_11_schedule.decode_report(b"") == (0, [])
    store = (1, 1, 1, 0, 10, 5, 15, 100, 200, 8192, 0)
    data = pus_15_storage.encode_report([store])
    assert len(data) == 1 + struct.calcsize(pus_15_storage.ENTRY) and data[0] == 1
    assert pus_15_storage.decode_report(data) == (1, [store])
    assert len(pus_15_storage.FIELDS.split()) == len(store)
    data = pus_20_param.encode_report([(11, 60.0)])
    assert data == unhex("01 000b 42700000")
    assert pus_20_param.decode_report(data) == (1, [(11, 60.0)])
    assert pus_20_param.FIELDS.split() == ["param_id", "value"]


def test_large_packet_parts():
    assert [pus_13_large_packet.part_subtype(f, la) for f, la in ((1, 0), (0, 0), (0, 1), (1, 1))] == [
        1,
        2,
        3,
        3,
    ]
    data = pus_13_large_packet.encode_part(7, 2, b"abc")
    assert data == unhex("0007 0002") + b"abc"
    assert pus_13_large_packet.decode_part(data) == (7, 2, b"abc")
    raises(errors.TruncatedError, pus_13_large_packet.decode_part, data[:3])


def test_ping_and_pong():
    assert (pus_17_test.SERVICE, pus_17_test.PING, pus_17_test.REPORT) == (17, 1, 2)
    assert pus_17_test.encode_report() == b"" and pus_17_test.decode_report(b"") is True
