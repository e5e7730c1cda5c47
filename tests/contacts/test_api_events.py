"""POST /api/v1/events/: one event or a batch; per-item results; nothing lost, nothing doubled."""

import gc
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.contacts import identity
from apps.contacts.api import event_intake
from apps.contacts.api.event_input import BATCH_FIELDS, CONTACT_FIELDS, EVENT_FIELDS
from apps.contacts.api.serializers import (
    EventBatchSerializer,
    EventContactSerializer,
    EventSerializer,
)
from apps.contacts.identity import IdentityIndex
from apps.contacts.models import Contact, ContactKind, Event
from tests.factories import ContactFactory, EventFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"
SLUG_ERROR = (
    "An event type is a lowercase slug: letters, digits and underscores, e.g. trial_started."
)


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def ada():
    return ContactFactory(email="Ada@Example.com", phone="+16175550100", external_id="crm-ada")


def an_hour_ago() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


def an_event(key="k1", contact=None, **overrides) -> dict:
    return {
        "type": "pricing_view",
        "occurred_at": an_hour_ago(),
        "idempotency_key": key,
        "properties": {"page": "/pricing"},
        "source": "web",
        "contact": contact or {"email": "ada@example.com"},
        **overrides,
    }


def post(api, body):
    return api.post(URL, body, format="json")


def stored() -> list[tuple]:
    return list(
        Event.objects.order_by("idempotency_key").values_list(
            "idempotency_key", "contact_id", "type", "properties", "source"
        )
    )


def test_it_is_reachable_by_its_stable_name():
    assert reverse("api:events") == URL


def test_it_stores_a_single_event_and_answers_201(api, ada):
    response = post(api, an_event("k1", occurred_at="2025-03-01T14:30:00-05:00"))

    event = Event.objects.get()
    assert response.status_code == 201
    assert response.json() == {"status": "created", "id": event.pk}
    assert stored() == [("k1", ada.pk, "pricing_view", {"page": "/pricing"}, "web")]
    assert event.occurred_at.isoformat() == "2025-03-01T19:30:00+00:00"


def test_it_answers_a_repeated_single_event_with_200_and_the_original_id(api, ada):
    first = post(api, an_event("k1"))

    again = post(api, an_event("k1", type="demo_request", properties={"changed": True}))

    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "id": first.json()["id"]}
    assert stored() == [("k1", ada.pk, "pricing_view", {"page": "/pricing"}, "web")]


def test_it_answers_a_bad_single_event_with_400_and_stores_nothing(api, ada):
    response = post(api, an_event("k1", occurred_at="2025-03-01T14:30:00"))

    assert response.status_code == 400
    assert response.json() == {"occurred_at": ["occurred_at needs a time zone offset."]}
    assert stored() == []


def test_it_reports_each_item_of_a_mixed_batch_and_stores_exactly_the_good_ones(api, ada):
    contacts_before = Contact.objects.count()
    future = (timezone.now() + timedelta(days=1)).isoformat()
    body = {
        "events": [
            an_event("k0"),
            an_event("k1", type="Pricing View"),
            an_event("k2", occurred_at="2025-03-01T14:30:00"),
            an_event("k3", contact={"email": "nobody@example.com"}),
            an_event("k4", contact={"phone": "555"}),
            an_event("k5", properties=[1, 2]),
            an_event("k6", occurred_at=future),
            an_event("k7", contact={"phone": "(617) 555-0100"}),
        ]
    }

    response = post(api, body)

    ids = dict(Event.objects.values_list("idempotency_key", "pk"))
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"index": 0, "status": "created", "id": ids["k0"], "errors": {}},
            {"index": 1, "status": "error", "id": None, "errors": {"type": [SLUG_ERROR]}},
            {
                "index": 2,
                "status": "error",
                "id": None,
                "errors": {"occurred_at": ["occurred_at needs a time zone offset."]},
            },
            {
                "index": 3,
                "status": "error",
                "id": None,
                "errors": {
                    "contact": [
                        "No contact matches email 'nobody@example.com'. "
                        "Send create_contact: true to create one."
                    ]
                },
            },
            {
                "index": 4,
                "status": "error",
                "id": None,
                "errors": {"contact.phone": ["Enter a valid phone number, e.g. +14155550123."]},
            },
            {
                "index": 5,
                "status": "error",
                "id": None,
                "errors": {"properties": ["properties must be a JSON object."]},
            },
            {
                "index": 6,
                "status": "error",
                "id": None,
                "errors": {"occurred_at": ["occurred_at is in the future."]},
            },
            {"index": 7, "status": "created", "id": ids["k7"], "errors": {}},
        ],
        "created": 2,
        "duplicates": 0,
        "errors": 6,
    }
    assert stored() == [
        ("k0", ada.pk, "pricing_view", {"page": "/pricing"}, "web"),
        ("k7", ada.pk, "pricing_view", {"page": "/pricing"}, "web"),
    ]
    assert Contact.objects.count() == contacts_before


