"""PUS service 15, on-board storage and retrieval: TM(15,13) summarises the packet stores."""

from __future__ import annotations

from typing import Any

from flight.dictionary import PACKET_STORES
from ground.dictionary import STORE_ENTRY
from ground.pus import ON_BOARD_STORAGE, Kind, entries

SUMMARY, REPORT = Kind(ON_BOARD_STORAGE, 12), Kind(ON_BOARD_STORAGE, 13)
_FMT = ">" + "".join(fmt for _name, fmt in STORE_ENTRY)


def decode_report(data: bytes) -> dict[str, Any]:
    stores = []
    for values in entries(data, _FMT)[1]:
        entry = dict(zip((name for name, _fmt in STORE_ENTRY), values))
        entry["name"] = PACKET_STORES[entry["store"]][0] if entry["store"] in PACKET_STORES else None
        stores.append(entry)
    return {"stores": stores}
