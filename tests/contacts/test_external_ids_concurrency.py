"""Several contacts claiming the same id in a source at once: one gets it, every other is
refused naming it, and nothing is half-written. Real concurrency is PostgreSQL's: run there."""

import pytest
from django.db import (
    connection,  # noqa: F401 - read by the skipif condition
    transaction,
)

from apps.contacts.external_ids import ExternalIdsError
from apps.contacts.models import Contact, ContactExternalId
from apps.contacts.services import contact_update
from tests.factories import ContactFactory
from tests.threads import in_threads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs real concurrency"),
]


def test_one_of_several_contacts_claiming_a_hubspot_id_at_once_gets_it():
    contacts = [ContactFactory(first_name=f"c{i}") for i in range(6)]

    def work(i):
        try:
            with transaction.atomic():
                contact_update(
                    contact=Contact.objects.get(pk=contacts[i].pk),
                    fields={"first_name": f"changed{i}", "external_ids": {"hubspot": "hs-1"}},
                )
        except ExternalIdsError as error:
            return error.errors["hubspot"][0]
        return "won"

    results = in_threads(len(contacts), work)

    (owner,) = ContactExternalId.objects.filter(source="hubspot", value="hs-1")
    winner = next(i for i, result in enumerate(results) if result == "won")
    assert results.count("won") == 1
    assert owner.contact_id == contacts[winner].pk
    for i, result in enumerate(results):
        if i != winner:
            assert f"already names contact #{owner.contact_id}" in result, result
    # the losers' other changes were rolled back with the refused id
    changed = set(
        Contact.objects.filter(first_name__startswith="changed").values_list("pk", flat=True)
    )
    assert changed == {contacts[winner].pk}
