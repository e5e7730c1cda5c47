"""A contact's consent proof: the admin page, its JSON and CSV exports, and who may see it."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts import roles
from apps.consent.models import (
    Channel,
    ConsentDisclosure,
    ConsentRecord,
    ConsentSource,
    OptInForm,
    Purpose,
)
from apps.consent.proof import RECORD_COLUMNS, consent_timeline_entries
from apps.consent.services import Evidence, consent_confirm, consent_opt_in, consent_opt_out
from apps.contacts.selectors import TimelineEntry
from apps.core.spreadsheets import csv_cell
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

FORMULA_NOTE = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def contact():
    return ContactFactory(first_name="Jane", last_name="Doe", phone="+14155552671")


@pytest.fixture
def ledger(contact, admin_user):
    """A web-form opt-in, its YES confirmation, and a STOP recorded by an admin."""
    disclosure = ConsentDisclosure.objects.create(key="sms", version=2, text="You agree to texts.")
    form = OptInForm.objects.create(
        slug="webinar",
        name="Webinar",
        brand="Brightline",
        program_name="Alerts",
        help_contact="help@brightline.example",
        disclosure=disclosure,
        purposes=[Purpose.MARKETING],
    )
    start = timezone.now() - timedelta(hours=2)
    opt_in = consent_opt_in(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        source=ConsentSource.WEB_FORM,
        occurred_at=start,
        evidence=Evidence(
            ip_address="203.0.113.7",
            user_agent="-Mozilla/5.0",
            page_url="https://cue.example/optin/webinar/",
            disclosure=disclosure,
            disclosure_text=disclosure.text,
            form=form,
        ),
    )
    confirm = consent_confirm(
        contact=contact,
        source=ConsentSource.KEYWORD,
        evidence=Evidence(inbound_message_sid="SM123", keyword="YES"),
    )
    opt_out = consent_opt_out(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        source=ConsentSource.ADMIN,
        evidence=Evidence(actor=admin_user, note=FORMULA_NOTE),
    )
    return [opt_in, confirm, opt_out]


@pytest.fixture
def compliance_client(client, make_user):
    client.force_login(make_user(roles.COMPLIANCE))
    return client


def proof_url(contact, suffix="") -> str:
    return reverse(f"admin:consent_consentrecord_proof{suffix}", args=[contact.pk])


def expected_rows(records: list[ConsentRecord]) -> list[dict]:
    opt_in, confirm, opt_out = (ConsentRecord.objects.get(pk=r.pk) for r in records)
    common = {"channel": "sms", "purpose": "marketing", "address": "+14155552671"}
    blank = {
        "ip_address": "", "user_agent": "", "page_url": "", "disclosure_id": None,
        "disclosure": "", "disclosure_text": "", "form_id": None, "form_slug": "", "actor": "",
        "inbound_message_sid": "", "keyword": "", "note": "",
    }  # fmt: skip
    return [
        {
            **blank,
            **common,
            "record_id": opt_in.pk,
            "occurred_at": opt_in.occurred_at.isoformat(),
            "recorded_at": opt_in.recorded_at.isoformat(),
            "action": "opt_in",
            "source": "web_form",
            "ip_address": "203.0.113.7",
            "user_agent": "-Mozilla/5.0",
            "page_url": "https://cue.example/optin/webinar/",
            "disclosure_id": opt_in.disclosure_id,
            "disclosure": "sms v2",
            "disclosure_text": "You agree to texts.",
            "form_id": opt_in.form_id,
            "form_slug": "webinar",
        },
        {
            **blank,
            **common,
            "record_id": confirm.pk,
            "occurred_at": confirm.occurred_at.isoformat(),
            "recorded_at": confirm.recorded_at.isoformat(),
            "action": "confirm",
            "source": "keyword",
            "inbound_message_sid": "SM123",
            "keyword": "YES",
        },
        {
            **blank,
            **common,
            "record_id": opt_out.pk,
            "occurred_at": opt_out.occurred_at.isoformat(),
            "recorded_at": opt_out.recorded_at.isoformat(),
            "action": "opt_out",
            "source": "admin",
            "actor": "admin",
            "note": FORMULA_NOTE,
        },
    ]


# The page


def test_it_lists_every_ledger_row_and_the_current_state(compliance_client, contact, ledger):
    response = compliance_client.get(proof_url(contact))

    assert response.status_code == 200
    proof = response.context["proof"]
    assert [row["record_id"] for row in proof.records] == [r.pk for r in ledger]
    assert [(s["channel"], s["purpose"], s["status"]) for s in proof.states] == [
        ("sms", "marketing", "opted_out")
    ]
    page = response.content.decode()
    for record in ledger:
        assert f'id="record-{record.pk}"' in page
    for text in ("203.0.113.7", "SM123", "You agree to texts.", "sms v2", "HYPERLINK"):
        assert text in page
    assert f'href="{proof_url(contact, "_json")}"' in page
    assert f'href="{proof_url(contact, "_csv")}"' in page


def test_it_answers_404_for_an_unknown_contact(compliance_client):
    response = compliance_client.get(reverse("admin:consent_consentrecord_proof", args=[999999]))

    assert response.status_code == 404


# The exports


def test_it_exports_exactly_the_ledger_as_json(compliance_client, contact, ledger):
    response = compliance_client.get(proof_url(contact, "_json"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="consent-proof-contact-{contact.pk}.json"'
    )
    document = json.loads(response.content)
    assert document["contact"] == {
        "id": contact.pk,
        "name": "Jane Doe",
        "phone": "+14155552671",
        "email": contact.email,
    }
    assert document["records"] == expected_rows(ledger)
    opt_in, _, opt_out = ledger
    assert document["states"] == [
        {
            "channel": "sms",
            "purpose": "marketing",
            "status": "opted_out",
            "address": "+14155552671",
            "last_record_id": opt_out.pk,
            "opted_in_at": opt_in.occurred_at.isoformat(),
            "confirmed_at": ledger[1].occurred_at.isoformat(),
            "opted_out_at": opt_out.occurred_at.isoformat(),
        }
    ]


def test_it_exports_exactly_the_ledger_as_csv_with_formulas_defused(
    compliance_client, contact, ledger
):
    response = compliance_client.get(proof_url(contact, "_csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="consent-proof-contact-{contact.pk}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == RECORD_COLUMNS
    # Each of these starts with "+", "-" or "=", so it gains a leading quote.
    defused = ("address", "user_agent", "note")
    expected = [
        [
            f"'{row[column]}" if column in defused and row[column] else _plain(row[column])
            for column in RECORD_COLUMNS
        ]
        for row in expected_rows(ledger)
    ]
    assert rows[1:] == expected


def _plain(value) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+14155552671", "'+14155552671"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        (None, ""),
        (42, "42"),
    ],
)
def test_it_defuses_spreadsheet_formulas_in_csv_cells(value, cell):
    assert csv_cell(value) == cell


# Who may see it


@pytest.mark.parametrize("role", [roles.MARKETER, roles.SALES_REP, roles.APPROVER])
@pytest.mark.parametrize("suffix", ["", "_json", "_csv"])
def test_it_refuses_roles_without_the_export_permission(
    client, make_user, contact, ledger, role, suffix
):
    client.force_login(make_user(role))

    response = client.get(proof_url(contact, suffix))

    assert response.status_code == 403
    assert b"HYPERLINK" not in response.content


@pytest.mark.parametrize("suffix", ["", "_json", "_csv"])
def test_it_lets_compliance_and_admin_in(client, make_user, admin_user, contact, suffix):
    for user in (make_user(roles.COMPLIANCE), admin_user):
        client.force_login(user)

        assert client.get(proof_url(contact, suffix)).status_code == 200


def test_it_sends_anonymous_visitors_to_sign_in(client, contact):
    response = client.get(proof_url(contact))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={proof_url(contact)}"


# The contact's timeline


def test_it_puts_the_ledger_on_the_contact_timeline(contact, ledger):
    entries = consent_timeline_entries(contact, 10)

    url = proof_url(contact)
    opt_in, confirm, opt_out = ledger
    assert entries == [
        TimelineEntry(
            at=opt_out.occurred_at,
            kind="consent",
            title="Opted out of SMS marketing via admin",
            detail=f"address +14155552671, by admin, note {FORMULA_NOTE}",
            url=url,
        ),
        TimelineEntry(
            at=confirm.occurred_at,
            kind="consent",
            title="Confirmed SMS marketing via SMS keyword",
            detail="address +14155552671, keyword YES",
            url=url,
        ),
        TimelineEntry(
            at=opt_in.occurred_at,
            kind="consent",
            title="Opted in to SMS marketing via web form",
            detail="address +14155552671, IP 203.0.113.7, form webinar, disclosure sms v2",
            url=url,
        ),
    ]


def test_it_links_the_contact_page_to_the_proof(compliance_client, contact, ledger):
    response = compliance_client.get(reverse("admin:contacts_contact_change", args=[contact.pk]))

    page = response.content.decode()
    assert f'<a href="{proof_url(contact)}">Opted in to SMS marketing via web form</a>' in page
