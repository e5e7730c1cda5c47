"""Opt-out binds the number; consent binds the address (DESIGN.md rule 11).

A STOP suppresses the number itself, whoever owns it; only the consumer lifts it. Imports
and API calls cannot re-subscribe a revoked number. A phone change ends consent for the new
number until it is given. The gate trusts the ledger, not the editable state row."""

import importlib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from apps.accounts import roles
from apps.consent import imports
from apps.consent.models import (
    Channel,
    ConsentAction,
    ConsentAttempt,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    Purpose,
    Suppression,
)
from apps.consent.services import (
    ConsentError,
    Evidence,
    consent_opt_in,
    consent_opt_out,
    consent_revoke_channel,
    suppression_add,
)
from apps.contacts.models import Contact
from apps.contacts.selectors import contact_timeline
from apps.contacts.services import contact_update
from apps.sends.services.messages import message_create
from tests.consent.forms import optin_form
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 10:00 in Chicago
AUTH_TOKEN = "test-auth-token"
OLD, NEW = "+14155550100", "+14155550199"


@pytest.fixture(autouse=True)
def midday(settings, tmp_path):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""  # keyword replies go to the console transport
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(MIDDAY, tick=False):
        yield


def text_in(client, sender: str, body: str, sid: str):
    params = {"MessageSid": sid, "AccountSid": "AC" + "1" * 32, "From": sender,
              "To": "+13125550000", "Body": body, "NumMedia": "0"}  # fmt: skip
    path = "/webhooks/twilio/inbound/"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"https://cue.example.com{path}", params
    )
    response = client.post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 200
    return response


def sid(n: int) -> str:
    return f"SM{n:032d}"


def marketing(contact, key="m1"):
    return message_create(
        send_key=key,
        origin="journey",
        category="marketing",
        contact=contact,
        body="Acme: your webinar starts soon. Reply STOP to opt out.",
    )


