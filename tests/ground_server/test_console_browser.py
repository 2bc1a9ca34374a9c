"""The web console in a real browser: Debian's headless Chromium (installed by ./dev.sh setup)
driven through ChromeDriver, against a ground server that owns a twin on a pty.

It logs in, watches a value change, sends ping and sees its three stages and its reply, has an
out-of-range param_set refused by the form (nothing sent), sees HTML in a refusal shown as text,
sends a hazardous command as a viewer (refused by the server) and as an operator with
confirmation (completed), and opens a plot with data points. Screenshots: out/console/*.png.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select
from server_harness import Ground
from server_harness import until as _until

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "console"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    assert CHROMIUM and CHROMEDRIVER, "chromium and chromedriver: ./dev.sh setup installs them"
    opts = Options()
    opts.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium")
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-quic", "--window-size=1280,1000", "--user-data-dir=%s" % profile,
    ):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def _text(d: WebDriver, css: str) -> str:
    """The element's text, read in one step in the page (the tables are redrawn as data comes)."""
    got = d.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", css)
    return str(got)


def _login(d: WebDriver, ground: Ground, role: str) -> None:
    d.delete_all_cookies()
    d.get(ground.url + "/")
    _until(lambda: d.find_element(By.ID, "login").is_displayed(), 20, "the login form")
    d.find_element(By.ID, "token").send_keys(ground.tokens[role])
    d.find_element(By.CSS_SELECTOR, "#login-form button").click()
    _until(lambda: d.find_element(By.ID, "app").is_displayed(), 20, "the console after login")
    assert _text(d, "#who") == "%s (%s)" % (role, role)


def _tab(d: WebDriver, page: str) -> None:
    d.find_element(By.CSS_SELECTOR, "#tabs button[data-page=%s]" % page).click()


def _command(d: WebDriver, name: str, args: dict[str, str], confirm: bool = False) -> None:
    _tab(d, "commands")
    Select(d.find_element(By.ID, "cmd-name")).select_by_value(name)
    for key, value in args.items():
        field = d.find_element(By.ID, "arg-" + key)
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:
            field.clear()
            field.send_keys(value)
    if confirm:
        d.find_element(By.ID, "cmd-confirm").click()
    d.find_element(By.ID, "cmd-send").click()


def _stages(d: WebDriver) -> list[str]:
    js = "return [...document.querySelectorAll('#cmd-stages li')].map((li) => li.dataset.stage)"
    return list(d.execute_script(js))


