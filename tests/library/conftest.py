import pytest

from apps.accounts import roles
from apps.library.services import template_create, version_approve, version_submit

BODY = (
    'Cue Demo: {{ contact.first_name | "Hi" }}, your webinar starts in 1 hour. '
    "Join: {link:join} Reply STOP to opt out."
)
LINKS = {"join": {"url": "https://example.com/webinar/join", "key": False}}


@pytest.fixture
def marketer(make_user):
    return make_user(roles.MARKETER, username="maria", email="maria@example.com")


@pytest.fixture
def other_marketer(make_user):
    return make_user(roles.MARKETER, username="mark", email="mark@example.com")


@pytest.fixture
def approver(make_user):
    return make_user(roles.APPROVER, username="alex", email="alex@example.com")


@pytest.fixture
def compliance(make_user):
    return make_user(roles.COMPLIANCE, username="carol", email="carol@example.com")


@pytest.fixture
def sales_rep(make_user):
    return make_user(roles.SALES_REP, username="sam", email="sam@example.com")


@pytest.fixture
def make_template(marketer):
    """template_create with a lint-clean marketing SMS; override any argument."""

    def make(**overrides):
        arguments = {
            "actor": marketer,
            "name": "Webinar reminder",
            "channel": "sms",
            "purpose": "remind",
            "category": "marketing",
            "body": BODY,
            "links": LINKS,
        }
        return template_create(**{**arguments, **overrides})

    return make


@pytest.fixture
def template(make_template):
    return make_template()


@pytest.fixture
def draft(template):
    return template.versions.get()


@pytest.fixture
def submitted(draft, marketer):
    return version_submit(actor=marketer, version=draft, notify=False)


@pytest.fixture
def approved(submitted, approver):
    return version_approve(actor=approver, version=submitted, notify=False)


@pytest.fixture
def require_compliance(settings):
    settings.CUE_REQUIRE_COMPLIANCE_APPROVAL = True
