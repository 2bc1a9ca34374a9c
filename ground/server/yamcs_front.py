"""The ground server as Yamcs' front end for one spacecraft (its `yamcs` config table).

    front = YamcsFrontEnd(cfg.yamcs)
    downlink.frame_sink = front.forward      # every good TM frame -> Yamcs' UdpTmFrameLink
    for packet in front.poll(): ...          # Yamcs' PUS TCs (UdpTcDataLink) -> COP-1, SDLS, CLTU

Yamcs cannot decode this link's RS codeblocks and does not hold the SDLS keys, so the server
stays the link's only owner: it finds the ASM, corrects RS, derandomises and checks each frame's
CRC before Yamcs sees it, and it frames, authenticates and retransmits Yamcs' commands. A UDP
send that fails (Yamcs not started yet) is counted, never raised into the link thread.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from ground.server.config import YamcsConfig
from ground.server.errors import ConfigError

log = logging.getLogger("ground.server")
MAX_TC_PER_CYCLE = 16  # a burst from Yamcs is taken over a few link cycles, never all at once
MAX_TC_BYTES = 65536


class YamcsFrontEnd:
    def __init__(self, cfg: YamcsConfig) -> None:
        self.cfg = cfg
        self.tm_addr = (cfg.tm_host, cfg.tm_port)
        self.frames_out = 0
        self.send_errors = 0
        self.tc_in = 0
        self.refused = 0  # telecommands the server would not send (SpacecraftLink.submit_packet)
        self._tm = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._tc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._tc.bind(("127.0.0.1", cfg.tc_port))
        except OSError as exc:
            self.close()
            raise ConfigError(
                "yamcs.tc_port %d: cannot listen (%s); another server or Yamcs link has it?"
                % (cfg.tc_port, exc.strerror or exc)
            ) from None
        self._tc.setblocking(False)

    @property
    def tc_port(self) -> int:
        return self._tc.getsockname()[1]

    def forward(self, frame: bytes) -> None:
        try:
            self._tm.sendto(frame, self.tm_addr)
            self.frames_out += 1
        except OSError as exc:
            self.send_errors += 1
            if self.send_errors == 1:
                log.warning("cannot send TM frames to Yamcs at %s:%d: %s", *self.tm_addr, exc)

    def poll(self) -> list[bytes]:
        """The telecommands Yamcs has sent since the last call (at most MAX_TC_PER_CYCLE)."""
        out = []
        while len(out) < MAX_TC_PER_CYCLE:
            try:
                data = self._tc.recv(MAX_TC_BYTES)
            except OSError:  # nothing waiting (BlockingIOError), or an earlier send's ICMP error
                break
            self.tc_in += 1
            out.append(data)
        return out

    def stats(self) -> dict[str, Any]:
        return {
            "yamcs_frames_out": self.frames_out,
            "yamcs_send_errors": self.send_errors,
            "yamcs_tc_in": self.tc_in,
            "refused": self.refused,
        }

    def close(self) -> None:
        self._tm.close()
        self._tc.close()
