"""A real Yamcs (pip fprime-yamcs-bundle, Java 17) on the instance `cubesat dict yamcs` writes,
on free ports, for the tests; and small helpers for its REST API. Waits are conditions with
deadlines; the log tail is in every failure."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ground.yamcs_instance import INSTANCE_NAME, YamcsPorts, java_command, write_instance


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Yamcs:
    api: str  # http://127.0.0.1:PORT/api
    ports: YamcsPorts
    log: Path

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.api + path, timeout=5) as r:
            return json.loads(r.read())

    def wait(self, what: str, cond: Callable[[], object], deadline_s: float) -> object:
        end = time.monotonic() + deadline_s
        last_error = ""
        while time.monotonic() < end:
            try:
                got = cond()
            except urllib.error.HTTPError as exc:  # Yamcs answers 500 now and then while it archives
                if exc.code < 500:
                    raise
                last_error = " (last answer: HTTP %d)" % exc.code
                got = None
            if got:
                return got
            time.sleep(0.2)
        pytest.fail(
            "Yamcs: no %s within %.0f s%s; log tail:\n%s"
            % (what, deadline_s, last_error, self.log.read_text()[-3000:])
        )

    def post_command(self, name: str, args: dict) -> str:
        """Issue a command through Yamcs' REST API; its command id."""
        req = urllib.request.Request(
            "%s/processors/%s/realtime/commands/%s/%s" % (self.api, INSTANCE_NAME, INSTANCE_NAME, name),
            data=json.dumps({"args": args}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            out = json.loads(r.read())
        assert out["commandName"] == "/%s/%s" % (INSTANCE_NAME, name)
        return out["id"]


@contextlib.contextmanager
def running_yamcs(
    folder: Path, tc_port: int, scid: int, extend: Callable[[Path], None] | None = None
) -> Iterator[Yamcs]:
    """Yamcs on a fresh instance in `folder`; its TC link sends to UDP `tc_port`. `extend`, if
    given, gets the instance's etc directory to add to before Yamcs starts (more services, links)."""
    if shutil.which("java") is None:
        pytest.fail("no java: ./dev.sh setup installs it (apt-get install openjdk-17-jre-headless)")
    ports = YamcsPorts(
        http=free_port(socket.SOCK_STREAM),
        tm_frames=free_port(socket.SOCK_DGRAM),
        tm_packets=free_port(socket.SOCK_DGRAM),
        tc=tc_port,
    )
    etc = write_instance(folder, ports, scid)
    if extend is not None:
        extend(etc)
    log = folder / "yamcs.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(java_command(etc), cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    yamcs = Yamcs("http://127.0.0.1:%d/api" % ports.http, ports, log)
    try:
        yamcs.wait("start", lambda: "Yamcs started" in log.read_text() or proc.poll() is not None, 60)
        text = log.read_text()
        assert proc.poll() is None and "Instance %s failed" % INSTANCE_NAME not in text, text[-3000:]
        yield yamcs
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def eng(value: dict) -> object:
    """A Yamcs parameter value's engineering value as Python."""
    v = value["engValue"]
    if v["type"] == "FLOAT":
        return float(v["floatValue"])
    if v["type"] == "ENUMERATED":
        return v["stringValue"]
    if v["type"] == "BOOLEAN":
        return v.get("booleanValue", False)
    return int(next(x for k, x in v.items() if k.endswith("Value")))
