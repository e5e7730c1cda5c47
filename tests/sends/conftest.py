import pytest

from apps.sends.testing.fake_twilio import FakeTwilio

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token"


@pytest.fixture(autouse=True)
def default_caps(db):
    """The caps the migration creates (a transactional test elsewhere may have flushed them)."""
    from apps.sends.caps import caps_defaults_ensure
    from apps.sends.models import FrequencyCap

    caps_defaults_ensure(FrequencyCap)


@pytest.fixture
def fake_twilio(settings):
    """The real twilio client talks HTTP to this fake on 127.0.0.1."""
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "2" * 32
        settings.TWILIO_FROM_NUMBER = ""
        settings.TWILIO_API_BASE_URL = fake.base_url
        settings.TWILIO_TIMEOUT_SECONDS = 2.0
        settings.PUBLIC_BASE_URL = "https://cue.example.com"
        settings.CUE_SEND_RATES = {"default": 1000.0}
        yield fake
