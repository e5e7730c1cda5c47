"""`field__one_of=values` finds the rows `field__in=values` finds (apps/core/lookups.py),
on PostgreSQL with the values as one array parameter whatever their number."""

import pytest
from django.db import connection

from apps.contacts.models import Company, Contact, ContactExternalId
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def both(queryset, name: str, values) -> tuple[list, list]:
    """(ids found by `in`, ids found by `one_of`)."""
    by_in = queryset.filter(**{f"{name}__in": values}).order_by("pk")
    by_one_of = queryset.filter(**{f"{name}__one_of": values}).order_by("pk")
    return list(by_in.values_list("pk", flat=True)), list(by_one_of.values_list("pk", flat=True))


@pytest.fixture
def people():
    companies = CompanyFactory.create_batch(2)
    contacts = [ContactFactory(company=companies[i % 2]) for i in range(4)]
    for index, contact in enumerate(contacts):
        ContactExternalId.objects.create(contact=contact, source="hubspot", value=f"{index}0")
    long_value = "x" * 100
    ContactExternalId.objects.create(contact=contacts[0], source="salesforce", value=long_value)
    return companies, contacts


def test_it_finds_what_in_finds_by_ids_and_texts(people):
    _, contacts = people
    ids = ContactExternalId.objects.all()

    assert (
        both(Contact.objects.all(), "pk", [contacts[1].pk, contacts[3].pk, -5])
        == ([contacts[1].pk, contacts[3].pk],) * 2
    )
    expected = [ids.get(value="10").pk, ids.get(value="30").pk]
    assert both(ids, "value", {"10", "30", "nobody"}) == (expected, expected)


def test_a_longer_value_does_not_match_the_stored_value_it_begins_with(people):
    # A cast to the column's varchar(100) would cut it to the stored value and match it.
    assert both(ContactExternalId.objects.all(), "value", ["x" * 101]) == ([], [])


@pytest.mark.parametrize("values", [[], [None], set()])
def test_no_values_find_nothing(people, values):
    assert both(Contact.objects.all(), "pk", values) == ([], [])


def test_none_and_repeats_are_ignored(people):
    _, contacts = people
    values = [None, contacts[2].pk, contacts[2].pk, str(contacts[0].pk)]

    assert both(Contact.objects.all(), "pk", values)[1] == [contacts[0].pk, contacts[2].pk]


def test_it_works_in_updates_and_subqueries(people):
    companies, contacts = people

    updated = Contact.objects.filter(pk__one_of=[contacts[0].pk]).update(first_name="Ann")
    inner = Contact.objects.filter(pk__one_of=[contacts[0].pk]).values("company_id")

    assert updated == 1
    assert list(Company.objects.filter(pk__in=inner).values_list("pk", flat=True)) == [
        companies[0].pk
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite gets IN (...)")
def test_on_postgresql_the_values_are_one_array_parameter():
    sql, params = Contact.objects.filter(pk__one_of=range(2000)).query.sql_with_params()

    assert '"contacts_contact"."id" = ANY(%s::bigint[])' in sql
    assert params == (list(range(2000)),)
