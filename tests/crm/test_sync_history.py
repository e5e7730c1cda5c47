"""A sync writes people a page at a time, without the ORM's per-row preparation; their
history rows still say what was stored, who stored it (the system actor) and why."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.accounts.services import SYSTEM_USERNAME
from apps.contacts.models import Contact, ContactExternalId
from apps.crm.connections import adapter_for
from apps.crm.sync.engine import sync_in

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sync(full: bool = False):
    run = sync_in(adapter=adapter_for("hubspot"), full=full)
    assert run.status == "succeeded", run.error
    return run


def person(hubspot, n: int, **extra) -> str:
    properties = {
        "firstname": f"Ada{n}",
        "lastname": "Lovelace",
        "email": f"Ada{n}@Example.test",
        "phone": f"(415) 555-01{n:02d}",  # national form: stored in E.164
        "lifecyclestage": "lead",
        **extra,
    }
    return hubspot.record_add("contacts", properties, modified_at=T0)


def test_it_stores_new_people_with_one_history_row_each_by_the_system_actor(hubspot):
    ids = [person(hubspot, n) for n in range(3)]

    sync(full=True)

    contacts = Contact.objects.filter(external_ids__source="hubspot").order_by("id")
    assert [(c.first_name, c.email, str(c.phone), c.kind, c.source) for c in contacts] == [
        (f"Ada{n}", f"Ada{n}@Example.test", f"+141555501{n:02d}", "prospect", "hubspot")
        for n in range(3)
    ]
    assert list(
        ContactExternalId.objects.filter(source="hubspot")
        .order_by("contact_id")
        .values_list("contact_id", "value")
    ) == [(c.pk, record_id) for c, record_id in zip(contacts, ids, strict=True)]
    for contact in contacts:
        (row,) = contact.history.all()
        assert (row.history_type, row.history_user.username, row.history_change_reason) == (
            "+", SYSTEM_USERNAME, "Synced from hubspot",
        )  # fmt: skip
        assert (row.first_name, row.email, str(row.phone), row.lifecycle_stage) == (
            contact.first_name, contact.email, str(contact.phone), contact.lifecycle_stage,
        )  # fmt: skip
        assert (row.created_at, row.attributes) == (contact.created_at, contact.attributes)
        assert contact.updated_at == contact.created_at


def test_a_change_is_one_more_history_row_holding_the_new_values(hubspot):
    record_id = person(hubspot, 1)
    sync(full=True)
    hubspot.record_modify(
        "contacts", record_id, {"lastname": "Byron"}, modified_at=T0 + timedelta(days=1)
    )

    run = sync()

    contact = Contact.objects.get(external_ids__value=record_id)
    assert run.counts["contact"]["updated"] == 1
    assert contact.last_name == "Byron"
    assert list(
        contact.history.order_by("history_id").values_list(
            "history_type", "last_name", "history_user__username", "history_change_reason"
        )
    ) == [
        ("+", "Lovelace", SYSTEM_USERNAME, "Synced from hubspot"),
        ("~", "Byron", SYSTEM_USERNAME, "Synced from hubspot"),
    ]


def test_a_page_that_names_nobody_new_writes_no_history(hubspot):
    person(hubspot, 1)
    sync(full=True)

    sync(full=True)

    assert Contact.history.count() == 1


def test_a_person_whose_text_is_beyond_the_basic_plane_is_stored_as_given(hubspot):
    record_id = person(hubspot, 1, firstname="Zoë 😀", lastname="O'Brien; --")

    sync(full=True)

    contact = Contact.objects.get(external_ids__value=record_id)
    assert (contact.first_name, contact.last_name) == ("Zoë 😀", "O'Brien; --")
    assert contact.history.get().first_name == "Zoë 😀"
