"""Command encoding from the flight dictionary, roles, confirmation, limits, XTCE, `cubesat dict`."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from flight.dictionary import COMMANDS, TELEMETRY
from ground import cli
from ground.dictionary import (
    BadCommandError,
    PermissionDenied,
    build_tc,
    command,
    encode_args,
    limit_state,
    to_xtce,
)
from protocols.pus import PusTc

NS = {"x": "http://www.omg.org/spec/XTCE/20180204"}


def test_encoding_by_hand() -> None:
    assert encode_args(command("ping"), {}) == b""
    assert encode_args(command("mode_set"), {"mode": "NOMINAL"}) == b"\x00\x01\x03"
    assert (
        encode_args(command("thruster_fire"), {"thruster": 2, "duration_ms": 300}) == b"\x00\x0b\x02\x01\x2c"
    )
    assert encode_args(command("param_set"), {"param_id": 7, "value": 1.5}) == b"\x00\x07" + struct.pack(
        ">f", 1.5
    )


def test_range_and_type_errors() -> None:
    with pytest.raises(BadCommandError, match=r"out of range 1\.\.500"):
        encode_args(command("thruster_fire"), {"thruster": 1, "duration_ms": 501})
    with pytest.raises(BadCommandError, match="must be one of"):
        encode_args(command("mode_set"), {"mode": "PARTY"})
    with pytest.raises(BadCommandError, match="missing argument"):
        encode_args(command("hk_interval"), {"sid": 1})
    with pytest.raises(BadCommandError, match="unexpected"):
        encode_args(command("ping"), {"x": 1})
    with pytest.raises(BadCommandError, match="must be a number"):
        encode_args(command("param_get"), {"param_id": "seven"})
    with pytest.raises(BadCommandError, match="32 bytes"):
        encode_args(command("rekey"), {"spi": 1, "wrapped_key": "00" * 31})
    with pytest.raises(BadCommandError, match="unknown command"):
        command("self_destruct")


def test_roles_and_confirmation() -> None:
    with pytest.raises(PermissionDenied, match="viewer"):
        build_tc("ping", {}, 0x10, 0, role="viewer")
    with pytest.raises(PermissionDenied, match="--confirm"):
        build_tc("thruster_arm", {}, 0x10, 0, role="operator")
    tc = build_tc("thruster_arm", {}, 0x10, 5, role="operator", confirmed=True)
    assert PusTc.unpack(tc.pack()).app_data == b"\x00\x0a"
    with pytest.raises(PermissionDenied, match="needs role admin"):
        build_tc("rekey", {"spi": 1, "wrapped_key": bytes(32)}, 0x10, 0, role="operator", confirmed=True)
    assert build_tc("rekey", {"spi": 1, "wrapped_key": bytes(32)}, 0x10, 0, role="admin", confirmed=True)


def test_limits() -> None:
    assert limit_state("batt_v", 7.4) == "ok"
    assert limit_state("batt_v", 6.4) == "yellow"
    assert limit_state("batt_v", 6.0) == "red"
    assert limit_state("rate_dps", 12.0) == "red"


def test_xtce_has_every_parameter_and_command() -> None:
    root = ET.fromstring(to_xtce())
    params = {p.get("name") for p in root.iterfind(".//x:ParameterSet/x:Parameter", NS)}
    assert params >= set(TELEMETRY)
    cmds = {c.get("name") for c in root.iterfind(".//x:MetaCommandSet/x:MetaCommand", NS)}
    assert cmds == set(COMMANDS) | {"pus_tc"}  # pus_tc: the abstract TC header
    fire = root.find(".//x:MetaCommand[@name='thruster_fire']", NS)
    assert fire.find("x:DefaultSignificance", NS).get("consequenceLevel") == "critical"
    rng = root.find(".//x:IntegerArgumentType[@name='thruster_fire_duration_ms_type']/x:ValidRange", NS)
    assert (rng.get("minInclusive"), rng.get("maxInclusive")) == ("1", "500")
    crit = root.find(".//x:FloatParameterType[@name='batt_v_type']//x:CriticalRange", NS)
    assert crit.get("minInclusive") == "6.2"


def test_cli_dict(tmp_path) -> None:
    r = CliRunner().invoke(cli.main, ["dict", "commands"], env={"COLUMNS": "220"})
    assert r.exit_code == 0 and "thruster_fire" in r.output and "1..500" in r.output
    r = CliRunner().invoke(cli.main, ["dict", "telemetry"])
    assert r.exit_code == 0 and "batt_v" in r.output
    out = tmp_path / "d.xml"
    r = CliRunner().invoke(cli.main, ["dict", "xtce", "-o", str(out)])
    assert r.exit_code == 0 and ET.parse(out).getroot().get("name") == "cubesat"


def test_time_tagged_command_written_as_on_the_command_line() -> None:
    tc = build_tc(
        "schedule_insert",
        {"release_s": "5000", "command": "param_set param_id=11 value=120"},
        0x10,
        7,
        "operator",
    )
    inner = PusTc.unpack(tc.app_data[4:])
    assert struct.unpack(">I", tc.app_data[:4])[0] == 5000
    assert (inner.service, inner.subtype, inner.seq_count) == (20, 3, 8)
    assert inner.app_data == struct.pack(">Hf", 11, 120.0)
    with pytest.raises(PermissionDenied):  # a hazardous inner command needs --confirm like any other
        build_tc("schedule_insert", {"release_s": 1, "command": "thruster_arm"}, 0x10, 1, "operator")
    with pytest.raises(BadCommandError, match="key=value"):
        build_tc("schedule_insert", {"release_s": 1, "command": "param_set 11"}, 0x10, 1, "operator")