def test_it_stores_a_key_repeated_within_one_batch_once(api, ada):
    other = ContactFactory()
    body = {"events": [an_event("k1"), an_event("k1", contact={"id": other.pk})]}

    response = post(api, body)

    event = Event.objects.get()
    assert [(r["status"], r["id"]) for r in response.json()["results"]] == [
        ("created", event.pk),
        ("duplicate", event.pk),
    ]
    assert (response.json()["created"], response.json()["duplicates"]) == (1, 1)
    assert event.contact_id == ada.pk


def test_it_answers_keys_stored_by_an_earlier_request_as_duplicates(api, ada):
    first = post(api, {"events": [an_event("k1"), an_event("k2")]}).json()

    second = post(api, {"events": [an_event("k2"), an_event("k3")]}).json()

    ids = dict(Event.objects.values_list("idempotency_key", "pk"))
    assert [(r["status"], r["id"]) for r in second["results"]] == [
        ("duplicate", first["results"][1]["id"]),
        ("created", ids["k3"]),
    ]
    assert sorted(ids) == ["k1", "k2", "k3"]


def test_it_answers_a_stored_key_as_a_duplicate_whichever_contact_the_repeat_names(api, ada):
    # Given k1 stored, and repeats of it naming a new person and a known one
    first = post(api, an_event("k1")).json()
    body = {
        "create_contact": True,
        "events": [an_event("k1", contact={"email": "new@example.com"}), an_event("k1")],
    }

    second = post(api, body).json()

    assert [(r["status"], r["id"]) for r in second["results"]] == [
        ("duplicate", first["id"]),
        ("duplicate", first["id"]),
    ]
    assert (second["created"], second["duplicates"]) == (0, 2)
    assert list(Contact.objects.values_list("pk", flat=True)) == [ada.pk]
    assert stored() == [("k1", ada.pk, "pricing_view", {"page": "/pricing"}, "web")]


def test_it_lets_a_good_item_claim_a_key_its_bad_twin_could_not(api, ada):
    body = {"events": [an_event("k1", contact={"email": "nobody@example.com"}), an_event("k1")]}

    results = post(api, body).json()["results"]

    assert [r["status"] for r in results] == ["error", "created"]
    assert stored() == [("k1", ada.pk, "pricing_view", {"page": "/pricing"}, "web")]


def test_it_refuses_a_batch_over_the_limit_and_stores_nothing(api, ada):
    body = {"events": [an_event(f"k{i}") for i in range(1001)]}

    response = post(api, body)

    assert response.status_code == 400
    assert response.json() == {"events": ["Send a list of 1 to 1000 events. This one has 1001."]}
    assert stored() == []


def test_it_takes_a_batch_of_exactly_the_limit(api, ada):
    response = post(api, {"events": [an_event(f"k{i}") for i in range(1000)]})

    assert (response.status_code, response.json()["created"]) == (200, 1000)
    assert Event.objects.count() == 1000


def test_it_refuses_an_empty_batch(api):
    response = post(api, {"events": []})

    assert response.status_code == 400
    assert response.json() == {"events": ["Send a list of 1 to 1000 events. This one has 0."]}


