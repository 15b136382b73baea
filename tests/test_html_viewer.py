"""The HTML counterexample viewer, driven in a real headless Chromium.

Needs Debian's chromium and chromium-driver (CI installs them in .ci/run);
skipped, with the reason, where they are absent.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checker.html.viewer import states_of
from checker.trace.jsonio import load
from tests.conftest import ROOT
from tests.test_doc import cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
TRACE = ROOT / "counterexamples/zsmalloc/map_vs_migrate.map_vs_migrate_notrypin.json"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("headless browser test: chromium and chromedriver are not installed "
                    "(apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="migcheck-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,900",
                 f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_states_are_rebuilt_backwards_from_the_final_state():
    trace = load(TRACE)
    states = states_of(trace)
    assert len(states) == len(trace.steps) + 1
    assert states[0]["handles[0].val.pin"] == "false"  # before pin_tag()
    assert states[1]["handles[0].val.pin"] == "true"
    assert states[0]["zspages[0].lock.writer"] == "none"


def test_viewer_steps_with_the_keyboard_and_marks_the_line(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page = tmp_path / "cx.html"
    r = cli("replay", str(TRACE), "--html", str(page), "--quiet")
    assert r.returncode == 0, r.stdout + r.stderr
    trace = load(TRACE)
    browser.get(page.as_uri())
    body = browser.find_element(By.TAG_NAME, "body")
    assert body.get_attribute("data-step") == "0"
    assert "use_after_free" in browser.find_element(By.ID, "msg").text
    lanes = browser.find_elements(By.CSS_SELECTOR, "#lanes th")
    assert [th.text for th in lanes[1:]] == [f"T{t.id} {t.label}" for t in trace.threads]

    def current_line() -> tuple[str, str]:
        el = browser.find_element(By.CSS_SELECTOR, "#source .current-line")
        return el.get_attribute("data-line"), el.text

    for k in range(1, 5):
        body.send_keys(Keys.ARROW_RIGHT)
        assert body.get_attribute("data-step") == str(k)
        line, text = current_line()
        assert line == str(trace.steps[k - 1].line)
        assert trace.steps[k - 1].text in text
    # Step 4 is migrate_page's lock_page(): the PG_locked change is highlighted.
    changed = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#state tr.changed")]
    assert any(c.startswith("pages[0].flags.PG_locked") and c.endswith("true") for c in changed)
    current = browser.find_element(By.CSS_SELECTOR, "tr.step.current")
    assert current.get_attribute("data-step") == "4"
    body.send_keys(Keys.ARROW_LEFT)
    assert body.get_attribute("data-step") == "3"
    assert current_line()[0] == str(trace.steps[2].line)
    body.send_keys(Keys.END)
    n = len(trace.steps)
    assert body.get_attribute("data-step") == str(n)
    assert current_line()[0] == str(trace.steps[-1].line)
    fault = browser.find_element(By.CSS_SELECTOR, "tr.step.current .fault").text
    assert "after it was freed" in fault
    body.send_keys(Keys.HOME)
    assert body.get_attribute("data-step") == "0"
    assert browser.find_elements(By.CSS_SELECTOR, "#source .current-line") == []
    assert Path(page).read_text().count("<script") == 2  # data and code, nothing loaded
