"""Two people merging the same pair at once: one merge wins, the other is told why.
Row locks are PostgreSQL's: run there."""

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from apps.accounts import roles
from apps.contacts.errors import ContactsError
from apps.contacts.merge import contact_merge
from apps.contacts.models import Contact, Event
from tests.factories import ContactFactory, EventFactory, UserFactory
from tests.threads import in_threads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks"),
]


def test_two_merges_of_one_pair_at_once_make_one_merge():
    # given a pair, with the duplicate's events, and two admins
    ada, dup = ContactFactory(), ContactFactory()
    EventFactory(contact=dup)
    admins = [UserFactory(role=roles.ADMIN) for _ in range(2)]

    # when both merge the duplicate into Ada at the same moment (one of them the other way)
    def work(i):
        survivor, duplicate = (ada, dup) if i == 0 else (dup, ada)
        try:
            contact_merge(survivor=survivor, duplicate=duplicate, actor=admins[i], reason="same")
        except ContactsError as error:
            return str(error)
        return "merged"

    outcomes = in_threads(2, work)

    # then exactly one merged; the other found its duplicate gone
    assert sorted(outcomes)[1] == "merged"
    assert "no longer exists (already merged or deleted)" in sorted(outcomes)[0]
    [left] = Contact.objects.all()
    assert Event.objects.get().contact == left
