"""Issue 13's headline: `watch` and `send` on one pty link at once, through the ground server.

Standalone, the second client on a pty steals bytes from the first (`no verification report`,
lost frames). With the server owning the link, every ping is verified, every packet reaches the
watcher, and the link counts no lost frame.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from click.testing import CliRunner
from server_harness import Ground, until

from ground import cli

PINGS = 8


def test_watch_and_send_at_once_lose_nothing(ground: Ground) -> None:
    env = dict(os.environ, CUBESAT_TOKEN=ground.tokens["viewer"], PYTHONUNBUFFERED="1")
    watch = subprocess.Popen(
        [sys.executable, "-c", "import sys; from ground.cli import main; sys.exit(main())",
         "watch", "--server", ground.url, "--seconds", "60", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(watch.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        until(lambda: any('"service": 3' in line for line in lines), 20, "the watcher's first HK packet")
        requests = []
        for _ in range(PINGS):
            r = CliRunner().invoke(
                cli.main,
                ["send", "ping", "--server", ground.url],
                env={"CUBESAT_TOKEN": ground.tokens["operator"]},
            )
            assert r.exit_code == 0, r.output
            assert "accepted, started, completed" in r.output and "reply TM(17,2): pong" in r.output
            requests.append(r.output)
        link = ground.server.links["sat1"]
        mine = [rec for rec in link.records.values() if rec.name == "ping" and rec.user == "operator"]
        assert len(mine) >= PINGS and all(rec.status == "completed" for rec in mine)
        want = {(rec.request[1], s) for rec in mine[-PINGS:] for s in ("accepted", "started", "completed")}

        def seen() -> set:
            got = set()
            for line in list(lines):
                data = json.loads(line)["data"]
                if "request" in data:
                    got.add((data["request"]["seq"], data["stage"]))
            return got

        until(lambda: want <= seen(), 10, "every ping's reports at the watcher")
    finally:
        watch.terminate()
        watch.wait(10)
        reader.join(5)
    packets = [json.loads(line) for line in lines]
    ids = [p["id"] for p in packets]
    assert ids == list(range(ids[0], ids[0] + len(ids))), "the watcher missed packets"
    pongs = [p for p in packets if p["service"] == 17 and p["subtype"] == 2]
    assert len(pongs) >= PINGS
    stats = link.stats()
    assert stats["lost_frames"] == 0 and stats["crc_failures"] == 0 and stats["bad_packets"] == 0
    assert stats["cop1"]["retransmissions"] == 0 and not stats["cop1"]["suspended"]
