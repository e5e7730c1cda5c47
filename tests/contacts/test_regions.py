"""Regions are stored as postal codes and countries as ISO codes, whatever the input: the
API, event intake, CSV import, admin and an existing row all end up as FL, never "Florida"
(which silently switched off the Florida hours and the Florida cap)."""

import importlib
from datetime import UTC, datetime

import pytest
import time_machine
from django.apps import apps as django_apps
from django.urls import reverse
from rest_framework.test import APIClient

from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import Evidence, consent_opt_in
from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact
from apps.contacts.regions import country_normalize, region_normalize
from apps.contacts.segments import segment_contacts
from apps.journeys.admin.simulate import SimulateForm
from apps.sends.caps import caps_defaults_ensure
from apps.sends.models import FrequencyCap
from apps.sends.services.messages import message_create
from tests.factories import ContactFactory

URL = "/api/v1/contacts/"
NOT_A_US_STATE = "is not a US state, territory or postal code (e.g. FL or Florida)."
migration = importlib.import_module("apps.contacts.migrations.0005_contact_region_postal_codes")


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


# --- The function -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "country", "code"),
    [
        ("Florida", "US", "FL"),
        ("fl ", "US", "FL"),
        ("Fla.", "US", "FL"),
        ("FLA", "US", "FL"),
        ("florida.", "US", "FL"),
        ("  FLORIDA  ", "US", "FL"),
        ("US-FL", "US", "FL"),
        ("New York", "US", "NY"),
        ("N.Y.", "US", "NY"),
        ("ny", "US", "NY"),
        ("new  york", "US", "NY"),
        ("District of Columbia", "US", "DC"),
        ("D.C.", "US", "DC"),
        ("Washington, D.C.", "US", "DC"),
        ("Washington", "US", "WA"),
        ("Wash.", "US", "WA"),
        ("Puerto Rico", "US", "PR"),
        ("Guam", "US", "GU"),
        ("U.S. Virgin Islands", "US", "VI"),
        ("American Samoa", "US", "AS"),
        ("Northern Mariana Islands", "US", "MP"),
        ("Calif.", "US", "CA"),
        ("Mass.", "US", "MA"),
        ("Penn.", "US", "PA"),
        ("Penna.", "US", "PA"),
        ("Tex.", "US", "TX"),
        ("Okla.", "US", "OK"),
        ("Md.", "US", "MD"),
        ("Ariz.", "US", "AZ"),
        ("W. Va.", "US", "WV"),
        ("Québec", "CA", "QC"),
        ("quebec", "CA", "QC"),
        ("QC", "CA", "QC"),
        ("PQ", "CA", "QC"),
        ("Ont.", "CA", "ON"),
        ("Newfoundland & Labrador", "CA", "NL"),
        ("Île-du-Prince-Édouard", "CA", "PE"),
        ("Flo\x00rida", "US", "FL"),  # what cannot be stored is never stored: only the code
        ("Florida", "USA", "FL"),  # the country may be written as a name too
        ("Québec", "Canada", "QC"),
        ("Florida", None, "FL"),  # country not known yet: the US or Canada
        ("Québec", None, "QC"),
        ("", "US", ""),
        ("   ", "US", ""),
        (None, "US", ""),
        (" Bavaria ", "DE", "Bavaria"),  # elsewhere: kept as given, trimmed
        ("BY", "DE", "BY"),
    ],
)
def test_it_reads_each_spelling_as_the_postal_code(value, country, code):
    assert region_normalize(value, country) == code


