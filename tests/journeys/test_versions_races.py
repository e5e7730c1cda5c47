"""Races on journey versions that only PostgreSQL's row locks can show: two approvers
publishing the same version at once, and two marketers starting a draft at once."""

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from apps.accounts import roles
from apps.journeys.models import JourneyVersion
from apps.journeys.services import JourneyError
from apps.journeys.versions import (
    journey_draft_start,
    version_approve,
    version_publish,
    version_submit,
)
from tests.journeys.builders import journey_build
from tests.threads import in_threads

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks"),
]


def attempt(call, **kwargs) -> str:
    try:
        call(**kwargs)
        return "done"
    except JourneyError as error:
        return error.message


def test_two_approvers_publishing_at_once_one_wins(make_user):
    marketer = make_user(roles.MARKETER, username="mara")
    approvers = [make_user(roles.APPROVER, username=f"ap{i}") for i in range(2)]
    journey = journey_build(steps=[("done", "exit", {})])
    draft = journey_draft_start(actor=marketer, journey=journey)
    version_submit(actor=marketer, version=draft)
    version_approve(actor=approvers[0], version=draft)

    results = in_threads(2, lambda i: attempt(version_publish, actor=approvers[i], version=draft))

    assert sorted(results) == [
        "Version 2 is published; only an approved version can be published.",
        "done",
    ]
    assert list(
        JourneyVersion.objects.filter(journey=journey).order_by("number").values_list("status")
    ) == [("retired",), ("published",)]
    journey.refresh_from_db()
    assert journey.live_version_id == draft.pk


def test_two_marketers_starting_a_draft_at_once_share_one(make_user):
    marketers = [make_user(roles.MARKETER, username=f"m{i}") for i in range(2)]
    journey = journey_build(steps=[("done", "exit", {})])

    drafts = in_threads(2, lambda i: journey_draft_start(actor=marketers[i], journey=journey).pk)

    assert drafts[0] == drafts[1]
    assert journey.versions.count() == 2
