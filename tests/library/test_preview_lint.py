"""POST /api/v1/templates/preview/ with a category: the findings Submit would report for the
text being typed, so the editor shows them live. Submit itself stays the gate."""

import pytest
from rest_framework.test import APIClient

from apps.library.errors import LibraryError
from apps.library.models import TemplateVersion, VersionStatus
from apps.library.services import version_lint, version_submit

pytestmark = pytest.mark.django_db

URL = "/api/v1/templates/preview/"
CLEAN = "Cue Demo: your webinar starts in 1 hour. Reply STOP to opt out."
BRAND_MISSING = {
    "rule": "brand_missing",
    "level": "error",
    "message": 'Say who is texting: a marketing SMS must name "Cue Demo".',
    "field": "body",
}
OPT_OUT_MISSING = {
    "rule": "opt_out_missing",
    "level": "error",
    "message": 'Tell the recipient how to opt out, e.g. "Reply STOP to opt out".',
    "field": "body",
}


@pytest.fixture
def api(marketer):
    client = APIClient()
    client.force_authenticate(marketer)
    return client


def lint(api, **payload):
    response = api.post(URL, payload, format="json")
    assert response.status_code == 200, response.content
    return response.json()["lint"]


def test_it_finds_nothing_in_a_clean_marketing_sms(api):
    assert lint(api, body=CLEAN, category="marketing") == []


def test_it_names_the_missing_brand_and_opt_out_of_a_marketing_sms(api):
    assert lint(api, body="Your webinar starts in 1 hour.", category="marketing") == [
        BRAND_MISSING,
        OPT_OUT_MISSING,
    ]


def test_it_asks_nothing_of_a_transactional_sms_that_sells_nothing(api):
    assert lint(api, body="Your code is 123456.", category="transactional") == []


def test_it_finds_a_promotion_in_a_transactional_sms(api):
    [finding] = lint(
        api, body="Your order shipped. 20% off your next order!", category="transactional"
    )

    assert (finding["rule"], finding["level"]) == ("promotional", "error")


def test_it_reports_a_warning_after_the_errors(api):
    body = "Hi {{ contact.first_name }}, your webinar starts soon."

    findings = lint(api, body=body, category="marketing")

    assert [(f["rule"], f["level"]) for f in findings] == [
        ("brand_missing", "error"),
        ("opt_out_missing", "error"),
        ("no_default", "warning"),
    ]


def test_it_reports_only_the_placeholder_errors_while_there_are_any(api):
    # Submit reads valid placeholders only, so the brand rule waits until they are fixed.
    findings = lint(api, body="Hi {{ contact.nickname }}", category="marketing")

    assert [(f["rule"], f["field"]) for f in findings] == [("placeholders", "body")]


def test_it_does_not_count_a_brand_split_by_a_placeholder(api):
    findings = lint(
        api,
        body="Cue {{ contact.first_name | 'x' }}Demo. Reply STOP to opt out.",
        category="marketing",
    )

    assert [f["rule"] for f in findings] == ["brand_placeholder"]


def test_an_email_needs_a_subject(api):
    findings = lint(api, body="Hello", channel="email", category="transactional")

    assert [(f["rule"], f["field"]) for f in findings] == [("subject_required", "subject")]
    assert lint(api, body="Hello", subject="Hi", channel="email", category="transactional") == []


def test_it_lints_nothing_without_a_category(api):
    assert lint(api, body="No brand, no opt-out") is None


@pytest.mark.parametrize(
    "body",
    [
        CLEAN,
        "Your webinar starts in 1 hour.",
        "Cue Demo: Hi {{ contact.first_name }}. Reply STOP to opt out.",
        "Hi {{ contact.nickname }}",
        "",
    ],
)
def test_it_says_what_submit_says(api, template, body):
    # An unsaved version: a draft with broken placeholders cannot be stored at all.
    version = TemplateVersion(template=template, body=body, links={}, defaults={})

    live = lint(api, body=body, category="marketing")

    assert live == [finding.as_dict() for finding in version_lint(version)]


def test_it_changes_nothing(api, draft):
    lint(api, body="Your webinar starts in 1 hour.", category="marketing")

    assert list(TemplateVersion.objects.values_list("status", "lint_findings")) == [
        (VersionStatus.DRAFT, [])
    ]


def test_submit_still_refuses_what_the_live_lint_reported(api, make_template, marketer):
    version = make_template(body="Your webinar starts in 1 hour.", links={}).versions.get()

    with pytest.raises(LibraryError) as refused:
        version_submit(actor=marketer, version=version, notify=False)

    assert refused.value.messages == [BRAND_MISSING["message"], OPT_OUT_MISSING["message"]]
