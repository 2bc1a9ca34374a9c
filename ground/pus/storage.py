"""PUS service 15, on-board storage and retrieval: TM(15,13) summarises the packet stores."""

from __future__ import annotations

from typing import Any

from flight.dictionary import PACKET_STORES
from ground.pus import entries, entry, tc, tm

SUMMARY, REPORT = tc("store_summary"), tm("stores")
ENTRY, FIELDS = entry("stores")


def decode_report(data: bytes) -> dict[str, Any]:
    stores = []
    for values in entries(data, ENTRY)[1]:
        item = dict(zip(FIELDS, values))
        item["name"] = PACKET_STORES[item["store"]][0] if item["store"] in PACKET_STORES else None
        stores.append(item)
    return {"stores": stores}
