"""A contact's ids in the systems that know it: one per source, a key only within its source."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as global_apps
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient
from segment.analytics.client import Client

from apps.contacts.errors import ContactsError
from apps.contacts.external_ids import external_id_set
from apps.contacts.identity import contact_keys, identity_resolve, identity_resolve_many
from apps.contacts.merge import contact_merge
from apps.contacts.models import Contact, ContactExternalId, ContactMerge, Event
from apps.contacts.services import contact_update, contact_upsert
from apps.segment_intake.keys import write_key_create
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

EVENTS_URL = "/api/v1/events/"
CONTACTS_URL = "/api/v1/contacts/"
api_ids_migration = importlib.import_module("apps.contacts.migrations.0010_contact_external_ids")
user_ids_migration = importlib.import_module("apps.segment_intake.migrations.0002_segment_user_ids")


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def ids_of(contact: Contact) -> dict[str, str]:
    return dict(ContactExternalId.objects.filter(contact=contact).values_list("source", "value"))


def an_event(key: str, contact: dict) -> dict:
    return {
        "type": "pricing_view",
        "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "idempotency_key": key,
        "contact": contact,
    }


def test_the_same_value_in_two_sources_names_two_contacts():
    crm = contact_upsert(fields={"external_id": "42", "email": "crm@example.com"}).contact
    web = contact_upsert(fields={"email": "web@example.com"}).contact

    external_id_set(contact=web, source="segment", value="42")

    assert (ids_of(crm), ids_of(web)) == ({"api": "42"}, {"segment": "42"})
    by_api = identity_resolve(contact_keys(external_id="42"))
    by_segment = identity_resolve(contact_keys(external_id="42", source="segment"))
    assert (by_api.contact_id, by_segment.contact_id) == (crm.pk, web.pk)


def test_the_same_source_and_value_names_one_contact(api):
    response = api.post(
        EVENTS_URL,
        {
            "create_contact": True,
            "events": [
                an_event("k1", {"external_id": "crm-7"}),
                an_event("k2", {"external_id": "crm-7"}),
            ],
        },
        format="json",
    )

    assert (response.status_code, response.json()["created"]) == (200, 2), response.content
    contact = Contact.objects.get()
    assert (contact.external_id, ids_of(contact)) == ("crm-7", {"api": "crm-7"})
    assert Event.objects.filter(contact=contact).count() == 2


def test_an_id_another_contact_has_in_the_source_is_refused_and_nothing_moves():
    first = ContactFactory()
    second = ContactFactory()
    external_id_set(contact=first, source="hubspot", value="h-1")

    with pytest.raises(ContactsError, match="belongs to another contact"):
        external_id_set(contact=second, source="hubspot", value="h-1")
    with pytest.raises(ContactsError, match="already has hubspot id 'h-1'"):
        external_id_set(contact=first, source="hubspot", value="h-2")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactExternalId.objects.create(contact=second, source="hubspot", value="h-1")

    assert (ids_of(first), ids_of(second)) == ({"hubspot": "h-1"}, {})
    assert external_id_set(contact=first, source="hubspot", value=" h-1 ").value == "h-1"


@pytest.mark.parametrize(
    ("source", "value", "message"),
    [
        ("api", "x", "external_id"),
        ("hubspt", "x", "Unknown external id source"),
        ("hubspot", "  ", "1–100 characters"),
        ("hubspot", "x" * 101, "1–100 characters"),
    ],
)
def test_a_bad_source_or_id_is_a_clear_error(source, value, message):
    contact = ContactFactory()

    with pytest.raises(ContactsError, match=message):
        external_id_set(contact=contact, source=source, value=value)

    assert ids_of(contact) == {}


def test_the_api_row_follows_the_external_id_field_and_the_rest_api_field_still_works(api):
    response = api.post(
        CONTACTS_URL, {"external_id": "crm-1", "email": "a@example.com"}, format="json"
    )
    assert (response.status_code, response.json().get("external_id")) == (201, "crm-1"), (
        response.content
    )
    contact = Contact.objects.get()
    assert ids_of(contact) == {"api": "crm-1"}

    contact_update(contact=contact, fields={"external_id": "crm-2"})
    assert ids_of(contact) == {"api": "crm-2"}
    contact_update(contact=contact, fields={"external_id": None})
    assert (Contact.objects.get().external_id, ids_of(contact)) == (None, {})


def test_a_key_naming_a_contact_with_another_id_in_that_source_is_a_conflict():
    known = contact_upsert(fields={"email": "ada@example.com"}).contact
    external_id_set(contact=known, source="segment", value="u-1")

    other = identity_resolve(
        contact_keys(email="ada@example.com", external_id="u-2", source="segment")
    )
    same = identity_resolve(
        contact_keys(email="ada@example.com", external_id="u-1", source="segment")
    )
    api_id = identity_resolve(contact_keys(email="ada@example.com", external_id="u-2"))

    assert other.conflict.reason == (
        f"Email 'ada@example.com' matches contact #{known.pk}, whose segment id is 'u-1', not"
        " 'u-2'. They are not merged."
    )
    assert (same.contact_id, same.conflict) == (known.pk, None)
    assert (api_id.contact_id, api_id.conflict) == (known.pk, None)  # no api id: no conflict


def test_a_batch_of_api_ids_costs_the_same_queries_as_before(django_assert_num_queries):
    contacts = [contact_upsert(fields={"external_id": f"c-{n}"}).contact for n in range(3)]
    keys = [contact_keys(external_id=f"c-{n}") for n in range(3)]

    with django_assert_num_queries(1):
        found = identity_resolve_many(keys)

    assert [each.contact_id for each in found] == [contact.pk for contact in contacts]


def test_a_mixed_batch_costs_one_query_more_for_the_other_sources(django_assert_num_queries):
    web = contact_upsert(fields={"email": "w@example.com"}).contact
    external_id_set(contact=web, source="segment", value="u-1")
    crm = contact_upsert(fields={"external_id": "u-1"}).contact
    keys = [
        contact_keys(external_id="u-1"),
        contact_keys(external_id="u-1", source="segment"),
        contact_keys(external_id="u-9", source="segment"),
    ]

    with django_assert_num_queries(3):
        found = identity_resolve_many(keys)

    assert [each.contact_id for each in found] == [crm.pk, web.pk, None]


def test_the_migration_copies_every_existing_external_id_as_the_api_id():
    with_id = ContactFactory(external_id="crm-1")  # saved directly: no row, as before
    empty = ContactFactory(external_id="")
    without = ContactFactory(external_id=None)

    api_ids_migration.api_ids_copy(global_apps, None)
    api_ids_migration.api_ids_copy(global_apps, None)  # run again: nothing doubled

    rows = set(ContactExternalId.objects.values_list("contact_id", "source", "value"))
    assert rows == {(with_id.pk, "api", "crm-1")}
    assert (ids_of(empty), ids_of(without)) == ({}, {})


def test_a_deployment_that_used_segment_keeps_its_user_ids_naming_the_same_contacts():
    known = ContactFactory(external_id="u-1")
    api_ids_migration.api_ids_copy(global_apps, None)

    user_ids_migration.user_ids_copy(global_apps, None)  # no write key: Segment never used
    assert ids_of(known) == {"api": "u-1"}

    write_key_create(name="Website")
    user_ids_migration.user_ids_copy(global_apps, None)
    assert ids_of(known) == {"api": "u-1", "segment": "u-1"}

    user_ids_migration.user_ids_remove(global_apps, None)
    assert ids_of(known) == {"api": "u-1"}


def test_a_merge_moves_the_duplicates_ids_and_keeps_the_survivors_in_a_shared_source(admin_user):
    survivor = contact_upsert(fields={"email": "s@example.com"}).contact
    duplicate = contact_upsert(fields={"email": "d@example.com", "external_id": "crm-d"}).contact
    external_id_set(contact=survivor, source="segment", value="u-s")
    external_id_set(contact=duplicate, source="segment", value="u-d")
    external_id_set(contact=duplicate, source="hubspot", value="h-d")

    result = contact_merge(
        survivor=survivor, duplicate=duplicate, actor=admin_user, reason="One person"
    )

    survivor.refresh_from_db()
    assert survivor.external_id == "crm-d"
    assert ids_of(survivor) == {"api": "crm-d", "segment": "u-s", "hubspot": "h-d"}
    assert ContactExternalId.objects.count() == 3
    assert result.moved["External ids"] == 2
    record = ContactMerge.objects.get(duplicate_id=duplicate.pk)
    assert "The duplicate's segment id 'u-d' was dropped: the survivor keeps its own." in (
        record.notes
    )
    assert identity_resolve(contact_keys(external_id="u-d", source="segment")).known is None


@pytest.mark.django_db(transaction=True)
def test_a_segment_user_id_equal_to_another_contacts_api_id_is_another_contact(live_server):
    crm = contact_upsert(fields={"external_id": "42", "email": "crm@example.com"}).contact
    _row, key = write_key_create(name="Website")
    segment = Client(key, host=live_server.url + "/segment", sync_mode=True)

    segment.identify("42", {"email": "web@example.com"}, message_id="i-1")
    segment.track("42", "Pricing Viewed", message_id="t-1")

    web = Contact.objects.exclude(pk=crm.pk).get()
    assert (ids_of(crm), ids_of(web)) == ({"api": "42"}, {"segment": "42"})
    assert (web.external_id, web.email) == (None, "web@example.com")
    assert list(Event.objects.values_list("contact_id", flat=True)) == [web.pk]
    assert not Event.objects.filter(contact=crm).exists()


@pytest.mark.django_db(transaction=True)
def test_segment_events_for_a_new_user_id_make_one_contact_with_that_id(live_server):
    _row, key = write_key_create(name="Website")
    segment = Client(key, host=live_server.url + "/segment", sync_mode=True)

    segment.track("u-new", "Pricing Viewed", message_id="t-1")
    segment.track("u-new", "Demo Booked", message_id="t-2")

    contact = Contact.objects.get()
    assert (contact.external_id, ids_of(contact)) == (None, {"segment": "u-new"})
    assert Event.objects.filter(contact=contact).count() == 2
