"""One identity service: normalised keys, a set-based batch look-up, conflicts refused."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.contacts import identity
from apps.contacts.errors import ContactsError
from apps.contacts.external_ids import external_id_set
from apps.contacts.identity import (
    ContactKeys,
    IdentityIndex,
    KnownContact,
    Resolution,
    contact_keys,
    identity_resolve,
    identity_resolve_many,
)
from apps.contacts.models import Contact, ContactExternalId
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    return ContactFactory(email="Ada@Example.com", phone="+16175550100", external_id="crm-ada")


def test_it_normalises_each_kind_of_key():
    keys = contact_keys(external_id=" crm-1 ", email="  Ada@Example.COM ", phone="(617) 555-0100")

    assert keys == ContactKeys(None, "crm-1", "ada@example.com", "+16175550100")


def test_it_reads_a_national_number_in_the_region_given():
    assert contact_keys(phone="020 7946 0958", region="GB").phone == "+442079460958"


@pytest.mark.parametrize("phone", ["12", "+1 555 000 0000", "not a number"])
def test_it_refuses_a_phone_that_is_no_number(phone):
    with pytest.raises(ContactsError) as raised:
        contact_keys(phone=phone)

    assert (raised.value.field, raised.value.message) == (
        "phone",
        "Enter a valid phone number, e.g. +14155550123.",
    )


def test_it_finds_a_contact_by_any_of_its_keys_whatever_the_case_of_the_email(ada):
    found = identity_resolve_many(
        [
            ContactKeys(external_id="crm-ada"),
            contact_keys(email="ADA@example.com"),
            ContactKeys(phone="+16175550100"),
            ContactKeys(id=ada.pk, email="ada@example.com"),
            ContactKeys(email="nobody@example.com"),
        ]
    )

    assert [(r.contact_id, r.conflict) for r in found] == [
        (ada.pk, None),
        (ada.pk, None),
        (ada.pk, None),
        (ada.pk, None),
        (None, None),
    ]


def test_it_looks_a_batch_up_with_one_query_per_kind_of_key(django_assert_num_queries):
    people = [ContactFactory(external_id=f"crm-{n}") for n in range(50)]
    keys = [ContactKeys(external_id=f"crm-{n}", email=f"p{n}@example.com") for n in range(50)]

    with django_assert_num_queries(2):
        found = identity_resolve_many(keys)

    assert [r.contact_id for r in found] == [person.pk for person in people]


def test_a_batch_index_keeps_contacts_planned_later_under_the_kinds_of_key_it_was_given(
    ada, django_assert_num_queries
):
    # Given a batch that names its contacts by external id alone: one query, by that kind
    with django_assert_num_queries(1):
        index = IdentityIndex.load([ContactKeys(external_id="crm-ada")])
    planned = Contact(external_id="crm-new", email="new@example.com", phone="+16175550142")

    # When a later item of the batch plans a contact with every kind of key
    index.put(KnownContact(None, "crm-new", "new@example.com", "+16175550142", planned))

    # Then the batch's own kind finds both, and re-filing a contact drops its old key
    assert index.resolve(ContactKeys(external_id="crm-new")).known.planned is planned
    assert index.resolve(ContactKeys(external_id="crm-ada")).contact_id == ada.pk
    index.put(KnownContact(ada.pk, "crm-ada-2", "ada@example.com", "+16175550100"))
    assert index.resolve(ContactKeys(external_id="crm-ada")).known is None
    assert index.resolve(ContactKeys(external_id="crm-ada-2")).contact_id == ada.pk


def test_it_refuses_keys_that_name_two_contacts_naming_both(ada):
    bob = ContactFactory(email="bob@example.com", phone="+16175550199")

    found = identity_resolve(ContactKeys(email="bob@example.com", phone="+16175550100"))

    assert (found.known, found.conflict.contact_ids) == (None, (bob.pk, ada.pk))
    assert found.conflict.reason == (
        f"These keys name different contacts: email 'bob@example.com' matches contact"
        f" #{bob.pk}, phone '+16175550100' matches contact #{ada.pk}. They are not merged."
    )


def test_it_refuses_an_external_id_other_than_the_one_of_the_contact_found(ada):
    found = identity_resolve(ContactKeys(external_id="crm-other", phone="+16175550100"))

    assert isinstance(found, Resolution)
    assert (found.known, found.conflict.contact_ids) == (None, (ada.pk,))
    assert found.conflict.reason == (
        f"Phone '+16175550100' matches contact #{ada.pk}, whose external id is 'crm-ada',"
        " not 'crm-other'. They are not merged."
    )


def test_a_batch_naming_contacts_by_ids_in_other_sources_alone_reads_those_ids_alone(
    ada, django_assert_num_queries
):
    # Given two contacts with Segment ids, one of them with a HubSpot id too
    bob = ContactFactory(email="bob@example.com", phone="+16175550199", external_id="crm-bob")
    external_id_set(contact=ada, source="segment", value="user-1")
    external_id_set(contact=ada, source="hubspot", value="hs-1")
    external_id_set(contact=bob, source="segment", value="user-2")
    keys = [
        ContactKeys(external_id="user-1", source="segment"),
        ContactKeys(external_id="user-2", source="segment"),
        ContactKeys(external_id="user-3", source="segment"),
        ContactKeys(external_id="user-2", source="segment", other_ids=(("hubspot", "hs-1"),)),
        ContactKeys(external_id="user-1", source="segment", other_ids=(("hubspot", "hs-2"),)),
    ]

    # When a batch names them by ids in sources other than "api" alone
    with django_assert_num_queries(2) as queries:
        found = identity_resolve_many(keys)

    # Then the ids alone are read (those it named, then bob's HubSpot id, which it did not),
    # not the contacts' own keys; and an id in one source still conflicts with another
    # contact's, or with the contact's own id in another source
    assert [q["sql"].count("contacts_contact ") for q in queries.captured_queries] == [0, 0]
    assert [r.contact_id for r in found[:3]] == [ada.pk, bob.pk, None]
    assert found[3].conflict.reason == (
        f"These keys name different contacts: segment id 'user-2' matches contact #{bob.pk},"
        f" hubspot id 'hs-1' matches contact #{ada.pk}. They are not merged."
    )
    assert found[4].conflict.reason == (
        f"Segment id 'user-1' matches contact #{ada.pk}, whose hubspot id is 'hs-1', not"
        " 'hs-2'. They are not merged."
    )


def test_a_batch_naming_a_contact_by_an_api_id_too_still_sees_its_own_api_id(ada):
    external_id_set(contact=ada, source="segment", value="user-1")

    found = identity_resolve(
        ContactKeys(external_id="user-1", source="segment", other_ids=(("api", "crm-other"),))
    )

    assert (found.known, found.conflict.contact_ids) == (None, (ada.pk,))
    assert found.conflict.reason == (
        f"Segment id 'user-1' matches contact #{ada.pk}, whose external id is 'crm-ada', not"
        " 'crm-other'. They are not merged."
    )


def test_it_takes_an_external_id_for_a_contact_that_has_none():
    bea = ContactFactory(email="bea@example.com", external_id=None)

    found = identity_resolve(ContactKeys(external_id="crm-bea", email="bea@example.com"))

    assert (found.contact_id, found.conflict) == (bea.pk, None)


def test_the_contacts_api_refuses_an_upsert_whose_keys_name_two_contacts(ada, admin_user):
    # given Ada and Bob
    bob = ContactFactory(email="bob@example.com", phone="+16175550199", first_name="Bob")
    api = APIClient()
    api.force_authenticate(admin_user)
    # when an upsert names Ada's external id with Bob's email
    body = {"external_id": "crm-ada", "email": "bob@example.com", "first_name": "Merged"}
    response = api.post("/api/v1/contacts/", body, format="json")
    # then it is refused naming both, and neither contact changed
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            f"These keys name different contacts: external id 'crm-ada' matches contact"
            f" #{ada.pk}, email 'bob@example.com' matches contact #{bob.pk}. They are not merged."
        ]
    }
    assert sorted(Contact.objects.values_list("pk", "email", "external_id", "first_name")) == [
        (ada.pk, "Ada@Example.com", "crm-ada", ada.first_name),
        (bob.pk, "bob@example.com", None, "Bob"),
    ]


def test_the_contacts_api_does_not_rekey_a_contact_found_by_email(ada, admin_user):
    api = APIClient()
    api.force_authenticate(admin_user)

    body = {"external_id": "crm-2", "email": "ada@example.com"}
    response = api.post("/api/v1/contacts/", body, format="json")

    assert response.status_code == 400
    assert Contact.objects.get().external_id == "crm-ada"


@pytest.fixture
def many_contacts():
    """20,000 contacts (copies of one, each with its own email, phone and id), enough that
    PostgreSQL's planner would rather read them all than probe an index 2,000 times."""
    ContactFactory(email="p0@example.com", phone="+16175550000", external_id="x0")
    columns = [f.column for f in Contact._meta.concrete_fields if not f.primary_key]
    own = {
        "email": "'p' || n || '@example.com'",
        "phone": "'+1617' || (5550000 + n)",
        "external_id": "'x' || n",
    }
    names = ", ".join(f'"{c}"' for c in columns)
    chosen = ", ".join(own.get(c, f'"{c}"') for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO contacts_contact ({names}) SELECT {chosen}"
            " FROM contacts_contact, generate_series(1, 20000) AS n"
        )
        cursor.execute("ANALYZE contacts_contact")
    return Contact.objects.order_by("pk").values_list("pk", flat=True)[:2000]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plans")
