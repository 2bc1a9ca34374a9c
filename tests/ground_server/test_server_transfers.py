"""CFDP file transfers through the ground server (ground/server/transfers.py): up and down over the
twin's link through the API and `cubesat ground transfers`, progress while they run, cancel,
resume, roles, and the archive of their outcomes after a restart."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from server_harness import Ground, running_ground, start_ground, until

from ground import cli
from ground.server.client import GroundClient
from ground.server.config import parse_config
from ground.server.errors import ClientError
from ground.server.server import GroundServer
from ground.server.transfers import MAX_UPLOAD


@pytest.fixture(scope="module")
def ground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ground]:
    with running_ground(tmp_path_factory.mktemp("transfers"), own_flash=True) as g:
        yield g


def board(g: Ground) -> Path:
    """The twin board's boot directory: files/, the A/B slots, the flash folder."""
    root = Path(g.twin.app.fs.root).parent
    assert root == g.archive.parent / "board"
    return root


def downloads(g: Ground) -> Path:
    return g.archive.parent / "transfers" / "sat1" / "downloads"


def follow(gs: GroundClient, tid: int, timeout: float = 30.0) -> tuple[dict, list[dict]]:
    """(the transfer once it ended, the views seen while it ran)."""
    seen: list[dict] = []

    def ended() -> dict | None:
        t = gs.transfer(tid)
        if t["state"] == "running":
            seen.append(t)
            return None
        return t

    return until(ended, timeout, "transfer %d to end" % tid), seen  # type: ignore[return-value]


def test_an_uplink_lands_byte_exact_with_progress_while_it_runs(ground: Ground) -> None:
    gs = ground.client("operator")
    data = random.Random(7).randbytes(400_000)
    t = gs.put_file(data, "files/big.bin")
    assert (
        t["state"] == "running"
        and t["direction"] == "up"
        and t["size"] == 400_000
        and t["user"] == "operator"
    )
    done, seen = follow(gs, t["id"])
    assert done["state"] == "done" and done["condition"] == 0 and done["condition_text"] == "no error", done
    assert done["bytes"] == done["size"] == 400_000 and done["ended"] >= done["started"]
    assert (board(ground) / "files/big.bin").read_bytes() == data
    mid = [s for s in seen if 0 < s["bytes"] < s["size"]]
    assert mid, "no progress seen while it ran: %s" % seen[-3:]
    assert all(s["resent"] >= 0 and s["elapsed_s"] >= 0 for s in mid)
    assert any(s["eta_s"] is not None for s in mid)
    assert not Path(done["local"]).exists()  # delivered: nothing left to resume
    listed = {x["id"]: x for x in ground.client("viewer").transfers()}
    assert listed[t["id"]]["state"] == "done" and listed[t["id"]]["remote"] == "files/big.bin"


def test_a_downlink_arrives_in_the_downloads_folder(ground: Ground) -> None:
    (board(ground) / "files").mkdir(exist_ok=True)
    data = os.urandom(50_000)
    (board(ground) / "files/log.bin").write_bytes(data)
    gs = ground.client("operator")
    out = gs.get_file("files/log.bin")
    assert out["command"]["status"] == "completed", out
    assert out["command"]["name"] == "file_downlink" and out["command"]["user"] == "operator"

    def arrived() -> dict | None:
        got = [t for t in gs.transfers() if t["direction"] == "down" and t["remote"] == "files/log.bin"]
        return got[0] if got and got[0]["state"] != "running" else None

    t = until(arrived, 30, "the downlink to end")
    assert t["state"] == "done" and t["bytes"] == t["size"] == 50_000 and t["user"] == "operator", t
    assert (downloads(ground) / "files/log.bin").read_bytes() == data
    # the board refuses a file it does not have: the command fails, nothing comes down
    out = gs.get_file("files/none.bin")
    assert out["command"]["status"] == "failed" and "no file" in str(out["command"]["failure"])


