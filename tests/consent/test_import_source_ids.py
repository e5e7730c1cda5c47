"""CSV import of ids from other systems: a column mapped to external_id:<source> names the
contact through the identity service, a new contact keeps the id under its source, a row
whose keys name two contacts is rejected naming both; and the attribute definitions are read
once per import, not once per row."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts import roles
from apps.consent import imports
from apps.consent.services import ConsentError
from apps.contacts.external_ids import external_id_api_sync, external_id_set
from apps.contacts.models import Contact, ContactExternalId
from tests.factories import AttributeDefinitionFactory, ContactFactory

pytestmark = pytest.mark.django_db

HUBSPOT = {"Email": "email", "HubSpot id": "external_id:hubspot"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def import_csv(make_user, django_capture_on_commit_callbacks):
    marketer = make_user(roles.MARKETER, username="marketer")

    def run(data, *, mapping=None):
        upload = SimpleUploadedFile("contacts.csv", data.encode(), content_type="text/csv")
        contact_import = imports.contact_import_create(upload=upload, user=marketer)
        columns = imports.contact_import_preview(contact_import=contact_import, rows=0).columns
        mapping = mapping or imports.mapping_suggest(columns=columns)
        with django_capture_on_commit_callbacks(execute=True):
            imports.contact_import_start(contact_import=contact_import, mapping=mapping)
        contact_import.refresh_from_db()
        return contact_import

    return run


def ids_of(contact: Contact) -> dict[str, str]:
    return dict(ContactExternalId.objects.filter(contact=contact).values_list("source", "value"))


def a_contact(**fields) -> Contact:
    contact = ContactFactory(**fields)
    external_id_api_sync(contact)
    return contact


def reasons(contact_import) -> list[tuple[int, str]]:
    return [(entry["line"], entry["reason"]) for entry in contact_import.rejected_rows]


def test_it_suggests_and_offers_a_column_for_each_sources_id():
    suggested = imports.mapping_suggest(
        columns=["Email", "HubSpot ID", "Salesforce Id", "Segment user id"]
    )
    offered = dict(imports.TARGET_CHOICES[2][1])

    assert suggested == {
        "Email": "email",
        "HubSpot ID": "external_id:hubspot",
        "Salesforce Id": "external_id:salesforce",
        "Segment user id": "external_id:segment",
    }
    assert offered == {
        "external_id:segment": "External id (Segment userId)",
        "external_id:hubspot": "External id (HubSpot)",
        "external_id:salesforce": "External id (Salesforce)",
    }


def test_a_source_id_column_alone_identifies_the_rows(import_csv):
    contact_import = import_csv("HubSpot id,first name\nhs-1,Ada\n")

    assert (contact_import.imported_count, contact_import.rejected_rows) == (1, [])
    ada = Contact.objects.get()
    assert (ada.first_name, ada.external_id, ids_of(ada)) == ("Ada", None, {"hubspot": "hs-1"})


def test_it_finds_the_contact_by_its_hubspot_id_not_by_the_same_api_id(import_csv):
    crm = a_contact(external_id="123", first_name="Crm")
    hubspot = a_contact(first_name="Old")
    external_id_set(contact=hubspot, source="hubspot", value="123")

    contact_import = import_csv("HubSpot id,first name\n123,New\n")

    assert (contact_import.updated_count, contact_import.imported_count) == (1, 0)
    crm.refresh_from_db()
    hubspot.refresh_from_db()
    assert (crm.first_name, hubspot.first_name) == ("Crm", "New")


def test_a_new_contact_keeps_each_id_under_its_source(import_csv):
    contact_import = import_csv(
        "email,external id,HubSpot id,Salesforce id\nada@example.com,crm-1,hs-1,003A\n"
    )

    assert contact_import.imported_count == 1, contact_import.rejected_rows
    ada = Contact.objects.get()
    assert ids_of(ada) == {"api": "crm-1", "hubspot": "hs-1", "salesforce": "003A"}


def test_an_existing_contact_gains_the_id_and_a_second_import_changes_nothing(import_csv):
    ada = a_contact(email="ada@example.com")
    data = "Email,HubSpot id\nada@example.com,hs-1\n"

    first = import_csv(data, mapping=HUBSPOT)
    history = ada.history.count()
    second = import_csv(data, mapping=HUBSPOT)

    assert (first.updated_count, ids_of(ada)) == (1, {"hubspot": "hs-1"})
    assert (second.updated_count, second.rejected_rows) == (1, [])
    assert ada.history.count() == history  # nothing written the second time


def test_a_row_whose_hubspot_id_and_email_name_two_contacts_is_rejected_naming_both(import_csv):
    ada = a_contact(email="ada@example.com")
    grace = a_contact(email="grace@example.com")
    external_id_set(contact=grace, source="hubspot", value="hs-2")

    contact_import = import_csv(
        "Email,HubSpot id\nada@example.com,hs-2\nnew@example.com,hs-3\n", mapping=HUBSPOT
    )

    assert reasons(contact_import) == [
        (
            2,
            "These keys name different contacts: hubspot id 'hs-2' matches contact"
            f" #{grace.pk}, email 'ada@example.com' matches contact #{ada.pk}."
            " They are not merged.",
        )
    ]
    assert (ids_of(ada), ids_of(grace)) == ({}, {"hubspot": "hs-2"})
    assert contact_import.imported_count == 1  # the good row still imports


def test_a_row_naming_a_contact_that_has_another_hubspot_id_is_rejected(import_csv):
    ada = a_contact(email="ada@example.com")
    external_id_set(contact=ada, source="hubspot", value="hs-1")

    contact_import = import_csv("Email,HubSpot id\nada@example.com,hs-9\n", mapping=HUBSPOT)

    assert reasons(contact_import) == [
        (
            2,
            f"Email 'ada@example.com' matches contact #{ada.pk}, whose hubspot id is 'hs-1',"
            " not 'hs-9'. They are not merged.",
        )
    ]
    assert ids_of(ada) == {"hubspot": "hs-1"}


def test_two_rows_with_the_same_hubspot_id_are_one_contact_and_a_duplicate(import_csv):
    contact_import = import_csv(
        "Email,HubSpot id\nada@example.com,hs-1\nada2@example.com,hs-1\n", mapping=HUBSPOT
    )

    assert reasons(contact_import) == [(3, "Duplicate of line 2 (same hubspot id).")]
    assert Contact.objects.count() == 1


def test_an_id_longer_than_100_characters_rejects_its_row(import_csv):
    contact_import = import_csv(f"Email,HubSpot id\nada@example.com,{'x' * 101}\n", mapping=HUBSPOT)

    assert reasons(contact_import) == [(2, "The hubspot id is longer than 100 characters.")]
    assert not Contact.objects.exists()


def test_an_empty_id_cell_clears_nothing(import_csv):
    ada = a_contact(email="ada@example.com")
    external_id_set(contact=ada, source="hubspot", value="hs-1")

    contact_import = import_csv("Email,HubSpot id\nada@example.com,\n", mapping=HUBSPOT)

    assert contact_import.rejected_rows == []
    assert ids_of(ada) == {"hubspot": "hs-1"}


def test_a_mapping_without_any_key_is_refused(import_csv):
    with pytest.raises(ConsentError, match="Map a column to email, phone or external id"):
        import_csv("first name,last name\nAda,Lovelace\n")


# --- attribute definitions are read once per import -----------------------------------------


def definition_reads(queries) -> int:
    return sum("contacts_attributedefinition" in query["sql"] for query in queries)


@pytest.mark.parametrize("size", [3, 60])
def test_the_attribute_definitions_are_read_once_whatever_the_number_of_rows(import_csv, size):
    AttributeDefinitionFactory(key="plan", type="choice", options=["free", "pro"])
    AttributeDefinitionFactory(key="seats", type="number")
    rows = "".join(f"p{n}@example.com,pro,{n}\n" for n in range(size))

    with CaptureQueriesContext(connection) as queries:
        contact_import = import_csv(f"email,plan,seats\n{rows}")

    assert (contact_import.imported_count, contact_import.rejected_rows) == (size, [])
    # the mapping (suggest, check) reads them before the run; the run reads them once
    with CaptureQueriesContext(connection) as mapping_only:
        imports.mapping_suggest(columns=["email", "plan", "seats"])
    assert definition_reads(queries) == 2 * definition_reads(mapping_only) + 1
    assert Contact.objects.filter(attributes__plan="pro").count() == size
