"""Live fan-out: link threads publish decoded packets; each SSE client has its own bounded queue.

A client that does not read falls behind by at most `maxsize` items; then its stream is ended
with an "overflow" message (it can fetch what it missed from the archive by packet id) and the
server and every other client go on untouched.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

QUEUE_MAX = 2000


class Subscription:
    def __init__(self, loop: asyncio.AbstractEventLoop, scid: int | None, maxsize: int) -> None:
        self.loop = loop
        self.scid = scid
        self.maxsize = maxsize
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize + 1)  # + the closing message
        self.overflowed = False

    def _put(self, item: dict[str, Any]) -> None:  # runs in the event loop
        if self.overflowed:
            return
        if self.queue.qsize() >= self.maxsize:
            # the reader gets what it had queued, then this message, and its stream ends
            self.overflowed = True
            self.queue.put_nowait({"kind": "overflow"})
            return
        self.queue.put_nowait(item)


class LiveHub:
    def __init__(self, maxsize: int = QUEUE_MAX) -> None:
        self.maxsize = maxsize
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()
        self.overflows = 0

    def subscribe(self, scid: int | None = None) -> Subscription:
        sub = Subscription(asyncio.get_running_loop(), scid, self.maxsize)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
            if sub.overflowed:
                self.overflows += 1

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, item: dict[str, Any]) -> None:
        """From any thread: hand `item` to every subscriber of its spacecraft (never blocks)."""
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            if sub.scid is not None and sub.scid != item.get("scid"):
                continue
            try:
                sub.loop.call_soon_threadsafe(sub._put, item)
            except RuntimeError:  # its event loop is closed: the client is gone
                self.unsubscribe(sub)
