"""The browser fixture skips without Chromium on a workstation and fails on CI, and it is the
one Playwright of a test run."""

import re
from pathlib import Path

import pytest

from tests.browser import browser_unavailable


def test_it_skips_without_chromium_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match="/usr/bin/chromium is missing"):
        browser_unavailable("/usr/bin/chromium is missing")


def test_it_fails_without_chromium_on_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="/usr/bin/chromium is missing"):
        browser_unavailable("/usr/bin/chromium is missing")


def test_it_is_the_only_place_that_starts_playwright():
    # A second sync_playwright() in the thread that runs the shared one fails, so a test that
    # starts its own passes or fails depending on which browser test ran before it.
    tests_dir = Path(__file__).resolve().parents[1]
    starters = [
        path.relative_to(tests_dir).as_posix()
        for path in sorted(tests_dir.rglob("*.py"))
        if path != Path(__file__).resolve()
        and re.search(r"sync_playwright|async_playwright|chromium\.launch", path.read_text())
    ]

    assert starters == ["browser.py"]