@pytest.mark.parametrize(
    ("value", "country", "message"),
    [
        ("Flordia", "US", f"'Flordia' {NOT_A_US_STATE}"),
        ("Narnia", "US", f"'Narnia' {NOT_A_US_STATE}"),
        ("ZZ", "US", f"'ZZ' {NOT_A_US_STATE}"),
        ("Fl0rida", "US", f"'Fl0rida' {NOT_A_US_STATE}"),
        ("Ontario", "US", "'Ontario' is ON in Canada, but the country is US."),
        ("Florida", "CA", "'Florida' is FL in the United States, but the country is CA."),
        ("Narnia", "CA", "'Narnia' is not a Canadian province or territory (e.g. ON or Ontario)."),
        (
            "Narnia",
            None,
            "'Narnia' is not a US state or territory or a Canadian province or territory "
            "(e.g. FL, Florida, ON).",
        ),
        (
            "B\x00Y",
            "DE",
            "The region holds a control or unpaired character; give its code, e.g. BY.",
        ),
        (
            "B\ud800Y",
            "DE",
            "The region holds a control or unpaired character; give its code, e.g. BY.",
        ),
        (
            "Nordrhein-Westfalen",
            "DE",
            "Give the region as a code of at most 10 characters "
            "(its ISO 3166-2 code, e.g. BY for Bavaria).",
        ),
    ],
)
def test_it_refuses_a_region_the_country_does_not_have(value, country, message):
    with pytest.raises(ContactsError) as raised:
        region_normalize(value, country)

    assert (raised.value.field, raised.value.message) == ("region", message)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("US", "US"),
        ("us", "US"),
        ("USA", "US"),
        ("U.S.", "US"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("united states of america", "US"),
        ("Canada", "CA"),
        ("ca", "CA"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("Great Britain", "GB"),
        ("GB", "GB"),
        ("México", "MX"),
        (" de ", "DE"),
    ],
)
def test_it_reads_a_country_as_its_iso_code(value, code):
    assert country_normalize(value) == code


@pytest.mark.parametrize("value", ["ZZ", "Narnia", "U", "", "USAA"])
def test_it_refuses_an_unknown_country(value):
    with pytest.raises(ContactsError) as raised:
        country_normalize(value)

    assert (raised.value.field, raised.value.message) == (
        "country",
        f"{value!r} is not a country; give its two-letter ISO code, e.g. US.",
    )


# --- Every input --------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_stores_the_code_when_the_api_is_given_a_name(api):
    response = api.post(
        URL,
        {"email": "fay@example.com", "region": "Florida", "country": "United States"},
        format="json",
    )

    assert response.status_code == 201
    assert (response.json()["region"], response.json()["country"]) == ("FL", "US")
    assert list(Contact.objects.values_list("region", "country")) == [("FL", "US")]


