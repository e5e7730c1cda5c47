"""Headless Chromium for browser tests: Playwright's sync API driving Debian's chromium.

tests/conftest.py offers the fixtures (`browser`, `new_page`, `page`) to every test: never
start a Playwright of your own (a second `sync_playwright()` in the thread that already runs
one fails). Mark the test `@pytest.mark.browser` and `@pytest.mark.django_db(transaction=True)`
(the live server runs in another thread and must see committed data), and sign in with
`login(page, live_server, user)`. When a test fails, every page it opened is saved as a
screenshot under var/test-artifacts/.

Without /usr/bin/chromium the tests skip, except on CI (CI=true), where they fail.
Playwright's own browser downloads are never used.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "test-artifacts"
# What tests.factories.UserFactory sets for every user.
PASSWORD = "pw-for-tests"
TIMEOUT_MS = 15_000


def browser_unavailable(reason: str) -> None:
    """Skip, or on CI (CI=true) fail: a CI run must not pass without its browser tests."""
    message = f"Browser tests need Chromium: {reason}. Install it with `apt-get install chromium`."
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


# One Playwright (it owns this thread's event loop) and one Chromium per test session, even
# when a test module imports the fixture again: each import is a fixture of its own, and a
# second sync_playwright() in the same thread would fail.
_running: dict = {}


@pytest.fixture(scope="session")
def browser():
    if "chromium" in _running:
        yield _running["chromium"]
        return
    if not CHROMIUM.exists():
        browser_unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_unavailable("the playwright package is not installed")
    # Playwright's sync API keeps an event loop in this thread; Django would then take
    # every ORM call the test makes for one from async code and refuse it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            _running["chromium"] = chromium
            yield chromium
            chromium.close()
    finally:
        _running.pop("chromium", None)
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def csp_violations() -> list[str]:
    """What the Content-Security-Policy blocked on the test's pages: a test fails on any."""
    return []


@pytest.fixture
def new_page(browser, request, csp_violations):
    """Opens a page in a fresh browser context (its own cookies: one signed-in user)."""
    contexts, pages = [], []
    violations = csp_violations

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(CSP_LISTENER)
        context.on("console", lambda message: _note_csp_violation(message, violations))
        contexts.append(context)
        pages.append(context.new_page())
        return pages[-1]

    failures_before = request.session.testsfailed
    yield make
    if request.session.testsfailed > failures_before:
        _screenshots(request.node.name, pages)
    for context in contexts:
        context.close()
    if violations:
        pytest.fail("Content Security Policy violations:\n" + "\n".join(violations))


# Every page a browser test opens reports what the Content-Security-Policy blocked: Chromium
# logs each refusal on the console, and the page's securitypolicyviolation event (listened to
# by this script, which Playwright injects outside the policy) names it too. Either fails
# the test.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile || event.documentURI}:${event.lineNumber}`;
  console.error(`Content Security Policy violation: ${event.violatedDirective} blocked ` +
    `${event.blockedURI || "inline"} at ${where}`);
});
"""


def _note_csp_violation(message, violations: list[str]) -> None:
    if "Content Security Policy" in message.text:
        violations.append(f"{message.page.url if message.page else '?'}: {message.text}")


@pytest.fixture
def page(new_page):
    return new_page()


def _screenshots(test_name: str, pages) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", test_name)
    for index, page in enumerate(pages):
        try:
            page.screenshot(path=str(ARTIFACTS / f"{stem}-{index}.png"), full_page=True)
        except Exception as error:  # a crashed page must not hide the test's own failure
            print(f"could not save a screenshot of page {index}: {error}")


def login(page, live_server, user, password: str = PASSWORD) -> None:
    """Signs in through the admin login form, and the second-factor page when the user's
    role requires one (an authenticator is made for them), and waits for the dashboard."""
    from apps.accounts.two_factor.selectors import two_factor_required
    from tests.otp import authenticator_for, code_now

    device = authenticator_for(user) if two_factor_required(user) else None
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    if device is not None:
        page.wait_for_url(re.compile(r"/account/two-factor/verify/"))
        page.fill("#id_code", code_now(device))
        page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
