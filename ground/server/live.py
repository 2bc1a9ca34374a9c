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
        # requests waiting for a command's next stage: command id -> their (loop, event)
        self._waiters: dict[int, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

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

    def watch_command(self, cid: int) -> asyncio.Event:
        """An event set (in the caller's loop) whenever command `cid` changes; unwatch it after."""
        event = asyncio.Event()
        with self._lock:
            self._waiters.setdefault(cid, []).append((asyncio.get_running_loop(), event))
        return event

    def unwatch_command(self, cid: int, event: asyncio.Event) -> None:
        with self._lock:
            waiters = [w for w in self._waiters.get(cid, []) if w[1] is not event]
            if waiters:
                self._waiters[cid] = waiters
            else:
                self._waiters.pop(cid, None)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, item: dict[str, Any]) -> None:
        """From any thread: hand `item` to every subscriber of its spacecraft (never blocks)."""
        with self._lock:
            subs = list(self._subs)
            waiters = list(self._waiters.get(item["id"], ())) if item.get("kind") == "command" else []
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # its loop is closed: the request is gone
                pass
        for sub in subs:
            if sub.scid is not None and sub.scid != item.get("scid"):
                continue
            try:
                sub.loop.call_soon_threadsafe(sub._put, item)
            except RuntimeError:  # its event loop is closed: the client is gone
                self.unsubscribe(sub)
