"""PUS service 20, on-board parameter management (ECSS-E-ST-70-41C 6.20): TC(20,1) asks for
parameter values, TC(20,3) sets them, and TM(20,2) reports them: the count, then per parameter its
id (u16) and value (f32) (ENTRY; FIELDS names them).

    data = encode_report([(param_id, value), ...])
    count, entries = decode_report(data)
"""

from protocols.pus import pack_entries

SERVICE = 20
GET = 1
REPORT = 2
SET = 3
ENTRY = ">Hf"
FIELDS = "param_id value"


def encode_report(rows):
    return pack_entries(ENTRY, rows)


def decode_report(data):
    """(the count sent, [(param_id, value), ...] the entries whole in `data`)."""
    from protocols.pus_tm import unpack_entries

    return unpack_entries(data, ENTRY)