def test_it_creates_unknown_contacts_as_prospects_when_asked(api, admin_user):
    new_person = {
        "email": "Grace@Example.com",
        "phone": "617 555 0199",
        "first_name": "Grace",
        "last_name": "Hopper",
        "time_zone": "America/New_York",
        "lifecycle_stage": "mql",
    }
    body = {
        "create_contact": True,
        "events": [
            an_event("k1", contact=new_person),
            an_event("k2", contact={"email": "grace@example.com"}),
            an_event("k3", contact={"email": "someone@example.com"}, create_contact=False),
        ],
    }

    response = post(api, body)

    grace = Contact.objects.get()
    assert [r["status"] for r in response.json()["results"]] == ["created", "created", "error"]
    assert (grace.email, str(grace.phone), grace.first_name, grace.last_name) == (
        "Grace@Example.com",
        "+16175550199",
        "Grace",
        "Hopper",
    )
    assert (grace.kind, grace.lifecycle_stage, grace.time_zone, grace.source) == (
        ContactKind.PROSPECT,
        "mql",
        "America/New_York",
        "web",
    )
    assert list(Event.objects.values_list("contact_id", flat=True)) == [grace.pk, grace.pk]
    history = grace.history.get()
    assert (history.history_type, history.history_user) == ("+", admin_user)


def test_it_never_creates_a_contact_for_an_unknown_id(api):
    body = an_event("k1", contact={"id": 987654}, create_contact=True)

    response = post(api, body)

    assert response.status_code == 400
    assert response.json() == {"contact": ["No contact has id 987654."]}
    assert (Contact.objects.count(), Event.objects.count()) == (0, 0)


def test_it_creates_no_contact_for_a_repeated_key(api, ada):
    post(api, an_event("k1"))

    again = post(api, an_event("k1", contact={"email": "new@example.com"}, create_contact=True))

    assert again.status_code == 200
    assert list(Contact.objects.values_list("pk", flat=True)) == [ada.pk]


def test_it_refuses_an_event_whose_keys_name_two_contacts(api, ada):
    # given Ada (external id crm-ada) and another contact with her own email
    other = ContactFactory(email="other@example.com", phone="")
    # when one event names Ada's external id and the other's email
    response = post(
        api, an_event("k1", contact={"external_id": "crm-ada", "email": "OTHER@example.com"})
    )
    # then it is refused with both contacts named, and nothing is stored or merged
    assert response.status_code == 400
    assert response.json() == {
        "contact": [
            f"These keys name different contacts: external id 'crm-ada' matches contact"
            f" #{ada.pk}, email 'other@example.com' matches contact #{other.pk}."
            " They are not merged."
        ]
    }
    assert stored() == []
    assert sorted(Contact.objects.values_list("pk", "email")) == [
        (ada.pk, "Ada@Example.com"),
        (other.pk, "other@example.com"),
    ]


def test_it_answers_a_repeated_key_as_the_original_even_when_its_keys_now_conflict(api, ada):
    first = post(api, an_event("k1"))
    other = ContactFactory(email="other@example.com", phone="")

    again = post(api, an_event("k1", contact={"external_id": "crm-ada", "email": other.email}))

    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "id": first.json()["id"]}
    assert stored() == [("k1", ada.pk, "pricing_view", {"page": "/pricing"}, "web")]


def test_it_refuses_an_event_naming_a_contact_by_email_with_another_external_id(api, ada):
    response = post(
        api, an_event("k1", contact={"external_id": "crm-2", "email": "ada@example.com"})
    )

    assert response.status_code == 400
    assert response.json() == {
        "contact": [
            f"Email 'ada@example.com' matches contact #{ada.pk}, whose external id is"
            " 'crm-ada', not 'crm-2'. They are not merged."
        ]
    }
    assert stored() == []


