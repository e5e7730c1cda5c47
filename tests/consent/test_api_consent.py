"""/api/v1/contacts/{id}/consent/: append to the ledger with evidence; read state and ledger."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.consent.models import ConsentRecord, ConsentState
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(admin_user):
    return client_for(admin_user)


@pytest.fixture
def ada():
    return ContactFactory(email="ada@example.com", phone="+16175550100")


def url(contact) -> str:
    return f"/api/v1/contacts/{contact.pk}/consent/"


def hours_ago(hours: int) -> str:
    return (timezone.now() - timedelta(hours=hours)).isoformat()


def a_change(**overrides) -> dict:
    return {
        "channel": "sms",
        "purpose": "marketing",
        "action": "opt_in",
        "source": "api",
        "evidence": {
            "ip_address": "203.0.113.7",
            "user_agent": "Mozilla/5.0",
            "page_url": "https://example.com/signup",
            "disclosure_text": "Reply STOP to opt out.",
            "note": "Signed up at the booth",
        },
        **overrides,
    }


def test_it_is_reachable_by_its_stable_name(ada):
    assert reverse("api:contact-consent", args=[ada.pk]) == url(ada)


def test_it_appends_a_ledger_row_with_its_evidence_and_actor(api, admin_user, ada):
    response = api.post(url(ada), a_change(occurred_at="2025-03-01T09:00:00-05:00"), format="json")

    record = ConsentRecord.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": record.pk,
        "contact": ada.pk,
        "address": "+16175550100",
        "channel": "sms",
        "purpose": "marketing",
        "action": "opt_in",
        "source": "api",
        "occurred_at": "2025-03-01T14:00:00Z",
        "recorded_at": response.json()["recorded_at"],
        "evidence": {
            "ip_address": "203.0.113.7",
            "user_agent": "Mozilla/5.0",
            "page_url": "https://example.com/signup",
            "disclosure": None,
            "disclosure_text": "Reply STOP to opt out.",
            "form": None,
            "actor": "admin",
            "inbound_message_sid": "",
            "keyword": "",
            "note": "Signed up at the booth",
        },
    }
    assert record.actor == admin_user
    assert list(ConsentState.objects.values_list("status", flat=True)) == ["opted_in"]


def test_it_shows_the_state_and_the_ledger(api, ada):
    created = api.post(url(ada), a_change(channel="email"), format="json").json()

    response = api.get(url(ada))

    assert response.status_code == 200
    body = response.json()
    assert body["ledger"] == [created]
    assert [
        {key: state[key] for key in ("channel", "purpose", "status", "address", "last_record")}
        for state in body["state"]
    ] == [
        {
            "channel": "email",
            "purpose": "marketing",
            "status": "opted_in",
            "address": "ada@example.com",
            "last_record": created["id"],
        }
    ]


def test_it_derives_opted_out_from_an_opt_out_after_an_opt_in(api, ada):
    api.post(url(ada), a_change(occurred_at=hours_ago(2)), format="json")
    api.post(url(ada), a_change(action="opt_out", occurred_at=hours_ago(1)), format="json")

    body = api.get(url(ada)).json()

    assert [row["action"] for row in body["ledger"]] == ["opt_in", "opt_out"]
    assert [(s["channel"], s["purpose"], s["status"]) for s in body["state"]] == [
        ("sms", "marketing", "opted_out")
    ]
    assert body["state"][0]["opted_out_at"] is not None


def test_it_keeps_web_form_sms_marketing_pending_until_confirmed(api, ada):
    api.post(url(ada), a_change(source="web_form"), format="json")

    assert api.get(url(ada)).json()["state"][0]["status"] == "pending"


@pytest.mark.parametrize("role", [roles.ADMIN, roles.MARKETER, roles.COMPLIANCE])
def test_it_has_no_way_to_change_or_delete_a_ledger_row(make_user, ada, role):
    client = client_for(make_user(role))
    client_for(make_user(roles.ADMIN, username="boss")).post(url(ada), a_change(), format="json")

    answers = [
        client.put(url(ada), a_change(action="opt_out"), format="json").status_code,
        client.patch(url(ada), {"action": "opt_out"}, format="json").status_code,
        client.delete(url(ada)).status_code,
    ]

    assert answers == [405, 405, 405]
    assert list(ConsentRecord.objects.values_list("action", flat=True)) == ["opt_in"]


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"channel": "fax"}, {"channel": ['"fax" is not one of: sms, email.']}),
        (
            {"purpose": "spam"},
            {"purpose": ['"spam" is not one of: marketing, transactional.']},
        ),
        ({"action": "maybe"}, {"action": ['"maybe" is not one of: opt_in, opt_out, confirm.']}),
        (
            {"source": "rumour"},
            {
                "source": [
                    '"rumour" is not one of: web_form, keyword, import, api, admin, rep_verbal, '
                    "carrier, email_provider."
                ]
            },
        ),
        (
            {"occurred_at": "2025-03-01T09:00:00"},
            {"occurred_at": ["Give the time zone offset, e.g. 2025-03-01T14:30:00-05:00."]},
        ),
        (
            {"occurred_at": "2999-01-01T00:00:00Z"},
            {"occurred_at": ["This moment is in the future."]},
        ),
        (
            {"occurred_at": "0001-01-01T00:00:00+01:00"},
            {"occurred_at": ["Datetime value out of range."]},
        ),
        (
            {"evidence": {"ip_address": "not-an-ip", "page_url": "nowhere"}},
            {
                "evidence": {
                    "ip_address": ["Enter a valid IPv4 or IPv6 address."],
                    "page_url": ["Enter a valid URL."],
                }
            },
        ),
        (
            {"evidence": "yes"},
            {
                "evidence": {
                    "non_field_errors": ["Invalid data. Expected a dictionary, but got str."]
                }
            },
        ),
    ],
)
def test_it_names_what_is_wrong_and_appends_nothing(api, ada, overrides, errors):
    response = api.post(url(ada), a_change(**overrides), format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert (ConsentRecord.objects.count(), ConsentState.objects.count()) == (0, 0)


def test_it_refuses_sms_consent_for_a_contact_without_a_phone(api):
    no_phone = ContactFactory(phone="")

    response = api.post(url(no_phone), a_change(), format="json")

    assert response.status_code == 400
    assert response.json() == {"phone": ["The contact has no phone to consent with."]}
    assert ConsentRecord.objects.count() == 0


def test_it_answers_404_for_an_unknown_contact(api):
    response = api.post("/api/v1/contacts/987654/consent/", a_change(), format="json")

    assert response.status_code == 404
    assert ConsentRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "reads", "writes"),
    [
        (roles.MARKETER, 200, 403),
        (roles.APPROVER, 200, 403),
        (roles.COMPLIANCE, 200, 403),
        (roles.SALES_REP, 403, 403),
        (roles.SALES_MANAGER, 403, 403),
    ],
)
def test_it_lets_only_admins_append(make_user, ada, role, reads, writes):
    client = client_for(make_user(role))

    read = client.get(url(ada))
    write = client.post(url(ada), a_change(), format="json")

    assert (read.status_code, write.status_code) == (reads, writes)
    assert ConsentRecord.objects.count() == 0


def test_it_refuses_anonymous_callers(ada):
    client = APIClient()

    assert client.get(url(ada)).status_code == 401
    assert client.post(url(ada), a_change(), format="json").status_code == 401
    assert ConsentRecord.objects.count() == 0
