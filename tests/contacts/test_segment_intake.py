"""Segment's HTTP Tracking API at /segment/v1/, driven by the official Python client over
real HTTP: a team points its Segment source at Cue by changing the host."""

import base64
import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.management import call_command
from segment.analytics.client import Client
from segment.analytics.request import APIError, post

from apps.accounts import roles
from apps.consent.models import ConsentRecord
from apps.contacts.models import Contact, ContactExternalId, Event
from apps.segment_intake.keys import write_key_create, write_key_revoke
from apps.segment_intake.models import AnonymousId, SegmentRejection, SegmentWriteKey
from tests.factories import AttributeDefinitionFactory, ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)

OCCURRED = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)


@pytest.fixture
def write_key():
    _row, key = write_key_create(name="Website")
    return key


@pytest.fixture
def host(live_server):
    return live_server.url + "/segment"


@pytest.fixture
def segment(host, write_key):
    """The official client, sending each call at once."""
    return Client(write_key, host=host, sync_mode=True)


def batch_post(host, key, messages):
    """One /v1/batch request, exactly as the client sends it."""
    return post(key, host=host, batch=messages)


def user_id_of(contact: Contact) -> str | None:
    """The contact's Segment userId: its "segment" source id."""
    rows = ContactExternalId.objects.filter(contact=contact, source="segment")
    return rows.values_list("value", flat=True).first()


def segment_user(user_id: str, **fields) -> Contact:
    """A contact Segment already knows by `user_id`."""
    contact = ContactFactory(**fields)
    ContactExternalId.objects.create(contact=contact, source="segment", value=user_id)
    return contact


def track(message_id: str, user_id: str = "u-1", **fields) -> dict:
    return {
        "type": "track",
        "userId": user_id,
        "event": "Order Completed",
        "properties": {"total": 42},
        "timestamp": OCCURRED.isoformat(),
        "messageId": message_id,
        **fields,
    }


def test_it_creates_the_contact_an_identify_names_with_its_traits(segment):
    segment.identify(
        "u-1",
        {
            "email": "ada@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "phone": "(415) 555-2671",
            "address": {"state": "Florida", "country": "US"},
            "company": {"name": "Analytical Engines", "id": "co-9"},
            "plan": "pro",
        },
    )

    contact = Contact.objects.get()
    assert (user_id_of(contact), contact.email, contact.first_name, contact.last_name) == (
        "u-1",
        "ada@example.com",
        "Ada",
        "Lovelace",
    )
    assert (str(contact.phone), contact.region, contact.source) == ("+14155552671", "FL", "segment")
    assert (contact.company.name, contact.company.external_id) == ("Analytical Engines", "co-9")
    assert SegmentRejection.objects.count() == 0


def test_it_updates_the_contact_whose_email_it_names_and_gives_it_the_user_id(segment):
    known = ContactFactory(email="ada@example.com", external_id=None, first_name="A")

    segment.identify("u-1", {"email": "ADA@example.com", "firstName": "Ada"})

    known.refresh_from_db()
    assert (Contact.objects.count(), user_id_of(known), known.first_name) == (1, "u-1", "Ada")


def test_it_stores_a_track_as_an_event_at_its_own_time_with_its_properties(segment):
    segment.track("u-1", "Order Completed", {"total": 42}, timestamp=OCCURRED, message_id="m-1")

    event = Event.objects.get()
    assert (event.type, event.occurred_at, event.properties) == (
        "order_completed",
        OCCURRED,
        {"total": 42},
    )
    assert (event.idempotency_key, event.source) == ("segment:m-1", "segment")
    assert (user_id_of(event.contact), event.contact.source) == ("u-1", "segment")


def test_a_retried_batch_changes_nothing(host, write_key):
    messages = [
        {"type": "identify", "userId": "u-1", "traits": {"email": "ada@example.com",
         "address": {"state": "Florida"}}, "messageId": "m-0"},
        track("m-1"),
        track("m-2", event="Pricing Viewed"),
    ]  # fmt: skip
    batch_post(host, write_key, messages)
    before = list(Event.objects.values_list("pk", "idempotency_key"))
    history = Contact.history.count()

    response = batch_post(host, write_key, [dict(m) for m in messages])

    assert response.json() == {"success": True}
    assert list(Event.objects.values_list("pk", "idempotency_key")) == before
    assert sorted(key for _, key in before) == ["segment:m-1", "segment:m-2"]
    assert (Contact.objects.count(), Contact.history.count()) == (1, history)