def test_it_finds_a_contact_by_any_one_of_its_keys(api, ada):
    post(api, an_event("k1", contact={"external_id": "crm-ada", "email": "ADA@example.com"}))
    post(api, an_event("k2", contact={"email": "ada@example.com", "phone": "+1 617 555 0100"}))

    assert list(Event.objects.order_by("idempotency_key").values_list("contact_id", flat=True)) == [
        ada.pk,
        ada.pk,
    ]


def test_it_refuses_a_batch_item_whose_keys_name_a_contact_planned_and_a_stored_one(api, ada):
    # given a batch whose first event creates a new contact by external id, and whose
    # second names that external id together with Ada's phone
    batch = {
        "create_contact": True,
        "events": [
            an_event("k1", contact={"external_id": "crm-new"}),
            an_event("k2", contact={"external_id": "crm-new", "phone": "+16175550100"}),
        ],
    }
    response = post(api, batch)
    # then the first is stored on a new contact, the second refused, naming both
    new = Contact.objects.get(external_id="crm-new")
    assert [item["status"] for item in response.json()["results"]] == ["created", "error"]
    assert response.json()["results"][1]["errors"] == {
        "contact": [
            "These keys name different contacts: external id 'crm-new' matches a new contact"
            f" earlier in this batch, phone '+16175550100' matches contact #{ada.pk}."
            " They are not merged."
        ]
    }
    assert stored() == [("k1", new.pk, "pricing_view", {"page": "/pricing"}, "web")]


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="only SQLite's LOWER() lets both spellings be stored"
)
def test_it_gives_an_email_two_contacts_share_in_python_to_the_older(api):
    # Given two contacts whose emails SQLite tells apart and Python's lower() does not
    older = ContactFactory(email="ada@Äxample.com")
    ContactFactory(email="ada@äxample.com")

    response = post(api, an_event("k1", contact={"email": "ada@Äxample.com"}))

    assert response.status_code == 201
    assert stored() == [("k1", older.pk, "pricing_view", {"page": "/pricing"}, "web")]


def test_it_finds_a_contact_that_another_request_created_meanwhile(api, ada, monkeypatch):
    # Given a lookup that misses Ada once, as if she were created just after it ran
    real_load = event_intake.ContactDirectory.load
    calls = []

    def load_missing_once(refs):
        calls.append(1)
        return (
            event_intake.ContactDirectory(IdentityIndex()) if len(calls) == 1 else real_load(refs)
        )

    monkeypatch.setattr(event_intake.ContactDirectory, "load", load_missing_once)

    response = post(api, an_event("k1", create_contact=True))

    assert response.status_code == 201
    assert len(calls) == 2
    assert list(Contact.objects.values_list("pk", flat=True)) == [ada.pk]
    assert stored() == [("k1", ada.pk, "pricing_view", {"page": "/pricing"}, "web")]


