"""Segments: the JSON rule language, compiled to exactly one SQL query, and its admin."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts import roles
from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import consent_opt_in, consent_opt_out
from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact, Opportunity, Segment
from apps.contacts.segments import (
    segment_conditions,
    segment_contacts,
    segment_rules_validate,
)
from tests.browser import login
from tests.factories import CompanyFactory, ContactFactory, EventFactory

pytestmark = pytest.mark.django_db

EVERYONE = {"ana", "ben", "cara", "dev", "eve", "finn"}
STAGES = "subscriber, lead, mql, sql, opportunity, customer, churned"


@pytest.fixture
def reps(make_user):
    return {"first": make_user(roles.SALES_REP), "second": make_user(roles.SALES_REP)}


@pytest.fixture
def people(reps):
    """Six contacts, one per lifecycle stage or so, known by first name."""
    acme = CompanyFactory(name="Acme", industry="SaaS", employee_count=250, region="NY")
    globex = CompanyFactory(name="Globex", industry="Retail", employee_count=40, region="TX")
    rows = [
        ("ana", "subscriber", "prospect", "", "low", 5, None, None, "CA", "US", "webinar"),
        ("ben", "lead", "prospect", "evaluator", "medium", 40, "first", acme, "NY", "US", "ads"),
        ("cara", "mql", "prospect", "champion", "high", 70, "first", acme, "NY", "US", "ads"),
        ("dev", "sql", "prospect", "decision_maker", "high", 90, "second", globex, "TX", "US", ""),
        ("eve", "customer", "customer", "user", "low", 10, None, globex, "TX", "US", "referral"),
        ("finn", "churned", "customer", "", "medium", 30, None, None, "qc", "CA", "Webinar"),
    ]
    made = {}
    for name, stage, kind, role, band, score, owner, company, region, country, source in rows:
        made[name] = ContactFactory(
            first_name=name,
            lifecycle_stage=stage,
            kind=kind,
            buying_role=role,
            intent_band=band,
            intent_score=score,
            owner=reps[owner] if owner else None,
            company=company,
            region=region,
            country=country,
            source=source,
        )
    return made


def members(rules) -> set[str]:
    return {contact.first_name for contact in segment_contacts(rules=rules)}


def field(name, op, value=None):
    rule = {"field": name, "op": op}
    return rule if value is None else {**rule, "value": value}


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


# Fields


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (field("lifecycle_stage", "eq", "mql"), {"cara"}),
        (field("lifecycle_stage", "in", ["lead", "sql"]), {"ben", "dev"}),
        (field("lifecycle_stage", "not_in", ["lead", "sql"]), {"ana", "cara", "eve", "finn"}),
        (field("lifecycle_stage", "at_or_after", "sql"), {"dev", "eve", "finn"}),
        (field("lifecycle_stage", "before", "mql"), {"ana", "ben"}),
        (field("lifecycle_stage", "before", "subscriber"), set()),
        (field("kind", "eq", "customer"), {"eve", "finn"}),
        (field("buying_role", "in", ["champion", "decision_maker"]), {"cara", "dev"}),
        (field("buying_role", "is_empty"), {"ana", "finn"}),
        (field("buying_role", "is_not_empty"), {"ben", "cara", "dev", "eve"}),
        (field("intent_band", "eq", "high"), {"cara", "dev"}),
        (field("intent_band", "not_in", ["low"]), {"ben", "cara", "dev", "finn"}),
        (field("intent_score", "gte", 40), {"ben", "cara", "dev"}),
        (field("intent_score", "lte", 30.5), {"ana", "eve", "finn"}),
        (field("region", "eq", "ny"), {"ben", "cara"}),
        (field("region", "in", ["TX", "QC"]), {"dev", "eve", "finn"}),
        (field("country", "not_in", ["us"]), {"finn"}),
        (field("source", "eq", "webinar"), {"ana", "finn"}),
        (field("source", "is_empty"), {"dev"}),
        (field("company", "is_empty"), {"ana", "finn"}),
        (field("company.industry", "eq", "saas"), {"ben", "cara"}),
        (field("company.industry", "not_in", ["SaaS"]), {"ana", "dev", "eve", "finn"}),
        (field("company.industry", "is_empty"), {"ana", "finn"}),
        (field("company.region", "eq", "TX"), {"dev", "eve"}),
        (field("company.employee_count", "gte", 100), {"ben", "cara"}),
        (field("company.employee_count", "lte", 100), {"dev", "eve"}),
        (field("company.employee_count", "is_empty"), {"ana", "finn"}),
    ],
)
def test_it_selects_contacts_by_field(people, rule, expected):
    assert members({"all": [rule]}) == expected


def test_it_selects_contacts_by_owner(people, reps):
    first, second = reps["first"].pk, reps["second"].pk
    assert members(field("owner", "eq", first)) == {"ben", "cara"}
    assert members(field("owner", "in", [first, second])) == {"ben", "cara", "dev"}
    assert members(field("owner", "not_in", [first])) == {"ana", "dev", "eve", "finn"}
    assert members(field("owner", "is_empty")) == {"ana", "eve", "finn"}
    assert members(field("owner", "is_not_empty")) == {"ben", "cara", "dev"}


def test_it_selects_contacts_by_company(people):
    acme = people["ben"].company_id
    assert members(field("company", "eq", acme)) == {"ben", "cara"}
    assert members(field("company", "not_in", [acme])) == {"ana", "dev", "eve", "finn"}


def test_it_selects_contacts_by_when_they_were_created(people):
    Contact.objects.filter(pk=people["ana"].pk).update(created_at=days_ago(100))
    Contact.objects.filter(pk=people["ben"].pk).update(created_at=days_ago(29))
    assert members(field("created_at", "within_days", 30)) == EVERYONE - {"ana"}
    assert members(field("created_at", "older_than_days", 30)) == {"ana"}
    assert members(field("created_at", "within_days", 7)) == EVERYONE - {"ana", "ben"}


# Groups


def test_it_combines_rules_with_all_any_and_not(people):
    high = field("intent_band", "eq", "high")
    at_acme = field("company.industry", "eq", "SaaS")
    customer = field("kind", "eq", "customer")
    assert members({"all": [high, at_acme]}) == {"cara"}
    assert members({"any": [high, customer]}) == {"cara", "dev", "eve", "finn"}
    assert members({"not": high}) == {"ana", "ben", "eve", "finn"}
    assert members(
        {"any": [{"all": [high, {"not": at_acme}]}, {"not": {"any": [high, customer]}}]}
    ) == {
        "dev",
        "ana",
        "ben",
    }


def test_it_treats_an_empty_all_as_everyone_and_its_negation_as_nobody(people):
    assert members({"all": []}) == EVERYONE
    assert members({"not": {"all": []}}) == set()


# Events


@pytest.fixture
def events(people):
    EventFactory(
        contact=people["ben"], occurred_at=days_ago(3), properties={"plan": "pro", "seats": 5}
    )
    EventFactory(contact=people["ben"], occurred_at=days_ago(20), properties={"plan": "basic"})
    EventFactory(contact=people["cara"], occurred_at=days_ago(40), properties={"plan": "pro"})
    EventFactory(
        contact=people["dev"], occurred_at=days_ago(1), properties={"plan": "pro", "seats": 10}
    )
    EventFactory(contact=people["dev"], occurred_at=days_ago(2), properties={"plan": "pro"})
    EventFactory(contact=people["eve"], type="demo_request", occurred_at=days_ago(5))
    EventFactory(contact=people["finn"], type="form_submit", properties={"contains": "yes"})


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"event": "pricing_view"}, {"ben", "cara", "dev"}),
        ({"event": "pricing_view", "within_days": 30}, {"ben", "dev"}),
        ({"event": "pricing_view", "occurred": False}, {"ana", "eve", "finn"}),
        (
            {"event": "pricing_view", "occurred": False, "within_days": 30},
            {"ana", "cara", "eve", "finn"},
        ),
        ({"event": "pricing_view", "properties": {"plan": "pro"}}, {"ben", "cara", "dev"}),
        (
            {"event": "pricing_view", "properties": {"plan": "pro"}, "within_days": 30},
            {"ben", "dev"},
        ),
        ({"event": "pricing_view", "properties": {"plan": "pro", "seats": 5}}, {"ben"}),
        ({"event": "pricing_view", "properties": {"seats": "5"}}, set()),
        ({"event": "pricing_view", "properties": {"seats": 10.0}}, {"dev"}),
        ({"event": "pricing_view", "min_count": 2}, {"ben", "dev"}),
        (
            {
                "event": "pricing_view",
                "min_count": 2,
                "within_days": 30,
                "properties": {"plan": "pro"},
            },
            {"dev"},
        ),
        (
            {"event": "pricing_view", "min_count": 2, "occurred": False},
            {"ana", "cara", "eve", "finn"},
        ),
        ({"event": "form_submit", "properties": {"contains": "yes"}}, {"finn"}),
        ({"event": "demo_request", "within_days": 4}, set()),
    ],
)
def test_it_selects_contacts_by_what_they_did(events, rule, expected):
    assert members(rule) == expected


def test_it_negates_an_event_rule_as_not_exists(events):
    rule = {"event": "pricing_view", "occurred": False, "within_days": 30}
    sql = str(segment_contacts(rules=rule).query).upper()
    assert "NOT (EXISTS(" in sql
    assert " JOIN " not in sql  # events never multiply contact rows


# Opportunities


@pytest.fixture
def opportunities(people):
    for name, stage in [("ben", "demo"), ("cara", "closed_won"), ("dev", "closed_lost")]:
        Opportunity.objects.create(
            name=f"{name} deal", contact=people[name], stage=stage, opened_at=timezone.now()
        )


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"opportunity": {}}, {"ben", "cara", "dev"}),
        ({"opportunity": {"stage": ["demo", "proposal"]}}, {"ben"}),
        ({"opportunity": {}, "exists": False}, {"ana", "eve", "finn"}),
        (
            {"opportunity": {"stage": ["closed_won", "closed_lost"]}, "exists": False},
            {"ana", "ben", "eve", "finn"},
        ),
    ],
)
def test_it_selects_contacts_by_their_opportunities(opportunities, rule, expected):
    assert members(rule) == expected


# Consent (registered by the consent app)


@pytest.fixture
def consents(people):
    def sms_marketing(contact, change, source=ConsentSource.ADMIN):
        change(contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=source)

    sms_marketing(people["ana"], consent_opt_in)
    sms_marketing(people["cara"], consent_opt_in, source=ConsentSource.WEB_FORM)  # pending
    sms_marketing(people["dev"], consent_opt_in)
    sms_marketing(people["dev"], consent_opt_out)
    consent_opt_in(
        contact=people["ben"], channel=Channel.EMAIL, purpose=Purpose.MARKETING,
        source=ConsentSource.ADMIN,
    )  # fmt: skip
    consent_opt_in(
        contact=people["eve"], channel=Channel.SMS, purpose=Purpose.TRANSACTIONAL,
        source=ConsentSource.ADMIN,
    )  # fmt: skip


def sms_marketing(*statuses):
    return {"consent": {"channel": "sms", "purpose": "marketing", "status": list(statuses)}}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (sms_marketing("opted_in"), {"ana"}),
        (sms_marketing("pending"), {"cara"}),
        (sms_marketing("opted_out"), {"dev"}),
        (sms_marketing("opted_in", "pending"), {"ana", "cara"}),
        (sms_marketing("none"), {"ben", "eve", "finn"}),
        ({"not": sms_marketing("opted_out")}, EVERYONE - {"dev"}),
        (
            {"consent": {"channel": "sms", "purpose": "transactional", "status": ["opted_in"]}},
            {"eve"},
        ),
    ],
)
def test_it_selects_contacts_by_current_consent(consents, rule, expected):
    assert "consent" in segment_conditions()
    assert members(rule) == expected


# Segments of segments


def test_it_selects_the_members_of_another_segment(people, reps):
    high = Segment.objects.create(name="High intent", rules=field("intent_band", "eq", "high"))
    mine = {"all": [{"segment": high.pk}, field("owner", "eq", reps["first"].pk)]}
    assert members(mine) == {"cara"}
    assert members({"not": {"segment": high.pk}}) == {"ana", "ben", "eve", "finn"}
    assert {c.first_name for c in high.contacts()} == {"cara", "dev"}


def test_it_refuses_segments_that_include_each_other(people):
    first = Segment.objects.create(name="First", rules={"all": []})
    second = Segment.objects.create(name="Second", rules={"segment": first.pk})
    first.rules = {"any": [field("kind", "eq", "customer"), {"segment": second.pk}]}
    first.save()

    assert segment_rules_validate(first.rules, segment_id=first.pk) == [
        'any[1].segment: segment "Second" has invalid rules: segment: segments cannot include '
        'each other in a loop: "First" → "Second" → "First"'
    ]
    with pytest.raises(ContactsError, match="segments cannot include each other in a loop"):
        first.contacts()


def test_it_refuses_a_segment_that_includes_itself(people):
    segment = Segment.objects.create(name="Ouroboros", rules={"all": []})
    assert segment_rules_validate({"segment": segment.pk}, segment_id=segment.pk) == [
        'segment: segments cannot include each other in a loop: "Ouroboros" → "Ouroboros"'
    ]


def test_it_compiles_everything_into_one_query(
    consents, events, opportunities, django_assert_num_queries
):
    high = Segment.objects.create(name="High intent", rules=field("intent_band", "eq", "high"))
    rules = {
        "all": [
            {"segment": high.pk},
            field("company.industry", "in", ["SaaS", "Retail"]),
            {"event": "pricing_view", "within_days": 30, "properties": {"plan": "pro"}},
            {"opportunity": {"stage": ["closed_won"]}, "exists": False},
            {"not": sms_marketing("opted_in", "pending")},
        ]
    }
    matching = segment_contacts(rules=rules)
    with django_assert_num_queries(1):
        found = {contact.first_name for contact in matching}
    assert found == {"dev"}


# Validation


@pytest.mark.parametrize(
    ("rules", "errors"),
    [
        (
            {
                "all": [
                    field("kind", "eq", "prospect"),
                    field("intent_band", "eq", "high"),
                    field("lifecycle_stage", "in", ["lead", "vip"]),
                ]
            },
            [f'all[2].value: "vip" is not a lifecycle stage; choose from {STAGES}'],
        ),
        (
            {"any": [field("stage", "eq", "lead")]},
            [
                'any[0].field: "stage" is not a field; choose from lifecycle_stage, '
                "lifecycle_meaning, kind, buying_role, intent_band, intent_score, owner, region, "
                "country, source, "
                "created_at, company, company.industry, company.region, company.country, "
                "company.domain, company.employee_count"
            ],
        ),
        (
            field("intent_score", "gt", 50),
            ['op: "gt" does not apply to intent_score; choose from gte, lte'],
        ),
        (field("intent_score", "gte", "50"), ["value: intent_score needs a number, e.g. 50"]),
        (
            field("company.employee_count", "lte", float("inf")),
            ["value: company.employee_count needs a number, e.g. 50"],
        ),
        (
            {"not": field("lifecycle_stage", "at_or_after", ["mql"])},
            ['not.value: "at_or_after" needs one value; use "in" for a list'],
        ),
        (field("kind", "in", []), ['value: "in" needs a non-empty list of values']),
        (
            field("created_at", "within_days", 0),
            ["value: within_days needs a whole number of days from 1 to 36500"],
        ),
        (field("owner", "eq", True), ["value: true is not a user id; give a whole number"]),
        (
            {"field": "owner", "op": "is_empty", "value": 3},
            ['rules: unknown key "value"; this rule takes field, op'],
        ),
        (
            {"field": "kind", "op": "eq", "valeu": "customer"},
            [
                'rules: missing "value"',
                'rules: unknown key "valeu"; this rule takes field, op, value',
            ],
        ),
        (
            field("region", "eq", " "),
            ['value: region needs some text; use "op": "is_empty" to match an empty region'],
        ),
        (
            {},
            [
                'rules: not a rule; write a group ({"all": [...]}, {"any": [...]} or {"not": '
                "...}) or a condition with one of field, event, opportunity, segment, "
                "attribute, company_attribute, opportunity_attribute, consent"
            ],
        ),
        ({"any": []}, ["any: give at least one rule"]),
        ({"all": {"field": "kind"}}, ['all: give a list of rules, e.g. {"all": [...]}']),
        (
            {"all": [], "any": []},
            ['rules: a group has exactly one of all, any, not; found "all", "any"'],
        ),
        (
            {"event": "pricing_view", "segment": 1},
            ['rules: a rule has one condition, but this one has "event", "segment"'],
        ),
        (
            {"event": "Pricing View", "occurred": "yes", "min_count": 0},
            [
                'event: "Pricing View" is not an event type; use a lowercase slug such as '
                "pricing_view",
                "occurred: give true or false",
                "min_count: min_count needs a whole number from 1 to 10000",
            ],
        ),
        (
            {"event": "pricing_view", "properties": {"plan": ["pro"], "0": "x"}},
            [
                'properties.plan: ["pro"] is not a text or number value',
                'properties: "0" is not a property name; use letters, digits, _ and -, '
                "starting with a letter or _",
            ],
        ),
        (
            {"opportunity": {"stage": ["won"]}, "exists": 1},
            [
                "exists: give true or false",
                'opportunity.stage: "won" is not an opportunity stage; choose from discovery, '
                "demo, proposal, negotiation, closed_won, closed_lost",
            ],
        ),
        (
            {"consent": {"channel": "whatsapp", "purpose": "marketing", "status": "opted_in"}},
            [
                'consent.channel: "whatsapp" is not a channel; choose from sms, email',
                'consent.status: give a non-empty list, e.g. ["none", "pending"]',
            ],
        ),
        (
            {"consent": {"channel": "sms", "status": ["opted_in", "yes"]}},
            [
                'consent: missing "purpose"',
                'consent.status: "yes" is not a consent status; choose from none, pending, '
                "opted_in, opted_out",
            ],
        ),
        ({"segment": 987654}, ["segment: there is no segment 987654"]),
        ({"segment": "vips"}, ['segment: "vips" is not a segment id']),
    ],
)
def test_it_explains_each_mistake_with_its_path(rules, errors):
    assert segment_rules_validate(rules) == errors


def test_it_accepts_sound_rules():
    rules = {"all": [field("lifecycle_stage", "at_or_after", "mql"), {"event": "demo_request"}]}
    assert segment_rules_validate(rules) == []


def test_it_refuses_to_compile_invalid_rules():
    with pytest.raises(ContactsError) as raised:
        segment_contacts(rules={"all": [field("lifecycle_stage", "eq", "vip")]})
    assert raised.value.field == "rules"
    assert raised.value.message == (
        f'all[0].value: "vip" is not a lifecycle stage; choose from {STAGES}'
    )


def test_it_refuses_rules_nested_too_deep():
    rules = field("kind", "eq", "customer")
    for _ in range(13):
        rules = {"not": rules}
    assert segment_rules_validate(rules) == [
        "not.not.not.not.not.not.not.not.not.not.not.not.not: rules nest more than 12 levels deep"
    ]


# Admin


PREVIEW_URL = "/admin/contacts/segment/preview/"


def preview(client, payload, **extra):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(PREVIEW_URL, body, content_type="application/json", **extra)


def test_it_previews_the_count_and_first_contacts_for_a_marketer(people, client, make_user):
    client.force_login(make_user(roles.MARKETER))
    response = preview(client, {"rules": field("intent_band", "eq", "high")})
    assert response.status_code == 200
    answer = response.json()
    assert answer["count"] == 2
    assert [row["name"] for row in answer["contacts"]] == [
        people["dev"].full_name,
        people["cara"].full_name,
    ]
    assert answer["contacts"][0] == {
        "id": people["dev"].pk,
        "name": people["dev"].full_name,
        "email": people["dev"].email,
        "lifecycle_stage": "Sales qualified lead",
        "intent_band": "High",
        "intent_score": 90.0,
        "url": f"/admin/contacts/contact/{people['dev'].pk}/change/",
    }


def test_it_refuses_the_preview_to_a_sales_rep(people, client, make_user):
    client.force_login(make_user(roles.SALES_REP))
    response = preview(client, {"rules": {"all": []}})
    assert response.status_code == 403
    assert response.json() == {"errors": ["You may not preview segments."]}


def test_it_refuses_a_preview_without_the_csrf_token(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(roles.MARKETER))
    assert preview(client, {"rules": {"all": []}}).status_code == 403


def test_it_answers_invalid_json_with_errors(client, make_user):
    client.force_login(make_user(roles.MARKETER))
    response = preview(client, '{"rules": {"all": [}')
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error.startswith("rules: not valid JSON (Expecting value: line 1 column")


def test_it_answers_invalid_rules_with_errors(client, make_user):
    client.force_login(make_user(roles.MARKETER))
    response = preview(client, {"rules": {"all": [field("lifecycle_stage", "eq", "vip")]}})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [f'all[0].value: "vip" is not a lifecycle stage; choose from {STAGES}']
    }


def test_it_shows_rule_errors_in_place_and_saves_sound_rules(admin_client, admin_user):
    add_url = reverse("admin:contacts_segment_add")
    bad = {"all": [field("lifecycle_stage", "eq", "vip")]}
    response = admin_client.post(add_url, {"name": "VIPs", "rules": json.dumps(bad)})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "rules": [f'all[0].value: "vip" is not a lifecycle stage; choose from {STAGES}']
    }
    assert Segment.objects.count() == 0

    good = {"all": [field("lifecycle_stage", "eq", "customer")]}
    response = admin_client.post(add_url, {"name": "Customers", "rules": json.dumps(good)})
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert (segment.name, segment.rules, segment.created_by) == ("Customers", good, admin_user)


def test_it_shows_the_count_on_the_change_page(people, admin_client):
    segment = Segment.objects.create(name="Prospects", rules=field("kind", "eq", "prospect"))
    response = admin_client.get(reverse("admin:contacts_segment_change", args=[segment.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert '<div class="readonly">4</div>' in content
    assert 'data-preview-url="/admin/contacts/segment/preview/"' in content
    assert "cue/segment_preview.js" in content


def test_it_protects_a_segment_that_another_includes(admin_client):
    included = Segment.objects.create(name="High intent", rules=field("intent_band", "eq", "high"))
    Segment.objects.create(name="Mine", rules={"all": [{"not": {"segment": included.pk}}]})
    url = reverse("admin:contacts_segment_delete", args=[included.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert "Mine (includes High intent)" in response.content.decode()
    assert Segment.objects.filter(pk=included.pk).exists()


def test_it_lists_segments_without_counting_their_contacts(admin_client):
    url = reverse("admin:contacts_segment_changelist")
    Segment.objects.create(name="Segment 0", rules=field("kind", "eq", "prospect"))
    admin_client.get(url)  # warms the session and content type caches
    with CaptureQueriesContext(connection) as one_segment:
        admin_client.get(url)
    for index in range(1, 6):
        Segment.objects.create(name=f"Segment {index}", rules=field("kind", "eq", "prospect"))
    with CaptureQueriesContext(connection) as six_segments:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(six_segments) == len(one_segment)
    assert [q for q in six_segments.captured_queries if "contacts_contact" in q["sql"]] == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_updates_the_preview_as_the_rules_are_edited(live_server, make_user, page):
    from playwright.sync_api import expect

    marketer = make_user(roles.MARKETER, username="marketer")
    ContactFactory(first_name="Hot", last_name="Lead", intent_band="high", intent_score=88)
    ContactFactory(first_name="Cold", last_name="Lead", intent_band="low")
    login(page, live_server, marketer)
    page.goto(f"{live_server.url}/admin/contacts/segment/add/")
    status = page.locator("#segment-preview .segment-preview-status")
    page.get_by_text("Rules as JSON").click()  # the builder folds the stored form away

    page.fill("#id_rules", json.dumps(field("intent_band", "eq", "high")))
    expect(status).to_have_text("1 contact matches.")
    expect(page.locator("#segment-preview tbody tr")).to_have_count(1)
    expect(page.locator("#segment-preview tbody")).to_contain_text("Hot Lead")

    page.fill("#id_rules", json.dumps(field("intent_band", "eq", "warm")))
    expect(status).to_have_text("Fix the rules to see who matches.")
    expect(page.locator("#segment-preview .segment-preview-errors")).to_have_text(
        'value: "warm" is not an intent band; choose from high, medium, low'
    )
    expect(page.locator("#segment-preview tbody tr")).to_have_count(0)

    page.fill("#id_rules", '{"all": [')
    expect(status).to_have_text("The rules are not valid JSON yet.")
