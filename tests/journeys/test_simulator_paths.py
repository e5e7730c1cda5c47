"""The simulator follows every way a path divides: each edge of a condition, a split and a
wait until an event, to its end, with the gate's decision on every send on the way; and
its page finds the contact by name, email or phone, takes the event's properties in fields,
and shows its times in the contact's zone and the user's."""

from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.urls import reverse

from apps.accounts import roles
from apps.contacts.models import Event
from apps.journeys.simulator import journey_simulate
from apps.journeys.simulator.follow import MAX_FOLLOWED
from apps.journeys.simulator.properties import event_property_names
from tests.factories import ContactFactory
from tests.journeys.builders import journey_build, sms_template

pytestmark = pytest.mark.django_db

LEADS = {"all": [{"field": "lifecycle_stage", "op": "in", "value": ["lead", "mql"]}]}


def condition_journey():
    """Leads get a text and wait for a click; everyone else gets an email-free nudge."""
    template = sms_template()
    return journey_build(
        steps=[
            ("check", "branch", {"condition": {"rules": LEADS}, "then": "text", "else": "nudge"}),
            ("text", "send_sms", {"template": template.pk, "next": "click"}),
            (
                "click",
                "wait_until",
                {"events": ["sms_click"], "within_hours": 24, "next": "hot", "on_timeout": "ab"},
            ),
            ("hot", "create_task", {"reason": "Clicked the reminder."}),
            (
                "ab",
                "split",
                {
                    "variants": [
                        {"name": "A", "percent": 50, "next": "nudge"},
                        {"name": "B", "percent": 50},
                    ]
                },
            ),
            ("nudge", "send_sms", {"template": template.pk}),
        ]
    )


def fork(step, label):
    return next(f for f in step.forks if f.label == label)


def test_it_follows_both_ways_of_a_condition_and_the_ways_after_it(clock, opted_in_contact):
    journey = condition_journey()
    customer = opted_in_contact(lifecycle_stage="customer")

    simulation = journey_simulate(
        journey=journey, contact=customer, event_type="webinar_registered"
    )

    # The predicted way: a customer does not match, so 'else' → nudge, sent now
    assert simulation.path == ["check", "nudge"]
    assert simulation.steps[1].decision == "allow"
    assert simulation.ending == "End of the journey (completed)."
    check = simulation.steps[0]
    assert [(f.label, f.target, f.taken) for f in check.forks] == [
        ("if it holds", "text", False),
        ("if it does not", "nudge", True),
    ]
    # The other way, followed: the text with its gate decision, then the wait for a click,
    # both of whose ways are followed in turn
    holds = fork(check, "if it holds")
    assert [s.key for s in holds.steps] == ["text", "click"]
    assert [s.number for s in holds.steps] == [2, 3]
    assert (holds.steps[0].decision, holds.steps[0].reason) == ("allow", "Every rule allows it.")
    assert holds.ending.startswith("At click the path divides")
    click = holds.steps[1]
    assert [(f.label, f.target, f.taken) for f in click.forks] == [
        ("sms_click happens", "hot", False),
        ("no sms_click within 24 h", "ab", False),
    ]
    assert [s.key for s in fork(click, "sms_click happens").steps] == ["hot"]
    timeout = fork(click, "no sms_click within 24 h")
    assert [s.key for s in timeout.steps] == ["ab", "nudge"]
    # ...and the split's other variant ends the journey where it is
    ab = timeout.steps[0]
    assert [(f.label, f.target, f.taken) for f in ab.forks] == [
        ("A", "nudge", True),
        ("B", "", False),
    ]
    assert fork(ab, "B").ending == "End of the journey (completed)."


def test_it_follows_the_other_way_for_a_lead_too(clock, opted_in_contact):
    simulation = journey_simulate(
        journey=condition_journey(),
        contact=opted_in_contact(lifecycle_stage="lead"),
        event_type="webinar_registered",
    )
    assert simulation.path == ["check", "text", "click"]
    assert [s.key for s in fork(simulation.steps[0], "if it does not").steps] == ["nudge"]


def test_a_loop_back_is_shown_not_followed_again(clock, opted_in_contact):
    journey = journey_build(
        steps=[
            ("pause", "wait", {"hours": 24, "next": "check"}),
            ("check", "branch", {"condition": {"rules": LEADS}, "then": "pause", "else": None}),
        ]
    )
    simulation = journey_simulate(
        journey=journey,
        contact=opted_in_contact(lifecycle_stage="customer"),
        event_type="webinar_registered",
    )
    assert simulation.path == ["pause", "check"]
    back = fork(simulation.steps[1], "if it holds")
    assert (back.steps, back.ending) == ((), "Back to pause: the path repeats from there.")


def test_a_journey_that_divides_too_often_is_cut_at_the_budget(clock, opted_in_contact):
    # Twenty conditions in a row, each way leading to the next: 2^20 paths without a budget
    keys = [f"c{i}" for i in range(20)]
    steps = [
        (key, "branch", {"condition": {"rules": LEADS}, "then": nxt, "else": nxt})
        for key, nxt in zip(keys, [*keys[1:], None], strict=True)
    ]
    simulation = journey_simulate(
        journey=journey_build(steps=steps),
        contact=opted_in_contact(lifecycle_stage="customer"),
        event_type="webinar_registered",
    )
    assert simulation.path == keys

    def followed(steps):
        return sum(1 + sum(followed(f.steps) for f in s.forks) for s in steps)

    assert followed(simulation.steps) - len(keys) <= MAX_FOLLOWED + 20


