"""The browser fixture skips without Chromium on a workstation and fails on CI."""

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