def test_it_looks_contacts_up_in_the_same_number_of_queries_for_any_batch_size(api):
    contacts = ContactFactory.create_batch(40, external_id=None)

    def queries_for(batch: list, prefix: str) -> int:
        refs = [{"id": c.pk} for c in batch[:1]] + [
            {"email": c.email.upper(), "phone": str(c.phone)} for c in batch[1:]
        ]
        body = {
            "create_contact": True,
            "events": [an_event(f"{prefix}{i}", contact=ref) for i, ref in enumerate(refs)]
            + [an_event(f"{prefix}-new{i}", contact={"email": f"{prefix}{i}@new.example"})
               for i in range(len(batch) // 2)],
        }  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            assert post(api, body).json()["errors"] == 0
        return len(queries)

    assert queries_for(contacts[:4], "a") == queries_for(contacts[4:40], "b")


def test_it_refuses_anonymous_callers(ada):
    response = APIClient().post(URL, an_event("k1"), format="json")

    assert response.status_code == 401
    assert stored() == []


@pytest.mark.parametrize(
    "role", [roles.MARKETER, roles.APPROVER, roles.COMPLIANCE, roles.SALES_REP, roles.SALES_MANAGER]
)
def test_it_refuses_roles_without_the_add_event_permission(make_user, ada, role):
    client = APIClient()
    client.force_authenticate(make_user(role))

    response = post(client, an_event("k1"))

    assert response.status_code == 403
    assert stored() == []


@pytest.fixture
def integration():
    """A token user with no role, granted only contacts.add_event."""
    user = UserFactory()
    user.user_permissions.add(
        Permission.objects.get(codename="add_event", content_type__app_label="contacts")
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_it_accepts_a_token_user_holding_the_add_event_permission(integration, ada):
    response = post(integration, an_event("k1"))

    assert response.status_code == 201
    assert stored() == [("k1", ada.pk, "pricing_view", {"page": "/pricing"}, "web")]


def test_it_creates_contacts_only_for_callers_who_may_add_contacts(integration):
    response = post(integration, an_event("k1", create_contact=True))

    assert response.status_code == 400
    assert response.json() == {
        "contact": [
            "No contact matches email 'ada@example.com', and creating one needs the"
            " contacts.add_contact permission."
        ]
    }
    assert (Contact.objects.count(), Event.objects.count()) == (0, 0)


def test_it_answers_a_body_that_is_not_json_with_400(api):
    response = api.post(URL, b"type=pricing_view&", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert stored() == []


def test_it_answers_a_body_that_is_not_json_at_all_with_415(api):
    response = api.post(URL, {"type": "pricing_view"}, format="multipart")

    assert response.status_code == 415
    assert stored() == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"null", {"non_field_errors": ['Send one event as a JSON object, or {"events": [...]}.']}),
        (b"[]", {"non_field_errors": ['Send one event as a JSON object, or {"events": [...]}.']}),
        (b'"x"', {"non_field_errors": ['Send one event as a JSON object, or {"events": [...]}.']}),
        (b'{"events": "x"}', {"events": ["Send a list of 1 to 1000 events."]}),
        (b'{"events": null}', {"events": ["Send a list of 1 to 1000 events."]}),
        (
            b'{"events": [{}], "create_contact": "yes"}',
            {"create_contact": ["Must be true or false."]},
        ),
        (b'{"events": [{}], "extra": 1}', {"extra": ["Unknown field."]}),
        (
            b"{}",
            {
                "type": ["This field is required."],
                "idempotency_key": ["This field is required."],
                "occurred_at": ["This field is required."],
                "contact": ["This field is required."],
            },
        ),
        (
            b'{"type": 1, "idempotency_key": [], "occurred_at": 5, "source": {}, "properties": "x",'
            b' "create_contact": 0, "contact": "ada", "color": "red"}',
            {
                "type": ["Must be a string."],
                "idempotency_key": ["Must be a string."],
                "occurred_at": ["Must be a string."],
                "source": ["Must be a string."],
                "create_contact": ["Must be true or false."],
                "contact": [
                    "Give the contact as an object with an id, external_id, email or phone."
                ],
                "color": ["Unknown field."],
            },
        ),
        (
            b'{"type": "x_y", "idempotency_key": "k", "occurred_at": "yesterday",'
            b' "contact": {"id": true, "email": "not-an-email", "phone": 5, "nick": "a",'
            b' "time_zone": "Mars/Olympus", "lifecycle_stage": "hot", "country": "Narnia"}}',
            {
                "occurred_at": [
                    "Give an ISO 8601 date and time with an offset, e.g. 2025-03-01T14:30:00-05:00."
                ],
                "contact.nick": ["Unknown field."],
                "contact.id": ["Give the contact id as a positive integer."],
                "contact.email": ["Enter a valid email address."],
                "contact.phone": ["Must be a string."],
                "contact.time_zone": [
                    "'Mars/Olympus' is not an IANA time zone, e.g. America/Chicago."
                ],
                "contact.lifecycle_stage": [
                    '"hot" is not one of: subscriber, lead, mql, sql, opportunity, customer, '
                    "churned."
                ],
                "contact.country": [
                    "'Narnia' is not a country; give its two-letter ISO code, e.g. US."
                ],
            },
        ),
        (
            b'{"type": "x_y", "idempotency_key": "k", "occurred_at": "2025-01-01T00:00:00Z",'
            b' "contact": {"first_name": "Ada"}}',
            {"contact": ["Name the contact by its id, external_id, email or phone."]},
        ),
        (
            b'{"type": "x_y", "idempotency_key": "k", "occurred_at": "0001-01-01T00:00:00+01:00",'
            b' "contact": {"id": 99999999999999999999999}}',
            {
                "occurred_at": ["occurred_at is out of range."],
                "contact.id": ["Give the contact id as a positive integer."],
            },
        ),
    ],
)
def test_it_answers_junk_with_400_and_field_errors(api, raw, expected):
    response = api.post(URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == expected
    assert stored() == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"properties": {"n": 1e400}}',
        b'{"properties": {"n": NaN}}',
        b"[" * 100_000 + b"]" * 100_000,
        b"\xff\xfe",
        b"",
    ],
)
def test_it_answers_json_no_database_can_store_with_400(api, raw):
    # NUL and lone surrogates are cleaned instead: tests/core/test_storable_inputs.py
    response = api.post(URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert stored() == []


def test_it_refuses_properties_nested_too_deeply(api, ada):
    deep: dict = {}
    for _ in range(11):
        deep = {"d": deep}

    response = post(api, an_event("k1", properties=deep))

    assert response.status_code == 400
    assert response.json() == {"properties": ["properties may nest at most 10 levels deep."]}


def test_it_refuses_properties_over_16_kb(api, ada):
    response = post(api, an_event("k1", properties={"blob": "x" * 17_000}))

    assert response.json() == {"properties": ["properties is larger than 16 KB."]}
    assert stored() == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(sorted(EVENT_FIELDS | {"contact.email", "contact.phone", "contact.id"})),
    value=JSON,
)
def test_it_never_answers_500_whatever_json_a_field_holds(api, ada, field, value):
    event = an_event(f"h-{json.dumps(value)[:150]}", contact={"email": "ada@example.com"})
    if field.startswith("contact."):
        event["contact"][field.split(".")[1]] = value
    else:
        event[field] = value

    for body in (event, {"events": [event]}):
        response = api.post(URL, json.dumps(body), content_type="application/json")
        assert response.status_code in (200, 201, 400)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=JSON)
