import pytest
from django.core.cache import cache

from apps.accounts import roles
from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import Evidence, consent_opt_in
from tests.browser import browser, csp_violations, new_page, page  # noqa: F401  (one Playwright per run, for every app)
from tests.factories import ContactFactory, UserFactory


@pytest.fixture(autouse=True)
def fresh_cache():
    """Request budgets (apps/core/ratelimit.py) live in the cache: each test starts with
    none spent, whatever the tests before it sent from 127.0.0.1."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def signed_in_with_two_factor():
    """force_login of an Admin or Compliance user (OTP_REQUIRED_GROUPS) gives a session that
    proved its second factor (tests/otp.py); the two-factor tests sign in for real. For the
    whole run: module-scoped worlds (the permission matrix) sign their users in too."""
    from django.test import Client

    from tests.otp import login_verifying_two_factor

    original = Client._login
    Client._login = login_verifying_two_factor(original)
    yield
    Client._login = original


@pytest.fixture(autouse=True, scope="session")
def flush_may_truncate_evidence():
    """PostgreSQL refuses TRUNCATE of the consent ledger and the template approvals unless
    the transaction sets cue.allow_truncate: a transactional test's flush is such a wipe."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        return ["SET LOCAL cue.allow_truncate = 'on'", *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(autouse=True)
def demo_brand(request):
    """The brand is data (accounts' Brand, seeded by a migration); a transactional test's
    flush wipes it, so every test that uses the database starts with the demo brand."""
    names = request.fixturenames
    if "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif "db" in names:
        request.getfixturevalue("db")
    elif request.node.get_closest_marker("django_db") is None:
        return
    from apps.accounts.demo import DEMO_BRAND
    from apps.accounts.models import BRAND_ID, Brand

    brand, _ = Brand.objects.get_or_create(pk=BRAND_ID, defaults=DEMO_BRAND)
    if not brand.postal_address:  # the migration that seeds the brand predates the address
        Brand.objects.filter(pk=BRAND_ID).update(postal_address=DEMO_BRAND["postal_address"])


@pytest.fixture
def make_user(db):
    def make(role: str, **fields):
        return UserFactory(role=role, **fields)

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user(roles.ADMIN, username="admin")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def opted_in_contact(db):
    """A Chicago lead with confirmed marketing SMS consent."""

    def make(**fields):
        contact = ContactFactory(**{"time_zone": "America/Chicago", "region": "IL", **fields})
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.API,
            evidence=Evidence(note="test"),
        )
        return contact

    return make