@pytest.mark.parametrize("kind", ["id", "external_id", "email", "phone"])
def test_a_batch_of_keys_is_looked_up_by_index_however_many_contacts_there_are(many_contacts, kind):
    values = {
        "id": set(many_contacts),
        "external_id": {f"x{n}" for n in range(2000)},
        "email": {f"p{n}@example.com" for n in range(2000)},
        "phone": {f"+1617{5550000 + n}" for n in range(2000)},
    }[kind]
    sql, params = identity._contacts_by_sql(kind, values)

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(sql, params)
        found = cursor.fetchall()

    assert "Seq Scan on contacts_contact" not in plan, plan
    assert len(found) == 2000


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plans")
def test_a_batch_of_source_ids_is_looked_up_by_index(many_contacts):
    contacts = Contact.objects.filter(pk__in=list(many_contacts))
    ContactExternalId.objects.bulk_create(
        ContactExternalId(contact=contact, source="hubspot", value=f"h{contact.pk}")
        for contact in contacts
    )
    wanted = {("hubspot", f"h{pk}") for pk in many_contacts} | {("salesforce", "nobody")}
    sql, params = identity._contacts_by_source_id_sql(wanted)

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(sql, params)
        found = cursor.fetchall()

    assert "Seq Scan on contacts_contact" not in plan, plan
    assert sorted(row[0] for row in found) == sorted(many_contacts)
    assert {(row[4], row[5]) for row in found} == wanted - {("salesforce", "nobody")}
