"""The demo workspace's templates: approved, lint-clean, and seeded once."""

import pytest

from apps.core.demo import demo_seed
from apps.library.models import TemplateApproval, TemplateVersion
from apps.library.services import version_lint

pytestmark = pytest.mark.django_db

SLUGS = [
    "webinar-reminder",
    "demo-request-confirmation",
    "stalled-high-intent-nudge",
    "email-follow-up",
    "onboarding-calendar",
    "reactivation",
    "webinar-recording-email",
]


def test_it_seeds_approved_templates_written_by_maria_and_approved_by_alex():
    templates = demo_seed()["templates"]

    assert list(templates) == SLUGS
    for template in templates.values():
        version = template.current_version
        assert (version.status, version.author.username) == ("approved", "maria")
        # Transactional is a claim compliance approves too.
        carol = [("carol", "compliance")] if template.category == "transactional" else []
        assert list(version.approvals.values_list("reviewer__username", "as_role")) == [
            ("alex", "approver"),
            *carol,
        ]
        assert version_lint(version) == []
    assert [t.channel for t in templates.values()].count("email") == 1


def test_it_gives_the_stalled_nudge_a_key_link_and_the_reminder_a_join_link():
    templates = demo_seed()["templates"]

    nudge = templates["stalled-high-intent-nudge"].current_version
    reminder = templates["webinar-reminder"].current_version
    assert nudge.links["book"]["key"] is True
    assert "{link:book}" in nudge.body
    assert "{link:join}" in reminder.body


def test_it_asks_carol_too_when_compliance_must_approve(settings):
    settings.CUE_REQUIRE_COMPLIANCE_APPROVAL = True

    templates = demo_seed()["templates"]

    reminder = templates["webinar-reminder"].current_version
    assert list(reminder.approvals.values_list("reviewer__username", "as_role")) == [
        ("alex", "approver"),
        ("carol", "compliance"),
    ]


def test_it_changes_nothing_when_run_again():
    demo_seed()
    counts = (
        TemplateVersion.objects.count(),
        TemplateVersion.history.count(),
        TemplateApproval.objects.count(),
    )

    demo_seed()

    assert (
        (
            TemplateVersion.objects.count(),
            TemplateVersion.history.count(),
            TemplateApproval.objects.count(),
        )
        == counts
        == (9, 27, 11)
    )  # the library's 7 and the journey blueprints' 2; history: written, submitted, approved;
    # two of them transactional, so approved by compliance too
