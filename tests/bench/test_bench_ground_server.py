"""The ground server under load (issue 13): 10 spacecraft twins at 100x real time, each on its own
TCP link owned by one `cubesat ground` process, and one API client per spacecraft pinging it.

Every part runs in its own process, as in operations: the ten twins, the server (`cubesat
ground --config`), and this process with the ten clients (threads; `GroundClient`) and the
direct path. One Python process cannot fly ten twins at 100x beside a server (one GIL).

Recorded in extra_info:
  - TM packets lost: gaps in each (spacecraft, APID) packet sequence count in the archive, plus
    the links' lost frames, CRC failures and bad packets, and clients a twin dropped (all 0);
  - the command round trip through the server, p50/p99 (POST until the completion report, as
    `GroundClient.send` sees it; after one warm-up ping per client: the token's first scrypt),
    and its server part (queued -> completed, from the archived stage times);
  - the archive write rate: rows committed per second of the run, and per second of writing;
  - in the same run, the direct `cubesat send` path (`send_and_verify`: its own link and COP-1,
    no server) to an 11th twin, p50/p99.
A benchmark: only 0 lost packets and every command verified are asserted.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from ground.commanding import send_and_verify
from ground.dictionary import build_tc
from ground.server.auth import new_token
from ground.server.client import GroundClient
from ground.server.errors import ClientError

N_SC = int(os.environ.get("GS_BENCH_SPACECRAFT", "10"))
# 100x: the load; 1x: the round trip against its goal (p99 < 50 ms at 1x)
SPEEDS = [float(x) for x in os.environ.get("GS_BENCH_SPEED", "100,1").split(",")]
PINGS = int(os.environ.get("GS_BENCH_PINGS", "30"))  # per spacecraft, through the server
PACE_S = 0.25  # one ping per spacecraft every PACE_S: 40 commands/s through the server in all
SATURATION_PINGS = 20  # then per spacecraft back to back
DIRECT_PINGS = 30
SCID0 = 100

# a twin: prints its TCP port, flies until SIGTERM, then prints its simulated time and the
# clients it dropped for not reading
TWIN = """
import os, signal, sys
os.nice(10)  # a spacecraft stand-in: the ground's processes come first on a shared host
from ground.twin import TwinServer
twin = TwinServer(port=0, speed=float(sys.argv[1]), scid=int(sys.argv[2]))
signal.signal(signal.SIGTERM, lambda *a: twin.stop())
print(twin.port, flush=True)
try:
    twin.serve()
finally:
    print(twin.twin.t, twin.dropped_clients, flush=True)
    twin.close()
"""
MAIN = "import sys; from ground.cli import main; sys.exit(main())"


class Twin:
    def __init__(self, scid: int, speed: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", TWIN, str(speed), str(scid)], stdout=subprocess.PIPE, text=True
        )
        self.port = 0

    def ready(self) -> int:
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        return self.port

    def stop(self) -> tuple[float, int]:
        """(simulated seconds flown, clients the twin dropped for not reading)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            return 0.0, -1
        words = out.split()
        return (float(words[-2]), int(words[-1])) if len(words) >= 2 else (0.0, -1)


