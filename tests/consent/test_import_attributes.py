"""CSV import into custom attributes: a column mapped to attr:<key> is read by the
attribute's type; a bad value rejects its row with the reason, and the good rows import."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts import roles
from apps.consent import imports
from apps.consent.services import ConsentError
from apps.contacts.models import Contact
from tests.factories import AttributeDefinitionFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def definitions():
    AttributeDefinitionFactory(key="plan", label="Plan", type="choice", options=["free", "pro"])
    AttributeDefinitionFactory(key="seats_bought", label="Seats bought", type="number")
    AttributeDefinitionFactory(key="renewal_on", label="Renews", type="date")
    AttributeDefinitionFactory(key="tier", type="text", object_type="company")


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


def stored():
    return dict(Contact.objects.values_list("email", "attributes"))


def test_it_suggests_attribute_columns_by_key_or_label():
    columns = ["Email", "plan", "Seats Bought", "Renews", "tier"]

    assert imports.mapping_suggest(columns=columns) == {
        "Email": "email",
        "plan": "attr:plan",
        "Seats Bought": "attr:seats_bought",
        "Renews": "attr:renewal_on",
        "tier": "ignore",
    }


def test_it_imports_attributes_by_type_and_rejects_each_bad_row_with_its_reason(import_csv):
    ContactFactory(email="old@example.com", attributes={"plan": "pro", "seats_bought": 9})
    data = (
        "email,plan,Seats bought,renews\n"
        'ada@example.com,Pro,"1,200",2026-09-30\n'
        "bob@example.com,gold,3,\n"
        "cy@example.com,free,lots,31/12/2026\n"
        "old@example.com,,10,\n"
    )

    contact_import = import_csv(data)

    assert stored() == {
        "ada@example.com": {"plan": "pro", "seats_bought": 1200, "renewal_on": "2026-09-30"},
        "old@example.com": {"plan": "pro", "seats_bought": 10},
    }
    assert contact_import.rejected_rows == [
        {
            "line": 3,
            "reason": "Attribute plan: 'gold' is not an option; choose from free, pro.",
            "row": ["bob@example.com", "gold", "3", ""],
        },
        {
            "line": 4,
            "reason": "Attribute seats_bought: 'lots' is not a number. "
            "Attribute renewal_on: Give a date as YYYY-MM-DD, e.g. 2026-03-31.",
            "row": ["cy@example.com", "free", "lots", "31/12/2026"],
        },
    ]
    assert (contact_import.imported_count, contact_import.updated_count) == (1, 1)


def test_the_same_attributes_imported_again_write_nothing(import_csv):
    data = "email,plan\nada@example.com,pro\n"
    import_csv(data)
    history = Contact.history.count()

    again = import_csv(data)

    assert (again.updated_count, again.rejected_count) == (1, 0)
    assert Contact.history.count() == history


@pytest.mark.parametrize("target", ["attr:color", "attr:tier", "attr:"])
def test_a_mapping_to_an_undefined_attribute_is_refused(import_csv, target):
    with pytest.raises(ConsentError, match=f"{target!r} is not a field to import into."):
        import_csv("email,x\nada@example.com,1\n", mapping={"email": "email", "x": target})

    assert Contact.objects.count() == 0
