"""The Salesforce adapter as the environment configures it."""

import pytest

from apps.crm.adapters import CONTACT, CrmAuthError
from apps.crm.salesforce import salesforce_adapter, salesforce_configured
from apps.crm.testing.fake_salesforce import FakeSalesforce
from tests.crm.salesforce_world import at


@pytest.fixture
def fake():
    with FakeSalesforce() as fake:
        fake.create("Contact", at=at(0), LastName="Ng")
        yield fake


@pytest.fixture
def configured(settings, fake):
    settings.SALESFORCE_LOGIN_URL = fake.base_url
    settings.SALESFORCE_INSTANCE_URL = ""
    settings.SALESFORCE_CLIENT_ID = fake.client_id
    settings.SALESFORCE_CLIENT_SECRET = fake.client_secret
    settings.SALESFORCE_REFRESH_TOKEN = fake.refresh_token
    settings.SALESFORCE_TASK_KEY_FIELD = ""
    settings.CRM_TIMEOUT_SECONDS = 5.0
    return settings


@pytest.mark.parametrize("blank", ["SALESFORCE_CLIENT_ID", "SALESFORCE_REFRESH_TOKEN"])
def test_without_credentials_the_connection_is_off(configured, blank):
    setattr(configured, blank, "")

    assert salesforce_configured() is False
    with pytest.raises(CrmAuthError, match="Salesforce is not configured"):
        salesforce_adapter()


def test_the_environment_alone_points_cue_at_an_org(configured, fake):
    adapter = salesforce_adapter(session=fake.client_session())

    page = adapter.changes(CONTACT, None, page_size=10)

    assert salesforce_configured() is True
    assert [record.properties["LastName"] for record in page.records] == ["Ng"]
    assert adapter.connection.timeout == 5.0
    assert adapter.task_key_field == ""


def test_the_task_key_field_comes_from_the_environment(configured, fake):
    configured.SALESFORCE_TASK_KEY_FIELD = "Cue_Key__c"

    assert salesforce_adapter(session=fake.client_session()).task_key_field == "Cue_Key__c"


def test_requests_ca_bundle_makes_the_default_session_trust_the_fake(configured, fake, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    page = salesforce_adapter().changes(CONTACT, None, page_size=10)

    assert len(page.records) == 1


def test_an_instance_url_set_in_the_environment_wins_over_the_tokens(configured, fake):
    configured.SALESFORCE_INSTANCE_URL = fake.base_url.replace("127.0.0.1", "localhost")
    adapter = salesforce_adapter(session=fake.client_session())

    adapter.changes(CONTACT, None, page_size=10)

    assert (
        adapter.connection.client().sf_instance
        == configured.SALESFORCE_INSTANCE_URL.removeprefix("https://")
    )
