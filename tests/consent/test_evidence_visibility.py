"""Least privilege for consent evidence: the device evidence (IP address, user agent) is
shown to Compliance and Admin only, in the API (others get null and "") and the admin."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.consent.models import Channel, ConsentRecord, ConsentSource, Purpose
from apps.consent.services import Evidence, consent_opt_in
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
IP, AGENT = "203.0.113.77", "Mozilla/5.0 (Least privilege)"


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def opted_in():
    contact = ContactFactory()
    consent_opt_in(
        contact=contact, channel=Channel.SMS, purpose=Purpose.TRANSACTIONAL,
        source=ConsentSource.WEB_FORM, evidence=Evidence(ip_address=IP, user_agent=AGENT),
    )  # fmt: skip
    return contact


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (roles.COMPLIANCE, (IP, AGENT)),
        (roles.ADMIN, (IP, AGENT)),
        (roles.MARKETER, (None, "")),
        (roles.APPROVER, (None, "")),
    ],
)
def test_the_api_shows_device_evidence_to_compliance_and_admin_only(
    make_user, opted_in, role, shown
):
    response = api_as(make_user(role)).get(f"/api/v1/contacts/{opted_in.pk}/consent/")
    assert response.status_code == 200
    [row] = response.json()["ledger"]
    assert (row["evidence"]["ip_address"], row["evidence"]["user_agent"]) == shown


@pytest.mark.parametrize(
    ("role", "shown"),
    [(roles.COMPLIANCE, True), (roles.ADMIN, True), (roles.MARKETER, False)],
)
def test_the_admin_shows_device_evidence_to_compliance_and_admin_only(
    make_user, opted_in, role, shown
):
    client = Client()
    client.force_login(make_user(role))
    record = ConsentRecord.objects.get()
    response = client.get(f"/admin/consent/consentrecord/{record.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert (IP in page, AGENT in page) == (shown, shown)