# --- the page --------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def marketer_client(client, make_user):
    user = make_user(roles.MARKETER, time_zone="Europe/Berlin")
    client.force_login(user)
    return client


def page(client, journey, **params):
    url = reverse("admin:journeys_journey_simulate", args=[journey.pk])
    return client.get(url, {"run": "1", "event_type": "webinar_registered", **params})


def test_it_finds_the_contact_by_name_email_or_phone(clock, marketer_client, opted_in_contact):
    journey = condition_journey()
    ada = opted_in_contact(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="+13125550177"
    )
    opted_in_contact(first_name="Adam", last_name="Smith", email="adam@example.com")
    before = row_counts()

    for query in ("Ada Love", "ADA@example.com", "(312) 555-0177", "+1 312 555 0177"):
        response = page(marketer_client, journey, contact_search=query)
        assert response.status_code == 200
        assert response.context["simulation"].contact_label == str(ada), query

    several = page(marketer_client, journey, contact_search="ada")
    assert several.context["simulation"] is None
    assert [c.first_name for c in several.context["form"].matches] == ["Ada", "Adam"]
    assert several.context["form"].errors["contact_search"] == ["2 contacts match: pick one."]
    picked = page(marketer_client, journey, contact_search="ada", contact=ada.pk)
    assert picked.context["simulation"].contact_label == str(ada)

    for unknown in ("Zed", "Zed\x00", "+1 999 000 0000"):
        nobody = page(marketer_client, journey, contact_search=unknown)
        assert nobody.status_code == 200
        assert nobody.context["simulation"] is None
        assert nobody.context["form"].errors["contact_search"][0].startswith("No contact matches")
    url = reverse("admin:journeys_journey_simulate", args=[journey.pk])
    garbled = marketer_client.get(f"{url}?run=1&contact_search=%ED%A0%80Zed%FF")
    assert garbled.status_code == 200
    assert garbled.context["simulation"] is None
    too_long = page(marketer_client, journey, contact_search="z" * 201)
    assert too_long.context["form"].errors["contact_search"] == [
        "Ensure this value has at most 200 characters (it has 201)."
    ]
    assert row_counts() == before


def test_a_user_who_may_not_see_contacts_cannot_search_them(clock, client, make_user):
    journey = condition_journey()
    ContactFactory(first_name="Ada")
    user = make_user(roles.MARKETER)
    user.groups.clear()
    user.is_superuser = False
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="view_journey"))
    client.force_login(user)
    response = page(client, journey, contact_search="Ada")
    assert response.context["form"].errors["contact_search"] == [
        "You may not look up contacts; describe one instead."
    ]


def test_the_event_form_offers_the_properties_the_journey_and_cue_know(clock):
    journey = journey_build(
        steps=[("before", "wait", {"until_property": "starts_at", "offset_minutes": -60})],
        trigger_filters={"webinar": "Route planning 101"},
    )
    contact = ContactFactory()
    Event.objects.create(
        contact=contact,
        type="webinar_registered",
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        properties={"utm_source": "newsletter", "webinar": "x"},
        idempotency_key="k1",
    )
    assert event_property_names(event_type="webinar_registered", journey=journey) == [
        "webinar",
        "starts_at",
        "utm_source",
    ]
    assert event_property_names(event_type="trial_started", journey=journey) == []


def test_property_fields_feed_the_trigger_and_win_over_the_json(
    clock, marketer_client, opted_in_contact
):
    journey = journey_build(
        steps=[("done", "exit", {})],
        trigger_filters={"webinar": "Route planning 101", "seats": 3},
    )
    opted_in_contact(email="jo@example.com")
    form_fields = page(marketer_client, journey).context["form"].property_fields()
    # (the filters' keys first, in the order the database keeps them)
    assert sorted(f.name for f in form_fields[:2]) == ["property__seats", "property__webinar"]

    enters = page(
        marketer_client,
        journey,
        contact_search="jo@example.com",
        property__webinar="Route planning 101",
        property__seats="3",
        event_properties='{"webinar": "Other", "extra": true}',
    )
    assert enters.context["simulation"].enters is True
    as_text = page(
        marketer_client,
        journey,
        contact_search="jo@example.com",
        property__webinar="Route planning 101",
        property__seats="03",
    )
    assert as_text.context["simulation"].ending.startswith("Does not enter:")


def test_times_show_in_the_contacts_zone_and_the_users(marketer_client, opted_in_contact):
    import time_machine

    journey = journey_build(steps=[("text", "send_sms", {"template": sms_template().pk})])
    opted_in_contact(email="night@example.com", time_zone="America/Chicago")
    # 02:00 in Chicago: deferred to 08:00 Chicago, which is 15:00 in Berlin
    with time_machine.travel(datetime(2026, 3, 10, 7, 0, tzinfo=UTC), tick=False):
        response = page(marketer_client, journey, contact_search="night@example.com")
    html = response.content.decode()
    assert response.context["simulation"].contact_zones == ["America/Chicago"]
    assert "Tue 10 Mar 2026 08:00 CDT</time> (contact, America/Chicago)" in html
    assert "Tue 10 Mar 2026 14:00 CET</time> (you, Europe/Berlin)" in html
    assert "Tue 10 Mar 2026 02:00 CDT</time> (contact, America/Chicago)" in html