def test_operator_session_in_chromium(browser: WebDriver, ground: Ground) -> None:
    d = browser
    _login(d, ground, "operator")
    # live telemetry: onboard time changes on the page without a reload
    cell = "#tm-table td[data-param=obt_s]"
    first = _until(lambda: _text(d, cell), 20, "obt_s on the page")
    _until(lambda: _text(d, cell) != first, 20, "obt_s to change")
    assert _text(d, "#tm-table tr[data-param=batt_v] td.limit-ok") == "ok"
    d.save_screenshot(str(SHOTS / "telemetry.png"))
    # ping: all three stages, and its decoded reply
    _command(d, "ping", {})
    _until(lambda: _stages(d)[-1:] == ["completed"], 30, "ping completed")
    assert _stages(d) == ["queued", "accepted", "started", "completed"]
    assert '"pong": true' in _text(d, "#cmd-reply")
    d.save_screenshot(str(SHOTS / "commands-ping.png"))
    # out of range for the chosen parameter (comms.beacon_s: 10..3600 s): the form refuses it
    sent = len(ground.client("operator").history())
    _command(d, "param_set", {"param_id": "11", "value": "5000"})
    assert _text(d, "#cmd-error") == "not sent: value must be 10 .. 3600, got 5000"
    assert len(ground.client("operator").history()) == sent
    # HTML in what the server says back is shown as text, never made into elements
    _command(d, "schedule_insert", {"release_s": "10", "command": "<img src=x onerror=alert(1)>"})
    _until(lambda: "refused by the server" in _text(d, "#cmd-error"), 20, "the refusal")
    assert "<img" in _text(d, "#cmd-error") and not d.execute_script("return document.querySelector('img')")
    # a hazardous command with confirmation completes for an operator
    _command(d, "mode_override", {"mode": "SAFE"}, confirm=True)
    _until(lambda: _stages(d)[-1:] == ["completed"], 30, "mode_override completed")
    d.save_screenshot(str(SHOTS / "commands-hazardous.png"))
    # events and history
    _tab(d, "events")
    _until(lambda: "MODE_CHANGE" in _text(d, "#ev-table"), 20, "the mode change event")
    d.save_screenshot(str(SHOTS / "events.png"))
    _tab(d, "history")
    _until(lambda: "mode_override" in _text(d, "#hist-table"), 20, "mode_override in the history")
    assert "operator (operator)" in _text(d, "#hist-table")
    # a plot from the archive, with its points
    _tab(d, "plots")
    _until(lambda: d.find_elements(By.CSS_SELECTOR, "#plot-param option[value=batt_v]"), 20, "parameters")
    Select(d.find_element(By.ID, "plot-param")).select_by_value("batt_v")
    d.find_element(By.ID, "plot-go").click()
    js = "return window.consolePlot && window.consolePlot.data[1].length"
    points = _until(lambda: d.execute_script(js), 20, "a plot")
    assert int(points) > 0  # type: ignore[call-overload]
    d.save_screenshot(str(SHOTS / "plots.png"))
    _tab(d, "link")
    _until(lambda: "cop1.acknowledged" in _text(d, "#link-table"), 20, "link counters")
    link = _text(d, "#link-table")
    assert "sync.locked\ttrue" in link and "clcw.lockout\t0" in link and "rs_uncorrectable\t0" in link, link
    d.save_screenshot(str(SHOTS / "link.png"))


def test_viewer_cannot_command(browser: WebDriver, ground: Ground) -> None:
    d = browser
    _login(d, ground, "viewer")
    before = ground.executed()
    _command(d, "mode_override", {"mode": "SAFE"}, confirm=True)
    _until(lambda: "refused by the server" in _text(d, "#cmd-error"), 20, "the refusal")
    assert "viewer" in _text(d, "#cmd-error")
    d.save_screenshot(str(SHOTS / "viewer-refused.png"))
    assert ground.executed() == before


def test_html_in_event_text_is_shown_as_text(browser: WebDriver, ground: Ground) -> None:
    # an event whose text carries markup (a ground-side name, a Yamcs-side text, a future
    # event with a string argument): archived, published live, and shown as text on the page
    d = browser
    _login(d, ground, "operator")
    _tab(d, "events")
    _until(lambda: _text(d, "#live-state") == "live", 20, "the live stream")
    evil = "<img src=x onerror=\"document.title='pwned'\">PAYLOAD_NOTE"
    server = ground.server
    now = time.time()
    pid = server.store.add_packet(42, now, 1.0, (16, 1, 5, 1), b"", {"event": "NOTE", "text": evil})
    server.store.add_event(42, now, 1.0, 1, "NOTE", {}, evil, pid)
    item = {
        "kind": "tm", "id": pid, "scid": 42, "spacecraft": "sat1", "t_ground": now, "t_onboard": 1.0,
        "apid": 16, "seq": 1, "service": 5, "subtype": 1, "data": {"event": "NOTE", "text": evil},
    }  # fmt: skip
    server.hub.publish(item)
    _until(lambda: "PAYLOAD_NOTE" in _text(d, "#ev-table"), 20, "the event on the page")
    assert evil in _text(d, "#ev-table")
    assert not d.execute_script("return document.querySelector('#ev-table img')")
    assert d.title == "cubesat console"
    d.save_screenshot(str(SHOTS / "events-html-as-text.png"))