def test_it_stores_the_good_messages_of_a_batch_and_rejects_the_bad_with_why(host, write_key):
    response = batch_post(
        host,
        write_key,
        [
            track("m-1"),
            track("m-2", event="!!!"),
            {"type": "track", "event": "Signed Up", "messageId": "m-3"},  # no user
            {"type": "identify", "userId": "u-2", "traits": {"email": "not-an-email"},
             "messageId": "m-4"},
            track("m-5", timestamp="yesterday"),
            {"type": "launch", "userId": "u-1", "messageId": "m-6"},
            "not an object",
            track("m-7", user_id="u-3"),
        ],
    )  # fmt: skip

    assert (response.status_code, response.json()) == (200, {"success": True})
    assert sorted(Event.objects.values_list("idempotency_key", flat=True)) == [
        "segment:m-1",
        "segment:m-7",
    ]
    user_ids = ContactExternalId.objects.filter(source="segment").values_list("value", flat=True)
    assert (Contact.objects.count(), set(user_ids)) == (2, {"u-1", "u-3"})
    reasons = dict(SegmentRejection.objects.values_list("message_id", "reason"))
    assert reasons == {
        "m-2": "The event name '!!!' gives no event type: an event type is a lowercase slug"
        " of 2–63 letters, digits and underscores, starting with a letter.",
        "m-3": "Give a userId or an anonymousId.",
        "m-4": "traits.email 'not-an-email' is not a valid email address.",
        "m-5": "timestamp must be an ISO 8601 date and time, e.g. 2025-03-01T14:30:00Z.",
        "m-6": "type must be one of: identify, track, page, screen, group, alias.",
        "": "A message is a JSON object.",
    }
    rejected = SegmentRejection.objects.get(message_id="m-2")
    assert (rejected.type, json.loads(rejected.payload)["event"]) == ("track", "!!!")


def test_page_screen_and_group_calls_are_stored(segment):
    segment.page("u-1", "Docs", "Pricing", {"url": "https://x.test/pricing"}, message_id="p-1")
    segment.screen("u-1", "App", "Settings", message_id="s-1")
    segment.group("u-1", "acme-1", {"name": "Acme", "industry": "Tools"}, message_id="g-1")

    events = dict(Event.objects.values_list("idempotency_key", "type"))
    assert events == {"segment:p-1": "page_viewed", "segment:s-1": "screen_viewed"}
    page = Event.objects.get(idempotency_key="segment:p-1")
    assert page.properties == {"url": "https://x.test/pricing", "name": "Pricing",
                               "category": "Docs"}  # fmt: skip
    contact = Contact.objects.get()
    assert (contact.company.name, contact.company.external_id) == ("Acme", "acme-1")


def test_an_anonymous_visitor_becomes_the_contact_a_later_identify_names(segment):
    segment.track(anonymous_id="anon-1", event="Pricing Viewed", message_id="m-1")
    anonymous = Contact.objects.get()
    assert (user_id_of(anonymous), anonymous.email) == (None, "")

    segment.identify("u-1", {"email": "ada@example.com"}, anonymous_id="anon-1")
    segment.track(anonymous_id="anon-1", event="Demo Booked", message_id="m-2")

    contact = Contact.objects.get()
    assert (contact.pk, user_id_of(contact), contact.email) == (
        anonymous.pk,
        "u-1",
        "ada@example.com",
    )
    assert Event.objects.filter(contact=contact).count() == 2


def test_an_alias_links_the_previous_id_to_the_known_user(segment):
    known = segment_user("u-1")
    segment.alias("anon-1", "u-1", message_id="a-1")

    segment.track(anonymous_id="anon-1", event="Pricing Viewed", message_id="m-1")

    assert AnonymousId.objects.get().contact == known
    assert list(Event.objects.values_list("contact", flat=True)) == [known.pk]
    assert Contact.objects.count() == 1


