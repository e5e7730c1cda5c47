"""The consent-change hook fires once per state that changes, from every path that appends to
the ledger: the API, imports, the hosted form, keywords (STOP, START, YES), a carrier opt-out,
a changed phone number and a merge; a ledger row that changes no state fires nothing."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.consent.hooks import ConsentChange, consent_change_hook
from apps.consent.models import ConsentDisclosure, ConsentRecord, OptInForm
from apps.consent.services import Evidence, consent_opt_in, consent_opt_out, consent_record
from apps.contacts.merge import contact_merge
from apps.contacts.services import contact_update
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from tests.consent.test_import import CONSENT_HEADER, import_csv, marketer  # noqa: F401
from tests.factories import ContactFactory
from tests.hooks import hook_recorded
from tests.sends.conftest import fake_twilio  # noqa: F401
from tests.sends.test_inbound import text_in

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def midday(settings, tmp_path):
    settings.TWILIO_AUTH_TOKEN = "test-auth-token"
    settings.TWILIO_ACCOUNT_SID = ""
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    with time_machine.travel(MIDDAY, tick=False):
        yield


@pytest.fixture
def changes():
    with hook_recorded(consent_change_hook) as batches:
        yield batches


def transitions(batches) -> list[list[tuple[str, str, str, str, str]]]:
    return [
        [(c.channel, c.purpose, c.old_status, c.new_status, c.source) for c in batch]
        for batch in batches
    ]


def test_it_hands_on_an_opt_in_through_the_api_with_its_ledger_row(admin_user, changes):
    contact = ContactFactory(phone="+16175550100")
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.post(
        f"/api/v1/contacts/{contact.pk}/consent/",
        {"channel": "sms", "purpose": "marketing", "action": "opt_in", "source": "api"},
        format="json",
    )
    assert response.status_code == 201, response.content
    record = ConsentRecord.objects.get()
    assert changes == [
        [
            ConsentChange(
                contact_id=contact.pk,
                channel="sms",
                purpose="marketing",
                old_status="none",
                new_status="opted_in",
                action="opt_in",
                source="api",
                address="+16175550100",
                record_id=record.pk,
                at=MIDDAY,
            )
        ]
    ]


def test_it_hands_on_nothing_when_the_state_stays_the_same(changes):
    contact = ContactFactory()
    for _ in range(2):
        consent_opt_in(contact=contact, channel="sms", purpose="marketing", source="api")
    consent_opt_out(contact=contact, channel="sms", purpose="marketing", source="api")
    consent_opt_out(contact=contact, channel="sms", purpose="marketing", source="api")
    assert transitions(changes) == [
        [("sms", "marketing", "none", "opted_in", "api")],
        [("sms", "marketing", "opted_in", "opted_out", "api")],
    ]


def test_it_hands_on_nothing_for_a_refused_resubscription(changes):
    contact = ContactFactory()
    consent_opt_out(contact=contact, channel="sms", purpose="marketing", source="keyword")
    with pytest.raises(Exception, match="only they can opt back in"):
        consent_opt_in(contact=contact, channel="sms", purpose="marketing", source="api")
    assert transitions(changes) == [[("sms", "marketing", "none", "opted_out", "keyword")]]


def test_it_hands_on_each_imported_consent(import_csv, changes):  # noqa: F811
    data = CONSENT_HEADER + (
        "ada@example.com,4155550101,Yes,2024-05-01T10:00:00Z,203.0.113.7,"
        'https://example.com/signup,"Text me offers."\n'
        "bob@example.com,4155550102,Yes,2024-05-02T10:00:00Z,203.0.113.8,"
        'https://example.com/signup,"Text me offers."\n'
    )
    contact_import = import_csv(data)
    assert contact_import.imported_count == 2
    assert transitions(changes) == [
        [("sms", "marketing", "none", "opted_in", "import")],
        [("sms", "marketing", "none", "opted_in", "import")],
    ]
    assert [c.at for [c] in changes] == [
        datetime(2024, 5, 1, 10, tzinfo=UTC),
        datetime(2024, 5, 2, 10, tzinfo=UTC),
    ]


def test_it_hands_on_stop_start_and_yes_from_the_number(client, opted_in_contact, changes):
    contact = opted_in_contact()
    consent_opt_in(contact=contact, channel="sms", purpose="transactional", source="api")
    changes.clear()
    text_in(client, str(contact.phone), "STOP", sid="SM" + "1" * 32)
    assert transitions(changes) == [
        [("sms", "marketing", "opted_in", "opted_out", "keyword")],
        [("sms", "transactional", "opted_in", "opted_out", "keyword")],
    ]
    changes.clear()
    text_in(client, str(contact.phone), "START", sid="SM" + "2" * 32)
    assert transitions(changes) == [
        [("sms", "marketing", "opted_out", "opted_in", "keyword")],
        [("sms", "transactional", "opted_out", "opted_in", "keyword")],
    ]


def test_it_hands_on_the_hosted_forms_pending_opt_in_and_the_yes_that_confirms_it(client, changes):
    disclosure = ConsentDisclosure.objects.create(key="sms", version=1, text="Texts. STOP to end.")
    OptInForm.objects.create(
        slug="webinar",
        name="Webinar reminders",
        brand="Brightline",
        program_name="Brightline Webinar Alerts",
        message_frequency="Up to 4 msgs/month",
        help_contact="help@brightline.example",
        privacy_url="https://brightline.example/privacy",
        terms_url="https://brightline.example/sms-terms",
        disclosure=disclosure,
        double_opt_in=True,
        purposes=["marketing"],
    )
    response = client.post(
        "/optin/webinar/",
        {"name": "Jane Doe", "phone": "(415) 555-2671", "consent": "on"},
        HTTP_USER_AGENT="Mozilla/5.0",
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code in (200, 302), response.content
    assert transitions(changes) == [[("sms", "marketing", "none", "pending", "web_form")]]
    changes.clear()
    text_in(client, "+14155552671", "YES", sid="SM" + "3" * 32)
    assert [[(c.old_status, c.new_status, c.action) for c in b] for b in changes] == [
        [("pending", "opted_in", "confirm")]
    ]


def test_it_hands_on_a_carrier_opt_out_found_at_dispatch(
    fake_twilio,  # noqa: F811
    opted_in_contact,
    changes,
):
    contact = opted_in_contact()
    message = message_create(
        send_key="m", origin="journey", category="marketing", contact=contact, body="Hi. STOP=end"
    )
    changes.clear()
    fake_twilio.fail_next(status=400, code=21610, message="Attempt to send to unsubscribed")
    message_dispatch(message_id=message.pk)
    # Twilio 21610 ends every purpose on the channel.
    assert transitions(changes) == [
        [("sms", "marketing", "opted_in", "opted_out", "carrier")],
        [("sms", "transactional", "none", "opted_out", "carrier")],
    ]


def test_it_hands_on_consent_ended_by_a_changed_phone_number(opted_in_contact, changes):
    contact = opted_in_contact()
    changes.clear()
    contact_update(contact=contact, fields={"phone": "+16175550177"})
    [[change]] = changes
    assert (change.old_status, change.new_status, change.action, change.address) == (
        "opted_in",
        "none",
        "new_addr",
        "+16175550177",
    )


def test_it_hands_on_the_survivors_state_a_merge_changes(admin_user, changes):
    survivor = ContactFactory(email="ada@example.com", phone="+16175550123")
    duplicate = ContactFactory(email="ada.l@example.com")
    consent_opt_in(
        contact=survivor,
        channel="sms",
        purpose="marketing",
        source="api",
        evidence=Evidence(note="booth"),
    )
    with time_machine.travel(MIDDAY.replace(hour=17), tick=False):
        # The survivor's number opted out, recorded on the duplicate: it binds that number.
        consent_record(
            contact=duplicate,
            channel="sms",
            purpose="marketing",
            action="opt_out",
            source="keyword",
            address="+16175550123",
        )
    changes.clear()
    contact_merge(survivor=survivor, duplicate=duplicate, actor=admin_user, reason="same person")
    assert [
        [(c.contact_id, c.old_status, c.new_status, c.source) for c in batch] for batch in changes
    ] == [[(survivor.pk, "opted_in", "opted_out", "keyword")]]
