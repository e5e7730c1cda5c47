"""What waits for a reviewer: the versions they may decide on now, counted on the dashboard
(the admin index) and listed by the template list's "Waiting for my review" filter."""

import itertools

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts import roles
from apps.library.errors import LibraryError
from apps.library.models import TemplateApproval, TemplateVersion
from apps.library.selectors import versions_awaiting_review
from apps.library.services import (
    review_role,
    template_create,
    version_approve,
    version_reject,
    version_submit,
    version_update,
)
from tests.library.conftest import BODY, LINKS

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:library_messagetemplate_changelist")
FOR_ME = f"{CHANGELIST}?state=for_me"


@pytest.fixture
def people(make_user):
    return {
        "maria": make_user(roles.MARKETER, username="maria"),
        "alex": make_user(roles.APPROVER, username="alex"),
        "ann": make_user(roles.APPROVER, username="ann"),
        "carol": make_user(roles.COMPLIANCE, username="carol"),
        "root": make_user(roles.ADMIN, username="root"),
        "ed": make_user(roles.ADMIN, username="ed"),
    }


def written(author, name, category="marketing", submit=True):
    template = template_create(
        actor=author, name=name, channel="sms", purpose="remind", category=category,
        body=BODY, links=LINKS,
    )  # fmt: skip
    version = template.versions.get()
    return version_submit(actor=author, version=version, notify=False) if submit else version


@pytest.fixture
def library(people):
    """Versions in every state a review queue must tell apart."""
    maria, alex = people["maria"], people["alex"]
    versions = {
        "fresh": written(maria, "Fresh"),
        "transactional": written(maria, "Receipt", category="transactional"),
        "roots_own": written(people["root"], "Root's own"),
        "draft": written(maria, "Draft", submit=False),
        "approved": version_approve(actor=alex, version=written(maria, "Live"), notify=False),
        "rejected": version_reject(actor=alex, version=written(maria, "No"), comment="No."),
    }
    # The transactional one has its approver; it waits for compliance.
    version_approve(actor=alex, version=versions["transactional"], notify=False)
    # Ed edits Maria's draft before she submits it: he may not review it either.
    edited = written(maria, "Edited by Ed", submit=False)
    version_update(actor=people["ed"], version=edited, body=BODY + " See you!")
    versions["edited"] = version_submit(
        actor=maria, version=TemplateVersion.objects.get(pk=edited.pk), notify=False
    )
    return versions


def may_decide(user, version) -> bool:
    try:
        review_role(actor=user, version=version)
    except LibraryError:
        return False
    return True


def waiting_names(user) -> list[str]:
    return sorted(versions_awaiting_review(user=user).values_list("template__name", flat=True))


@pytest.mark.parametrize(
    ("require_compliance", "allow_self"), list(itertools.product([False, True], repeat=2))
)
def test_it_counts_exactly_what_the_reviewer_may_decide_on(
    settings, people, library, require_compliance, allow_self
):
    settings.CUE_REQUIRE_COMPLIANCE_APPROVAL = require_compliance
    settings.CUE_ALLOW_SELF_APPROVAL = allow_self
    versions = list(TemplateVersion.objects.select_related("template"))

    for user in people.values():
        expected = sorted(v.template.name for v in versions if may_decide(user, v))
        assert waiting_names(user) == expected, user.username


def test_it_spells_out_each_reviewers_queue(people, library):
    assert {name: waiting_names(user) for name, user in people.items()} == {
        "maria": [],
        "alex": ["Edited by Ed", "Fresh", "Root's own"],
        "ann": ["Edited by Ed", "Fresh", "Root's own"],
        "carol": ["Receipt"],
        "root": ["Edited by Ed", "Fresh", "Receipt"],
        "ed": ["Fresh", "Receipt", "Root's own"],
    }


def test_a_version_leaves_the_queue_once_the_reviewer_decided(people, library):
    version_approve(actor=people["alex"], version=library["fresh"], notify=False)

    assert waiting_names(people["alex"]) == ["Edited by Ed", "Root's own"]
    assert waiting_names(people["ann"]) == ["Edited by Ed", "Root's own"]


# --- the dashboard --------------------------------------------------------------------


def dashboard(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_dashboard_shows_a_reviewer_how_many_wait_for_them(people, library):
    page = dashboard(people["alex"])

    assert f'<a href="{FOR_ME}">3 template versions wait for you</a>' in page


def test_the_dashboard_says_one_version_waits(people, library):
    assert f'<a href="{FOR_ME}">1 template version waits for you</a>' in dashboard(people["carol"])


def test_the_dashboard_leaves_out_the_reviewers_own_version(people, library):
    assert f'<a href="{FOR_ME}">3 template versions wait for you</a>' in dashboard(people["root"])


def test_the_dashboard_says_so_when_nothing_waits(people):
    page = dashboard(people["alex"])

    assert "No template version waits for you." in page
    assert FOR_ME not in page


def test_the_dashboard_shows_no_review_queue_to_a_marketer(people, library):
    page = dashboard(people["maria"])

    assert 'id="cue-reviews-waiting"' not in page
    assert "wait for you" not in page


# --- the template list, filtered to the reviewer --------------------------------------


def listed(user, query) -> list[str]:
    client = Client()
    client.force_login(user)
    response = client.get(CHANGELIST, query)
    assert response.status_code == 200
    return [template.name for template in response.context["cl"].result_list]


def test_the_link_lists_the_templates_waiting_for_the_reviewer(people, library):
    assert listed(people["root"], {"state": "for_me"}) == ["Edited by Ed", "Fresh", "Receipt"]


def test_the_filter_is_offered_to_reviewers_only(people):
    client = Client()
    client.force_login(people["maria"])
    assert "Waiting for my review" not in client.get(CHANGELIST).content.decode()
    client.force_login(people["carol"])
    assert "Waiting for my review" in client.get(CHANGELIST).content.decode()


def test_a_marketer_who_types_the_filter_in_gets_an_empty_list(people, library):
    assert listed(people["maria"], {"state": "for_me"}) == []


def test_nothing_changes_by_looking(people, library):
    before = list(TemplateVersion.objects.order_by("pk").values_list("pk", "status"))
    decisions = TemplateApproval.objects.count()

    dashboard(people["alex"])
    listed(people["alex"], {"state": "for_me"})

    assert list(TemplateVersion.objects.order_by("pk").values_list("pk", "status")) == before
    assert TemplateApproval.objects.count() == decisions
