"""Segments on custom attributes: typed operators, one SQL statement, exact negation."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.contacts.models import Contact
from apps.contacts.segments import segment_contacts, segment_rules_validate
from tests.factories import AttributeDefinitionFactory, ContactFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
TODAY = NOW.date()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


@pytest.fixture
def people():
    """Five contacts with attributes of every type, known by first name."""
    AttributeDefinitionFactory(key="plan", type="choice", options=["free", "pro", "team"])
    AttributeDefinitionFactory(key="seats", type="number")
    AttributeDefinitionFactory(key="trial", type="boolean")
    AttributeDefinitionFactory(key="renewal_on", type="date")
    AttributeDefinitionFactory(key="last_login", type="datetime")
    AttributeDefinitionFactory(key="nickname", type="text")
    AttributeDefinitionFactory(key="channels", type="list")
    utc = lambda offset: (NOW + timedelta(days=offset)).isoformat(timespec="seconds")  # noqa: E731
    rows = {
        "ana": {"plan": "pro", "seats": 12, "trial": False, "renewal_on": day(-3),
                "last_login": utc(-1), "nickname": "Annie", "channels": ["sms", "email"]},
        "ben": {"plan": "free", "seats": 1.5, "trial": True, "renewal_on": day(30),
                "last_login": utc(-40), "nickname": "Benny", "channels": ["email"]},
        "cara": {"plan": "team", "seats": 100, "renewal_on": day(-60), "nickname": "annabel"},
        "dev": {"seats": 0, "trial": False},
        "eve": {},
    }  # fmt: skip
    from apps.contacts.services import contact_update

    for name, attributes in rows.items():
        contact_update(contact=ContactFactory(first_name=name), fields={"attributes": attributes})


def names(rules) -> set[str]:
    with CaptureQueriesContext(connection) as queries:
        found = set(segment_contacts(rules=rules).values_list("first_name", flat=True))
    assert len([q for q in queries if "contacts_contact" in q["sql"]]) == 1
    return found


def attr(key, op, value=None):
    rule = {"attribute": key, "op": op}
    return rule if value is None else {**rule, "value": value}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (attr("plan", "eq", "pro"), {"ana"}),
        (attr("plan", "eq", "PRO"), {"ana"}),
        (attr("plan", "in", ["pro", "team"]), {"ana", "cara"}),
        (attr("plan", "not_in", ["pro", "team"]), {"ben", "dev", "eve"}),
        (attr("plan", "is_set"), {"ana", "ben", "cara"}),
        (attr("plan", "is_not_set"), {"dev", "eve"}),
        (attr("seats", "eq", 12.0), {"ana"}),
        (attr("seats", "gt", 1), {"ana", "ben", "cara"}),
        (attr("seats", "gte", 12), {"ana", "cara"}),
        (attr("seats", "lt", 1.5), {"dev"}),
        (attr("seats", "lte", 1.5), {"ben", "dev"}),
        (attr("trial", "eq", False), {"ana", "dev"}),
        (attr("trial", "eq", True), {"ben"}),
        (attr("renewal_on", "before", day(0)), {"ana", "cara"}),
        (attr("renewal_on", "after", day(0)), {"ben"}),
        (attr("renewal_on", "eq", day(-3)), {"ana"}),
        (attr("renewal_on", "within_last_days", 7), {"ana"}),
        (attr("last_login", "within_last_days", 7), {"ana"}),
        (attr("last_login", "before", (NOW - timedelta(days=7)).isoformat()), {"ben"}),
        (attr("nickname", "eq", "annie"), {"ana"}),
        (attr("nickname", "contains", "NN"), {"ana", "ben", "cara"}),
        (attr("nickname", "starts_with", "ann"), {"ana", "cara"}),
        (attr("nickname", "in", ["BENNY", "annabel"]), {"ben", "cara"}),
        (attr("channels", "contains", "email"), {"ana", "ben"}),
        (attr("channels", "contains", "sms"), {"ana"}),
        ({"not": attr("channels", "contains", "sms")}, {"ben", "cara", "dev", "eve"}),
        ({"not": attr("seats", "gt", 1)}, {"dev", "eve"}),
        ({"all": [attr("plan", "is_set"), {"field": "kind", "op": "eq", "value": "prospect"}]},
         {"ana", "ben", "cara"}),
    ],
)  # fmt: skip
def test_it_selects_by_each_typed_operator_in_one_query(people, rule, expected):
    assert names(rule) == expected


def test_a_datetime_given_with_an_offset_compares_in_utc(people):
    ana = Contact.objects.get(first_name="ana")
    stored = datetime.fromisoformat(ana.attributes["last_login"])
    local = stored.astimezone(timezone.get_fixed_timezone(-300)).isoformat()

    assert names(attr("last_login", "after", local)) == set()
    assert names(attr("last_login", "before", local)) == {"ben"}


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        (attr("color", "eq", "red"), 'attribute: "color" is not a contact attribute; choose from'),
        (attr("plan", "gt", "pro"), 'op: "gt" does not apply to a choice attribute; choose from'),
        (
            attr("plan", "eq", "gold"),
            "value: 'gold' is not an option; choose from free, pro, team.",
        ),
        (attr("plan", "in", []), 'value: "in" needs a non-empty list of values'),
        (attr("seats", "gt", "12"), "value: Give a number, e.g. 42 or 3.5."),
        (attr("trial", "eq", "yes"), "value: Give true or false."),
        (attr("renewal_on", "before", "31/03/2026"), "value: Give a date as YYYY-MM-DD"),
        (attr("last_login", "after", "2026-03-01T00:00"), "value: Give the time with its offset"),
        (attr("renewal_on", "within_last_days", 0), "value: within_last_days needs a whole"),
        (attr("nickname", "contains", "  "), 'value: give some text; use "op": "is_not_set"'),
        (attr("channels", "contains", ["sms"]), "value: Give one item as text."),
        ({"attribute": "plan", "op": "is_set", "value": 1}, 'unknown key "value"'),
        ({"attribute": "plan", "op": "eq"}, 'missing "value"'),
    ],
)
def test_it_explains_a_bad_rule_with_its_path(people, rule, error):
    errors = segment_rules_validate({"all": [rule]})

    assert len(errors) == 1
    assert errors[0].startswith("all[0]")
    assert error in errors[0]


def test_a_value_that_is_not_of_the_attribute_type_matches_nothing_and_breaks_nothing(people):
    """A definition removed and made again with another type leaves old values behind."""
    Contact.objects.filter(first_name="eve").update(attributes={"seats": "many", "trial": 1})

    assert names(attr("seats", "gt", 0)) == {"ana", "ben", "cara"}
    assert names(attr("seats", "eq", 1)) == set()
    assert names(attr("trial", "eq", True)) == {"ben"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN is PostgreSQL's")
def test_postgresql_keeps_a_gin_index_on_contact_attributes_for_containment():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'contact_attributes_gin'")
        (definition,) = cursor.fetchone()

    assert definition.endswith("USING gin (attributes)")
    rules = attr("plan", "eq", "pro")
    AttributeDefinitionFactory(key="plan", type="choice", options=["pro"])
    sql = str(segment_contacts(rules=rules).query)
    assert '"contacts_contact"."attributes" @> {"plan": "pro"}' in sql
