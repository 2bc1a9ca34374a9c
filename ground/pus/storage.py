"""PUS service 15, on-board storage and retrieval: TM(15,13) summarises the packet stores
(protocols/pus_15_storage.py), each named by the dictionary's PACKET_STORES."""

from __future__ import annotations

from typing import Any

from flight.dictionary import PACKET_STORES
from ground.pus import report, tc
from protocols import pus_15_storage

SUMMARY, REPORT = tc("store_summary"), report(pus_15_storage)


def decode_report(data: bytes) -> dict[str, Any]:
    fields = pus_15_storage.FIELDS.split()
    stores = [dict(zip(fields, row)) for row in pus_15_storage.decode_report(data)[1]]
    for item in stores:
        item["name"] = PACKET_STORES[item["store"]][0] if item["store"] in PACKET_STORES else None
    return {"stores": stores}