def opted_in(phone=OLD, **fields):
    contact = ContactFactory(phone=phone, time_zone="America/Chicago", region="IL", **fields)
    consent_opt_in(
        contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    return contact


def api_opt_in(user, contact):
    client = APIClient()
    client.force_authenticate(user)
    body = {"channel": "sms", "purpose": "marketing", "action": "opt_in", "source": "api",
            "evidence": {"note": "CRM says subscribed"}}  # fmt: skip
    return client.post(f"/api/v1/contacts/{contact.pk}/consent/", body, format="json")


@pytest.fixture
def import_csv(make_user, django_capture_on_commit_callbacks):
    marketer = make_user(roles.MARKETER, username="marketer")

    def run(data: str):
        upload = SimpleUploadedFile("consent.csv", data.encode(), content_type="text/csv")
        contact_import = imports.contact_import_create(upload=upload, user=marketer)
        columns = imports.contact_import_preview(contact_import=contact_import, rows=0).columns
        mapping = imports.mapping_suggest(columns=columns)
        with django_capture_on_commit_callbacks(execute=True):
            imports.contact_import_start(contact_import=contact_import, mapping=mapping)
        contact_import.refresh_from_db()
        return contact_import

    return run


CONSENT_HEADER = (
    "email,phone,consent_sms_marketing,consent_occurred_at,consent_ip,consent_page_url,"
    "consent_disclosure_text\n"
)


def consent_row(email: str, phone: str) -> str:
    return (
        f"{email},{phone},Yes,2026-03-01T10:00:00Z,203.0.113.7,https://example.com/signup,"
        '"Text me offers. Msg & data rates may apply."\n'
    )


# --- A STOP binds the number ------------------------------------------------------------


def test_a_known_contacts_stop_suppresses_the_number_itself(client):
    # given a contact opted in on OLD
    ada = opted_in(OLD)

    # when OLD texts STOP
    text_in(client, OLD, "STOP", sid(1))

    # then the number is on the suppression list, with why and where from
    entry = Suppression.objects.get()
    assert (entry.channel, entry.address, entry.reason, entry.source, entry.contact) == (
        "sms", OLD, Suppression.Reason.OPT_OUT_KEYWORD, ConsentSource.KEYWORD, ada,
    )  # fmt: skip
    assert entry.note == f"STOP ({sid(1)})"


def test_the_number_stays_suppressed_when_it_moves_to_another_contact(client):
    # given Ada texted STOP from OLD, then moved to NEW
    ada = opted_in(OLD)
    text_in(client, OLD, "STOP", sid(1))
    contact_update(contact=ada, fields={"phone": NEW})

    # when Bob, who now has OLD, is opted in by the CRM and sent marketing
    bob = ContactFactory(phone=OLD, time_zone="America/Chicago", region="IL")
    with pytest.raises(ConsentError) as refused:
        consent_opt_in(
            contact=bob, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API
        )
    message = marketing(bob)

    # then the opt-in is refused and nothing goes to the number
    assert refused.value.code == "revoked_address"
    assert (message.status, message.reason_code) == ("suppressed", "suppressed_opt_out_keyword")


def test_a_csv_import_cannot_resubscribe_a_number_that_said_stop(client, import_csv):
    # given OLD texted STOP
    ada = opted_in(OLD, email="ada@example.com")
    text_in(client, OLD, "STOP", sid(1))

    # when a CSV says OLD opted in to SMS marketing
    contact_import = import_csv(CONSENT_HEADER + consent_row("ada@example.com", OLD))

    # then the row is imported without the consent, the report says why, the attempt is kept
    [entry] = contact_import.rejected_rows
    assert entry["line"] == 2
    assert entry["note"].startswith(
        f"SMS marketing consent not recorded: {OLD} revoked consent (STOP"
    )
    assert "only its owner can opt back in" in entry["note"]
    assert not ConsentRecord.objects.filter(source=ConsentSource.IMPORT).exists()
    attempt = ConsentAttempt.objects.get()
    assert (attempt.contact, attempt.address, attempt.source, attempt.reason_code) == (
        ada, OLD, ConsentSource.IMPORT, "revoked_address",
    )  # fmt: skip
    assert marketing(ada).reason_code == "suppressed_opt_out_keyword"


def test_an_api_call_cannot_resubscribe_a_number_that_said_stop(client, admin_user):
    ada = opted_in(OLD)
    text_in(client, OLD, "STOP", sid(1))
    before = ConsentRecord.objects.count()

    response = api_opt_in(admin_user, ada)

    assert response.status_code == 400
    [reason] = response.json()["action"]
    assert reason.startswith(f"{OLD} revoked consent (STOP (or another opt-out) from the number")
    assert ConsentRecord.objects.count() == before
    assert list(ConsentAttempt.objects.values_list("source", "reason_code", "actor")) == [
        (ConsentSource.API, "revoked_address", admin_user.pk)
    ]


@pytest.mark.parametrize("source", [ConsentSource.WEB_FORM, ConsentSource.KEYWORD])
def test_a_consumer_source_without_its_evidence_cannot_resubscribe(client, admin_user, source):
    # An API caller naming the web form or a keyword proves nothing: no form, no text.
    ada = opted_in(OLD)
    text_in(client, OLD, "STOP", sid(1))
    api = APIClient()
    api.force_authenticate(admin_user)
    body = {"channel": "sms", "purpose": "marketing", "action": "opt_in", "source": source}
    response = api.post(f"/api/v1/contacts/{ada.pk}/consent/", body, format="json")
    assert response.status_code == 400
    assert ConsentAttempt.objects.get().source == source


def test_an_opt_out_recorded_through_the_api_also_blocks_an_api_opt_in(admin_user):
    ada = opted_in(OLD)
    client = APIClient()
    client.force_authenticate(admin_user)
    body = {"channel": "sms", "purpose": "marketing", "action": "opt_out", "source": "api"}
    assert (
        client.post(f"/api/v1/contacts/{ada.pk}/consent/", body, format="json").status_code == 201
    )

    response = api_opt_in(admin_user, ada)

    assert response.status_code == 400
    assert response.json()["action"][0].startswith("The contact opted out of sms marketing")


def test_start_from_the_number_lifts_its_own_stop(client, admin_user):
    # given OLD said STOP
    ada = opted_in(OLD)
    text_in(client, OLD, "STOP", sid(1))

    # when OLD texts START
    text_in(client, OLD, "START", sid(2))

    # then the number is free again and marketing resumes (an opt-in was given for OLD)
    assert Suppression.objects.count() == 0
    assert (marketing(ada).status, api_opt_in(admin_user, ada).status_code) == ("queued", 201)


def test_start_keeps_what_a_person_or_a_bounce_put_on_the_list(client):
    suppression_add(address=OLD, reason=Suppression.Reason.MANUAL, source=ConsentSource.ADMIN)
    text_in(client, OLD, "START", sid(1))
    assert list(Suppression.objects.values_list("address", "reason")) == [(OLD, "manual")]


def test_the_form_alone_does_not_lift_a_stop_but_the_confirming_yes_does(client):
    # given OLD said STOP, then its owner fills in the hosted form (double opt-in)
    ada = opted_in(OLD)
    text_in(client, OLD, "STOP", sid(1))
    consent_opt_in(
        contact=ada, channel=Channel.SMS, purpose=Purpose.MARKETING,
        source=ConsentSource.WEB_FORM, evidence=Evidence(form=optin_form()),
    )  # fmt: skip

    # then the number stays suppressed: the confirmation request is not sent either
    assert Suppression.objects.filter(address=OLD).count() == 1
    assert marketing(ada, "m1").reason_code == "suppressed_opt_out_keyword"

    # when the consumer texts YES from the number
    text_in(client, OLD, "YES", sid(2))

    # then the STOP is lifted and marketing is allowed
    assert Suppression.objects.count() == 0
    assert marketing(ada, "m2").status == "queued"


# --- The gate trusts the ledger ----------------------------------------------------------


def test_a_state_row_edited_behind_the_ledgers_back_does_not_open_the_gate(client):
    # given a contact who opted out (by the ledger), with no number-level suppression
    ada = opted_in(OLD)
    consent_opt_out(
        contact=ada, channel=Channel.SMS, purpose=Purpose.MARKETING,
        source=ConsentSource.REP_VERBAL,
    )  # fmt: skip

    # when someone edits the state row through the ORM
    edited = ConsentState.objects.filter(contact=ada, purpose=Purpose.MARKETING).update(
        status=ConsentStatus.OPTED_IN
    )

    # then the gate still refuses
    assert edited == 1
    assert marketing(ada).reason_code == "consent_opted_out"


# --- Consent binds the address ----------------------------------------------------------


def test_a_phone_change_ends_consent_for_the_new_number_with_a_note():
    # given Ada opted in on OLD
    ada = opted_in(OLD)

    # when her phone changes to NEW
    contact_update(contact=ada, fields={"phone": NEW})

    # then marketing to NEW is refused, and the ledger and timeline say why
    assert marketing(ada).reason_code == "consent_none"
    note = ConsentRecord.objects.get(action=ConsentAction.NEW_ADDRESS)
    assert (note.address, note.channel, note.purpose, note.source) == (
        NEW, "sms", "marketing", ConsentSource.SYSTEM,
    )  # fmt: skip
    expected = (
        f"Phone number changed to {NEW}; consent was given for {OLD} and does not carry over."
    )
    assert note.note == expected
    [entry] = [e for e in contact_timeline(contact=ada) if "address changed" in e.title]
    assert entry.title == "SMS marketing consent ended: the address changed"
    assert expected in entry.detail
    assert ConsentState.objects.get(contact=ada, purpose="marketing").status == "none"


def test_a_phone_changed_behind_the_services_back_still_has_no_consent():
    # The hand-off writes the note; the gate does not rely on it.
    ada = opted_in(OLD)
    Contact.objects.filter(pk=ada.pk).update(phone=NEW)
    ada.refresh_from_db()

    message = marketing(ada)

    assert (message.status, message.reason_code) == ("suppressed", "consent_other_address")
    assert message.reason == (
        f"Consent was given for {OLD}, not for {NEW}: it does not carry over to a new address."
    )


def test_changing_back_to_the_old_number_does_not_restore_consent():
    ada = opted_in(OLD)
    contact_update(contact=ada, fields={"phone": NEW})
    contact_update(contact=ada, fields={"phone": OLD})
    assert marketing(ada).reason_code == "consent_none"
    assert ConsentRecord.objects.filter(action=ConsentAction.NEW_ADDRESS).count() == 1


def test_the_same_number_spelled_differently_is_no_change():
    ada = opted_in(OLD)
    contact_update(contact=ada, fields={"phone": "(415) 555-0100"})
    assert ConsentRecord.objects.filter(action=ConsentAction.NEW_ADDRESS).count() == 0
    assert marketing(ada).status == "queued"


def test_a_phone_change_through_the_api_ends_consent(admin_user):
    ada = opted_in(OLD)
    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.patch(f"/api/v1/contacts/{ada.pk}/", {"phone": NEW}, format="json")
    assert response.status_code == 200
    assert ConsentRecord.objects.filter(action=ConsentAction.NEW_ADDRESS, address=NEW).count() == 1
    assert marketing(ada).reason_code == "consent_none"


def test_a_phone_change_in_the_admin_ends_consent(admin_client):
    ada = opted_in(OLD, first_name="Ada", email="ada@example.com")
    response = admin_client.post(
        f"/admin/contacts/contact/{ada.pk}/change/",
        {"first_name": "Ada", "last_name": ada.last_name, "email": "ada@example.com",
         "phone": NEW, "external_id": "", "time_zone": "America/Chicago", "region": "IL",
         "country": "US", "kind": ada.kind, "lifecycle_stage": ada.lifecycle_stage,
         "buying_role": ada.buying_role, "source": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    ada.refresh_from_db()
    assert str(ada.phone) == NEW
    assert ConsentRecord.objects.filter(action=ConsentAction.NEW_ADDRESS, address=NEW).count() == 1


def test_a_phone_change_through_a_csv_import_ends_consent(import_csv):
    ada = opted_in(OLD, email="ada@example.com")
    import_csv(f"email,phone\nada@example.com,{NEW}\n")
    ada.refresh_from_db()
    assert str(ada.phone) == NEW
    assert ConsentRecord.objects.filter(action=ConsentAction.NEW_ADDRESS, address=NEW).count() == 1
    assert marketing(ada).reason_code == "consent_none"


def test_consent_given_for_the_new_number_is_consent(client):
    ada = opted_in(OLD)
    contact_update(contact=ada, fields={"phone": NEW})
    consent_opt_in(
        contact=ada, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    assert marketing(ada).status == "queued"


def test_start_from_a_new_number_does_not_resume_marketing_given_for_the_old_one(client):
    ada = opted_in(OLD)
    contact_update(contact=ada, fields={"phone": NEW})
    text_in(client, NEW, "START", sid(1))
    assert marketing(ada).reason_code == "consent_none"


# --- Admin --------------------------------------------------------------------------------


def test_no_one_in_the_admin_can_delete_a_consumers_stop(client, admin_client):
    opted_in(OLD)
    text_in(client, OLD, "STOP", sid(1))
    entry = Suppression.objects.get()
    response = admin_client.post(f"/admin/consent/suppression/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Suppression.objects.count() == 1


def test_compliance_reads_the_refused_attempts_in_the_admin(client, admin_user, make_user):
    ada = opted_in(OLD)
    text_in(client, OLD, "STOP", sid(1))
    api_opt_in(admin_user, ada)
    client.force_login(make_user(roles.COMPLIANCE, username="carol"))

    response = client.get("/admin/consent/consentattempt/")

    assert response.status_code == 200
    assert [(a.address, a.reason_code) for a in response.context["cl"].result_list] == [
        (OLD, "revoked_address")
    ]


def test_the_upgrade_suppresses_numbers_whose_last_keyword_was_a_stop():
    # given STOPs recorded before a STOP suppressed the number (only the ledger has them)
    from django.apps import apps as django_apps

    migration = importlib.import_module("apps.consent.migrations.0005_ledger_address_binding")
    stopped, restarted = opted_in(OLD), opted_in(NEW)
    text = Evidence(inbound_message_sid=sid(1), keyword="STOP")
    for contact in (stopped, restarted):
        consent_revoke_channel(
            contact=contact, channel=Channel.SMS, source=ConsentSource.KEYWORD, evidence=text
        )
    with time_machine.travel(MIDDAY + timedelta(minutes=1), tick=False):
        consent_opt_in(
            contact=restarted, channel=Channel.SMS, purpose=Purpose.TRANSACTIONAL,
            source=ConsentSource.KEYWORD, evidence=Evidence(inbound_message_sid=sid(2)),
        )  # fmt: skip

    # when the migration's backfill runs
    migration.stops_suppress_their_numbers(django_apps, None)

    # then only the number whose last word was STOP is suppressed
    assert list(Suppression.objects.values_list("address", "reason", "contact")) == [
        (OLD, Suppression.Reason.OPT_OUT_KEYWORD, stopped.pk)
    ]