def test_an_anonymous_visitors_contact_merges_into_the_known_user_it_turns_out_to_be(segment):
    known = segment_user("u-1", email="ada@example.com")
    segment.track(anonymous_id="anon-1", event="Pricing Viewed", message_id="m-1")
    anonymous = Contact.objects.exclude(pk=known.pk).get()

    segment.alias("anon-1", "u-1", message_id="a-1")
    segment.track(anonymous_id="anon-1", event="Demo Booked", message_id="m-2")

    assert list(Contact.objects.values_list("pk", flat=True)) == [known.pk]
    removal = Contact.history.filter(id=anonymous.pk, history_type="-").get()
    reason = f"Merged into contact {known.pk}: Segment alias a-1: anonymousId anon-1 is userId u-1"
    assert removal.history_change_reason == reason[:100]
    assert sorted(
        Event.objects.filter(contact=known).values_list("idempotency_key", flat=True)
    ) == [
        "segment:m-1",
        "segment:m-2",
    ]
    assert AnonymousId.objects.get().contact == known


def test_traits_named_like_a_custom_attribute_are_stored_as_it_and_others_left_out(segment):
    AttributeDefinitionFactory(key="plan", type="choice", options=["free", "pro"])
    AttributeDefinitionFactory(key="seats", type="number")

    segment.identify("u-1", {"plan": "pro", "seats": 12, "favourite_colour": "teal"})
    segment.identify("u-2", {"email": "bo@example.com", "plan": "platinum"}, message_id="m-2")

    assert Contact.objects.get().attributes == {"plan": "pro", "seats": 12}
    assert SegmentRejection.objects.get().message_id == "m-2"
    assert SegmentRejection.objects.get().reason == (
        "attributes: plan: 'platinum' is not an option; choose from free, pro."
    )


def test_consent_is_never_taken_from_traits(segment):
    segment.identify(
        "u-1",
        {
            "phone": "+14155552671",
            "email": "ada@example.com",
            "sms_consent": True,
            "opted_in": True,
            "consent": {"sms": "granted", "email": "granted"},
            "marketing_opt_in": "yes",
        },
    )

    assert Contact.objects.count() == 1
    assert ConsentRecord.objects.count() == 0


def test_a_revoked_key_stores_nothing(host, write_key, segment):
    write_key_revoke(write_key=SegmentWriteKey.objects.get())

    with pytest.raises(APIError) as refused:
        segment.track("u-1", "Order Completed", message_id="m-1")

    assert refused.value.status == 401
    assert (Contact.objects.count(), Event.objects.count()) == (0, 0)
    assert SegmentRejection.objects.count() == 0


def test_an_unknown_key_or_none_is_refused(host):
    with pytest.raises(APIError) as refused:
        batch_post(host, "cue_seg_forged", [track("m-1")])
    anonymous = requests.post(host + "/v1/track", json=track("m-2"), timeout=5)

    assert (refused.value.status, anonymous.status_code) == (401, 401)
    assert Event.objects.count() == 0


def test_the_client_batches_and_gzips_through_its_background_queue(host, write_key):
    client = Client(write_key, host=host, gzip=True, upload_size=50)
    for i in range(120):
        client.track(f"u-{i % 7}", "Feature Used", {"i": i}, message_id=f"q-{i}")
    client.flush()
    client.join()

    assert Event.objects.count() == 120
    assert Contact.objects.count() == 7


def test_a_body_that_is_not_json_is_a_400_and_stores_nothing(host, write_key):
    auth = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}

    not_json = requests.post(host + "/v1/batch", data=b"{nope", headers=auth, timeout=5)
    not_gzip = requests.post(
        host + "/v1/batch", data=b"{}", headers={**auth, "Content-Encoding": "gzip"}, timeout=5
    )
    bomb = requests.post(
        host + "/v1/batch",
        data=gzip.compress(b'{"batch": [' + b" " * 600_000 + b"]}"),
        headers={**auth, "Content-Encoding": "gzip"},
        timeout=5,
    )
    no_batch = requests.post(host + "/v1/batch", json={"events": []}, headers=auth, timeout=5)

    assert [r.status_code for r in (not_json, not_gzip, bomb, no_batch)] == [400, 400, 400, 400]
    assert bomb.json() == {
        "success": False,
        "message": "The body is larger than 500 KB uncompressed.",
    }
    assert (Event.objects.count(), SegmentRejection.objects.count()) == (0, 0)


def test_a_single_call_path_takes_the_message_itself_and_unstorable_text_is_cleaned(
    host, write_key
):
    body = json.dumps(track("m-1", properties={"note": "a\u0000b\ud800"}))
    auth = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}

    response = requests.post(host + "/v1/track", data=body, headers=auth, timeout=5)

    assert (response.status_code, response.json()) == (200, {"success": True})
    assert Event.objects.get().properties == {"note": "ab\ufffd"}


