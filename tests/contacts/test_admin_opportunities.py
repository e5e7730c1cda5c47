"""The opportunity admin creates and edits rows; it never makes up a key that merges deals."""

import pytest

from apps.contacts.models import Event, EventType, Opportunity, OpportunityStageChange
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/contacts/opportunity/add/"


def _form(contact, **overrides) -> dict:
    form = {
        "name": "Renewal",
        "contact": contact.pk,
        "company": "",
        "stage": "discovery",
        "amount": "1000.00",
        "currency": "USD",
        "external_id": "",
        "opened_at_0": "2026-11-02",
        "opened_at_1": "09:00:00",
        "attributes": "{}",
        "stage_changes-TOTAL_FORMS": "0",
        "stage_changes-INITIAL_FORMS": "0",
        "stage_changes-MIN_NUM_FORMS": "0",
        "stage_changes-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    return {**form, **overrides}


def _posted(client, path, data):
    response = client.post(path, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def test_it_keeps_two_deals_of_one_name_for_two_contacts_apart(admin_client):
    # given two contacts, each with a deal named "Renewal" added through the admin
    ada, bob = ContactFactory(), ContactFactory()
    # when
    _posted(admin_client, ADD, _form(ada))
    _posted(admin_client, ADD, _form(bob))
    # then two rows, each on its own contact, neither given a made-up key
    rows = list(Opportunity.objects.order_by("pk").values_list("name", "contact", "external_id"))
    assert rows == [("Renewal", ada.pk, None), ("Renewal", bob.pk, None)]
    created = Event.objects.filter(type=EventType.OPPORTUNITY_CREATED)
    assert sorted(created.values_list("contact", flat=True)) == [ada.pk, bob.pk]


def test_it_edits_a_deal_without_an_external_id_in_place(admin_client):
    # given a deal added through the admin, without an external id
    ada = ContactFactory()
    _posted(admin_client, ADD, _form(ada))
    deal = Opportunity.objects.get()
    # when it is edited: renamed and moved on a stage
    change = f"/admin/contacts/opportunity/{deal.pk}/change/"
    _posted(admin_client, change, _form(ada, name="Renewal 2027", stage="proposal"))
    # then the same row changed, and no copy was made
    assert list(Opportunity.objects.values_list("pk", "name", "stage", "external_id")) == [
        (deal.pk, "Renewal 2027", "proposal", None)
    ]
    moves = OpportunityStageChange.objects.values_list("opportunity", "from_stage", "to_stage")
    assert list(moves) == [(deal.pk, "", "discovery"), (deal.pk, "discovery", "proposal")]


def test_it_keeps_an_external_id_the_user_typed(admin_client):
    ada = ContactFactory()
    _posted(admin_client, ADD, _form(ada, external_id="sf-006"))
    assert list(Opportunity.objects.values_list("external_id", "contact")) == [("sf-006", ada.pk)]
