"""Fixtures of the crm tests: the fake HubSpot or the fake Salesforce on 127.0.0.1 with Cue's
settings pointing at it, or no CRM connected at all; signed-in clients per role."""

import pytest

from apps.accounts import roles
from apps.crm.mapping_defaults import mappings_seed
from apps.crm.testing.fake_hubspot import FakeHubSpot
from apps.crm.testing.fake_salesforce import FakeSalesforce

NO_CRM = {
    "HUBSPOT_ACCESS_TOKEN": "",
    "SALESFORCE_CLIENT_ID": "",
    "SALESFORCE_CLIENT_SECRET": "",
    "SALESFORCE_REFRESH_TOKEN": "",
}


@pytest.fixture
def default_mappings(db):
    """The default mappings crm's migration seeds, back again if a transactional test's
    flush emptied the table (stages come back by themselves; mappings are only seeded)."""
    mappings_seed()


@pytest.fixture
def no_crm(settings, default_mappings):
    """No CRM connected, and the default mappings in place."""
    for name, value in NO_CRM.items():
        setattr(settings, name, value)


@pytest.fixture
def hubspot(settings, no_crm):
    """The fake HubSpot, running, and HubSpot connected to it (Salesforce not)."""
    with FakeHubSpot() as fake:
        settings.HUBSPOT_ACCESS_TOKEN = fake.token
        settings.HUBSPOT_API_BASE_URL = fake.base_url
        settings.CRM_MAX_RETRY_WAIT_SECONDS = 0
        yield fake


@pytest.fixture
def salesforce(settings, no_crm, monkeypatch):
    """The fake Salesforce, running, and Salesforce connected to it (HubSpot not), so that
    `adapter_for("salesforce")` builds the real client from the settings alone. Its CA is
    trusted as by a person running Cue against it by hand (REQUESTS_CA_BUNDLE), and any
    wait it asks for is longer than Cue's limit of 0 s."""
    with FakeSalesforce() as fake:
        settings.SALESFORCE_LOGIN_URL = fake.base_url
        settings.SALESFORCE_INSTANCE_URL = ""
        settings.SALESFORCE_CLIENT_ID = fake.client_id
        settings.SALESFORCE_CLIENT_SECRET = fake.client_secret
        settings.SALESFORCE_REFRESH_TOKEN = fake.refresh_token
        settings.SALESFORCE_API_VERSION = "62.0"
        settings.SALESFORCE_TASK_KEY_FIELD = ""
        settings.CRM_TIMEOUT_SECONDS = 5.0
        settings.CRM_MAX_RETRY_WAIT_SECONDS = 0
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        yield fake


@pytest.fixture
def client_as(client, make_user):
    def sign_in(role: str):
        client.force_login(make_user(role))
        return client

    return sign_in


@pytest.fixture
def admin_web(client_as):
    return client_as(roles.ADMIN)