def test_an_event_from_the_future_is_rejected_and_an_original_timestamp_is_corrected(
    host, write_key
):
    now = datetime.now(UTC)
    late = {"type": "track", "userId": "u-1", "event": "Opened", "messageId": "m-2",
            "originalTimestamp": (now + timedelta(hours=2)).isoformat(),
            "sentAt": (now + timedelta(hours=2, seconds=10)).isoformat()}  # fmt: skip
    batch_post(
        host, write_key, [track("m-1", timestamp=(now + timedelta(days=1)).isoformat()), late]
    )

    assert SegmentRejection.objects.get().reason == "occurred_at: occurred_at is in the future."
    corrected = Event.objects.get().occurred_at  # the device's clock ran two hours fast
    assert now - timedelta(seconds=15) < corrected < now


def test_the_command_prints_a_new_key_once_and_stores_only_its_hash(capsys, host):
    call_command("segment_write_key", "create", "Warehouse")

    key = capsys.readouterr().out.strip()
    row = SegmentWriteKey.objects.get()
    assert (row.name, key.startswith(row.prefix), row.key_hash != key) == ("Warehouse", True, True)
    assert batch_post(host, key, [track("m-1")]).json() == {"success": True}
    row.refresh_from_db()
    assert (row.created_at <= row.last_used_at, row.revoked_at) == (True, None)


def test_an_admin_makes_a_key_in_the_admin_and_sees_it_once(admin_client, host):
    response = admin_client.post(
        "/admin/segment_intake/segmentwritekey/add/", {"name": "Mobile app"}, follow=True
    )

    row = SegmentWriteKey.objects.get()
    shown = str(next(iter(response.context["messages"])))
    key = shown.split(" is ")[1].split(" — ")[0]
    assert shown == f"The write key for 'Mobile app' is {key} — copy it now: it is not shown again."
    assert (
        key.startswith(row.prefix),
        row.key_hash == hashlib.sha256(key.encode()).hexdigest(),
    ) == (
        True,
        True,
    )
    listed = admin_client.get("/admin/segment_intake/segmentwritekey/").content.decode()
    assert (row.prefix in listed, key in listed) == (True, False)
    assert batch_post(host, key, [track("m-1")]).json() == {"success": True}


def test_an_admin_revokes_keys_from_the_list(admin_client, host, write_key):
    row = SegmentWriteKey.objects.get()

    admin_client.post(
        "/admin/segment_intake/segmentwritekey/",
        {"action": "revoke", "_selected_action": [row.pk], "index": "0"},
    )

    row.refresh_from_db()
    assert row.revoked_at <= datetime.now(UTC)
    with pytest.raises(APIError):
        batch_post(host, write_key, [track("m-1")])
    assert Event.objects.count() == 0


def test_staff_read_the_rejections_with_their_reasons(client, make_user, host, write_key):
    batch_post(host, write_key, [track("m-1", event="!!!")])
    client.force_login(make_user(roles.MARKETER))

    page = client.get("/admin/segment_intake/segmentrejection/")

    assert page.status_code == 200
    assert "gives no event type" in page.content.decode()


def test_a_key_in_the_body_will_do_and_a_bad_key_in_the_header_is_refused_first(host, write_key):
    body = {"batch": [track("m-1")], "writeKey": write_key}
    forged = {"Authorization": "Basic " + base64.b64encode(b"cue_seg_forged:").decode()}

    in_body = requests.post(host + "/v1/batch", json=body, timeout=5)
    refused = requests.post(host + "/v1/batch", data=b"{nope", headers=forged, timeout=5)

    assert (in_body.status_code, refused.status_code) == (200, 401)
    assert list(Event.objects.values_list("idempotency_key", flat=True)) == ["segment:m-1"]


def test_a_contact_cue_did_not_make_for_the_anonymous_id_is_never_merged_away(segment):
    crm = ContactFactory(external_id=None, email="ada@example.com", source="crm")
    known = segment_user("u-1")
    segment.identify(anonymous_id="anon-1", traits={"email": "ada@example.com"})
    assert AnonymousId.objects.get().contact == crm

    segment.identify("u-1", anonymous_id="anon-1")

    assert set(Contact.objects.values_list("pk", flat=True)) == {crm.pk, known.pk}
    assert AnonymousId.objects.get().contact == known
