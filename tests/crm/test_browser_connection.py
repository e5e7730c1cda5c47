"""In a real browser: the HubSpot connection page shows a deal the sync could not take (its
stage is mapped to nothing); the admin maps the stage, picking it from HubSpot's own
pipeline, retries the deal, and the page no longer lists it: Cue has the opportunity."""

from datetime import UTC, datetime

import pytest

from apps.accounts import roles
from apps.contacts.models import Opportunity, PipelineStage
from apps.crm.models import RecordError
from apps.crm.services import crm_sync_in
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WHEN = datetime(2026, 3, 9, 14, 30, tzinfo=UTC)


def test_it_retries_a_failed_deal_after_the_admin_maps_its_stage(
    live_server, page, make_user, hubspot
):
    from playwright.sync_api import expect

    # Given a HubSpot deal in "Contract Sent", which no stage mapping names, has been synced
    deal = hubspot.record_add("deals", {"dealname": "Acme renewal", "amount": "4800"})
    hubspot.deal_stage_enter(deal, "contractsent", at=WHEN)
    assert crm_sync_in(system="hubspot") == "succeeded"
    assert Opportunity.objects.count() == 0
    admin = make_user(roles.ADMIN, username="ada", email="ada@example.com")
    login(page, live_server, admin)

    # When the admin opens the HubSpot connection page
    page.goto(f"{live_server.url}/admin/crm/connection/hubspot/")

    # Then it lists the deal with why it failed
    row = page.locator(f'#failed-records tr[data-record-id="{deal}"]')
    expect(row.locator(".record-error")).to_have_text(
        "Stage 'contractsent' of pipeline 'default' is not mapped to a Cue stage."
    )
    expect(page.locator("#configured")).to_have_text("Yes, by the environment")

    # When she maps the stage, picking it from HubSpot's own pipeline
    page.locator("#connection-status").get_by_role("link", name="Stage mappings").click()
    page.locator(".object-tools a.addlink").click()
    page.select_option("#id_crm_choice", "hubspot|default|contractsent")
    proposal = PipelineStage.objects.get(pipeline__key="sales", key="proposal")
    page.select_option("#id_pipeline_stage", str(proposal.pk))
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    # And retries the deal from the connection page
    page.goto(f"{live_server.url}/admin/crm/connection/hubspot/")
    page.locator(f'#failed-records tr[data-record-id="{deal}"] .retry-record').click()

    # Then it is taken: the page says so and no longer lists it, and Cue has the deal
    expect(page.locator(".messagelist")).to_contain_text(f"HubSpot deal {deal} was taken.")
    expect(page.locator(f'#failed-records tr[data-record-id="{deal}"]')).to_have_count(0)
    expect(page.locator("#failed-records")).to_contain_text("No failed records.")
    opportunity = Opportunity.objects.get()
    assert (opportunity.name, opportunity.stage, opportunity.stage_changed_at) == (
        "Acme renewal",
        "proposal",
        WHEN,
    )
    assert RecordError.objects.get(record_id=deal).resolved_at is not None
