"""PUS service 17, test (ECSS-E-ST-70-41C 6.17): TC(17,1) asks whether the spacecraft is alive and
TM(17,2) answers (a pong), with no source data."""

SERVICE = 17
PING = 1
REPORT = 2  # TM(17,2): the answer


def encode_report():
    return b""


def decode_report(data):
    """True: a TM(17,2) is the answer whatever it carries (a board sends nothing)."""
    return True
