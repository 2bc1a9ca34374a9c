"""PUS service 15, on-board storage and retrieval (ECSS-E-ST-70-41C 6.15): requests that enable,
disable, play back, delete and summarise the packet stores, and the summary report TM(15,13):
the count, then per store the entry ENTRY (FIELDS names its values).

    data = encode_report([store.summary_row(), ...])
    count, entries = decode_report(data)
"""

from protocols.pus import pack_entries

SERVICE = 15
ENABLE = 1
DISABLE = 2
DUMP = 9  # TC(15,9): play back a time range
DELETE = 11  # TC(15,11): delete up to a time
SUMMARY = 12  # TC(15,12): report the stores' summary
REPORT = 13  # TM(15,13)
ABORT = 17  # TC(15,17): stop a playback
DUMP_SEQ = 129  # TC(15,129): play back from a sequence count (this mission's own subtype)
ENTRY = ">BBBBIIIIIII"
FIELDS = "store enabled wrap playing packets first_seq next_seq oldest_s newest_s bytes lost"


def encode_report(rows):
    return pack_entries(ENTRY, rows)


def decode_report(data):
    """(the count sent, [entry tuple, ...] the entries whole in `data`)."""
    from protocols.pus_tm import unpack_entries

    return unpack_entries(data, ENTRY)
