"""The contact page links the contact's consent proof plainly, for whoever may read it."""

import pytest
from django.test import Client

from apps.accounts import roles
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def page_of(user, contact) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/admin/contacts/contact/{contact.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_compliance_finds_the_consent_proof_on_the_contact_page(make_user):
    contact = ContactFactory(first_name="Priya", last_name="Natarajan")
    html = page_of(make_user(roles.COMPLIANCE, username="carol"), contact)
    link = (
        f'<a href="/admin/consent/consentrecord/proof/{contact.pk}/" '
        'id="consent-proof-link">Consent proof</a>'
    )
    assert link in html
    proof = Client()
    proof.force_login(make_user(roles.COMPLIANCE, username="cora"))
    assert proof.get(f"/admin/consent/consentrecord/proof/{contact.pk}/").status_code == 200


def test_a_marketer_who_may_not_export_proofs_gets_no_link(make_user):
    contact = ContactFactory()
    html = page_of(make_user(roles.MARKETER, username="maria"), contact)
    assert 'id="consent-proof-link"' not in html