def _until(cond, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %g s waiting for %s" % (timeout, what))
        time.sleep(0.05)


def _cpu_s(pid: int) -> float:
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _lost_by_sequence(db: sqlite3.Connection) -> int:
    """Packets missing between the first and last received of each (scid, apid): 14-bit counts."""
    lost = 0
    last: dict[tuple[int, int], int] = {}
    for scid, apid, seq in db.execute("SELECT scid, apid, seq FROM tm_packets ORDER BY id"):
        if (scid, apid) in last:
            lost += (seq - last[scid, apid] - 1) & 0x3FFF
        last[scid, apid] = seq
    return lost


def _start_server(tmp_path: Path, twins: list[Twin], token_hash: str) -> tuple[subprocess.Popen, str]:
    craft = "".join(
        '[[spacecraft]]\nname = "sat%d"\nscid = %d\ninsecure = true\n'
        'link = { type = "tcp", address = "127.0.0.1:%d" }\n\n' % (i, SCID0 + i, twin.port)
        for i, twin in enumerate(twins)
    )
    (tmp_path / "ground.toml").write_text(
        '[server]\nport = 0\narchive = "ground.sqlite"\nlog_file = "ground.log"\n\n%s'
        '[[users]]\nname = "ops"\nrole = "operator"\ntoken_hash = "%s"\n' % (craft, token_hash)
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", MAIN, "ground", "--config", str(tmp_path / "ground.toml")],
        stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:
        if "API at " in line:
            return proc, line.split("API at ")[1].split(";")[0]
    proc.wait(10)
    raise AssertionError("the ground server did not start (exit %s)" % proc.returncode)


@pytest.mark.benchmark(group="ground server: 10 twins, one API client each")
@pytest.mark.parametrize("speed", SPEEDS, ids=lambda v: "%gx" % v)
def test_ground_server_ten_twins(benchmark, tmp_path: Path, speed: float) -> None:
    started = time.monotonic()
    twins = [Twin(SCID0 + i, speed) for i in range(N_SC)]
    direct_twin = Twin(42, speed)
    server = None
    try:
        for twin in [*twins, direct_twin]:
            twin.ready()
        token, line = new_token("ops")
        server, url = _start_server(tmp_path, twins, line.split('"')[1])
        auth = {"Authorization": "Bearer " + token}

        def status() -> dict:
            return httpx.get(url + "/api/v1/spacecraft", headers=auth, timeout=30).json()

        _until(
            lambda: all(s["stats"]["cop1"]["initialized"] for s in status()["spacecraft"]),
            30,
            "COP-1 on every link",
        )
        start_wall = time.monotonic() - started
        round_trips: list[float] = []
        link_part: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def ping(gs: GroundClient, name: str, out: list[float]) -> None:
            t = time.perf_counter()
            try:
                r = gs.send("ping", timeout=10)
            except ClientError as exc:
                with lock:
                    failures.append("%s: %s" % (name, exc))
                return
            rt = (time.perf_counter() - t) * 1000
            st = r.data["stages"]
            with lock:
                out.append(rt)
                if out is round_trips:
                    link_part.append((st[-1]["t"] - st[0]["t"]) * 1000)
                if not (r.ok and r.reply and r.reply.get("pong")):
                    failures.append("%s: %s" % (name, r.describe()))

        clients = {"sat%d" % i: GroundClient(url, token, "sat%d" % i) for i in range(N_SC)}
        for gs in clients.values():  # warm-up: the token's first check (scrypt), the first TC
            gs.send("ping", timeout=30)

        def paced(name: str, offset: float) -> None:
            """A ping every PACE_S (staggered): an operator's load, far below saturation."""
            next_t = time.monotonic() + offset
            for _ in range(PINGS):
                time.sleep(max(0.0, next_t - time.monotonic()))
                next_t += PACE_S
                ping(clients[name], name, round_trips)

        def run_all(target, args_of) -> None:  # type: ignore[no-untyped-def]
            threads = [
                threading.Thread(target=target, args=args_of(i, name)) for i, name in enumerate(clients)
            ]
            for th in threads:
                th.start()
            for th in threads:
                th.join()

        archive0 = status()["archive"]
        wall0 = time.monotonic()
        cpu0 = (_cpu_s(server.pid), time.process_time(), [_cpu_s(t.proc.pid) for t in twins])
        benchmark.pedantic(
            run_all, args=(paced, lambda i, name: (name, PACE_S * i / N_SC)), rounds=1, iterations=1
        )
        wall = time.monotonic() - wall0
        cpu1 = (_cpu_s(server.pid), time.process_time(), [_cpu_s(t.proc.pid) for t in twins])
        after = status()
        archive1 = after["archive"]
        rows = archive1["rows_written"] - archive0["rows_written"]
        busy = archive1["busy_s"] - archive0["busy_s"]

        # saturation: every client pings as fast as it can (throughput; round trip = queueing)
        saturated: list[float] = []
        t_sat = time.monotonic()
        run_all(lambda name: [ping(clients[name], name, saturated) for _ in range(SATURATION_PINGS)],
                lambda i, name: (name,))  # fmt: skip
        sat_wall = time.monotonic() - t_sat

        # the direct path, in the same run (the ten twins and the server still flying)
        direct: list[float] = []
        direct_url = "tcp://127.0.0.1:%d" % direct_twin.port
        for i in range(DIRECT_PINGS):
            tc = build_tc("ping", {}, 0x10, (int(time.time() * 1000) + i) & 0x3FFF, "operator", False)
            verdict = send_and_verify(direct_url, tc, scid=42, timeout_s=10)
            assert verdict.ok, verdict.describe()
            direct.append(verdict.round_trip_ms or 0.0)

        stats = [s["stats"] for s in status()["spacecraft"]]
        ended = [twin.stop() for twin in twins]
        total_wall = time.monotonic() - started
        server.send_signal(signal.SIGINT)
        assert server.wait(30) == 0
        db = sqlite3.connect("file:%s?mode=ro" % (tmp_path / "ground.sqlite"), uri=True)
        try:
            packets = db.execute("SELECT COUNT(*) FROM tm_packets").fetchone()[0]
            seq_lost = _lost_by_sequence(db)
        finally:
            db.close()
        link_lost = sum(s["lost_frames"] + s["crc_failures"] + s["bad_packets"] for s in stats)
        dropped = sum(d for _, d in ended)
        info = benchmark.extra_info
        info.update(
            {
                "impl": "ours",
                "spacecraft": N_SC,
                "twin_speed": speed,
                "twin_speed_achieved": round(sum(t for t, _ in ended) / N_SC / total_wall, 1),
                "commands": len(round_trips),
                "commands_failed": len(failures),
                "tm_packets": packets,
                "tm_packets_lost": seq_lost,
                "link_lost_frames_crc_bad": link_lost,
                "twin_dropped_clients": dropped,
                "link_reconnects": sum(s["link"]["reconnects"] for s in stats),
                "cop1_retransmissions": sum(s["cop1"]["retransmissions"] for s in stats),
                "server_rt_p50_ms": round(statistics.median(round_trips), 2),
                "server_rt_p99_ms": round(_pct(round_trips, 0.99), 2),
                "server_rt_max_ms": round(max(round_trips), 2),
                "server_queued_to_completed_p50_ms": round(statistics.median(link_part), 2),
                "server_queued_to_completed_p99_ms": round(_pct(link_part, 0.99), 2),
                "saturated_commands_per_s": round(len(saturated) / sat_wall, 1),
                "saturated_rt_p50_ms": round(statistics.median(saturated), 2),
                "saturated_rt_p99_ms": round(_pct(saturated, 0.99), 2),
                "direct_rt_p50_ms": round(statistics.median(direct), 2),
                "direct_rt_p99_ms": round(_pct(direct, 0.99), 2),
                "archive_rows": rows,
                "archive_rows_per_s": round(rows / wall),
                "archive_rows_per_busy_s": round(rows / busy) if busy else None,
                "archive_batches": archive1["batches"] - archive0["batches"],
                "load_wall_s": round(wall, 2),
                "cpu_cores_server": round((cpu1[0] - cpu0[0]) / wall, 2),
                "cpu_cores_clients": round((cpu1[1] - cpu0[1]) / wall, 2),
                "cpu_cores_twins": round((sum(cpu1[2]) - sum(cpu0[2])) / wall, 2),
                "host_cores": os.cpu_count(),
                "setup_wall_s": round(start_wall, 2),
            }
        )
        print(
            "\nground server, %d twins at %gx (achieved %.0fx): %d pings through the server, p50 %.1f ms, "
            "p99 %.1f ms (queued -> completed p50 %.1f, p99 %.1f); saturated %.0f commands/s (p50 %.1f ms); "
            "direct send p50 %.1f ms, p99 %.1f ms; %d TM packets, %d lost; archive %d rows/s (%d rows per "
            "second of writing)"
            % (N_SC, speed, info["twin_speed_achieved"], len(round_trips), info["server_rt_p50_ms"],
               info["server_rt_p99_ms"], info["server_queued_to_completed_p50_ms"],
               info["server_queued_to_completed_p99_ms"], info["saturated_commands_per_s"],
               info["saturated_rt_p50_ms"], info["direct_rt_p50_ms"], info["direct_rt_p99_ms"],
               packets, seq_lost, info["archive_rows_per_s"], info["archive_rows_per_busy_s"] or 0)
        )  # fmt: skip
        print(info)
        assert failures == [], failures[:5]
        assert len(round_trips) == N_SC * PINGS and len(saturated) == N_SC * SATURATION_PINGS
        assert seq_lost == 0 and link_lost == 0 and dropped == 0, info
    finally:
        if server is not None and server.poll() is None:
            server.kill()
            server.wait()
        for twin in [*twins, direct_twin]:
            twin.stop()
