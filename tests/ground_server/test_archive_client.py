"""`cubesat archive params|query` as clients of a running ground server (same discovery as
`send --server`), the same samples as reading its archive file, and one-line errors. (`plot`
reads through the same calls; it is left out here: matplotlib alone takes 2 s to import.)"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from server_harness import Ground, until

from ground import cli
from ground.server.errors import ClientError


def _run(args: list[str], env: dict) -> tuple[int, str]:
    r = CliRunner().invoke(cli.main, args, env=env)
    return r.exit_code, r.output


def _archived(gs, name: str) -> int:
    """Samples of `name` the server has archived so far (0 while it knows no such parameter yet)."""
    try:
        return len(gs.samples(name)[0])
    except ClientError as exc:
        if exc.status == 404:  # no housekeeping archived yet: the twin's first report is on its way
            return 0
        raise


def test_archive_reads_through_the_server_what_the_file_holds(ground: Ground) -> None:
    env = {"CUBESAT_SERVER": ground.url, "CUBESAT_TOKEN": ground.tokens["viewer"]}
    gs = ground.client("viewer")
    until(lambda: _archived(gs, "batt_v") >= 3, 30, "three archived batt_v samples")
    code, out = _run(["archive", "params"], env)
    assert code == 0 and "batt_v" in out.split(), out
    t_end = gs.samples("batt_v")[0][2]  # a fixed range: the server goes on archiving
    query = ["archive", "query", "--param", "batt_v", "--to", repr(t_end), "--format", "json"]
    code, out = _run([*query, "--scid", "42"], env)
    assert code == 0, out
    through_server = json.loads(out)["samples"]
    assert len(through_server) == 2
    code, out = _run([*query, "--db", str(ground.archive)], env)  # --db: the file, read directly
    assert code == 0 and json.loads(out)["samples"] == through_server, out


def test_archive_client_errors_are_one_line(ground: Ground) -> None:
    env = {"CUBESAT_SERVER": ground.url, "CUBESAT_TOKEN": ground.tokens["viewer"]}
    for args, extra, said in [
        (["query", "--param", "nope"], {}, "unknown parameter 'nope'"),
        (["params", "--scid", "9"], {}, "no spacecraft with SCID 9"),
        (["params"], {"CUBESAT_TOKEN": "viewer.forged"}, "token"),
        (["params"], {"CUBESAT_SERVER": "http://127.0.0.1:1"}, "cannot reach the ground server"),
    ]:
        code, out = _run(["archive", *args], {**env, **extra})
        assert code == 1 and said in out and len(out.strip().splitlines()) == 1, (args, out)
    gs = ground.client("viewer")
    bad = [
        ("spacecraft=sat1", 400),
        ("spacecraft=sat1&parameter=batt_v&from=5&to=1", 400),
        ("spacecraft=sat9&parameter=batt_v", 404),
        ("spacecraft=sat1&parameter=x", 404),
    ]
    for query, status in bad:
        with pytest.raises(ClientError) as err:
            gs.request("GET", "/api/v1/archive/samples?" + query)
        assert err.value.status == status and "HTTP %d" % status in str(err.value), query
