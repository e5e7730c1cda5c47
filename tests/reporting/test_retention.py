"""Retention clears message bodies and click IPs older than the settings, records each
prune as the system actor, and never touches the consent ledger."""

from datetime import timedelta

import pytest
from django.test import override_settings

from apps.accounts.services import SYSTEM_USERNAME
from apps.consent.models import Channel, ConsentRecord, ConsentSource, Purpose
from apps.consent.services import Evidence, consent_opt_in
from apps.contacts.models import Event
from apps.core.errors import CueError
from apps.reporting.models import RetentionRun
from apps.reporting.services.retention import retention_prune
from apps.segment_intake.keys import write_key_create
from apps.segment_intake.models import SegmentRejection
from apps.sends.models import InboundMessage, LinkClick, OutboundMessage
from tests.reporting.conftest import T
from tests.reporting.scenario import frozen

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
NOW = T + 500 * DAY


@pytest.fixture
def old_and_new(scenario):
    contact = scenario.contact()
    with frozen(T - 2000 * DAY):  # five and a half years before
        ledger = consent_opt_in(
            contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING,
            source=ConsentSource.WEB_FORM, occurred_at=T - 2000 * DAY,
            evidence=Evidence(ip_address="203.0.113.9", note="Inbound SMS: YES"),
        )  # fmt: skip
    old = scenario.message(contact, sent_at=NOW - 401 * DAY)
    kept = scenario.message(contact, sent_at=NOW - 399 * DAY)
    old_stop = scenario.stop(old, NOW - 401 * DAY)
    old_reply = scenario.reply(old, NOW - 401 * DAY, body="call me on 555 0100")
    kept_reply = scenario.reply(kept, NOW - 399 * DAY, body="later")
    old_click = scenario.click(old, NOW - 91 * DAY)
    kept_click = scenario.click(kept, NOW - 89 * DAY)
    return ledger, old, kept, old_stop, old_reply, kept_reply, old_click, kept_click


def test_it_clears_bodies_and_ips_older_than_the_settings_and_keeps_the_rest(old_and_new):
    _, old, kept, old_stop, old_reply, kept_reply, old_click, kept_click = old_and_new
    with frozen(NOW):
        bodies, ips, *_ = retention_prune()
    assert OutboundMessage.objects.get(pk=old.pk).body == ""
    assert OutboundMessage.objects.get(pk=kept.pk).body == "Cue Demo: hello. Reply STOP to opt out."
    assert InboundMessage.objects.get(pk=old_stop.pk).body == ""
    assert Event.objects.get(pk=old_reply.pk).properties == {
        "message_id": old.pk, "journey_id": old.journey_id,
    }  # fmt: skip
    assert Event.objects.get(pk=kept_reply.pk).properties["body"] == "later"
    assert LinkClick.objects.get(pk=old_click.pk).ip_address is None
    assert LinkClick.objects.get(pk=kept_click.pk).ip_address == "198.51.100.7"
    assert (bodies.target, bodies.rows, bodies.detail) == (
        "message_bodies", 3, {"outbound": 1, "inbound": 1, "reply_events": 1},
    )  # fmt: skip
    assert (ips.target, ips.rows, ips.cutoff) == ("click_ips", 2, NOW - 90 * DAY)
    assert {run.actor.username for run in RetentionRun.objects.all()} == {SYSTEM_USERNAME}


def test_it_never_prunes_the_consent_ledger(old_and_new):
    ledger = old_and_new[0]
    with frozen(NOW):
        retention_prune()
    kept = ConsentRecord.objects.get(pk=ledger.pk)
    assert (kept.ip_address, kept.note) == ("203.0.113.9", "Inbound SMS: YES")
    assert ConsentRecord.objects.count() == 1


@override_settings(CUE_RETENTION_MESSAGE_DAYS=398, CUE_RETENTION_CLICK_IP_DAYS=30)
def test_it_follows_the_configured_periods(old_and_new):
    _, _, kept, *_, kept_click = old_and_new
    with frozen(NOW):
        bodies, ips, *_ = retention_prune()
    assert (bodies.rows, ips.rows) == (5, 4)  # IPs and user agents
    assert OutboundMessage.objects.get(pk=kept.pk).body == ""
    assert LinkClick.objects.get(pk=kept_click.pk).ip_address is None


def test_it_records_a_run_that_found_nothing(db):
    runs = retention_prune()
    assert [(run.target, run.rows) for run in runs] == [
        ("message_bodies", 0), ("click_ips", 0), ("segment_rejections", 0),
        ("event_properties", 0), ("task_notes", 0),
    ]  # fmt: skip


@override_settings(CUE_RETENTION_MESSAGE_DAYS=0)
def test_it_refuses_a_period_that_would_clear_everything(db):
    with pytest.raises(CueError, match="CUE_RETENTION_MESSAGE_DAYS must be"):
        retention_prune()
    assert RetentionRun.objects.count() == 0


def test_it_deletes_segment_rejections_older_than_the_setting_and_keeps_the_rest(db):
    # given rejections received 91 and 89 days before the prune (the default keeps 90)
    key, _ = write_key_create(name="Website")
    old, kept = (
        SegmentRejection.objects.create(
            write_key=key, message_id=f"m-{days}", type="track", reason="No userId.",
            received_at=NOW - days * DAY,
        )
        for days in (91, 89)
    )  # fmt: skip
    # when the prune runs
    with frozen(NOW):
        _, _, rejections, *_ = retention_prune()
    # then only the old one is gone, and the run says so
    assert list(SegmentRejection.objects.values_list("pk", flat=True)) == [kept.pk]
    assert (rejections.target, rejections.rows, rejections.cutoff, rejections.detail) == (
        "segment_rejections", 1, NOW - 90 * DAY, {"segment_rejections": 1},
    )  # fmt: skip
    assert SegmentRejection.objects.filter(pk=old.pk).count() == 0


@override_settings(CUE_RETENTION_SEGMENT_REJECTION_DAYS=0)
def test_it_refuses_a_rejection_period_that_would_delete_everything(db):
    with pytest.raises(CueError, match="CUE_RETENTION_SEGMENT_REJECTION_DAYS must be"):
        retention_prune()
    assert RetentionRun.objects.count() == 0


def test_an_emails_stored_html_goes_with_its_body(old_and_new):
    _, old, kept, *_ = old_and_new
    OutboundMessage.objects.filter(pk=old.pk).update(body="", html="<p>Hi Ada</p>")
    OutboundMessage.objects.filter(pk=kept.pk).update(html="<p>Hi Ada</p>")
    with frozen(NOW):
        bodies, *_ = retention_prune()
    assert OutboundMessage.objects.get(pk=old.pk).html == ""
    assert OutboundMessage.objects.get(pk=kept.pk).html == "<p>Hi Ada</p>"
    assert bodies.detail["outbound"] == 1
