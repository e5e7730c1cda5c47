"""Two changes of different attributes of one contact at once: both stay. Row locks are
PostgreSQL's: run there."""

import pytest
from django.db import (
    connection,  # noqa: F401 - read by the skipif condition
    transaction,
)

from apps.contacts.models import Contact
from apps.contacts.services import contact_update
from tests.factories import AttributeDefinitionFactory, ContactFactory
from tests.threads import in_threads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks"),
]


def test_changes_of_different_attributes_at_once_all_stay():
    keys = [f"k{i}" for i in range(6)]
    for key in keys:
        AttributeDefinitionFactory(key=key, type="number")
    ada = ContactFactory(attributes={"kept": 1})

    def work(i):
        stale = Contact.objects.get(pk=ada.pk)  # each caller read the contact before any wrote
        with transaction.atomic():
            contact_update(contact=stale, fields={"attributes": {keys[i]: i}})

    in_threads(len(keys), work)

    ada.refresh_from_db()
    assert ada.attributes == {"kept": 1, **{key: i for i, key in enumerate(keys)}}
