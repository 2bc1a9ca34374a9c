"""The Yamcs front end's config, sockets and CLI, without a Yamcs: bad values get one clear error,
a busy port is named, Yamcs' telecommands are taken from UDP and checked before they go up."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from ground.cli import main
from ground.dictionary import build_tc
from ground.server.config import YamcsConfig, parse_config
from ground.server.errors import ConfigError
from ground.server.yamcs_front import YamcsFrontEnd

CRAFT = {"name": "sat1", "scid": 42, "link": {"type": "tcp", "address": "127.0.0.1:1"}, "insecure": True}


def _yamcs(table: dict) -> YamcsConfig | None:
    return parse_config({"spacecraft": [{**CRAFT, "yamcs": table}]}).spacecraft[0].yamcs


def test_the_yamcs_table_is_parsed_and_checked() -> None:
    got = _yamcs({"tm_frames": "127.0.0.1:10015", "tc_port": 10025})
    assert got == YamcsConfig("127.0.0.1", 10015, 10025, "operator")
    assert parse_config({"spacecraft": [CRAFT]}).spacecraft[0].yamcs is None
    bad = [
        ({"tm_frames": "10015", "tc_port": 1}, "tm_frames must be host:port"),
        ({"tm_frames": "h:99999", "tc_port": 1}, "tm_frames must be host:port"),
        ({"tm_frames": "h:1", "tc_port": 0}, "tc_port must be 1..65535"),
        ({"tm_frames": "h:1", "tc_port": 1, "role": "viewer"}, "role must be operator or admin"),
        ({"tm_frames": "h:1", "tc_port": 1, "port": 2}, "unknown key(s) port"),
        ({"tc_port": 1}, "missing 'tm_frames'"),
    ]
    for table, message in bad:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            _yamcs(table)


def test_a_busy_tc_port_is_named() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match="yamcs.tc_port %d: cannot listen" % port):
            YamcsFrontEnd(YamcsConfig("127.0.0.1", 1, port))


def test_frames_go_out_and_telecommands_come_in() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as yamcs_tm:
        yamcs_tm.bind(("127.0.0.1", 0))
        yamcs_tm.settimeout(5)
        front = YamcsFrontEnd(YamcsConfig("127.0.0.1", yamcs_tm.getsockname()[1], 0))
        try:
            front.forward(b"\x01" * 1115)
            assert yamcs_tm.recv(2048) == b"\x01" * 1115 and front.frames_out == 1
            tc = build_tc("ping", {}, 0x10, 7, "operator").pack()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as yamcs_tc:
                for _ in range(20):  # more than one cycle takes
                    yamcs_tc.sendto(tc, ("127.0.0.1", front.tc_port))
            got: list[bytes] = []
            while len(got) < 20:  # loopback delivers at once; each poll takes at most 16
                batch = front.poll()
                assert len(batch) <= 16
                got += batch
            assert got == [tc] * 20 and front.poll() == []
        finally:
            front.close()


def test_cubesat_dict_yamcs_writes_an_instance(tmp_path: Path) -> None:
    out = CliRunner().invoke(
        main, ["dict", "yamcs", str(tmp_path / "y"), "--tc-port", "10030", "--scid", "7"]
    )
    assert out.exit_code == 0, out.output
    assert 'yamcs = { tm_frames = "127.0.0.1:10015", tc_port = 10030 }' in out.output
    instance = (tmp_path / "y" / "etc" / "yamcs.cubesat.yaml").read_text()
    assert "spacecraftId: 7" in instance and "port: 10030" in instance and "frameLength: 1115" in instance
    assert (tmp_path / "y" / "mdb" / "cubesat.xml").read_text().startswith("<?xml")
    (tmp_path / "file").write_text("")
    bad = CliRunner().invoke(main, ["dict", "yamcs", str(tmp_path / "file" / "y")])
    assert bad.exit_code == 1 and bad.output.strip().startswith("Error: cannot write the Yamcs instance")
    assert "Traceback" not in bad.output


def test_the_server_checks_yamcs_telecommands_before_they_go_up(tmp_path: Path) -> None:
    """Garbage, a packet that is no dictionary command and one above the configured role are
    refused, counted and logged; a ping from the same port goes up and completes."""
    from server_harness import start_ground, until

    from protocols.pus import PusTc

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        tc_port = probe.getsockname()[1]
    yamcs = {"tm_frames": "127.0.0.1:9", "tc_port": tc_port, "role": "operator"}
    ground, stop = start_ground(tmp_path, craft_extra={"yamcs": yamcs})
    try:
        link = ground.server.links["sat1"]
        refused = [
            b"\x00\x01garbage",
            PusTc(99, 1, b"", apid=0x10, seq_count=1).pack(),
            build_tc("rekey", {"spi": 2, "wrapped_key": "00" * 32}, 0x10, 2, "admin", True).pack(),
        ]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as yamcs_tc:
            for data in refused:
                yamcs_tc.sendto(data, ("127.0.0.1", tc_port))
            until(lambda: link.yamcs.refused == 3, 10, "three refusals")
            yamcs_tc.sendto(build_tc("ping", {}, 0x10, 3, "operator").pack(), ("127.0.0.1", tc_port))

        def pinged() -> bool:
            rows = ground.server.store.commands(42, 0, 10)
            return any(
                c["user"] == "yamcs" and c["name"] == "ping" and c["status"] == "completed" for c in rows
            )

        until(pinged, 20, "the ping from Yamcs completed")
        log = ground.log.read_text()
        assert "telecommand from yamcs refused" in log and "is no dictionary command" in log
        assert "rekey is hazardous and needs role admin" in log
        assert link.stats()["yamcs"]["refused"] == 3
    finally:
        stop()


def test_a_conventional_basis_spacecraft_is_decoded_when_the_config_says_so() -> None:
    """The front end takes either RS basis (`rs_basis`): a conventional-basis CADU stream, which
    reedsolo encodes independently, gives its frames only to a conventional-basis Downlink."""
    import reedsolo

    from ground.downlink import Downlink
    from protocols import randomizer, sync, tmframe

    rsc = reedsolo.RSCodec(nsym=32, nsize=255, fcr=112, prim=0x187, generator=0xAD, c_exp=8)  # as test_rs_ref
    frames = [tmframe.pack(1115, 42, 0, i, i, 0x7FE, bytes([i]) * 1103, ocf=bytes(4)) for i in range(4)]
    stream = b""
    for frame in frames:
        rows = [bytes(rsc.encode(frame[j::5])) for j in range(5)]  # interleave I=5, conventional
        block = bytes(rows[j % 5][j // 5] for j in range(255 * 5))
        stream += sync.ASM + randomizer.randomize(block)
    cfg = parse_config({"spacecraft": [{**CRAFT, "rs_basis": "conventional"}]}).spacecraft[0]
    assert cfg.dual_basis is False
    conventional, dual = Downlink(42, dual_basis=cfg.dual_basis), Downlink(42)
    sink: list[bytes] = []
    conventional.frame_sink = sink.append
    list(conventional.feed(stream))
    list(dual.feed(stream))
    assert sink == frames and conventional.dec.uncorrectable == 0
    assert dual.frames == 0 and dual.dec.uncorrectable == 4
    with pytest.raises(ConfigError, match="rs_basis must be dual or conventional"):
        parse_config({"spacecraft": [{**CRAFT, "rs_basis": "berlekamp"}]})


def test_cop1_timer_and_playback_start_are_read_and_checked() -> None:
    craft = {**CRAFT, "t1_ms": 12000, "playback": {"rate": 10, "from_s": 0}}
    cfg = parse_config({"spacecraft": [craft]}).spacecraft[0]
    assert cfg.t1_ms == 12000 and cfg.playback is not None and cfg.playback.from_s == 0.0
    assert parse_config({"spacecraft": [CRAFT]}).spacecraft[0].t1_ms == 4000
    with pytest.raises(ConfigError, match=r"t1_ms must be 100\.\.120000"):
        parse_config({"spacecraft": [{**CRAFT, "t1_ms": 5}]})
    with pytest.raises(ConfigError, match="from_s must be an onboard time in seconds"):
        parse_config({"spacecraft": [{**CRAFT, "playback": {"from_s": -1}}]})