def test_cancel_and_resume_an_uplink(ground: Ground) -> None:
    gs = ground.client("operator")
    data = os.urandom(900_000)
    t = gs.put_file(data, "files/c.bin")
    with pytest.raises(ClientError, match="still runs: the board takes one uplink at a time") as exc:
        gs.put_file(b"x", "files/other.bin")
    assert exc.value.status == 409
    until(lambda: gs.transfer(t["id"])["bytes"] > 5000, 30, "some bytes up")
    c = gs.cancel_transfer(t["id"])
    assert c["state"] == "cancelled" and c["condition_text"] == "cancel request received", c
    done, _ = follow(gs, t["id"])
    assert done["state"] == "cancelled" and 5000 < done["bytes"] < 900_000 and done["ended"] is not None
    assert Path(done["local"]).is_file()  # kept for a resume
    with pytest.raises(ClientError, match="is not running") as exc:
        gs.cancel_transfer(t["id"])
    assert exc.value.status == 409

    r = gs.resume_transfer(t["id"])
    assert r["id"] != t["id"] and r["resumed_from"] == t["id"] and r["remote"] == "files/c.bin"
    done, _ = follow(gs, r["id"], 60)
    assert done["state"] == "done" and done["bytes"] == 900_000, done
    assert (board(ground) / "files/c.bin").read_bytes() == data
    assert not [p for p in board(ground).rglob("*") if p.suffix == ".part"]
    with pytest.raises(ClientError, match="only a failed, cancelled or interrupted uplink") as exc:
        gs.resume_transfer(r["id"])
    assert exc.value.status == 409


