"""In a real browser, on a fresh `seed_demo`: Compliance (Carol, with her second factor)
opens a contact, follows "Consent proof" to the ledger, reads the audit trail with no
sign-in rows among the changes and contacts named as people name them, then the sign-ins
view, which lists the sign-in that just happened. No page breaks the CSP."""

import pytest
from django.core.management import call_command

from apps.accounts.demo import DEMO_PASSWORD
from apps.accounts.models import User
from apps.contacts.models import Contact
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_compliance_finds_consent_proof_and_a_quiet_trail_and_the_sign_in(live_server, page):
    from playwright.sync_api import expect

    call_command("seed_demo")
    priya = Contact.objects.get(external_id="demo-2")
    carol = User.objects.get(username="carol")
    history_rows = carol.history.count()

    login(page, live_server, carol, password=DEMO_PASSWORD)
    page.goto(f"{live_server.url}/admin/contacts/contact/{priya.pk}/change/")
    page.click("#consent-proof-link")

    expect(page.locator("#consent-ledger h2")).to_contain_text("Ledger (")
    expect(page.locator(".consent-proof")).to_contain_text("Priya Natarajan")

    page.goto(f"{live_server.url}/admin/reporting/audittrail/")
    rows = page.locator("#audit-trail tr.trail-entry")
    expect(rows.first).to_be_visible()
    expect(page.locator("#audit-trail")).not_to_contain_text("no tracked field")
    expect(page.locator("#audit-trail")).not_to_contain_text("Contact #")
    page.fill("#id_contact", "Priya Natarajan")
    page.click("input[type=submit][value=Filter]")
    expect(page.locator("#content-main")).to_contain_text("Only what concerns Priya Natarajan")
    expect(rows.first).to_contain_text("Consent of Priya Natarajan (+1••••••••42)")

    page.click("#sign-ins-link")
    newest = page.locator("#sign-ins tr.sign-in").first
    expect(newest).to_contain_text("Carol Compliance")
    expect(newest).to_contain_text("Signed in")
    assert carol.history.count() == history_rows  # her sign-in changed nothing audited
