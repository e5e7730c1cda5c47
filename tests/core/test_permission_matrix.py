"""Who may open and change what: every admin page, API endpoint and /tasks/ page, for every
role and an anonymous visitor, exactly as DESIGN.md's role table says (tests/core/
permission_table.py); and a sales rep never sees another rep's task or its contact, by any
path.

The data is built once for the module (tests/core/permission_world.py) inside a transaction
that is rolled back at the end; each test runs in a savepoint of its own on top of it."""

import copy
import re
from contextlib import contextmanager, nullcontext

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client, override_settings
from django.utils.http import urlencode

from tests.core.permission_table import (
    AD,
    DENIED,
    LOGIN,
    MODELS,
    PUBLIC_SAMPLES,
    SAMPLES,
    SM,
    C,
    Outcome,
    R,
)
from tests.core.permission_urls import ModelPage, all_routes, model_page_url
from tests.core.permission_world import IDENTITIES, World, world_build
from tests.core.permission_writes import WRITES

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield world_build()
        transaction.set_rollback(True)


@contextmanager
def kept_cookies(client):
    """The client, its session cookie put back afterwards: a view that cycles the session
    key (a password change does) must not sign the shared client out of later tests, whose
    savepoint has the old session row back."""
    cookies = copy.deepcopy(client.cookies)
    try:
        yield client
    finally:
        client.cookies = cookies


def settings_for(write):
    return override_settings(**write.settings) if write.settings else nullcontext()


def assert_outcome(response, expected: Outcome, url: str, world: World) -> None:
    where = expected.location(world, url)
    assert (response.status_code, response.get("Location")) == (expected.status, where), url


# --- The table covers every URL -----------------------------------------------------------


def test_it_has_an_expectation_for_every_url_the_project_serves():
    served = set(all_routes())
    expected = {sample.route for sample in SAMPLES}

    assert sorted(served - expected) == [], "give these URLs a row in permission_table.py"
    assert sorted(expected - served) == [], "these rows name URLs that no longer exist"


def test_it_declares_every_page_outside_the_admin_api_and_tasks_public():
    signed_in_areas = ("admin/", "api/v1/", "tasks/", "inbox/", "account/")
    outside = {route for route in all_routes() if not route.startswith(signed_in_areas)}

    assert outside <= {sample.route for sample in PUBLIC_SAMPLES}


def test_it_has_an_access_row_for_every_model_in_the_admin():
    registered = {model._meta.label_lower for model in admin.site._registry}

    assert sorted(registered ^ set(MODELS)) == []


# --- Every page, every identity -----------------------------------------------------------

GET_CASES = [
    pytest.param(identity, sample, id=f"{identity}-{sample.id}")
    for sample in SAMPLES
    for identity in IDENTITIES
]


@pytest.mark.parametrize(("identity", "sample"), GET_CASES)
def test_it_opens_or_refuses_each_page_as_the_role_table_says(world, identity, sample):
    url = sample.address(world)

    with kept_cookies(world.clients[identity]) as client:
        response = client.get(url)

    assert_outcome(response, sample.expect[identity], url, world)


# --- Every write: refused ones change nothing, allowed ones do ------------------------------

WRITE_CASES = [
    pytest.param(identity, write, id=f"{identity}-{write.label}")
    for write in WRITES
    for identity in write.expect
]


@pytest.mark.parametrize(("identity", "write"), WRITE_CASES)
def test_it_lets_only_the_allowed_roles_write(
    world, identity, write, django_capture_on_commit_callbacks
):
    before = write.state(world)

    with (
        django_capture_on_commit_callbacks(execute=True),
        settings_for(write),
        kept_cookies(world.clients[identity]) as client,
    ):
        response = write.send(client, world)

    assert_outcome(response, write.expect[identity], write.address(world), world)
    if identity in write.changes:
        assert write.state(world) != before
    else:
        assert write.state(world) == before


# --- A rep sees their own tasks and those contacts, and nothing of another rep's ----------

OTHER_REPS_TASKS = ["bob_task", "wes_task", "bob_shared_task", "bob_done_task"]
OTHER_REPS_CONTACTS = ["bob_contact", "wes_contact"]
# What only another rep's tasks and contacts show: their names and reasons.
OTHERS_WORDS = ["Boris", "Wanda", "Bob's", "Wes's", "Bob closed", "Bob Other", "Wes West"]


def get(world: World, identity: str, url: str):
    with kept_cookies(world.clients[identity]) as client:
        return client.get(url)


