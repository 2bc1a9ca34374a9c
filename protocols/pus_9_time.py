"""PUS service 9, time management (ECSS-E-ST-70-41C 6.9): TM(9,2) reports the onboard time as a
CUC field (protocols/cuc.py: 4 coarse + 2 fine octets, implicit P-field); TC(9,1) sets how often
it comes (every 2^n housekeeping cycles) and TC(9,128) sets the onboard time (this mission's own).

    data = encode_report(stamp)         # stamp: the packed CUC field
    seconds = decode_report(data)
"""

SERVICE = 9
RATE = 1  # TC(9,1): the time report's rate exponent
REPORT = 2  # TM(9,2)
SET = 128  # TC(9,128): set the onboard time (this mission's own subtype)


def encode_report(stamp):
    return bytes(stamp)


def decode_report(data):
    """The onboard time in seconds (a float) of a TM(9,2)'s source data."""
    from protocols.cuc import CucTime

    return CucTime.unpack(data).seconds()
