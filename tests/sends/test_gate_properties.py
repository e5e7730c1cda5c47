"""Whatever else is true, a suppressed or opted-out contact is never allowed a message."""

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.consent.models import Channel, ConsentSource, Purpose, Suppression
from apps.consent.services import consent_opt_in, consent_revoke_channel, suppression_add
from apps.sends.models import OutboundMessage
from apps.sends.policy import gate_evaluate
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "America/Phoenix", ""]
REGIONS = ["", "FL", "TX", "CA", "OK", "MD", "NY"]
ORIGINS = ["journey", "rep_reply", "double_opt_in"]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    blocked_by=st.sampled_from(["suppression", "opt_out"]),
    zone=st.sampled_from(ZONES),
    region=st.sampled_from(REGIONS),
    category=st.sampled_from(["marketing", "transactional"]),
    origin=st.sampled_from(ORIGINS),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 400),
    personal=st.booleans(),
)
def test_it_never_allows_a_blocked_contact(
    blocked_by, zone, region, category, origin, minutes, personal
):
    contact = ContactFactory(time_zone=zone, region=region)
    consent_opt_in(
        contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    if personal:
        from apps.consent.services import preference_set

        preference_set(contact=contact, quiet_start=time(9), quiet_end=time(17))
    if blocked_by == "suppression":
        suppression_add(
            address=str(contact.phone), reason=Suppression.Reason.MANUAL, source=ConsentSource.ADMIN
        )
    else:
        consent_revoke_channel(contact=contact, channel=Channel.SMS, source=ConsentSource.KEYWORD)
    message = OutboundMessage(
        contact=contact,
        to_address=str(contact.phone),
        channel="sms",
        category=category,
        origin=origin,
        body="Hi. Reply STOP to opt out.",
        send_key=f"p-{contact.pk}",
    )
    at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    result = gate_evaluate(message=message, at=at)
    assert result.decision == "suppress", (result.reason_code, result.reason)
