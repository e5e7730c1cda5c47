"""The consent admin: the ledger and state are read-only, even for an admin; suppression,
preferences, opt-in forms and new disclosure versions are managed here."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from apps.accounts import roles
from apps.consent.models import (
    Channel,
    ConsentAction,
    ConsentDisclosure,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    OptInForm,
    Preference,
    Purpose,
    Suppression,
)
from apps.consent.services import consent_opt_in, consent_record, suppression_add
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact():
    return ContactFactory(phone="+14155552671")


@pytest.fixture
def record(contact):
    return consent_opt_in(
        contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API
    )


@pytest.fixture
def disclosure():
    return ConsentDisclosure.objects.create(key="sms-marketing", version=1, text="Version one.")


def admin_url(model: str, view: str, *args) -> str:
    return reverse(f"admin:consent_{model}_{view}", args=args)


# The ledger is read-only for everyone


def test_it_refuses_adding_a_ledger_row_even_for_an_admin(admin_client, contact):
    url = admin_url("consentrecord", "add")

    get = admin_client.get(url)
    post = admin_client.post(url, {"contact": contact.pk, "channel": "sms", "action": "opt_in"})

    assert (get.status_code, post.status_code) == (403, 403)
    assert ConsentRecord.objects.count() == 0


def test_it_refuses_changing_a_ledger_row_even_for_an_admin(admin_client, record):
    response = admin_client.post(
        admin_url("consentrecord", "change", record.pk), {"action": "opt_out", "note": "forged"}
    )

    assert response.status_code == 403
    assert list(ConsentRecord.objects.values_list("action", "note")) == [("opt_in", "")]


def test_it_shows_a_ledger_row_read_only(admin_client, record):
    response = admin_client.get(admin_url("consentrecord", "change", record.pk))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert 'name="_save"' not in response.content.decode()


def test_it_offers_no_way_to_delete_a_ledger_row(admin_client, record):
    changelist = admin_client.get(admin_url("consentrecord", "changelist"))
    delete_view = admin_client.get(admin_url("consentrecord", "delete", record.pk))
    admin_client.post(
        admin_url("consentrecord", "changelist"),
        {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
    )

    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.content.decode()
    assert delete_view.status_code == 403
    assert ConsentRecord.objects.filter(pk=record.pk).count() == 1


def test_it_refuses_adding_or_changing_a_consent_state(admin_client, record):
    state = ConsentState.objects.get()

    add = admin_client.post(admin_url("consentstate", "add"), {})
    change = admin_client.post(admin_url("consentstate", "change", state.pk), {"status": "none"})

    assert (add.status_code, change.status_code) == (403, 403)
    assert list(ConsentState.objects.values_list("status", flat=True)) == ["opted_in"]


def test_it_finds_ledger_rows_by_address_and_by_contact_id(admin_client):
    # Email addresses without digits, so that a contact id cannot match an address too.
    jane, omar = (
        consent_record(
            contact=ContactFactory(),
            channel=Channel.EMAIL,
            purpose=Purpose.MARKETING,
            action=ConsentAction.OPT_IN,
            source=source,
            address=address,
        )
        for address, source in (
            ("jane@example.com", ConsentSource.API),
            ("omar@example.com", ConsentSource.IMPORT),
        )
    )
    changelist = admin_url("consentrecord", "changelist")

    by_address = admin_client.get(f"{changelist}?{urlencode({'q': 'jane@'})}")
    by_contact = admin_client.get(f"{changelist}?{urlencode({'q': omar.contact_id})}")
    by_filter = admin_client.get(f"{changelist}?channel__exact=email&source__exact=import")

    assert [r.pk for r in by_address.context["cl"].result_list] == [jane.pk]
    assert [r.pk for r in by_contact.context["cl"].result_list] == [omar.pk]
    assert [r.pk for r in by_filter.context["cl"].result_list] == [omar.pk]


def test_it_lets_compliance_read_the_ledger(client, make_user, record):
    client.force_login(make_user(roles.COMPLIANCE))

    response = client.get(admin_url("consentrecord", "changelist"))

    assert response.status_code == 200
    assert [r.pk for r in response.context["cl"].result_list] == [record.pk]
    assert admin_url("consentrecord", "proof", record.contact_id) in response.content.decode()


# Suppression


def test_it_lets_an_admin_add_a_suppression(admin_client, admin_user, contact):
    response = admin_client.post(
        admin_url("suppression", "add"),
        {
            "channel": "sms",
            "address": "(415) 555-2671",
            "reason": Suppression.Reason.MANUAL,
            "contact": contact.pk,
            "note": "Asked on the phone not to be texted.",
        },
    )

    assert response.status_code == 302
    suppression = Suppression.objects.get()
    assert (
        suppression.channel,
        suppression.address,
        suppression.reason,
        suppression.source,
        suppression.contact,
        suppression.note,
    ) == (
        "sms",
        "+14155552671",
        "manual",
        ConsentSource.ADMIN,
        contact,
        "Asked on the phone not to be texted.",
    )
    assert [(h.history_type, h.history_user) for h in suppression.history.all()] == [
        ("+", admin_user)
    ]


def test_it_refuses_a_duplicate_or_invalid_suppression(admin_client):
    suppression_add(
        address="+14155552671", reason=Suppression.Reason.MANUAL, source=ConsentSource.ADMIN
    )
    url = admin_url("suppression", "add")

    duplicate = admin_client.post(
        url, {"channel": "sms", "address": "4155552671", "reason": "manual"}
    )
    invalid = admin_client.post(url, {"channel": "sms", "address": "12345", "reason": "manual"})

    assert (duplicate.status_code, invalid.status_code) == (200, 200)
    assert duplicate.context["adminform"].form.errors == {
        "__all__": ["Suppression with this Channel and Address already exists."]
    }
    assert invalid.context["adminform"].form.errors == {
        "address": ["This is not a valid phone number. Check the digits."]
    }
    assert list(Suppression.objects.values_list("address", flat=True)) == ["+14155552671"]


def test_it_lets_an_admin_remove_a_suppression(admin_client):
    suppression = suppression_add(
        address="+14155552671", reason=Suppression.Reason.MANUAL, source=ConsentSource.ADMIN
    )

    response = admin_client.post(
        admin_url("suppression", "delete", suppression.pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert Suppression.objects.count() == 0


def test_it_refuses_a_marketer_adding_a_suppression(client, make_user):
    client.force_login(make_user(roles.MARKETER))

    response = client.post(
        admin_url("suppression", "add"),
        {"channel": "sms", "address": "+14155552671", "reason": "manual"},
    )

    assert response.status_code == 403
    assert Suppression.objects.count() == 0


# Preferences


def test_it_saves_preferences_through_the_service(admin_client, contact):
    response = admin_client.post(
        admin_url("preference", "add"),
        {
            "contact": contact.pk,
            "sms_enabled": "on",
            "topics": '["webinars"]',
            "quiet_start": "09:00",
            "quiet_end": "18:00",
        },
    )

    assert response.status_code == 302
    preference = Preference.objects.get()
    assert (preference.contact, preference.sms_enabled, preference.email_enabled) == (
        contact,
        True,
        False,
    )
    assert (preference.topics, str(preference.quiet_start), str(preference.quiet_end)) == (
        ["webinars"],
        "09:00:00",
        "18:00:00",
    )


# Disclosures


def test_it_refuses_editing_a_disclosure_version(admin_client, disclosure):
    response = admin_client.post(
        admin_url("consentdisclosure", "change", disclosure.pk),
        {"key": "sms-marketing", "version": 1, "text": "Rewritten."},
    )

    assert response.status_code == 403
    assert list(ConsentDisclosure.objects.values_list("version", "text")) == [(1, "Version one.")]


def test_it_offers_a_new_version_copied_from_an_old_one(admin_client, disclosure):
    change_page = admin_client.get(admin_url("consentdisclosure", "change", disclosure.pk))
    new_version_url = f"{admin_url('consentdisclosure', 'add')}?copy_from={disclosure.pk}"
    add_page = admin_client.get(new_version_url)

    assert f'href="{new_version_url}"' in change_page.content.decode()
    assert add_page.context["adminform"].form.initial == {
        "key": "sms-marketing",
        "text": "Version one.",
        "version": 2,
        "copy_from": str(disclosure.pk),
    }


def test_it_adds_the_new_version_and_keeps_the_old_one(admin_client, disclosure):
    response = admin_client.post(
        admin_url("consentdisclosure", "add"),
        {"key": "sms-marketing", "version": 2, "text": "Version two."},
    )

    assert response.status_code == 302
    assert list(ConsentDisclosure.objects.values_list("version", "text")) == [
        (2, "Version two."),
        (1, "Version one."),
    ]


# Opt-in forms


def test_it_lets_a_marketer_create_an_opt_in_form(client, make_user, disclosure):
    client.force_login(make_user(roles.MARKETER))

    response = client.post(
        admin_url("optinform", "add"),
        {
            "slug": "spring-webinar",
            "name": "Spring webinar",
            "brand": "Brightline",
            "program_name": "Brightline Alerts",
            "message_frequency": "Up to 4 msgs/month",
            "help_contact": "help@brightline.example",
            "privacy_url": "brightline.example/privacy",
            "disclosure": disclosure.pk,
            "double_opt_in": "on",
            "purposes": ["marketing"],
            "is_active": "on",
            "success_message": "Thanks!",
        },
    )

    assert response.status_code == 302
    form = OptInForm.objects.get()
    assert (form.slug, form.purposes, form.privacy_url, form.ask_email) == (
        "spring-webinar",
        ["marketing"],
        "https://brightline.example/privacy",
        False,
    )


def test_it_links_an_active_opt_in_form_to_its_live_page(admin_client, disclosure):
    form = OptInForm.objects.create(
        slug="demo",
        name="Demo",
        brand="Brightline",
        program_name="Alerts",
        help_contact="help@brightline.example",
        disclosure=disclosure,
        purposes=[Purpose.MARKETING],
    )

    response = admin_client.get(admin_url("optinform", "change", form.pk))

    assert '<a href="/optin/demo/" target="_blank" rel="noopener">View live form</a>' in (
        response.content.decode()
    )
