"""Content-Security-Policy on every page, and pages that work under it (no violation in a
real browser; tests/browser.py fails every browser test on one)."""

import pytest

from apps.accounts import roles
from apps.consent.models import ConsentDisclosure, OptInForm, Purpose
from tests.browser import login

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",  # plus the request's nonce, on a page that uses it
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_of(response) -> dict[str, str]:
    directives = (
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    return dict(directives)


@pytest.fixture
def optin_form(db):
    disclosure = ConsentDisclosure.objects.create(key="sms", version=1, text="You agree to texts.")
    return OptInForm.objects.create(
        slug="webinar",
        name="Webinar reminders",
        brand="Brightline",
        program_name="Brightline Alerts",
        message_frequency="Up to 4 msgs/month",
        help_contact="help@brightline.example",
        privacy_url="https://brightline.example/privacy",
        terms_url="https://brightline.example/terms",
        disclosure=disclosure,
        purposes=[Purpose.MARKETING],
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/admin/login/", "/optin/webinar/", "/healthz", "/api/schema/", "/no-such-page/"]
)
def test_every_answer_carries_the_policy(client, optin_form, path):
    assert policy_of(client.get(path)) == POLICY


@pytest.mark.django_db
def test_a_signed_in_page_carries_it_too(client, make_user):
    client.force_login(make_user(roles.SALES_REP))

    assert policy_of(client.get("/tasks/")) == POLICY


# In the browser


@pytest.mark.browser
def test_the_fixture_notices_what_the_policy_blocks(page, csp_violations):
    page.route(
        "http://cue.test/",
        lambda route: route.fulfill(
            body="<p>hi</p><script>document.title = 'ran'</script>",
            headers={"Content-Type": "text/html", "Content-Security-Policy": "script-src 'self'"},
        ),
    )

    page.goto("http://cue.test/")
    page.wait_for_timeout(200)  # the console message is delivered after the load

    assert page.title() == ""
    assert any("script-src" in violation for violation in csp_violations)
    csp_violations.clear()  # seen: this test's page was meant to break the policy


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_admin_opt_in_form_and_api_docs_work_under_the_policy(
    live_server, new_page, make_user, optin_form
):
    from playwright.sync_api import expect

    visitor = new_page()
    visitor.goto(f"{live_server.url}/optin/webinar/")
    expect(visitor.locator("form")).to_be_visible()

    page = new_page()
    login(page, live_server, make_user(roles.MARKETER))
    page.goto(f"{live_server.url}/admin/library/messagetemplate/add/")
    expect(page.locator("#id_name")).to_be_visible()
    page.goto(f"{live_server.url}/api/docs/")
    # Swagger UI rendered the schema: its script ran from its own URL.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Cue API", timeout=30_000)
