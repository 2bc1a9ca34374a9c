"""PUS-C services as the ground reads them, one module per service this mission flies: its kinds as
named `Kind`s and its reports decoded into named values (the dictionary's names for sets,
parameters, stores, failure codes, events).

The wire format of each service is its codec in protocols/pus_<n>_<name>.py (as spacepackets'
ecss package has them: pus_1_verification, pus_3_hk, ...), which the flight packs its reports
with and these modules decode with; the dictionary (flight/dictionary.py) names the commands.

    from ground.pus import housekeeping
    if (tm.service, tm.subtype) == housekeeping.REPORT:
        housekeeping.decode_report(tm.source_data) -> {"sid": 1, "set": "core", "values": {...}}

ground/server/decode.py decodes any TM by these (`decode_tm`) and says which TM answers which TC
(`REPLY_TO`).
"""

from __future__ import annotations

from types import ModuleType
from typing import NamedTuple

from flight.dictionary import COMMANDS
from protocols import (
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
    pus_23_file,
)

# ECSS-E-ST-70-41C service type numbers this mission flies, from the services' codecs
VERIFICATION = pus_1_verification.SERVICE
HOUSEKEEPING = pus_3_hk.SERVICE
EVENT_REPORTING = pus_5_event.SERVICE
FUNCTION_MANAGEMENT = pus_8_function.SERVICE
TIME_MANAGEMENT = pus_9_time.SERVICE
TIME_SCHEDULING = pus_11_schedule.SERVICE
LARGE_PACKET_TRANSFER = pus_13_large_packet.SERVICE
ON_BOARD_STORAGE = pus_15_storage.SERVICE
TEST = pus_17_test.SERVICE
PARAMETER_MANAGEMENT = pus_20_param.SERVICE
FILE_MANAGEMENT = pus_23_file.SERVICE


class Kind(NamedTuple):
    service: int
    subtype: int

    def __str__(self) -> str:
        return "TM(%d,%d)" % self


def tc(name: str) -> Kind:
    """The kind of the dictionary's command `name`."""
    return Kind(*COMMANDS[name][:2])


def report(codec: ModuleType) -> Kind:
    """The kind of a service's report: its codec's SERVICE and REPORT."""
    return Kind(codec.SERVICE, codec.REPORT)