def test_roles_and_bad_requests_are_refused(ground: Ground) -> None:
    viewer, operator, admin = (ground.client(r) for r in ("viewer", "operator", "admin"))
    assert isinstance(viewer.transfers(), list)

    def refused(call, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(ClientError, match=words) as exc:
            call()
        assert exc.value.status == status, exc.value

    refused(lambda: viewer.put_file(b"x", "files/v.bin"), 403, "role viewer")
    refused(lambda: viewer.get_file("files/log.bin"), 403, "role viewer")
    refused(lambda: viewer.cancel_transfer(1), 403, "role viewer")
    refused(lambda: viewer.resume_transfer(1), 403, "role viewer")
    refused(lambda: operator.put_file(b"x", "slot_a/app.py"), 403, "needs admin")
    refused(lambda: operator.put_file(b"x", "lib/evil.py"), 400, "under files/, slot_a/ or slot_b/")
    refused(lambda: operator.put_file(b"x", "files/../boot.py"), 400, r"\.\. parts")
    refused(lambda: operator.put_file(b"x", "files/"), 400, "no empty")
    refused(lambda: operator.get_file("lib/x.py"), 400, "must be under files/")
    refused(lambda: operator.put_file(b"x", "files/x", spacecraft="sat9"), 404, "no spacecraft 'sat9'")
    refused(lambda: operator.transfer(999_999), 404, "no transfer 999999")
    refused(lambda: operator.cancel_transfer(999_999), 404, "no transfer 999999")
    refused(lambda: admin.put_file(bytes(MAX_UPLOAD + 1), "files/huge.bin"), 413, "over 1048576 bytes")
    r = httpx.get(
        ground.url + "/api/v1/transfers?limit=0",
        headers={"Authorization": "Bearer " + ground.tokens["viewer"]},
    )
    assert r.status_code == 400 and "limit" in r.json()["message"]
    assert not (board(ground) / "lib").exists() and not (board(ground) / "files/v.bin").exists()


def test_the_cli_puts_with_progress_lines_lists_and_refuses(ground: Ground, tmp_path: Path) -> None:
    env = {"CUBESAT_SERVER": ground.url, "CUBESAT_TOKEN": ground.tokens["operator"]}
    data = os.urandom(300_000)
    (tmp_path / "exp.cfg").write_bytes(data)
    run = CliRunner().invoke
    r = run(
        cli.main,
        ["ground", "transfers", "put", str(tmp_path / "exp.cfg"), "files/exp.cfg", "--interval", "0.02"],
        env=env,
    )
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert " B (" in lines[0] and "re-sent" in lines[0], lines
    assert re.search(r": done in [\d.]+ s, 300000/300000 B, \d+ re-sent$", lines[-1]), lines
    assert (board(ground) / "files/exp.cfg").read_bytes() == data
    r = run(cli.main, ["ground", "transfers", "list", "--limit", "3"], env=env)
    assert r.exit_code == 0 and "up   files/exp.cfg: done" in r.output, r.output

    (board(ground) / "files/down.txt").write_text("hello from orbit\n")
    r = run(cli.main, ["ground", "transfers", "get", "files/down.txt", "--interval", "0.02"], env=env)
    assert r.exit_code == 0 and "down files/down.txt: done" in r.output, r.output
    assert (downloads(ground) / "files/down.txt").read_text() == "hello from orbit\n"
    r = run(cli.main, ["ground", "transfers", "get", "files/nothing.txt"], env=env)
    assert r.exit_code == 1 and "no file files/nothing.txt" in r.output, r.output

    r = run(cli.main, ["ground", "transfers", "cancel", "999999"], env=env)
    assert r.exit_code == 2 and "no transfer 999999" in r.output, r.output
    r = run(cli.main, ["ground", "transfers", "resume", "999999"], env=env)
    assert r.exit_code == 2 and "no transfer 999999" in r.output, r.output
    viewer = {**env, "CUBESAT_TOKEN": ground.tokens["viewer"]}
    r = run(cli.main, ["ground", "transfers", "put", str(tmp_path / "exp.cfg"), "files/v.cfg"], env=viewer)
    assert r.exit_code == 2 and "role viewer" in r.output, r.output
    r = run(cli.main, ["ground", "transfers", "put", str(tmp_path / "exp.cfg"), "slot_b/x.py"], env=env)
    assert r.exit_code == 2 and "needs admin" in r.output, r.output
    r = run(cli.main, ["ground", "transfers", "list", "--spacecraft", "sat9"], env=env)
    assert r.exit_code == 2 and "no spacecraft 'sat9'" in r.output, r.output


def test_outcomes_are_listed_from_the_archive_after_a_restart(tmp_path: Path) -> None:
    g, stop = start_ground(tmp_path, own_flash=True)
    try:
        link = g.server.links["sat1"]
        until(lambda: link.term.fop._initialized, 15, "COP-1 Set V(R) confirmed")
        gs = g.client("operator")
        ok = gs.put_file(b"small file\n", "files/small.txt")
        follow(gs, ok["id"])
        big = gs.put_file(os.urandom(900_000), "files/big.bin")
        until(lambda: gs.transfer(big["id"])["bytes"] > 5000, 30, "some bytes up")
        gs.cancel_transfer(big["id"])
        before = {t["id"]: t for t in gs.transfers()}
    finally:
        stop()
    gs2 = GroundServer(parse_config(g.config_data, tmp_path))  # the twin is gone: the link stays down
    url = gs2.start()
    try:
        rows = {t["id"]: t for t in GroundClient(url, g.tokens["viewer"], "sat1").transfers()}
        assert rows[ok["id"]]["state"] == "done" and rows[ok["id"]]["bytes"] == 11
        assert rows[big["id"]]["state"] == "cancelled" and rows[big["id"]]["condition"] == 15
        for tid in (ok["id"], big["id"]):
            keep = (
                "direction",
                "transaction",
                "remote",
                "size",
                "bytes",
                "resent",
                "state",
                "condition",
                "user",
            )
            assert {k: rows[tid][k] for k in keep} == {k: before[tid][k] for k in keep}
    finally:
        gs2.stop()
