"""`cubesat ground --config` as an operator runs it, `send`/`watch --server`, and config checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner
from server_harness import Ground

from ground import cli
from ground.server.client import GroundClient
from ground.server.config import parse_config
from ground.server.errors import ConfigError
from ground.twin import TwinServer


def test_send_through_the_server_prints_reply_and_keeps_exit_codes(ground: Ground) -> None:
    env = {"CUBESAT_TOKEN": ground.tokens["operator"], "CUBESAT_SERVER": ground.url}
    r = CliRunner().invoke(cli.main, ["send", "param_get", "param_id=comms.beacon_s"], env=env)
    assert r.exit_code == 0, r.output
    assert "accepted, started, completed" in r.output and "user operator" in r.output
    assert "reply TM(20,2): comms.beacon_s (11) = " in r.output
    r = CliRunner().invoke(cli.main, ["send", "store_summary", "store=1"], env=env)
    assert r.exit_code == 0 and "reply TM(15,13): store hk (1): " in r.output and " packets (0.." in r.output
    r = CliRunner().invoke(cli.main, ["send", "mode_set", "mode=NOMINAL"], env=env)
    assert r.exit_code == 3 and "WRONG_MODE" in r.output and "SAFE -> NOMINAL" in r.output, r.output
    r = CliRunner().invoke(cli.main, ["send", "param_get", "param_id=70000"], env=env)
    assert r.exit_code == 2 and "out of range" in r.output
    r = CliRunner().invoke(cli.main, ["send", "ping"], env={**env, "CUBESAT_TOKEN": ground.tokens["viewer"]})
    assert r.exit_code == 2 and "viewer" in r.output
    r = CliRunner().invoke(cli.main, ["send", "ping"], env={**env, "CUBESAT_TOKEN": "operator.forged"})
    assert r.exit_code == 2 and "token refused" in r.output
    r = CliRunner().invoke(cli.main, ["send", "ping", "--server", "http://127.0.0.1:1"], env=env)
    assert r.exit_code == 1 and "cannot reach the ground server" in r.output
    r = CliRunner().invoke(cli.main, ["watch", "--seconds", "1"], env=env)
    assert r.exit_code == 0 and "TM(3,25)" in r.output and "batt_v=" in r.output, r.output


def test_client_config_table_names_the_server(ground: Ground, tmp_path) -> None:
    (tmp_path / "token").write_text(ground.tokens["operator"] + "\n")
    (tmp_path / "client.toml").write_text('[client]\nserver = "%s"\ntoken_file = "token"\n' % ground.url)
    r = CliRunner().invoke(cli.main, ["send", "ping", "--config", str(tmp_path / "client.toml")])
    assert r.exit_code == 0 and "reply TM(17,2): pong" in r.output, r.output


def test_cubesat_ground_runs_until_interrupted(tmp_path) -> None:
    twin = TwinServer(port=0, use_pty=True, speed=50.0)
    th = threading.Thread(target=twin.serve, daemon=True)
    th.start()
    r = CliRunner().invoke(cli.main, ["ground", "token", "ops"])
    token = r.output.split("token (shown once): ")[1].split()[0]
    hash_line = r.output.strip().splitlines()[-1].split(": ", 1)[1]
    (tmp_path / "ground.toml").write_text(
        '[server]\nport = 0\narchive = "a.sqlite"\nlog_file = "g.log"\n\n'
        '[[spacecraft]]\nname = "sat1"\nscid = 42\ninsecure = true\n'
        'link = { type = "pty", address = "%s" }\n\n'
        '[[users]]\nname = "ops"\nrole = "operator"\n%s\n' % (twin.pty_path, hash_line)
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from ground.cli import main; sys.exit(main())",
         "ground", "--config", str(tmp_path / "ground.toml")],
        stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )  # fmt: skip
    try:
        url = ""
        for line in proc.stderr:
            if "API at " in line:
                url = line.split("API at ")[1].split(";")[0]
                break
        assert url.startswith("http://127.0.0.1:")
        assert GroundClient(url, token).send("ping", timeout=15).ok
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        twin.stop()
        th.join(5)
        twin.close()
    logged = [json.loads(x) for x in (tmp_path / "g.log").read_text().splitlines()]
    assert {"link started", "command queued", "ground server stopped"} <= {x["msg"] for x in logged}
    assert token not in (tmp_path / "g.log").read_text()


def test_ground_needs_a_good_config(tmp_path) -> None:
    r = CliRunner().invoke(cli.main, ["ground"])
    assert r.exit_code == 2 and "--config" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\n")
    r = CliRunner().invoke(cli.main, ["ground", "--config", str(bad)])
    assert r.exit_code == 1 and "not valid TOML" in r.output
    bad.write_text("[server]\nport = 0\n")
    r = CliRunner().invoke(cli.main, ["ground", "--config", str(bad)])
    assert r.exit_code == 1 and "no [[spacecraft]]" in r.output


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"server": {"bind": "0.0.0.0"}}, "allow_remote"),
        ({"server": {"port": 70000}}, "port must be"),
        ({"server": {"colour": 1}}, "unknown key"),
        ({"spacecraft": [{"name": "a", "scid": 42, "link": {"type": "pty", "address": "x"}}]}, "insecure"),
        ({"spacecraft": [{"name": "a", "scid": 4200, "insecure": True}]}, "scid must be"),
        (
            {
                "spacecraft": [
                    {"name": "a", "scid": 1, "insecure": True, "link": {"type": "ham", "address": "x"}}
                ]
            },
            "type must be",
        ),
        ({"users": [{"name": "u", "role": "operator", "token_hash": "hunter2"}]}, "never a token"),
        ({"users": [{"name": "u", "role": "god", "token_hash": "scrypt$x"}]}, "role must be"),
        ({"server": {"port": "8700"}}, "port must be int"),
    ],
)
def test_config_errors_name_the_key(data: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_config(data)


def test_config_defaults_are_loopback_and_relative_paths(tmp_path) -> None:
    craft = {"name": "a", "scid": 1, "insecure": True, "link": {"type": "tcp", "address": "h:1"}}
    cfg = parse_config({"server": {"archive": "a.sqlite"}, "spacecraft": [craft]}, tmp_path)
    assert cfg.bind == "127.0.0.1" and cfg.port == 8700 and cfg.archive == str(tmp_path / "a.sqlite")
    assert cfg.spacecraft[0].link.url() == "tcp://h:1" and cfg.users == ()
