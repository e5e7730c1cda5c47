""" "What would this mapping do to these 20 records": the CRM's first records applied by
the sync's own appliers and rolled back. Per record: created, updated, unchanged or failed,
the fields that would change, the error; and nothing at all is kept or queued."""

from datetime import UTC, datetime

import pytest
from django.apps import apps

from apps.contacts.models import Contact, ContactExternalId, PipelineStage
from apps.crm.connections import adapter_for
from apps.crm.dry_run import mapping_dry_run
from apps.crm.models import StageMapping
from apps.crm.services import crm_sync_in

WHEN = datetime(2026, 3, 9, 14, 30, tzinfo=UTC)
DRY_RUN = "/admin/crm/connection/hubspot/dry-run/"


def table_counts() -> dict[str, int]:
    """Rows of every table of the apps a sync writes to."""
    return {
        model._meta.label: model._default_manager.count()
        for label in ("crm", "contacts", "consent", "journeys", "routing", "sends")
        for model in apps.get_app_config(label).get_models()
    }


def seed_people(hubspot) -> dict[str, str]:
    """25 HubSpot contacts: the first already in Cue under another name, the second with an
    email that is not one, the rest new."""
    ids = hubspot.records_seed(
        "contacts",
        25,
        properties=lambda i: {
            "firstname": f"Person{i}",
            "email": "not-an-email" if i == 1 else f"person{i}@example.com",
            "phone": f"+1415555{i:04d}",
            "sms_opt_out": "true" if i == 3 else "false",
        },
        modified_at=WHEN,
    )
    # No country: the sync's handling of a country the CRM does not send is not the subject.
    known = Contact.objects.create(first_name="Old", email="person0@example.com", country="")
    ContactExternalId.objects.create(contact=known, source="hubspot", value=ids[0])
    return {"known": ids[0], "bad": ids[1], "new": ids[2]}


@pytest.mark.django_db
def test_it_says_what_each_of_the_first_20_records_would_become(hubspot):
    people = seed_people(hubspot)

    lines = mapping_dry_run(adapter=adapter_for("hubspot"), object_type="contact")

    by_id = {line.record_id: line for line in lines}
    assert len(lines) == 20
    known, bad, new = by_id[people["known"]], by_id[people["bad"]], by_id[people["new"]]
    assert (known.outcome, known.name, known.error) == ("updated", "Person0", "")
    assert [(c.field, c.before, c.after) for c in known.changes] == [
        ("first_name", "Old", "Person0"),
        ("phone", "", "+14155550000"),
    ]
    assert (bad.outcome, bad.error) == (
        "created",
        "Taken without: email → email: not an email address.",
    )
    assert [(c.field, c.after) for c in new.changes][:3] == [
        ("first_name", "Person2"),
        ("email", "person2@example.com"),
        ("phone", "+14155550002"),
    ]
    assert {c.before for c in new.changes} == {None}


@pytest.mark.django_db
def test_it_keeps_nothing_and_queues_nothing(hubspot, django_capture_on_commit_callbacks):
    seed_people(hubspot)
    before = table_counts()

    with django_capture_on_commit_callbacks() as queued:
        lines = mapping_dry_run(adapter=adapter_for("hubspot"), object_type="contact")

    assert [line.outcome for line in lines].count("created") == 19
    assert table_counts() == before
    assert queued == []


@pytest.mark.django_db
def test_it_shows_a_deal_in_a_stage_no_mapping_names_as_failed_and_keeps_no_error(hubspot):
    deal = hubspot.record_add("deals", {"dealname": "Renewal", "amount": "1200"})
    hubspot.deal_stage_enter(deal, "contractsent", at=WHEN)
    mapped = hubspot.record_add("deals", {"dealname": "Upsell", "amount": "80"})
    hubspot.deal_stage_enter(mapped, "closedwon", at=WHEN)
    StageMapping.objects.create(
        system="hubspot", kind="deal", crm_pipeline="default", crm_stage="closedwon",
        pipeline_stage=PipelineStage.objects.get(pipeline__key="sales", key="closed_won"),
    )  # fmt: skip
    before = table_counts()

    lines = mapping_dry_run(adapter=adapter_for("hubspot"), object_type="deal")

    assert [(line.record_id, line.outcome, line.error) for line in lines] == [
        (
            deal,
            "failed",
            "Stage 'contractsent' of pipeline 'default' is not mapped to a Cue stage.",
        ),
        (mapped, "created", ""),
    ]
    assert ("stage", None, "closed_won") in [(c.field, c.before, c.after) for c in lines[1].changes]
    assert table_counts() == before


@pytest.mark.django_db
def test_it_says_unchanged_for_a_record_cue_already_holds_as_it_is(hubspot):
    seed_people(hubspot)
    assert crm_sync_in(system="hubspot") == "succeeded"

    lines = mapping_dry_run(adapter=adapter_for("hubspot"), object_type="contact")

    outcomes = {line.outcome for line in lines}
    assert outcomes == {"unchanged"}
    assert [line.changes for line in lines] == [[]] * 20


@pytest.mark.django_db(transaction=True)
def test_it_keeps_nothing_when_nothing_else_holds_a_transaction_open(hubspot):
    """Outside a test's own transaction: the dry run's rollback is a real one."""
    seed_people(hubspot)
    before = table_counts()

    mapping_dry_run(adapter=adapter_for("hubspot"), object_type="contact")

    assert table_counts() == before


# --- Through the admin -----------------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_the_dry_run_in_the_admin(admin_web, hubspot):
    people = seed_people(hubspot)
    before = table_counts()

    response = admin_web.post(DRY_RUN, {"object_type": "contact"})

    body = response.content.decode()
    assert (response.status_code, len(response.context["lines"])) == (200, 20)
    assert f'<tr data-record-id="{people["bad"]}">' in body
    assert "Taken without: email → email: not an email address." in body
    assert table_counts() == before


@pytest.mark.django_db
def test_it_says_why_the_crm_could_not_be_read(admin_web, no_crm):
    response = admin_web.post(DRY_RUN, {"object_type": "contact"})

    assert response.context["form"].non_field_errors() == [
        "HubSpot is not connected: set HUBSPOT_ACCESS_TOKEN."
    ]
    assert response.context["lines"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("object_type", "error"),
    [
        ("lead", "HubSpot has no leads."),
        ("task", "Select a valid choice. task is not one of the available choices."),
    ],
)
def test_it_refuses_an_object_type_the_crm_does_not_sync(admin_web, no_crm, object_type, error):
    response = admin_web.post(DRY_RUN, {"object_type": object_type})

    assert response.context["form"].errors == {"object_type": [error]}


@pytest.mark.django_db
def test_it_refuses_the_dry_run_to_a_marketer(client_as, hubspot):
    from apps.accounts import roles

    assert client_as(roles.MARKETER).post(DRY_RUN, {"object_type": "contact"}).status_code == 403


@pytest.mark.django_db
def test_it_says_the_crm_asked_to_wait_and_changes_nothing(admin_web, hubspot):
    seed_people(hubspot)
    hubspot.rate_limit(times=50, retry_after=30)
    before = table_counts()

    response = admin_web.post(DRY_RUN, {"object_type": "contact"})

    assert response.context["form"].non_field_errors() == [
        "HubSpot rate limit on search contacts: You have reached your ten_secondly_rolling limit."
    ]
    assert (response.status_code, response.context["lines"]) == (200, None)
    assert table_counts() == before