def test_it_never_answers_500_whatever_json_the_body_holds(api, body):
    response = api.post(URL, json.dumps(body), content_type="application/json")

    assert response.status_code in (200, 400)


def test_it_documents_exactly_the_fields_it_reads():
    assert set(EventSerializer().fields) == EVENT_FIELDS
    assert set(EventContactSerializer().fields) == CONTACT_FIELDS
    assert set(EventBatchSerializer().fields) == BATCH_FIELDS


def test_it_leaves_events_from_other_sources_alone(api, ada):
    crm_event = EventFactory(contact=ada, idempotency_key="crm-1")

    response = post(api, an_event("crm-1"))

    assert response.json() == {"status": "duplicate", "id": crm_event.pk}
    assert Event.objects.count() == 1


def test_it_turns_the_cycle_collector_back_on_after_a_batch(api, ada):
    assert post(api, {"events": [an_event("k1")]}).status_code == 200
    assert gc.isenabled() is True

    assert post(api, {"events": []}).status_code == 400
    assert gc.isenabled() is True


def test_it_leaves_a_cycle_collector_that_was_off_off(api, ada):
    gc.disable()
    try:
        response = post(api, {"events": [an_event("k1")]})
        collector_on = gc.isenabled()
    finally:
        gc.enable()

    assert (response.status_code, collector_on) == (200, False)


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="reads SQLite's query plan (EXPLAIN QUERY PLAN)"
)
@pytest.mark.parametrize("key", ["id", "external_id", "email", "phone"])
def test_it_finds_contacts_by_each_key_through_an_index(key):
    sql, params = identity._contacts_by_sql(key, {1, 2} if key == "id" else {"a", "b"})

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = [row[-1] for row in cursor.fetchall()]

    assert [step for step in plan if step.startswith("SCAN")] == [], plan
    assert any(" INDEX " in step or "PRIMARY KEY" in step for step in plan), plan
