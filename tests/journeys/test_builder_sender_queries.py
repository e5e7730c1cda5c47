"""The builder's page reads the senders and pools for its sender pickers once, however many
send steps it draws: a journey of ten text steps costs the queries of a journey of one."""

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts import roles
from apps.journeys.admin.journeys import StepInline
from apps.journeys.models import Journey
from apps.sends.models import Sender, SenderPool
from tests.journeys.builders import journey_build, sms_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def senders(db):
    local = Sender.objects.create(
        name="Local", kind="long_code", address="+13125550100",
        registration="campaign_approved", mps=Decimal("8"),
    )  # fmt: skip
    Sender.objects.create(
        name="Pending", kind="long_code", address="+13125550101",
        registration="pending", mps=Decimal("8"),
    )  # fmt: skip
    pool = SenderPool.objects.create(name="Locals")
    pool.senders.set([local])
    return local, pool


def texts_journey(count: int, template, local: Sender, name: str) -> Journey:
    """`count` text steps, each naming the approved sender, then the end."""
    keys = [f"text{i}" for i in range(count)]
    steps = [
        (key, "send_sms", {"template": template.pk, "next": after, "sender": local.pk})
        for key, after in zip(keys, [*keys[1:], "done"], strict=True)
    ]
    return journey_build(name=name, steps=[*steps, ("done", "exit", {})])


def page_queries(client, journey: Journey) -> tuple[list[str], str]:
    url = reverse("admin:journeys_journey_change", args=[journey.pk])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    return [query["sql"] for query in queries], page.content.decode()


# The pickers' own reads: the senders approved, the pools, the lifecycle stages.
PICKER_READ = re.compile(
    r'FROM "sends_senderpool"|FROM "contacts_lifecyclestagedefinition"'
    r'|FROM "sends_sender" WHERE "sends_sender"\."is_active"'
)


def step_forms_queries(journey: Journey, user) -> int:
    """The queries of the builder's step forms of `journey`, built and drawn as the page
    does (the admin's own inline and its per-request form class)."""
    request = RequestFactory().get("/")
    request.user = user
    inline = StepInline(Journey, admin.site)
    with CaptureQueriesContext(connection) as queries:
        formset = inline.get_formset(request, journey)(instance=journey)
        html = formset.as_p() + str(formset.empty_form)
    assert html.count('name="steps-') > 0
    return len(queries)


def test_the_step_forms_cost_the_same_queries_for_one_step_and_for_ten(make_user, senders):
    local, _pool = senders
    template = sms_template()
    user = make_user(roles.MARKETER, username="maria")
    one = texts_journey(1, template, local, "One text")
    ten = texts_journey(10, template, local, "Ten texts")
    step_forms_queries(one, user)  # the user's permissions are read once, then cached

    assert step_forms_queries(ten, user) == step_forms_queries(one, user)


def test_the_builder_page_reads_the_pickers_once_for_one_step_and_for_ten(
    client, make_user, senders
):
    local, pool = senders
    template = sms_template()
    client.force_login(make_user(roles.MARKETER, username="maria"))
    one = texts_journey(1, template, local, "One text")
    ten = texts_journey(10, template, local, "Ten texts")
    page_queries(client, one)  # the pickers' event types seen lately are cached a while

    for_one, _ = page_queries(client, one)
    for_ten, html = page_queries(client, ten)

    pickers_one = [sql for sql in for_one if PICKER_READ.search(sql)]
    pickers_ten = [sql for sql in for_ten if PICKER_READ.search(sql)]
    assert len(pickers_ten) == len(pickers_one)
    assert sum('FROM "sends_senderpool"' in sql for sql in pickers_ten) == 1
    assert sum('"sends_sender"."is_active"' in sql for sql in pickers_ten) == 1
    # Every step's picker offers the approved sender and the pool, and shows its own choice:
    # eleven steps, the extra blank one and the template for "Add another".
    assert html.count(f'<option value="sender:{local.pk}" selected>') == 10
    assert html.count(f'<option value="pool:{pool.pk}">Pool: Locals</option>') == 13
    assert "Pending" not in html


def test_a_sender_approved_a_minute_ago_is_in_the_next_page(client, make_user, senders):
    local, _pool = senders
    client.force_login(make_user(roles.MARKETER, username="maria"))
    journey = texts_journey(1, sms_template(), local, "One text")
    Sender.objects.filter(name="Pending").update(registration="campaign_approved")

    _, html = page_queries(client, journey)

    pending = Sender.objects.get(name="Pending")
    assert f'<option value="sender:{pending.pk}">Sender: {pending}</option>' in html
