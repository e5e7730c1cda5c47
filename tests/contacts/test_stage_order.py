"""A stage change heard late, but older than the stage a record is at, is history only: it
is recorded at its own time and does not replace the current stage. A change with no
source time happened now; at the same moment, the change heard later wins."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from apps.consent import imports
from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact, Event, Opportunity, OpportunityStageChange
from apps.contacts.services import contact_update, contact_upsert, opportunity_upsert
from tests.factories import ContactFactory
from tests.stages import enterprise_pipeline

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def lifecycle_events(contact) -> list[tuple]:
    events = Event.objects.filter(contact=contact, type="lifecycle_stage_changed")
    return [(e.occurred_at, e.properties) for e in events.order_by("occurred_at", "id")]


def stored(contact) -> tuple:
    contact.refresh_from_db()
    return contact.lifecycle_stage, contact.lifecycle_stage_changed_at


# --- Contacts


def test_an_older_lifecycle_change_heard_later_is_history_only(clock):
    contact = ContactFactory(lifecycle_stage="lead")
    contact_update(contact=contact, fields={"lifecycle_stage": "sql"}, stage_changed_at=NOW - HOUR)

    contact_update(
        contact=contact, fields={"lifecycle_stage": "mql"}, stage_changed_at=NOW - 3 * HOUR
    )

    assert stored(contact) == ("sql", NOW - HOUR)
    assert lifecycle_events(contact) == [
        (NOW - 3 * HOUR, {"from": "lead", "to": "mql", "superseded": True}),
        (NOW - HOUR, {"from": "lead", "to": "sql"}),
    ]


def test_a_newer_change_replaces_the_stage_and_its_time(clock):
    contact = ContactFactory(lifecycle_stage="lead")
    contact_update(
        contact=contact, fields={"lifecycle_stage": "mql"}, stage_changed_at=NOW - 3 * HOUR
    )

    contact_update(contact=contact, fields={"lifecycle_stage": "sql"}, stage_changed_at=NOW - HOUR)

    assert stored(contact) == ("sql", NOW - HOUR)
    assert lifecycle_events(contact)[-1] == (NOW - HOUR, {"from": "mql", "to": "sql"})


def test_a_change_without_a_source_time_happened_now(clock):
    contact = ContactFactory(lifecycle_stage="lead")
    contact_update(contact=contact, fields={"lifecycle_stage": "sql"}, stage_changed_at=NOW - HOUR)

    contact_update(contact=contact, fields={"lifecycle_stage": "customer"})

    assert stored(contact) == ("customer", NOW)


def test_at_the_same_moment_the_change_heard_later_wins(clock):
    contact = ContactFactory(lifecycle_stage="lead")
    contact_update(contact=contact, fields={"lifecycle_stage": "sql"}, stage_changed_at=NOW - HOUR)

    contact_update(contact=contact, fields={"lifecycle_stage": "mql"}, stage_changed_at=NOW - HOUR)

    assert stored(contact) == ("mql", NOW - HOUR)


def test_a_stage_of_unknown_time_gives_way_to_any_change(clock):
    """Contacts from before the rule keep no time: the next change, however old, applies."""
    contact = ContactFactory(lifecycle_stage="sql")
    assert contact.lifecycle_stage_changed_at is None

    contact_update(
        contact=contact, fields={"lifecycle_stage": "mql"}, stage_changed_at=NOW - 300 * HOUR
    )

    assert stored(contact) == ("mql", NOW - 300 * HOUR)


def test_a_new_contact_keeps_its_given_stages_time_and_no_time_for_the_default(clock):
    given = contact_upsert(
        fields={"email": "a@example.com", "lifecycle_stage": "sql"},
        stage_changed_at=NOW - HOUR,
    ).contact
    defaulted = contact_upsert(fields={"email": "b@example.com"}).contact

    assert stored(given) == ("sql", NOW - HOUR)
    assert stored(defaulted) == ("lead", None)  # Cue's default is no fact of the source


def test_an_older_change_still_updates_the_other_fields_and_is_recorded_once(clock):
    contact = ContactFactory(lifecycle_stage="lead", email="a@example.com", first_name="A")
    contact_update(contact=contact, fields={"lifecycle_stage": "sql"}, stage_changed_at=NOW - HOUR)
    older = {"email": "a@example.com", "lifecycle_stage": "mql", "first_name": "Ada"}

    contact_upsert(fields=older, stage_changed_at=NOW - 2 * HOUR)
    contact_upsert(fields=older, stage_changed_at=NOW - 2 * HOUR)  # the same, heard twice

    assert stored(contact) == ("sql", NOW - HOUR)
    assert contact.first_name == "Ada"
    assert [props["to"] for _, props in lifecycle_events(contact)] == ["mql", "sql"]


def test_an_older_change_to_an_unknown_stage_is_refused_and_nothing_is_recorded(clock):
    contact = ContactFactory(lifecycle_stage="lead")
    contact_update(contact=contact, fields={"lifecycle_stage": "sql"}, stage_changed_at=NOW - HOUR)

    with pytest.raises(ContactsError) as refused:
        contact_update(
            contact=contact, fields={"lifecycle_stage": "hot"}, stage_changed_at=NOW - 2 * HOUR
        )

    assert refused.value.field == "lifecycle_stage"
    assert stored(contact) == ("sql", NOW - HOUR)
    assert len(lifecycle_events(contact)) == 1


def test_a_stale_copy_of_the_contact_does_not_undo_a_newer_stage(clock):
    contact = ContactFactory(lifecycle_stage="lead")
    stale_copy = Contact.objects.get(pk=contact.pk)
    contact_update(contact=contact, fields={"lifecycle_stage": "sql"}, stage_changed_at=NOW - HOUR)

    contact_update(
        contact=stale_copy, fields={"lifecycle_stage": "mql"}, stage_changed_at=NOW - 2 * HOUR
    )

    assert stored(contact) == ("sql", NOW - HOUR)


def test_the_contacts_api_keeps_the_newer_stage(api, clock):
    contact = ContactFactory(lifecycle_stage="lead", email="a@example.com")
    newer = {"lifecycle_stage": "sql", "lifecycle_stage_changed_at": "2026-03-10T15:00:00Z"}
    older = {"lifecycle_stage": "mql", "lifecycle_stage_changed_at": "2026-03-10T13:00:00Z"}

    first = api.patch(f"/api/v1/contacts/{contact.pk}/", newer, format="json")
    patched = api.patch(f"/api/v1/contacts/{contact.pk}/", older, format="json")
    posted = api.post("/api/v1/contacts/", {"email": "a@example.com", **older}, format="json")

    assert [r.status_code for r in (first, patched, posted)] == [200, 200, 200]
    assert [r.json()["lifecycle_stage"] for r in (patched, posted)] == ["sql", "sql"]
    assert patched.json()["lifecycle_stage_changed_at"] == DateTimeField().to_representation(
        NOW - HOUR
    )
    assert stored(contact) == ("sql", NOW - HOUR)
    assert [props for _, props in lifecycle_events(contact)] == [
        {"from": "lead", "to": "mql", "superseded": True},
        {"from": "lead", "to": "sql"},
    ]


def run_import(data: str, user, capture):
    upload = SimpleUploadedFile("people.csv", data.encode(), content_type="text/csv")
    contact_import = imports.contact_import_create(upload=upload, user=user)
    columns = imports.contact_import_preview(contact_import=contact_import, rows=0).columns
    with capture(execute=True):
        imports.contact_import_start(
            contact_import=contact_import, mapping=imports.mapping_suggest(columns=columns)
        )
    contact_import.refresh_from_db()
    return contact_import


def test_an_import_row_older_than_the_stage_is_history_and_a_new_contact_keeps_its_time(
    clock, settings, tmp_path, admin_user, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    ada = ContactFactory(email="ada@example.com", lifecycle_stage="lead")
    contact_update(contact=ada, fields={"lifecycle_stage": "sql"}, stage_changed_at=NOW - HOUR)
    data = (
        "email,first name,lifecycle stage,lifecycle stage changed at\n"
        "ada@example.com,Ada,mql,2026-03-10T12:00:00Z\n"
        "bob@example.com,Bob,customer,2026-03-01T09:00:00Z\n"
    )

    contact_import = run_import(data, admin_user, django_capture_on_commit_callbacks)

    assert (contact_import.imported_count, contact_import.updated_count) == (1, 1)
    assert contact_import.rejected_count == 0
    assert stored(ada) == ("sql", NOW - HOUR)
    assert ada.first_name == "Ada"
    assert lifecycle_events(ada)[0] == (
        NOW - 4 * HOUR,
        {"from": "lead", "to": "mql", "superseded": True},
    )
    bob = Contact.objects.get(email="bob@example.com")
    assert stored(bob) == ("customer", datetime(2026, 3, 1, 9, tzinfo=UTC))


# --- Opportunities


@pytest.fixture
def enterprise():
    return enterprise_pipeline()


def deal(stage: str, at: datetime | None, contact=None, pipeline=None, **fields):
    return opportunity_upsert(
        external_id="e-1",
        name="Fleet",
        stage=stage,
        contact=contact,
        pipeline=pipeline,
        stage_changed_at=at,
        **fields,
    )


def history(opportunity) -> list[tuple]:
    changes = OpportunityStageChange.objects.filter(opportunity=opportunity)
    return list(changes.values_list("from_stage", "to_stage", "changed_at"))


def test_an_older_opportunity_move_is_put_into_the_history_in_its_place(clock):
    contact = ContactFactory()
    opportunity = deal("discovery", NOW - 10 * HOUR, contact)
    deal("proposal", NOW - 2 * HOUR, contact)

    deal("demo", NOW - 5 * HOUR, contact, amount=500)

    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.stage_changed_at) == ("proposal", NOW - 2 * HOUR)
    assert opportunity.amount == 500  # the rest of the change applies
    assert history(opportunity) == [
        ("", "discovery", NOW - 10 * HOUR),
        ("discovery", "demo", NOW - 5 * HOUR),
        ("demo", "proposal", NOW - 2 * HOUR),
    ]
    superseded = Event.objects.get(type="stage_changed", properties__superseded=True)
    assert (superseded.occurred_at, superseded.properties["from"], superseded.properties["to"]) == (
        NOW - 5 * HOUR,
        "discovery",
        "demo",
    )


def test_an_older_move_to_won_does_not_close_a_deal_that_moved_on(clock):
    opportunity = deal("proposal", NOW - 2 * HOUR)

    deal("closed_won", NOW - 3 * HOUR)

    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.closed_at) == ("proposal", None)
    # Older than the deal's first known stage: the deal was there first.
    assert history(opportunity) == [
        ("", "closed_won", NOW - 3 * HOUR),
        ("closed_won", "proposal", NOW - 2 * HOUR),
    ]


def test_the_same_older_move_heard_twice_is_recorded_once(clock):
    opportunity = deal("discovery", NOW - 10 * HOUR)
    deal("proposal", NOW - 2 * HOUR)

    deal("demo", NOW - 5 * HOUR)
    deal("demo", NOW - 5 * HOUR)

    assert [row[1] for row in history(opportunity)] == ["discovery", "demo", "proposal"]


def test_opportunity_ties_and_missing_times(clock):
    opportunity = deal("discovery", NOW - HOUR)

    deal("demo", NOW - HOUR)  # the same moment: heard later, wins
    opportunity.refresh_from_db()
    tie = (opportunity.stage, opportunity.stage_changed_at)
    deal("proposal", None)  # no source time: now
    opportunity.refresh_from_db()

    assert tie == ("demo", NOW - HOUR)
    assert (opportunity.stage, opportunity.stage_changed_at) == ("proposal", NOW)


def test_an_older_move_into_another_pipeline_keeps_the_deal_where_it_is(clock, enterprise):
    opportunity = deal("demo", NOW - HOUR)

    deal("nego", NOW - 2 * HOUR, pipeline=enterprise)

    opportunity.refresh_from_db()
    assert (opportunity.pipeline_id, opportunity.stage) == (None, "demo")


def test_the_opportunities_api_keeps_the_newer_stage(api, clock):
    contact = ContactFactory()
    body = {"external_id": "e-1", "name": "Fleet", "contact": contact.pk}

    api.post(
        "/api/v1/opportunities/",
        {**body, "stage": "proposal", "stage_changed_at": "2026-03-10T14:00:00Z"},
        format="json",
    )
    older = api.post(
        "/api/v1/opportunities/",
        {**body, "stage": "demo", "stage_changed_at": "2026-03-10T11:00:00Z", "amount": "90"},
        format="json",
    )

    assert (older.status_code, older.json()["stage"], older.json()["amount"]) == (
        200,
        "proposal",
        "90.00",
    )
    assert older.json()["stage_changed_at"] == DateTimeField().to_representation(NOW - 2 * HOUR)
    opportunity = Opportunity.objects.get()
    assert [row[1] for row in history(opportunity)] == ["demo", "proposal"]


# --- The same stage said again, later


def test_a_contact_back_at_its_stage_keeps_it_when_the_moves_between_come_late(clock):
    contact = ContactFactory(lifecycle_stage="lead")
    contact_update(
        contact=contact, fields={"lifecycle_stage": "mql"}, stage_changed_at=NOW - 5 * HOUR
    )

    # mql → sql → mql happened; the last move back to mql is heard first.
    contact_upsert(
        fields={"email": contact.email, "lifecycle_stage": "mql"}, stage_changed_at=NOW - HOUR
    )
    contact_update(
        contact=contact, fields={"lifecycle_stage": "sql"}, stage_changed_at=NOW - 3 * HOUR
    )

    assert stored(contact) == ("mql", NOW - HOUR)


def test_repeating_the_stage_without_a_time_or_with_an_older_one_keeps_its_time(clock):
    contact = ContactFactory(lifecycle_stage="lead")
    contact_update(contact=contact, fields={"lifecycle_stage": "mql"}, stage_changed_at=NOW - HOUR)

    contact_update(contact=contact, fields={"lifecycle_stage": "mql", "first_name": "Ada"})
    contact_update(
        contact=contact, fields={"lifecycle_stage": "mql"}, stage_changed_at=NOW - 2 * HOUR
    )

    assert stored(contact) == ("mql", NOW - HOUR)


def test_a_deal_back_at_its_stage_keeps_it_when_the_moves_between_come_late(clock):
    opportunity = deal("demo", NOW - 5 * HOUR)

    deal("demo", NOW - HOUR)  # demo → proposal → demo: the move back heard first
    deal("proposal", NOW - 3 * HOUR)

    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.stage_changed_at) == ("demo", NOW - HOUR)
    assert [row[1] for row in history(opportunity)] == ["demo", "proposal"]
