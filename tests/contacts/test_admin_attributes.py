"""Custom attributes in the admin: definitions with history, a field per attribute on the
contact page (a bad value is a form error and saves nothing), and list filters."""

import pytest
from django.urls import reverse

from apps.contacts.models import AttributeDefinition, Contact
from tests.factories import AttributeDefinitionFactory, CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def definitions():
    AttributeDefinitionFactory(key="plan", label="Plan", type="choice", options=["free", "pro"])
    AttributeDefinitionFactory(key="seats", label="Seats", type="number")
    AttributeDefinitionFactory(key="trial", label="On trial", type="boolean")
    AttributeDefinitionFactory(key="channels", label="Channels", type="list")


@pytest.fixture
def ada(definitions):
    return ContactFactory(
        first_name="Ada", region="CA", country="US", attributes={"plan": "free", "seats": 2}
    )


def form_of(contact, **changes) -> dict:
    form = {"first_name": contact.first_name, "email": contact.email, "phone": str(contact.phone)}
    form |= {"kind": "prospect", "lifecycle_stage": "lead", "region": "CA", "country": "US"}
    form |= {"attr_plan": "free", "attr_seats": "2", "attr_trial": "", "attr_channels": ""}
    return form | changes


def change_url(contact) -> str:
    return reverse("admin:contacts_contact_change", args=[contact.pk])


def test_the_contact_page_shows_each_attribute_with_its_stored_value(admin_client, ada):
    response = admin_client.get(change_url(ada))

    form = response.context["adminform"].form
    assert response.status_code == 200
    assert {name: form[name].value() for name in form.fields if name.startswith("attr_")} == {
        "attr_plan": "free",
        "attr_seats": "2",
        "attr_trial": "",
        "attr_channels": "",
    }
    assert b"Custom attributes" in response.content


def test_the_contact_page_saves_a_change_and_clears_an_emptied_attribute(admin_client, ada):
    form = form_of(
        ada, attr_plan="pro", attr_seats="", attr_trial="yes", attr_channels="sms; email"
    )

    response = admin_client.post(change_url(ada), form)

    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.attributes == {"plan": "pro", "trial": True, "channels": ["sms", "email"]}


def test_a_bad_value_is_an_error_on_its_field_and_saves_nothing(admin_client, ada):
    form = form_of(ada, first_name="Grace", attr_seats="many")

    response = admin_client.post(change_url(ada), form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"attr_seats": ["'many' is not a number."]}
    ada.refresh_from_db()
    assert (ada.first_name, ada.attributes) == ("Ada", {"plan": "free", "seats": 2})


def test_a_new_contact_is_saved_with_its_attributes(admin_client, definitions):
    form = form_of(Contact(first_name="Bo", email="bo@example.com", phone=""), attr_seats="5")

    response = admin_client.post(reverse("admin:contacts_contact_add"), form)

    assert response.status_code == 302
    assert Contact.objects.get().attributes == {"plan": "free", "seats": 5}


def test_the_contact_list_filters_on_choice_and_yes_no_attributes(admin_client, definitions):
    ContactFactory(first_name="Ada", attributes={"plan": "pro", "trial": True})
    ContactFactory(first_name="Bob", attributes={"plan": "free"})
    ContactFactory(first_name="Cy", attributes={})
    url = reverse("admin:contacts_contact_changelist")

    def shown(query):
        response = admin_client.get(url, query)
        assert response.status_code == 200
        return {c.first_name for c in response.context["cl"].result_list}

    assert shown({"attr_plan": "pro"}) == {"Ada"}
    assert shown({"attr_plan": "__none__"}) == {"Cy"}
    assert shown({"attr_trial": "yes"}) == {"Ada"}
    assert shown({"attr_trial": "no"}) == set()
    assert shown({}) == {"Ada", "Bob", "Cy"}


def test_a_definition_keeps_its_key_type_and_object_once_made(admin_client):
    plan = AttributeDefinitionFactory(key="plan", label="Plan", type="text")
    url = reverse("admin:contacts_attributedefinition_change", args=[plan.pk])

    response = admin_client.post(
        url, {"label": "Billing plan", "key": "tier", "type": "number", "options": "[]"}
    )

    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.key, plan.type, plan.label) == ("plan", "text", "Billing plan")
    assert plan.history.count() == 2


def test_a_choice_definition_without_options_is_a_form_error(admin_client):
    response = admin_client.post(
        reverse("admin:contacts_attributedefinition_add"),
        {
            "object_type": "contact",
            "key": "plan",
            "label": "Plan",
            "type": "choice",
            "options": "[]",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "options": ["A choice needs a list of option names."]
    }
    assert AttributeDefinition.objects.count() == 0


def test_company_and_opportunity_attributes_are_shown_but_not_edited_in_the_admin(admin_client):
    acme = CompanyFactory(attributes={"tier": "gold"})
    url = reverse("admin:contacts_company_change", args=[acme.pk])

    page = admin_client.get(url)
    saved = admin_client.post(url, {"name": "Acme", "country": "US", "attributes": "{}"})

    assert "attributes" not in page.context["adminform"].form.fields
    assert saved.status_code == 302
    acme.refresh_from_db()
    assert (acme.name, acme.attributes) == ("Acme", {"tier": "gold"})


def test_the_segment_page_lists_the_attribute_rule_and_its_operators(admin_client):
    page = admin_client.get(reverse("admin:contacts_segment_add")).content.decode()

    assert '{"attribute": "plan", "op": "in", "value": ["pro", "team"]}' in page
    assert "before, after, within_last_days" in page
