"""Data-subject requests through the API and the admin: the export holds every row about
the person, counted per kind; only Compliance and Admin may export or erase; bad input is a
400 with field errors; every request is in the audit trail, never its data."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine

from apps.accounts import roles
from apps.contacts.models import Contact, DataSubjectRequest, Event
from apps.reporting.audit.trail import TrailFilters, trail_page
from apps.sends.models import MessageStatus, OutboundMessage
from tests.contacts.erasure_world import EMAIL, FIRST, MIDDAY, PHONE, person_with_everything
from tests.factories import UserFactory
from tests.journeys.builders import journey_build

pytestmark = pytest.mark.django_db
REASON = "Art. 17 request received 2026-03-09 by email"
# What person_with_everything makes, per kind: the rows an export must hold.
CREATED = {
    "contacts.contact": 3,  # the row, and two versions in its history (made, email changed)
    "contacts.external_ids": 3,  # api, segment and hubspot
    "contacts.events": 3,  # two form submits and the STOP's event
    "contacts.opportunities": 3,  # the deal, its stage change, its history row
    "contacts.company": 2,  # the company and its history row
    "contacts.merges": 1,
    "contacts.imports": 1,  # the report naming her (only her rejected row is exported)
    "contacts.admin_log": 1,
    "contacts.requests": 0,
    "segment_intake.anonymous_ids": 1,
    "segment_intake.rejections": 1,
    "consent.ledger": 3,  # the opt-in, and the STOP ending marketing and transactional
    "consent.states": 2,
    "consent.suppressions": 2,  # the STOP's entry and its history row
    "consent.attempts": 1,
    "consent.preferences": 2,  # the row and its history row
    "sends.outbound": 2,  # the marketing text and the STOP's confirmation
    "sends.message_log": 2,
    "sends.links": 1,
    "sends.clicks": 1,
    "sends.inbound": 2,  # her reply and the STOP
    "routing.tasks": 4,  # the task, its signal, its notification, its history row
    "routing.webhook_deliveries": 1,
    "inbox.conversations": 2,  # the conversation her texts landed in, and a note on it
    "journeys.enrollments": 1,
    "journeys.decision_log": 1,
    "reporting.attribution": 1,
    "crm.outbox": 1,  # her reply, owed to HubSpot
    "crm.records": 2,  # her HubSpot record kept with a sync error, and its consent flags
    "reporting.audit_findings": 1,
}


@pytest.fixture(autouse=True)
def midday(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    with time_machine.travel(MIDDAY + timedelta(hours=1), tick=False):
        yield


@pytest.fixture
def officer(db):
    return UserFactory(role=roles.COMPLIANCE, username="officer")


@pytest.fixture
def rep(db):
    return UserFactory(role=roles.SALES_REP, username="rep")


@pytest.fixture
def person(officer, rep):
    journey = journey_build(steps=[("wait", "wait", {"hours": 1})])
    made = person_with_everything(admin=officer, rep=rep, journey=journey)
    Contact.objects.filter(pk=made.contact.pk).update(owner=rep)  # the rep sees her
    return made


def signed_in(client, user):
    client.force_login(user)
    return client


def export_url(person, **query) -> str:
    suffix = "".join(f"?{k}={v}" for k, v in query.items())
    return f"/api/v1/contacts/{person.contact.pk}/export/{suffix}"


def erase(client, person, body):
    return client.post(
        f"/api/v1/contacts/{person.contact.pk}/erase/",
        json.dumps(body),
        content_type="application/json",
    )


# --- Export --------------------------------------------------------------------------------


def test_the_export_holds_every_row_about_the_person_counted_per_kind(client, person, officer):
    response = signed_in(client, officer).get(export_url(person))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="contact-{person.contact.pk}-data.json"'
    )
    document = json.loads(response.content)
    assert document["counts"] == CREATED
    assert {k: len(v["rows"]) for k, v in document["kinds"].items()} == CREATED
    event_types = sorted(row["type"] for row in document["kinds"]["contacts.events"]["rows"])
    assert event_types == sorted(Event.objects.values_list("type", flat=True))
    [contact_row] = [r for r in document["kinds"]["contacts.contact"]["rows"] if "id" in r]
    assert (contact_row["email"], contact_row["phone"], contact_row["first_name"]) == (
        EMAIL, PHONE, FIRST,
    )  # fmt: skip
    [imported] = document["kinds"]["contacts.imports"]["rows"]
    assert [row["line"] for row in imported["rejected_rows"]] == [2]  # not another person's


def test_the_export_is_recorded_with_who_when_and_counts_never_the_data(client, person, officer):
    signed_in(client, officer).get(export_url(person, **{"as": "csv"}))

    record = DataSubjectRequest.objects.get()
    assert (record.kind, record.contact_id, record.actor, record.format) == (
        "export", person.contact.pk, officer, "csv",
    )  # fmt: skip
    assert record.counts == CREATED
    entries = trail_page(filters=TrailFilters(contact_id=person.contact.pk)).entries
    assert [(e.action, e.who) for e in entries if e.source.kind == "request"] == [
        ("Export (csv)", officer.display_name)
    ]


def test_the_csv_export_is_a_zip_of_one_csv_per_kind_with_formulas_defused(client, person, officer):
    response = signed_in(client, officer).get(export_url(person, **{"as": "csv"}))

    assert (response.status_code, response["Content-Type"]) == (200, "application/zip")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert set(archive.namelist()) == {"README.txt", "counts.csv"} | {f"{k}.csv" for k in CREATED}
    for kind, rows in CREATED.items():
        lines = archive.read(f"{kind}.csv").decode().splitlines()
        assert len(lines) == 1 + rows, kind  # the header, then one line per row
    contact_csv = archive.read("contacts.contact.csv").decode()
    assert f",'{PHONE}," in contact_csv  # "+1…" would start a formula


def test_an_unknown_export_format_is_a_field_error(client, person, officer):
    response = signed_in(client, officer).get(export_url(person, **{"as": "xml"}))

    assert (response.status_code, response.json()) == (400, {"as": ["Choose json or csv."]})
    assert DataSubjectRequest.objects.count() == 0


@pytest.mark.parametrize("role", [roles.MARKETER, roles.APPROVER, roles.SALES_REP])
def test_other_roles_may_not_export_even_a_contact_they_see(client, person, rep, role):
    user = rep if role == roles.SALES_REP else UserFactory(role=role)

    response = signed_in(client, user).get(export_url(person))

    assert response.status_code == 403
    assert DataSubjectRequest.objects.count() == 0


def test_an_admin_may_export_and_a_visitor_is_asked_to_sign_in(client, person):
    assert client.get(export_url(person)).status_code == 401
    admin = UserFactory(role=roles.ADMIN)
    assert signed_in(client, admin).get(export_url(person)).status_code == 200


# --- Erase ---------------------------------------------------------------------------------


def test_an_erasure_answers_the_rows_anonymised_per_kind(client, person, officer):
    response = erase(signed_in(client, officer), person, {"reason": REASON, "confirm": True})

    assert response.status_code == 200
    body = response.json()
    assert (body["contact_id"], body["counts"]["Outbound messages"]) == (person.contact.pk, 2)
    contact = Contact.objects.get(pk=person.contact.pk)
    assert (contact.first_name, contact.email, str(contact.phone)) == ("", "", "")
    assert contact.erased_at is not None


@pytest.mark.parametrize(
    "body, errors",
    [
        ({"reason": REASON}, {"confirm": ["This field is required."]}),
        (
            {"reason": REASON, "confirm": False},
            {"confirm": ["Set confirm to true: an erasure cannot be undone."]},
        ),
        ({"confirm": True}, {"reason": ["This field is required."]}),
        ({"reason": "  ", "confirm": True}, {"reason": ["This field may not be blank."]}),
        (
            {"reason": f"{FIRST} asked", "confirm": True},
            {
                "reason": [
                    "The reason is kept after the erasure: write it without the person's "
                    "name, phone number, email or ids."
                ]
            },
        ),
    ],
)
def test_a_bad_erasure_request_is_a_field_error_and_erases_nothing(
    client, person, officer, body, errors
):
    response = erase(signed_in(client, officer), person, body)

    assert (response.status_code, response.json()) == (400, errors)
    assert Contact.objects.get(pk=person.contact.pk).email == EMAIL
    assert DataSubjectRequest.objects.count() == 0


def test_the_same_erasure_twice_is_a_clear_400(client, person, officer):
    signed_in(client, officer)
    assert erase(client, person, {"reason": REASON, "confirm": True}).status_code == 200

    again = erase(client, person, {"reason": REASON, "confirm": True})

    assert again.status_code == 400
    assert list(again.json()) == ["contact"]
    assert again.json()["contact"][0].startswith("This contact was already erased on ")
    assert DataSubjectRequest.objects.filter(kind="erasure").count() == 1


def test_an_erasure_while_a_message_is_in_flight_is_a_409(client, person, officer):
    OutboundMessage.objects.create(
        contact=person.contact, to_address=PHONE, body="Now", category="marketing",
        origin="journey", send_key="zq-sending", status=MessageStatus.SENDING,
    )  # fmt: skip

    response = erase(signed_in(client, officer), person, {"reason": REASON, "confirm": True})

    assert response.status_code == 409
    assert Contact.objects.get(pk=person.contact.pk).erased_at is None


@pytest.mark.parametrize("role", [roles.MARKETER, roles.SALES_REP, roles.SALES_MANAGER])
def test_other_roles_may_not_erase(client, person, rep, role):
    user = rep if role == roles.SALES_REP else UserFactory(role=role)

    response = erase(signed_in(client, user), person, {"reason": REASON, "confirm": True})

    assert response.status_code == 403
    assert Contact.objects.get(pk=person.contact.pk).email == EMAIL


# --- The admin -----------------------------------------------------------------------------


def test_the_admin_erasure_page_previews_the_counts_and_needs_a_confirmation(
    client, person, officer
):
    url = f"/admin/contacts/contact/{person.contact.pk}/erase/"
    page = signed_in(client, officer).get(url)
    assert page.status_code == 200
    assert page.context["preview"]["Outbound messages"] == 2

    unconfirmed = client.post(url, {"reason": REASON})
    assert unconfirmed.status_code == 200
    assert unconfirmed.context["form"].errors == {
        "confirm": ["Tick the box: an erasure cannot be undone."]
    }
    assert Contact.objects.get(pk=person.contact.pk).erased_at is None

    done = client.post(url, {"reason": REASON, "confirm": "on"})
    assert done.status_code == 302
    assert Contact.objects.get(pk=person.contact.pk).erased_at is not None


def test_the_contact_list_offers_export_and_erase_to_compliance_only(client, person, officer):
    changelist = "/admin/contacts/contact/"
    marketer = UserFactory(role=roles.MARKETER)
    # a marketer is offered no action on contacts at all (neither merge nor these)
    assert signed_in(client, marketer).get(changelist).context["action_form"] is None

    response = signed_in(client, officer).post(
        changelist, {"action": "export_json", "_selected_action": [person.contact.pk]}
    )

    assert response.status_code == 200
    assert json.loads(response.content)["counts"] == CREATED
    assert DataSubjectRequest.objects.get().actor == officer