def text_of(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode()


def task_links(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/tasks/(\d+)/"', text_of(response))}


def pks(world: World, *names: str) -> set[int]:
    return {world.extra[name].pk for name in names}


def assert_nothing_of_other_reps(response) -> None:
    text = text_of(response)
    assert [word for word in OTHERS_WORDS if word in text] == []


def test_it_lists_a_rep_only_their_own_tasks(world):
    response = get(world, R, "/tasks/")

    # Her own, and what waits in her team's queue for her to take.
    assert task_links(response) == pks(world, "rita_task", "rita_shared_task", "east_queue_task")
    assert_nothing_of_other_reps(response)


def test_it_lists_a_manager_the_teams_tasks_and_not_another_teams(world):
    response = get(world, SM, "/tasks/")

    east = ("rita_task", "bob_task", "rita_shared_task", "bob_shared_task", "bob_done_task")
    east += ("east_queue_task",)
    assert task_links(response) == pks(world, *east)


@pytest.mark.parametrize("task", OTHER_REPS_TASKS)
def test_it_answers_404_for_another_reps_task(world, task):
    response = get(world, R, f"/tasks/{world.extra[task].pk}/")

    assert response.status_code == 404
    assert_nothing_of_other_reps(response)


def test_it_leaves_another_reps_task_off_the_timeline_of_a_shared_contact(world):
    response = get(world, R, f"/tasks/{world.extra['rita_shared_task'].pk}/")

    timeline = text_of(response).split('id="timeline"')[1]
    assert "Follow-up task: Shared: Rita&#x27;s follow-up" in timeline
    assert_nothing_of_other_reps(response)


def test_it_shows_the_manager_every_team_task_on_the_timeline(world):
    response = get(world, SM, f"/tasks/{world.extra['rita_shared_task'].pk}/")

    timeline = text_of(response).split('id="timeline"')[1]
    assert "Follow-up task: Shared: Rita&#x27;s follow-up" in timeline
    assert "Follow-up task: Shared: Bob&#x27;s secret note" in timeline


def test_it_lists_a_rep_only_their_own_contacts_through_the_api(world):
    response = get(world, R, "/api/v1/contacts/")

    assert {c["id"] for c in response.json()["results"]} == pks(
        world, "rita_contact", "shared_contact"
    )


@pytest.mark.parametrize("contact", OTHER_REPS_CONTACTS)
@pytest.mark.parametrize("field", ["email", "phone", "owner"])
def test_it_finds_no_other_reps_contact_by_searching_the_api(world, contact, field):
    found = world.extra[contact]
    value = {"email": found.email, "phone": str(found.phone), "owner": found.owner_id}[field]

    if field == "owner":
        response = get(world, R, f"/api/v1/contacts/?{urlencode({field: value})}")
    else:  # phone numbers and emails are looked up in a POST body, never in a URL
        with kept_cookies(world.clients[R]) as client:
            url, body = "/api/v1/contacts/search/", {field: value}
            response = client.post(url, body, content_type="application/json")

    assert (response.status_code, response.json()["results"]) == (200, [])


@pytest.mark.parametrize("contact", OTHER_REPS_CONTACTS)
@pytest.mark.parametrize(("path", "status"), [("", 404), ("consent/", 403)])
def test_it_refuses_another_reps_contact_through_the_api(world, contact, path, status):
    response = get(world, R, f"/api/v1/contacts/{world.extra[contact].pk}/{path}")

    assert response.status_code == status
    assert_nothing_of_other_reps(response)


# Every other road to a contact or task: the admin's lists, searches, pages, timelines,
# conversations, autocomplete and exports. Reps are not staff: the admin signs them out
# (302 to its sign-in page); the pages that check a permission of their own say 403.
REP_ROADS = [
    ("/admin/routing/followuptask/?q={bob_contact.email}", LOGIN),
    ("/admin/routing/followuptask/{bob_task.pk}/change/", LOGIN),
    ("/admin/routing/followuptask/{bob_task.pk}/history/", LOGIN),
    ("/admin/contacts/contact/?q=Boris", LOGIN),
    ("/admin/contacts/contact/{bob_contact.pk}/change/", LOGIN),
    ("/admin/contacts/contact/{bob_contact.pk}/history/", LOGIN),
    ("/admin/sends/outboundmessage/conversation/{bob_contact.pk}/", LOGIN),
    ("/admin/sends/outboundmessage/?q={bob_contact.pk}", LOGIN),
    ("/admin/consent/consentrecord/?q={bob_contact.pk}", LOGIN),
    ("/admin/journeys/enrollment/?contact__id__exact={bob_contact.pk}", LOGIN),
    ("/admin/autocomplete/?app_label=contacts&model_name=contact&field_name=company", LOGIN),
    ("/admin/contacts/contactimport/{contactimport.pk}/rejected.csv", LOGIN),
    ("/admin/consent/consentrecord/proof/{bob_contact.pk}/", DENIED),
    ("/admin/consent/consentrecord/proof/{bob_contact.pk}.json", DENIED),
    ("/admin/consent/consentrecord/proof/{bob_contact.pk}.csv", DENIED),
    ("/admin/reporting/audittrail/export.csv?contact={bob_contact.pk}", DENIED),
    ("/admin/reporting/attribution/export.csv", DENIED),
    ("/admin/reporting/dailyrollup/export.csv", DENIED),
]


@pytest.mark.parametrize(("template", "expected"), REP_ROADS)
def test_it_keeps_every_other_road_to_another_reps_contact_closed(world, template, expected):
    url = world.fill(template)

    response = get(world, R, url)

    assert_outcome(response, expected, url, world)
    assert_nothing_of_other_reps(response)


# --- Credentials: reading one would let a read-only role write ----------------------------


def test_it_shows_a_webhook_secret_to_the_admin_only(world):
    endpoint = world.objects["routing.webhookendpoint"]
    url = f"/admin/routing/webhookendpoint/{endpoint.pk}/change/"

    shown = {
        identity: endpoint.secret in text_of(get(world, identity, url)) for identity in (C, AD)
    }

    assert shown == {C: False, AD: True}


@pytest.mark.parametrize("page", ["changelist", "change", "history"])
def test_it_keeps_api_tokens_from_compliance(world, page):
    token = world.objects["authtoken.tokenproxy"]
    url = model_page_url(ModelPage("authtoken.tokenproxy", page), token)

    response = get(world, C, url)

    assert response.status_code == 403
    assert token.key not in text_of(response)


def test_it_signs_a_rep_out_of_the_task_page(world):
    client = Client()
    client.force_login(world.users[R])

    response = client.post("/tasks/sign-out/")

    assert (response.status_code, response["Location"]) == (302, "/tasks/")
    assert client.get("/tasks/")["Location"] == "/admin/login/?next=/tasks/"
