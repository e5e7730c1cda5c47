"""Lifecycle stages and pipelines are the customer's data: seeded with Cue's defaults, each
stage mapped to a meaning, and checked at every input."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.consent import imports
from apps.consent.imports.rows import RowRejected, row_parse
from apps.contacts.errors import ContactsError
from apps.contacts.models import (
    Contact,
    Event,
    LifecycleStageDefinition,
    Opportunity,
    OpportunityStageChange,
    Pipeline,
    PipelineStage,
)
from apps.contacts.segments import segment_contacts, segment_rules_validate
from apps.contacts.services import contact_update, opportunity_upsert
from apps.contacts.stages import (
    lifecycle_at_or_after,
    lifecycle_reached,
    stage_is_closed,
    stage_is_forward,
)
from tests.factories import ContactFactory
from tests.stages import customer_lifecycle, enterprise_pipeline

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def enterprise():
    return enterprise_pipeline()


def test_it_seeds_todays_stages_with_their_meanings():
    lifecycle = list(LifecycleStageDefinition.objects.values_list("key", "order", "meaning"))
    default = Pipeline.objects.get(is_default=True)
    stages = list(default.stages.values_list("key", "order", "meaning"))

    assert lifecycle == [
        ("subscriber", 1, "prospect"),
        ("lead", 2, "prospect"),
        ("mql", 3, "mql"),
        ("sql", 4, "sql"),
        ("opportunity", 5, "opportunity"),
        ("customer", 6, "customer"),
        ("churned", 7, "churned"),
    ]
    assert (default.key, stages) == (
        "sales",
        [
            ("discovery", 1, "open"),
            ("demo", 2, "open"),
            ("proposal", 3, "open"),
            ("negotiation", 4, "open"),
            ("closed_won", 5, "won"),
            ("closed_lost", 6, "lost"),
        ],
    )


def test_it_answers_forward_moves_by_order_within_the_pipeline(enterprise):
    def forward(was, to):
        return stage_is_forward(pipeline_id=enterprise.pk, from_key=was, to_key=to)

    assert [
        forward("disc", "nego"),
        forward("nego", "signed"),
        forward("dropped", "disc"),  # reopened
        forward("nego", "disc"),
        forward("nego", "dropped"),
        forward("disc", "closed_won"),  # another pipeline's stage
        forward("", "disc"),  # created, not moved
    ] == [True, True, True, False, False, False, False]
    assert stage_is_closed(pipeline_id=enterprise.pk, key="signed") is True
    assert stage_is_closed(pipeline_id=None, key="negotiation") is False


def test_a_churned_stage_reaches_only_a_churned_goal():
    customer_lifecycle()

    assert lifecycle_reached("paying", "evaluating") is True
    assert lifecycle_reached("evaluating", "paying") is False
    assert lifecycle_reached("churned", "mql") is False
    assert lifecycle_reached("paying", "churned") is False
    assert lifecycle_reached("churned", "churned") is True
    assert lifecycle_reached("nonsense", "mql") is False
    assert lifecycle_at_or_after("evaluating") == ["evaluating", "paying"]


def test_an_opportunity_moves_through_the_customers_pipeline(clock, enterprise):
    contact = ContactFactory()
    opened_at = NOW - timedelta(days=5)
    deal = opportunity_upsert(
        external_id="e-1",
        name="Fleet",
        stage="disc",
        contact=contact,
        pipeline=enterprise,
        stage_changed_at=opened_at,
    )
    signed_at = NOW - timedelta(days=3)

    opportunity_upsert(
        external_id="e-1",
        name="Fleet",
        stage="signed",
        contact=contact,
        pipeline=enterprise,
        stage_changed_at=signed_at,
    )

    deal.refresh_from_db()
    assert (deal.pipeline_id, deal.stage, deal.closed_at) == (enterprise.pk, "signed", signed_at)
    assert list(
        OpportunityStageChange.objects.order_by("pk").values_list(
            "from_stage", "to_stage", "changed_at", "received_at"
        )
    ) == [("", "disc", opened_at, NOW), ("disc", "signed", signed_at, NOW)]
    event = Event.objects.get(type="stage_changed", properties__to="signed")
    assert (event.occurred_at, event.properties["pipeline_id"]) == (signed_at, enterprise.pk)


def test_a_stage_of_another_pipeline_is_refused_and_nothing_is_written(enterprise):
    with pytest.raises(ContactsError) as refused:
        opportunity_upsert(external_id="e-1", name="Fleet", stage="demo", pipeline=enterprise)

    assert (refused.value.field, refused.value.message) == (
        "stage",
        "'demo' is not a stage of the opportunity's pipeline.",
    )
    assert Opportunity.objects.count() == 0
    assert OpportunityStageChange.objects.count() == 0


def test_the_api_takes_the_pipeline_the_stage_and_when_it_changed(api, clock, enterprise):
    contact = ContactFactory()
    body = {"external_id": "e-1", "name": "Fleet", "contact": contact.pk, "pipeline": "enterprise"}
    three_days_ago = "2026-03-07T11:00:00-05:00"

    a_week_ago = "2026-03-03T11:00:00-05:00"

    created = api.post(
        "/api/v1/opportunities/",
        {**body, "stage": "disc", "stage_changed_at": a_week_ago},
        format="json",
    )
    moved = api.post(
        "/api/v1/opportunities/",
        {**body, "stage": "nego", "stage_changed_at": three_days_ago},
        format="json",
    )

    assert (created.status_code, created.json()["pipeline"]) == (201, "enterprise")
    assert (moved.status_code, moved.json()["stage"]) == (200, "nego")
    change = OpportunityStageChange.objects.get(to_stage="nego")
    assert (change.changed_at, change.received_at) == (NOW - timedelta(days=3), NOW)


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"stage": "Negotiation"},  # a label is not a key
            {
                "stage": [
                    '"Negotiation" is not one of: discovery, demo, proposal, negotiation, '
                    "closed_won, closed_lost, disc, nego, signed, dropped."
                ]
            },
        ),
        (
            {"stage": "closed_won"},
            {"stage": ['"closed_won" is not a stage of the pipeline "Enterprise".']},
        ),
        ({"pipeline": "partners"}, {"pipeline": ["Object with key=partners does not exist."]}),
        (
            {"stage_changed_at": "2099-01-01T00:00:00Z"},
            {"stage_changed_at": ["This moment is in the future."]},
        ),
    ],
)
def test_the_api_refuses_an_unknown_stage_with_the_field_named(
    api, clock, enterprise, overrides, errors
):
    contact = ContactFactory()
    body = {
        "external_id": "e-1",
        "name": "Fleet",
        "contact": contact.pk,
        "pipeline": "enterprise",
        "stage": "disc",
        **overrides,
    }

    response = api.post("/api/v1/opportunities/", body, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert Opportunity.objects.count() == 0


def test_a_contact_takes_a_customer_lifecycle_stage_with_its_source_time(api, clock):
    customer_lifecycle()
    contact = ContactFactory(lifecycle_stage="lead")

    response = api.patch(
        f"/api/v1/contacts/{contact.pk}/",
        {"lifecycle_stage": "evaluating", "lifecycle_stage_changed_at": "2026-03-09T16:00:00Z"},
        format="json",
    )

    assert (response.status_code, response.json()["lifecycle_stage"]) == (200, "evaluating")
    event = Event.objects.get(type="lifecycle_stage_changed")
    assert (event.occurred_at, event.received_at, event.properties) == (
        NOW - timedelta(days=1),
        NOW,
        {"from": "lead", "to": "evaluating"},
    )


def test_an_unknown_lifecycle_stage_is_refused_everywhere(api):
    contact = ContactFactory(lifecycle_stage="lead")

    response = api.patch(
        f"/api/v1/contacts/{contact.pk}/", {"lifecycle_stage": "hot"}, format="json"
    )
    with pytest.raises(ContactsError) as refused:
        contact_update(contact=contact, fields={"lifecycle_stage": "hot"})
    with pytest.raises(RowRejected) as rejected:
        row_parse(
            2,
            ["a@example.com", "hot"],
            ["email", "stage"],
            {"email": "email", "stage": "lifecycle_stage"},
        )

    assert response.status_code == 400
    assert response.json() == {
        "lifecycle_stage": [
            '"hot" is not one of: subscriber, lead, mql, sql, opportunity, customer, churned.'
        ]
    }
    assert refused.value.field == "lifecycle_stage"
    assert str(rejected.value) == (
        "Unknown lifecycle stage 'hot'; use one of: subscriber, lead, mql, sql, opportunity, "
        "customer, churned."
    )
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "lead"
    assert Event.objects.filter(type="lifecycle_stage_changed").count() == 0


def test_an_import_takes_a_customer_stage_by_its_label():
    customer_lifecycle()

    row = row_parse(
        2,
        ["a@example.com", "evaluating "],
        ["email", "stage"],
        {"email": "email", "stage": "lifecycle_stage"},
    )

    assert row.fields["lifecycle_stage"] == "evaluating"


def test_segments_read_the_customers_order():
    customer_lifecycle()
    at_evaluating = ContactFactory(lifecycle_stage="evaluating")
    paying = ContactFactory(lifecycle_stage="paying")
    ContactFactory(lifecycle_stage="customer")
    rule = {"field": "lifecycle_stage", "op": "at_or_after", "value": "evaluating"}

    found = segment_contacts(rules={"all": [rule]})

    assert set(found) == {at_evaluating, paying}
    assert segment_rules_validate({"all": [rule]}) == []
    assert segment_rules_validate(
        {"all": [{"field": "lifecycle_stage", "op": "eq", "value": "hot"}]}
    ) == [
        'all[0].value: "hot" is not a lifecycle stage; choose from subscriber, lead, mql, sql, '
        "opportunity, customer, churned, evaluating, paying"
    ]


def test_the_admin_keeps_a_stage_that_contacts_are_at(admin_client):
    ContactFactory(lifecycle_stage="mql")
    mql = LifecycleStageDefinition.objects.get(key="mql")
    unused = LifecycleStageDefinition.objects.create(
        key="spare", label="Spare", order=30, meaning="mql"
    )

    kept = admin_client.post(
        f"/admin/contacts/lifecyclestagedefinition/{mql.pk}/delete/", {"post": "yes"}
    )
    gone = admin_client.post(
        f"/admin/contacts/lifecyclestagedefinition/{unused.pk}/delete/", {"post": "yes"}
    )

    assert (kept.status_code, gone.status_code) == (403, 302)
    assert list(
        LifecycleStageDefinition.objects.filter(key__in=["mql", "spare"]).values_list(
            "key", flat=True
        )
    ) == ["mql"]


def test_the_admin_keeps_the_stages_cue_itself_writes(admin_client):
    lead = LifecycleStageDefinition.objects.get(key="lead")
    assert not Contact.objects.filter(lifecycle_stage="lead").exists()

    response = admin_client.post(
        f"/admin/contacts/lifecyclestagedefinition/{lead.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 403
    assert LifecycleStageDefinition.objects.filter(key="lead").exists()


def test_the_admin_form_refuses_an_opportunity_stage_outside_its_pipeline(admin_client, enterprise):
    response = admin_client.post(
        "/admin/contacts/opportunity/add/",
        {
            "name": "Fleet",
            "pipeline": enterprise.pk,
            "stage": "demo",
            "amount": "0",
            "currency": "USD",
            "opened_at_0": "2026-03-10",
            "opened_at_1": "12:00:00",
            "stage_changes-TOTAL_FORMS": "0",
            "stage_changes-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "stage": ["'demo' is not a stage of this opportunity's pipeline."]
    }
    assert Opportunity.objects.count() == 0
    assert PipelineStage.objects.filter(pipeline=enterprise).count() == 4


def test_an_import_carries_when_each_stage_changed_in_the_source(
    clock, settings, tmp_path, admin_user, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    ada = ContactFactory(email="ada@example.com", lifecycle_stage="lead")
    data = (
        "email,lifecycle stage,lifecycle stage changed at\n"
        "ada@example.com,sql,2026-03-08T09:00:00Z\n"
        "bob@example.com,mql,next tuesday\n"
    )
    upload = SimpleUploadedFile("people.csv", data.encode(), content_type="text/csv")
    contact_import = imports.contact_import_create(upload=upload, user=admin_user)
    columns = imports.contact_import_preview(contact_import=contact_import, rows=0).columns

    with django_capture_on_commit_callbacks(execute=True):
        imports.contact_import_start(
            contact_import=contact_import, mapping=imports.mapping_suggest(columns=columns)
        )

    contact_import.refresh_from_db()
    event = Event.objects.get(contact=ada, type="lifecycle_stage_changed")
    assert (event.occurred_at, event.received_at) == (datetime(2026, 3, 8, 9, tzinfo=UTC), NOW)
    assert (contact_import.updated_count, contact_import.rejected_count) == (1, 1)
    assert [row["reason"] for row in contact_import.rejected_rows] == [
        "lifecycle_stage_changed_at 'next tuesday' is not an ISO 8601 date and time, "
        "e.g. 2024-03-04 14:30 or 2024-03-04T14:30:00Z."
    ]
    assert list(Contact.objects.values_list("email", flat=True)) == ["ada@example.com"]


def test_a_segment_can_ask_what_a_stage_means_whatever_it_is_called():
    customer_lifecycle()
    paying = ContactFactory(lifecycle_stage="paying")
    customer = ContactFactory(lifecycle_stage="customer")
    ContactFactory(lifecycle_stage="evaluating")
    customers = {"field": "lifecycle_meaning", "op": "eq", "value": "customer"}
    not_customers = {**customers, "op": "not_in", "value": ["customer", "churned"]}

    assert set(segment_contacts(rules={"all": [customers]})) == {paying, customer}
    assert paying not in set(segment_contacts(rules={"all": [not_customers]}))
    assert segment_rules_validate(
        {"all": [{"field": "lifecycle_meaning", "op": "eq", "value": "paying"}]}
    ) == [
        'all[0].value: "paying" is not a lifecycle meaning; choose from prospect, mql, sql, '
        "opportunity, customer, churned"
    ]
