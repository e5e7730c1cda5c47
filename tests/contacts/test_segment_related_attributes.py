"""Segments on the company's and the opportunities' custom attributes: the same typed
operators as the contact's own, one SQL statement (EXISTS subqueries), exact negation, and
rules checked against the definitions of that object type."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.contacts.models import Company, Contact
from apps.contacts.segments import segment_conditions, segment_contacts, segment_rules_validate
from apps.contacts.services import company_update, contact_update, opportunity_create
from tests.factories import AttributeDefinitionFactory, ContactFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def day(offset: int) -> str:
    return (NOW.date() + timedelta(days=offset)).isoformat()


def a_company(name: str, **attributes) -> Company:
    company = Company.objects.create(name=name)
    return company_update(company=company, attributes=attributes)


def a_contact(name: str, company: Company | None = None) -> Contact:
    return contact_update(contact=ContactFactory(first_name=name), fields={"company": company})


def a_deal(contact: Contact, name: str, **attributes) -> None:
    opportunity_create(name=name, stage="discovery", contact=contact, attributes=attributes)


@pytest.fixture
def world():
    """Contacts at companies and with deals, known by first name.

    ana: at Acme (gold, 500 seats, renews in 10 days), deals gold and silver
    ben: at Beta (silver, renewed 40 days ago), one deal with no tier
    cy: no company, no deal
    dee: at Nameless (no attributes), deals silver
    """
    for object_type in ("company", "opportunity"):
        AttributeDefinitionFactory(
            key="tier", type="choice", options=["gold", "silver"], object_type=object_type
        )
    AttributeDefinitionFactory(key="seats", type="number", object_type="company")
    AttributeDefinitionFactory(key="renews_on", type="date", object_type="company")
    AttributeDefinitionFactory(key="region_name", type="text", object_type="company")
    AttributeDefinitionFactory(key="products", type="list", object_type="opportunity")
    AttributeDefinitionFactory(key="tier", type="text")  # the contact's own, another thing
    acme = a_company("Acme", tier="gold", seats=500, renews_on=day(10), region_name="North East")
    beta = a_company("Beta", tier="silver", renews_on=day(-40), region_name="South")
    nameless = a_company("Nameless")
    ana, ben = a_contact("ana", acme), a_contact("ben", beta)
    a_contact("cy")
    dee = a_contact("dee", nameless)
    a_deal(ana, "Renewal", tier="gold", products=["sms", "email"])
    a_deal(ana, "Upsell", tier="silver")
    a_deal(ben, "New")
    a_deal(dee, "Pilot", tier="silver", products=["sms"])
    contact_update(contact=ben, fields={"attributes": {"tier": "gold"}})


def names(rules) -> set[str]:
    with CaptureQueriesContext(connection) as queries:
        found = set(segment_contacts(rules=rules).values_list("first_name", flat=True))
    statements = [q["sql"] for q in queries if "contacts_contact" in q["sql"]]
    assert len(statements) == 1, statements
    return found


def company(key, op, value=None):
    rule = {"company_attribute": key, "op": op}
    return rule if value is None else {**rule, "value": value}


def deal(key, op, value=None):
    rule = {"opportunity_attribute": key, "op": op}
    return rule if value is None else {**rule, "value": value}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (company("tier", "eq", "gold"), {"ana"}),
        (company("tier", "eq", "Gold"), {"ana"}),  # the option, as written
        (company("tier", "in", ["gold", "silver"]), {"ana", "ben"}),
        (company("tier", "not_in", ["gold"]), {"ben", "cy", "dee"}),  # cy: no company
        (company("tier", "is_set"), {"ana", "ben"}),
        (company("tier", "is_not_set"), {"cy", "dee"}),
        (company("seats", "gte", 500), {"ana"}),
        (company("seats", "lt", 500), set()),
        (company("renews_on", "after", day(0)), {"ana"}),
        (company("renews_on", "before", day(0)), {"ben"}),
        (company("renews_on", "within_last_days", 60), {"ben"}),  # not the future renewal
        (company("region_name", "contains", "east"), {"ana"}),
        (company("region_name", "starts_with", "SOU"), {"ben"}),
        (deal("tier", "eq", "gold"), {"ana"}),
        (deal("tier", "eq", "silver"), {"ana", "dee"}),
        (deal("tier", "is_set"), {"ana", "dee"}),
        (deal("tier", "is_not_set"), {"ben", "cy"}),  # none of their deals has a tier
        (deal("tier", "not_in", ["silver"]), {"ben", "cy"}),  # no deal is silver
        (deal("products", "contains", "email"), {"ana"}),
        (deal("products", "contains", "sms"), {"ana", "dee"}),
        ({"attribute": "tier", "op": "eq", "value": "gold"}, {"ben"}),  # the contact's own
        ({"not": company("tier", "eq", "gold")}, {"ben", "cy", "dee"}),
        ({"not": deal("tier", "is_set")}, {"ben", "cy"}),
        (
            {"all": [company("tier", "eq", "gold"), deal("tier", "eq", "silver")]},
            {"ana"},  # gold company and a silver deal: each its own EXISTS
        ),
        (
            {"any": [company("tier", "eq", "silver"), deal("products", "contains", "sms")]},
            {"ana", "ben", "dee"},
        ),
    ],
)
def test_rules_on_company_and_opportunity_attributes(world, rule, expected):
    assert names(rule) == expected


def test_a_contact_with_many_matching_deals_is_one_row(world):
    ana = Contact.objects.get(first_name="ana")
    for n in range(5):
        a_deal(ana, f"More {n}", tier="gold")

    assert list(
        segment_contacts(rules=deal("tier", "eq", "gold")).values_list("pk", flat=True)
    ) == [ana.pk]


def test_a_stale_value_of_another_type_matches_no_typed_comparison(world):
    beta = Company.objects.get(name="Beta")
    Company.objects.filter(pk=beta.pk).update(attributes={"seats": "many"})  # an older type

    assert names(company("seats", "gte", 0)) == {"ana"}


@pytest.mark.parametrize(
    ("rule", "errors"),
    [
        (
            company("colour", "eq", "red"),
            [
                'company_attribute: "colour" is not a company attribute; choose from'
                " region_name, renews_on, seats, tier"
            ],
        ),
        (
            deal("seats", "gte", 1),  # a company attribute, not an opportunity's
            [
                'opportunity_attribute: "seats" is not an opportunity attribute; choose from'
                " products, tier"
            ],
        ),
        (
            company("tier", "gt", "gold"),
            [
                'op: "gt" does not apply to a choice attribute; choose from eq, in, not_in,'
                " is_set, is_not_set"
            ],
        ),
        (
            company("tier", "eq", "bronze"),
            ["value: 'bronze' is not an option; choose from gold, silver."],
        ),
        (deal("tier", "eq"), ['rules: missing "value"']),
        (
            {"company_attribute": "tier", "op": "is_set", "extra": 1},
            ['rules: unknown key "extra"; this rule takes company_attribute, op'],
        ),
        (
            company("renews_on", "within_last_days", 0),
            ["value: within_last_days needs a whole number of days from 1 to 36500"],
        ),
        (
            company(7, "eq", "x"),
            [
                "company_attribute: 7 is not a company attribute; choose from"
                " region_name, renews_on, seats, tier"
            ],
        ),
    ],
)
def test_a_bad_rule_is_explained_against_that_object_types_definitions(world, rule, errors):
    assert segment_rules_validate(rule) == errors


def test_the_segment_editor_offers_both_rule_kinds():
    kinds = segment_conditions()

    assert {"attribute", "company_attribute", "opportunity_attribute"} <= set(kinds)


def test_the_admin_segment_form_refuses_an_unknown_company_attribute(admin_client, world):
    response = admin_client.post(
        "/admin/contacts/segment/add/",
        {
            "name": "Gold accounts",
            "description": "",
            "rules": '{"company_attribute": "nope", "op": "is_set"}',
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["rules"] == [
        'company_attribute: "nope" is not a company attribute; choose from region_name,'
        " renews_on, seats, tier"
    ]