@pytest.mark.django_db
@pytest.mark.parametrize("region", ["Flordia", "Narnia", "ZZ"])
def test_it_answers_400_naming_the_region_and_stores_nothing(api, region):
    response = api.post(URL, {"email": "fay@example.com", "region": region}, format="json")

    assert response.status_code == 400
    assert response.json() == {"region": [f"{region!r} {NOT_A_US_STATE}"]}
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_it_answers_400_naming_an_unknown_country(api):
    response = api.post(URL, {"email": "fay@example.com", "country": "Narnia"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "country": ["'Narnia' is not a country; give its two-letter ISO code, e.g. US."]
    }
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_it_checks_a_changed_region_against_the_contacts_own_country(api):
    contact = ContactFactory(region="ON", country="CA")
    url = f"{URL}{contact.pk}/"

    refused = api.patch(url, {"region": "Florida"}, format="json")
    accepted = api.patch(url, {"region": "Québec"}, format="json")
    moved = api.patch(url, {"region": "Fla.", "country": "USA"}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {
        "region": ["'Florida' is FL in the United States, but the country is CA."]
    }
    assert (accepted.status_code, accepted.json()["region"]) == (200, "QC")
    assert (moved.status_code, moved.json()["region"], moved.json()["country"]) == (
        200,
        "FL",
        "US",
    )


@pytest.mark.django_db
def test_it_changes_nothing_when_a_name_repeats_the_stored_code(api):
    contact = ContactFactory(email="fay@example.com", region="FL")
    versions = contact.history.count()

    response = api.post(URL, {"email": "fay@example.com", "region": "Florida"}, format="json")

    assert (response.status_code, response.json()["region"]) == (200, "FL")
    assert contact.history.count() == versions


@pytest.mark.django_db
def test_it_leaves_an_old_unknown_region_alone_when_another_field_changes(api):
    contact = ContactFactory(region="Narnia")

    response = api.patch(f"{URL}{contact.pk}/", {"first_name": "Fay"}, format="json")

    assert response.status_code == 200
    assert Contact.objects.values_list("first_name", "region").get() == ("Fay", "Narnia")


@pytest.mark.django_db
def test_it_stores_the_code_for_a_contact_an_event_creates(api):
    event = {
        "type": "pricing_view",
        "occurred_at": "2025-03-01T12:00:00+00:00",
        "idempotency_key": "k1",
        "contact": {"email": "fay@example.com", "region": "Fla.", "country": "usa"},
        "create_contact": True,
    }
    unknown = {
        **event,
        "idempotency_key": "k2",
        "contact": {"email": "gil@example.com", "region": "Flordia"},
    }

    created = api.post("/api/v1/events/", event, format="json")
    refused = api.post("/api/v1/events/", unknown, format="json")

    assert created.status_code == 201
    assert list(Contact.objects.values_list("email", "region", "country")) == [
        ("fay@example.com", "FL", "US")
    ]
    assert refused.status_code == 400
    assert refused.json() == {"contact.region": [f"'Flordia' {NOT_A_US_STATE}"]}


@pytest.mark.django_db
def test_it_stores_the_code_from_the_admin_form_and_refuses_an_unknown_region(admin_client):
    url = reverse("admin:contacts_contact_add")
    form = {"email": "fay@example.com", "country": "US", "kind": "prospect"}
    form["lifecycle_stage"] = "lead"

    refused = admin_client.post(url, {**form, "region": "Flordia"})
    saved = admin_client.post(url, {**form, "region": "Florida", "country": "U.S."})

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {"region": [f"'Flordia' {NOT_A_US_STATE}"]}
    assert saved.status_code == 302
    assert list(Contact.objects.values_list("email", "region", "country")) == [
        ("fay@example.com", "FL", "US")
    ]


@pytest.mark.django_db
def test_it_lets_the_admin_save_a_contact_whose_old_region_is_unknown(admin_client):
    contact = ContactFactory(region="Narnia", country="US")
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    form = {"email": contact.email, "phone": str(contact.phone), "kind": "prospect"}
    form |= {"lifecycle_stage": "lead", "region": "Narnia", "country": "US"}
    form["first_name"] = "Fay"

    response = admin_client.post(url, form)

    assert response.status_code == 302
    assert Contact.objects.values_list("first_name", "region").get() == ("Fay", "Narnia")


# --- Existing rows and segments -----------------------------------------------------------


@pytest.mark.django_db
def test_the_migration_normalises_existing_rows_and_leaves_unknown_ones(caplog):
    florida = ContactFactory(region="Florida", country="US")
    spaced = ContactFactory(region="fl ", country="us")
    quebec = ContactFactory(region="Québec", country="ca")
    bavaria = ContactFactory(region=" Bavaria", country="DE")
    narnia = ContactFactory(region="Narnia", country="us")
    blank = ContactFactory(region="", country="US")

    migration.contact_places_normalize(django_apps, None)
    migration.contact_places_normalize(django_apps, None)  # a second run changes nothing

    places = dict(Contact.objects.values_list("pk", "region"))
    countries = dict(Contact.objects.values_list("pk", "country"))
    assert places == {
        florida.pk: "FL",
        spaced.pk: "FL",
        quebec.pk: "QC",
        bavaria.pk: "Bavaria",
        narnia.pk: "Narnia",
        blank.pk: "",
    }
    assert countries == {
        florida.pk: "US",
        spaced.pk: "US",
        quebec.pk: "CA",
        bavaria.pk: "DE",
        narnia.pk: "US",
        blank.pk: "US",
    }
    assert "Contacts left with a country or region Cue cannot read: [('us', 'Narnia')]" in (
        caplog.text
    )


@pytest.mark.django_db
def test_a_segment_on_a_region_name_finds_the_contacts_stored_with_its_code():
    stored = ContactFactory(region="FL")
    legacy = ContactFactory(region="Florida")  # written before regions were normalised
    ContactFactory(region="GA")

    found = segment_contacts(rules={"field": "region", "op": "eq", "value": "Florida"})
    listed = segment_contacts(rules={"field": "region", "op": "in", "value": ["fla.", "ZZ"]})

    assert set(found) == {stored, legacy}
    assert set(listed) == {stored}


# --- What it is for: the Florida window and cap -------------------------------------------


@pytest.fixture
def florida_via_api(api):
    """A contact the API was told lives in "Florida", with a Boston number (no FL area code:
    only the address can make Florida's rules apply) and marketing SMS consent."""
    caps_defaults_ensure(FrequencyCap)
    body = {
        "email": "fay@example.com",
        "phone": "+16175550123",
        "time_zone": "America/New_York",
        "region": "Florida",
    }
    contact = Contact.objects.get(pk=api.post(URL, body, format="json").json()["id"])
    consent_opt_in(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        source=ConsentSource.API,
        evidence=Evidence(note="test"),
    )
    return contact


def marketing(contact, key):
    return message_create(
        send_key=key,
        origin="journey",
        category="marketing",
        contact=contact,
        body="Acme: your webinar starts soon. Reply STOP to opt out.",
    )


@pytest.mark.django_db
def test_a_contact_given_florida_through_the_api_gets_the_florida_window(florida_via_api):
    at_2030_eastern = datetime(2026, 3, 11, 0, 30, tzinfo=UTC)  # 20:30 EDT: fine in New York

    with time_machine.travel(at_2030_eastern, tick=False):
        message = marketing(florida_via_api, "evening")

    assert (message.status, message.reason_code, message.next_attempt_at) == (
        "deferred",
        "quiet_hours",
        datetime(2026, 3, 11, 12, 0, tzinfo=UTC),  # 08:00 EDT
    )


@pytest.mark.django_db
def test_a_contact_given_florida_through_the_api_counts_toward_the_florida_cap(florida_via_api):
    FrequencyCap.objects.filter(region="").update(is_active=False)  # only Florida's 3 a day

    with time_machine.travel(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), tick=False):  # noon
        statuses = [marketing(florida_via_api, f"fl{i}").status for i in range(4)]

    assert statuses == ["queued", "queued", "queued", "suppressed"]


# --- Where people name a region besides a contact -----------------------------------------


@pytest.mark.django_db
def test_a_frequency_cap_in_the_admin_stores_the_postal_code(admin_client):
    url = reverse("admin:sends_frequencycap_add")
    form = {"name": "Florida again", "channel": "sms", "category": "marketing"}
    form |= {"window_hours": 24, "max_messages": 3, "is_active": "on"}

    refused = admin_client.post(url, {**form, "region": "Flordia"})
    saved = admin_client.post(url, {**form, "region": "Fla."})

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "region": [
            "'Flordia' is not a US state or territory or a Canadian province or territory "
            "(e.g. FL, Florida, ON)."
        ]
    }
    assert saved.status_code == 302
    assert FrequencyCap.objects.get(name="Florida again").region == "FL"


@pytest.mark.parametrize(
    ("region", "cleaned", "errors"),
    [
        ("Florida", "FL", {}),
        ("", "", {}),
        ("Flordia", None, {"region": [f"'Flordia' {NOT_A_US_STATE}"]}),
    ],
)
def test_the_simulator_describes_a_contact_with_the_postal_code(region, cleaned, errors):
    form = SimulateForm(data={"event_type": "webinar_registered", "region": region})

    form.is_valid()

    assert (form.cleaned_data.get("region"), dict(form.errors)) == (cleaned, errors)
