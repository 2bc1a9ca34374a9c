"""PUS service 11, time-based scheduling (ECSS-E-ST-70-41C 6.11): requests that enable, disable,
reset, insert into and delete from the schedule of time-tagged telecommands, and its summary
report TM(11,13): the count, then per request its release time (onboard s), APID and sequence
count (ENTRY; FIELDS names them).

    data = encode_report([(release, apid, seq), ...])
    count, entries = decode_report(data)
"""

from protocols.pus import pack_entries

SERVICE = 11
ENABLE = 1
DISABLE = 2
RESET = 3
INSERT = 4
DELETE = 5
REPORT = 13  # TM(11,13): the summary
SUMMARY = 17  # TC(11,17): report the summary
ENTRY = ">IHH"
FIELDS = "release apid seq"


def encode_report(rows):
    return pack_entries(ENTRY, rows)


def decode_report(data):
    """(the count sent, [(release, apid, seq), ...] the entries whole in `data`)."""
    from protocols.pus_tm import unpack_entries

    return unpack_entries(data, ENTRY)
