"""Merging two contacts that are one person: every row of the duplicate moves to the
survivor, the preview counts what will move, consent still binds the address, and the
merge is in history with who and why."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from apps.accounts import roles
from apps.consent.models import (
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    LedgerRepoint,
    Purpose,
    Suppression,
)
from apps.consent.proof import consent_proof
from apps.consent.services import consent_opt_in, consent_opt_out, suppression_add
from apps.contacts.errors import ContactsError
from apps.contacts.merge import contact_merge, contact_merge_preview, contact_merged_into
from apps.contacts.models import Contact, ContactMerge, Event, Opportunity
from apps.contacts.selectors import contact_timeline
from apps.inbox.models import Conversation
from apps.journeys.models import Activity, Enrollment, EnrollmentState
from apps.reporting.models import Attribution
from apps.routing.models import FollowUpTask
from apps.sends.models import InboundMessage, LinkClick, OutboundMessage, TrackedLink
from apps.sends.services.messages import message_create
from tests.factories import ContactFactory, EventFactory, UserFactory
from tests.journeys.builders import journey_build

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 10:00 in Chicago
ADA_PHONE, DUP_PHONE = "+14155550100", "+14155550199"


@pytest.fixture(autouse=True)
def midday(settings):
    settings.TWILIO_ACCOUNT_SID = ""  # the console transport
    with time_machine.travel(MIDDAY, tick=False):
        yield


@pytest.fixture
def admin(db):
    return UserFactory(role=roles.ADMIN, username="admin")


def person(phone=ADA_PHONE, **fields):
    fields = {"time_zone": "America/Chicago", "region": "IL", **fields}
    return ContactFactory(phone=phone, **fields)


def sms_consent(contact, action=consent_opt_in, minutes_ago=0):
    with time_machine.travel(MIDDAY - timedelta(minutes=minutes_ago), tick=False):
        return action(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.REP_VERBAL if action is consent_opt_out else ConsentSource.API,
        )


def marketing(contact, key="m1", to_address=None):
    return message_create(
        send_key=key,
        origin="journey",
        category="marketing",
        contact=contact,
        to_address=to_address,
        body="Acme: your webinar starts soon. Reply STOP to opt out.",
    )


def task_for(contact, reason="pricing"):
    return FollowUpTask.objects.create(
        contact=contact, signal_type="reply", reason_code=reason, reason=reason,
        assignment="owner", sla_minutes=60, sla_clock="clock",
        warn_at=MIDDAY + timedelta(minutes=45), due_at=MIDDAY + timedelta(hours=1),
    )  # fmt: skip


def attribution_for(contact, message, journey):
    return Attribution.objects.create(
        kind="meeting", conversion_id=1, contact_id=contact.pk, converted_at=MIDDAY,
        message=message, touch_type="click", touched_at=MIDDAY, journey_id=journey.pk,
        credit=1, model="last_touch", computed_at=MIDDAY,
    )  # fmt: skip


def merge(survivor, duplicate, admin, reason="Same person: one record from the webinar form"):
    return contact_merge(survivor=survivor, duplicate=duplicate, actor=admin, reason=reason)


@pytest.fixture
def journey():
    return journey_build(steps=[("wait", "wait", {"hours": 1})])


@pytest.fixture
def duplicate_with_everything(journey):
    """A duplicate holding one or more rows of every kind a contact has."""
    dup = person(DUP_PHONE, email="ada.work@example.com")
    EventFactory(contact=dup, type="pricing_view")
    EventFactory(contact=dup, type="webinar_attended")
    sms_consent(dup, minutes_ago=60)
    outbound = OutboundMessage.objects.create(
        contact=dup, to_address=DUP_PHONE, body="Hi. Reply STOP to opt out.", category="marketing",
        origin="journey", send_key="dup-1", status="delivered", sent_at=MIDDAY,
    )  # fmt: skip
    link = TrackedLink.objects.create(
        token="duptoken", message=outbound, key="pricing", destination="https://example.com/p"
    )
    LinkClick.objects.create(link=link, user_agent="Mozilla/5.0")
    InboundMessage.objects.create(
        provider_sid="SM" + "7" * 32, from_address=DUP_PHONE, to_address="+13125550000",
        body="Tell me more", contact=dup,
    )  # fmt: skip
    task_for(dup)
    Conversation.objects.create(
        their_address=DUP_PHONE, our_address="+13125550000", contact=dup, last_message_at=MIDDAY
    )
    Enrollment.objects.create(journey=journey, contact=dup, state=EnrollmentState.COMPLETED)
    attribution_for(dup, outbound, journey)
    Opportunity.objects.create(name="Ada's deal", contact=dup, opened_at=MIDDAY)
    return dup


# --- Every row moves, and the preview said so ------------------------------------------


def test_every_row_moves_to_the_survivor_and_the_preview_counted_them(
    admin, duplicate_with_everything
):
    # given Ada, and a duplicate of her holding rows of every kind
    ada, dup = person(email="ada@example.com"), duplicate_with_everything
    preview = contact_merge_preview(survivor=ada, duplicate=dup)

    # when the duplicate is merged into Ada
    result = merge(ada, dup, admin)

    # then every row moved, exactly as many as the preview counted
    expected = {
        "Events": 2, "Opportunities": 1, "Consent ledger rows": 1, "Outbound messages": 1,
        "Inbound messages": 1, "Follow-up tasks": 1, "Journey enrollments": 1,
        "Attribution rows": 1, "Inbox conversations": 1,
    }  # fmt: skip
    assert {label: count for label, count in preview.counts.items() if count} == expected
    assert result.moved == preview.counts
    assert result.duplicate_id == dup.pk
    assert not Contact.objects.filter(pk=dup.pk).exists()
    assert Event.objects.filter(contact=ada).count() == 2
    assert OutboundMessage.objects.get().contact == ada
    assert InboundMessage.objects.get().contact == ada
    assert LinkClick.objects.filter(link__message__contact=ada).count() == 1
    assert FollowUpTask.objects.get().contact == ada
    assert Conversation.objects.get().contact == ada
    assert Enrollment.objects.get().contact == ada
    assert Attribution.objects.get().contact_id == ada.pk
    assert Opportunity.objects.get().contact == ada
    assert ConsentRecord.objects.get().contact == ada
    assert ConsentRecord.objects.get().merged_from == dup.pk
    assert LedgerRepoint.objects.count() == 0  # the leave lasted only the merge


def test_the_survivor_keeps_its_own_fields_and_fills_empty_ones_from_the_duplicate(admin):
    # given Ada without a phone or external id, and a duplicate with both
    ada = ContactFactory(phone="", email="ada@example.com", first_name="Ada", region="")
    dup = person(DUP_PHONE, email="ada.work@example.com", first_name="A.", external_id="crm-7")
    preview = contact_merge_preview(survivor=ada, duplicate=dup)

    # when they are merged
    result = merge(ada, dup, admin)

    # then Ada keeps her name and email and takes the duplicate's phone, id and region
    ada.refresh_from_db()
    assert (ada.first_name, ada.email, str(ada.phone), ada.external_id, ada.region) == (
        "Ada", "ada@example.com", DUP_PHONE, "crm-7", "IL",
    )  # fmt: skip
    assert result.filled == ["phone", "external_id", "region"]
    assert [o.name for o in preview.fields if o.from_duplicate] == result.filled


def test_the_merge_is_in_both_contacts_history_with_who_and_why(admin):
    # given two records of one person
    ada, dup = person(), person(DUP_PHONE)

    # when an admin merges them, saying why
    merge(ada, dup, admin, reason="Same person, two forms")

    # then the survivor's history and the duplicate's last history row say who and why
    latest = ada.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        admin, f"Merged contact {dup.pk} in: Same person, two forms",
    )  # fmt: skip
    gone = Contact.history.filter(id=dup.pk).latest()
    assert (gone.history_type, gone.history_user, gone.history_change_reason) == (
        "-", admin, f"Merged into contact {ada.pk}: Same person, two forms",
    )  # fmt: skip
    record = ContactMerge.objects.get()
    assert (record.survivor, record.duplicate_id, record.actor, record.reason) == (
        ada, dup.pk, admin, "Same person, two forms",
    )  # fmt: skip
    [entry] = [e for e in contact_timeline(contact=ada) if e.kind == "merge"]
    assert (entry.title, entry.detail) == (
        f"Contact {dup.pk} ({dup}) merged in", "By admin: Same person, two forms",
    )  # fmt: skip


def test_an_id_merged_twice_over_leads_to_the_last_survivor(admin):
    # given A merged into B, then B into C
    a, b, c = person(), person(DUP_PHONE), person("+14155550155")
    merge(b, a, admin)
    merge(c, b, admin)

    # then both old ids lead to C
    assert (contact_merged_into(a.pk), contact_merged_into(b.pk)) == (c, c)
    assert contact_merged_into(c.pk) is None


# --- Consent still binds the address ---------------------------------------------------


def test_the_duplicates_opt_out_of_its_own_number_leaves_the_survivors_consent(admin):
    # given Ada opted in on her number, and a duplicate that later opted out of another
    ada, dup = person(), person(DUP_PHONE)
    sms_consent(ada, minutes_ago=120)
    sms_consent(dup, minutes_ago=90)
    sms_consent(dup, consent_opt_out, minutes_ago=30)
    suppression_add(
        address=DUP_PHONE, reason=Suppression.Reason.OPT_OUT_KEYWORD,
        source=ConsentSource.KEYWORD, contact=dup,
    )  # fmt: skip

    # when the duplicate is merged into Ada
    merge(ada, dup, admin)

    # then Ada may still be texted on her own number; the duplicate's stays suppressed
    assert marketing(ada).decision == "allow"
    assert marketing(ada, key="m2", to_address=DUP_PHONE).reason_code == (
        "suppressed_opt_out_keyword"
    )
    state = ConsentState.objects.get(contact=ada)
    assert (state.status, state.address) == (ConsentStatus.OPTED_IN, ADA_PHONE)
    assert Suppression.objects.get().contact == ada


def test_the_survivors_consent_proof_shows_both_addresses_histories(admin):
    # given each record opted in on its own number
    ada, dup = person(), person(DUP_PHONE)
    sms_consent(ada, minutes_ago=120)
    sms_consent(dup, minutes_ago=60)

    # when they are merged
    merge(ada, dup, admin)

    # then Ada's proof lists both rows, each with the address it was given for
    rows = [(r["address"], r["action"]) for r in consent_proof(contact=ada).records]
    assert rows == [(ADA_PHONE, "opt_in"), (DUP_PHONE, "opt_in")]


def test_a_survivor_taking_the_duplicates_number_takes_its_consent_for_it(admin):
    # given Ada with no phone, and a duplicate opted in on its number
    ada = ContactFactory(phone="", time_zone="America/Chicago", region="IL")
    dup = person(DUP_PHONE)
    sms_consent(dup, minutes_ago=60)

    # when they are merged
    merge(ada, dup, admin)

    # then the consent given for that number is Ada's now
    ada.refresh_from_db()
    assert marketing(ada).decision == "allow"
    assert ConsentState.objects.get(contact=ada).status == ConsentStatus.OPTED_IN


def test_a_survivor_taking_the_duplicates_number_takes_its_opt_out_too(admin):
    # given Ada opted in on an old number, now with none; a duplicate that opted out later
    ada = person("+14155550111")
    sms_consent(ada, minutes_ago=120)
    Contact.objects.filter(pk=ada.pk).update(phone="")
    ada.refresh_from_db()
    dup = person(DUP_PHONE)
    sms_consent(dup, minutes_ago=90)
    sms_consent(dup, consent_opt_out, minutes_ago=30)

    # when they are merged and Ada takes that number
    merge(ada, dup, admin)

    # then the number's opt-out holds for Ada
    ada.refresh_from_db()
    assert marketing(ada).reason_code == "consent_opted_out"


def test_the_ledger_still_refuses_any_other_update(admin):
    # given a ledger row
    ada, dup = person(), person(DUP_PHONE)
    record = sms_consent(dup)
    table = ConsentRecord._meta.db_table

    # when someone re-points it without a merge's leave, or changes more than the contact
    def attempt(sql, params):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)

    attempt(f"UPDATE {table} SET contact_id = %s, merged_from = %s WHERE id = %s",
            [ada.pk, dup.pk, record.pk])  # fmt: skip
    with transaction.atomic():
        LedgerRepoint.objects.create(from_contact_id=dup.pk, to_contact_id=ada.pk)
        attempt(
            f"UPDATE {table} SET contact_id = %s, merged_from = %s, action = 'opt_out' "
            "WHERE id = %s",
            [ada.pk, dup.pk, record.pk],
        )
        attempt(f"UPDATE {table} SET contact_id = %s WHERE id = %s", [ada.pk, record.pk])
        transaction.set_rollback(True)

    # then the row is as it was
    record = ConsentRecord.objects.get(pk=record.pk)
    assert (record.contact_id, record.merged_from, record.action) == (dup.pk, None, "opt_in")


# --- Unique rules ----------------------------------------------------------------------


def test_running_enrollments_in_one_journey_leave_the_survivors_running(admin, journey):
    # given both records running in the same journey
    ada, dup = person(), person(DUP_PHONE)
    mine = Enrollment.objects.create(journey=journey, contact=ada, state=EnrollmentState.WAITING)
    theirs = Enrollment.objects.create(journey=journey, contact=dup, state=EnrollmentState.ACTIVE)

    # when they are merged
    result = merge(ada, dup, admin, reason="dedupe")

    # then Ada's runs on; the duplicate's ended, and its log says why
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.state, theirs.state, theirs.contact) == ("waiting", "exited", ada)
    assert theirs.finished_at == MIDDAY
    exit_entry = Activity.objects.get(enrollment=theirs)
    assert (exit_entry.kind, exit_entry.reason) == (
        "exit", f"Contact merged into contact {ada.pk}, already in this journey: dedupe",
    )  # fmt: skip
    assert result.notes == [
        f"The duplicate's enrollment {theirs.pk} in journey {journey.pk} ended: the survivor "
        "is already in that journey."
    ]


def test_the_survivors_preferences_stand(admin):
    # given both records with preferences
    from apps.consent.services import preference_set

    ada, dup = person(), person(DUP_PHONE)
    preference_set(contact=ada, email_enabled=False)
    preference_set(contact=dup, email_enabled=True, sms_enabled=False)

    # when they are merged
    merge(ada, dup, admin)

    # then Ada's are kept
    assert (ada.preference.email_enabled, ada.preference.sms_enabled) == (False, True)


# --- Clear errors ----------------------------------------------------------------------


def test_a_contact_cannot_be_merged_into_itself(admin):
    ada = person()
    with pytest.raises(ContactsError, match="cannot be merged into itself"):
        merge(ada, ada, admin)
    assert Contact.objects.filter(pk=ada.pk).exists()


def test_merging_the_same_duplicate_twice_is_a_clear_error(admin):
    # given a duplicate already merged
    ada, dup = person(), person(DUP_PHONE)
    merge(ada, dup, admin)

    # when it is merged again
    with pytest.raises(ContactsError, match=f"Contact {dup.pk} no longer exists"):
        merge(ada, dup, admin)

    # then nothing changed
    assert list(Contact.objects.values_list("pk", flat=True)) == [ada.pk]


@pytest.mark.parametrize("reason", ["", "   ", "\x00 \x00"])
def test_a_merge_needs_a_reason(admin, reason):
    ada, dup = person(), person(DUP_PHONE)
    with pytest.raises(ContactsError, match="Say why"):
        merge(ada, dup, admin, reason=reason)
    assert Contact.objects.count() == 2


# --- The admin: an action, a preview, a confirmation -----------------------------------

CHANGELIST = "/admin/contacts/contact/"


def merge_page(survivor, duplicate):
    return f"{CHANGELIST}merge/?survivor={survivor.pk}&duplicate={duplicate.pk}"


def test_the_action_on_two_contacts_leads_to_the_preview_with_the_older_surviving(
    admin_client,
):
    # given two contacts
    ada, dup = person(), person(DUP_PHONE)

    # when an admin selects both and picks the merge action
    response = admin_client.post(
        CHANGELIST, {"action": "merge_selected", "_selected_action": [dup.pk, ada.pk]}
    )

    # then the preview opens, the older contact surviving; nothing is merged yet
    assert (response.status_code, response["Location"]) == (302, merge_page(ada, dup))
    assert Contact.objects.count() == 2


def test_the_action_needs_exactly_two_contacts(admin_client):
    ada, dup, third = person(), person(DUP_PHONE), person("+14155550155")
    response = admin_client.post(
        CHANGELIST,
        {"action": "merge_selected", "_selected_action": [ada.pk, dup.pk, third.pk]},
        follow=True,
    )
    assert "Select exactly two contacts to merge." in response.text
    assert Contact.objects.count() == 3


def test_the_preview_shows_what_moves_and_each_fields_outcome(admin_client):
    # given a duplicate with two events and a phone the survivor lacks
    ada = ContactFactory(phone="", first_name="Ada")
    dup = person(DUP_PHONE, first_name="A.")
    EventFactory(contact=dup)
    EventFactory(contact=dup)

    # when the admin opens the preview
    response = admin_client.get(merge_page(ada, dup))

    # then it counts the events and says the phone comes from the duplicate
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.counts["Events"] == 2
    assert [(o.name, str(o.kept)) for o in preview.fields if o.from_duplicate] == [
        ("phone", DUP_PHONE)
    ]
    assert '<td>Events</td><td class="merge-count">2</td>' in response.text
    assert Contact.objects.count() == 2  # the preview wrote nothing


def test_confirming_without_a_reason_merges_nothing(admin_client):
    ada, dup = person(), person(DUP_PHONE)
    response = admin_client.post(merge_page(ada, dup), {"reason": "  \x00 "})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "reason": ["Say why these two contacts are one person."]
    }
    assert Contact.objects.count() == 2


def test_confirming_with_a_reason_merges_and_returns_to_the_survivor(admin_client, admin_user):
    # given a pair and its preview
    ada, dup = person(), person(DUP_PHONE)
    EventFactory(contact=dup)

    # when the admin confirms with a reason
    response = admin_client.post(merge_page(ada, dup), {"reason": "Same person"}, follow=True)

    # then the duplicate is merged, and the admin is told what moved
    assert response.redirect_chain == [(f"{CHANGELIST}{ada.pk}/change/", 302)]
    assert list(Contact.objects.values_list("pk", flat=True)) == [ada.pk]
    assert f"Contact {dup.pk} merged into {ada}: moved 1 events." in response.text
    assert ada.history.latest().history_user == admin_user


def test_confirming_after_another_merge_took_the_duplicate_finds_it_gone(admin_client):
    # given the preview of a pair, then the duplicate merged elsewhere meanwhile
    ada, dup, other = person(), person(DUP_PHONE), person("+14155550155")
    page = merge_page(ada, dup)
    merge(other, dup, UserFactory(role=roles.ADMIN))

    # when the admin confirms the preview
    response = admin_client.post(page, {"reason": "Same person"})

    # then it says the contact is gone, and nothing else changed
    assert response.status_code == 404
    assert Contact.objects.count() == 2


def test_merging_a_contact_into_itself_in_the_admin_is_refused(admin_client):
    ada = person()
    response = admin_client.get(merge_page(ada, ada), follow=True)
    assert "A contact cannot be merged into itself." in response.text
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("role", [roles.COMPLIANCE, roles.MARKETER, roles.APPROVER])
def test_only_an_admin_may_merge(client, role):
    # given a staff member who is not an admin
    client.force_login(UserFactory(role=role))
    ada, dup = person(), person(DUP_PHONE)

    # when they open the merge page, or post the action
    page = client.get(merge_page(ada, dup))
    client.post(CHANGELIST, {"action": "merge_selected", "_selected_action": [ada.pk, dup.pk]})
    confirm = client.post(merge_page(ada, dup), {"reason": "Same person"})

    # then they are refused, and nothing merged
    assert (page.status_code, confirm.status_code) == (403, 403)
    assert Contact.objects.count() == 2


def test_rows_no_app_moves_refuse_the_merge_and_nothing_moves(admin, monkeypatch):
    # given a duplicate with a task, events and consent, and no part that moves tasks
    from apps.contacts import merge as merging

    monkeypatch.delitem(merging._parts, "routing.tasks")
    ada, dup = person(), person(DUP_PHONE)
    task_for(dup)
    EventFactory(contact=dup)
    sms_consent(dup)

    # when the duplicate is merged
    with pytest.raises(ContactsError, match="Nothing moves the duplicate's follow-up tasks"):
        merge(ada, dup, admin)

    # then nothing moved: the task, the event and the ledger row are still the duplicate's
    assert FollowUpTask.objects.get().contact_id == dup.pk
    assert Event.objects.get().contact_id == dup.pk
    assert ConsentRecord.objects.get().contact_id == dup.pk
    assert Contact.objects.count() == 2


def test_email_consent_given_for_the_address_the_survivor_takes_comes_with_it(admin):
    # given Ada without an email, and a duplicate opted in to email on its own address
    from apps.consent.selectors import consent_for_address

    ada = person(email="")
    dup = person(DUP_PHONE, email="Ada.Work@Example.com")
    consent_opt_in(contact=dup, channel=Channel.EMAIL, purpose=Purpose.MARKETING,
                   source=ConsentSource.API)  # fmt: skip

    # when they are merged
    merge(ada, dup, admin)

    # then that address's consent is Ada's, however its case is written
    ada.refresh_from_db()
    status = consent_for_address(
        contact=ada, channel=Channel.EMAIL, purpose=Purpose.MARKETING,
        address="ada.work@example.com",
    )  # fmt: skip
    assert (ada.email, status) == ("Ada.Work@Example.com", ConsentStatus.OPTED_IN)


def test_an_old_link_to_a_merged_contact_leads_to_the_survivor(admin_client):
    # given a duplicate merged into Ada
    ada, dup = person(), person(DUP_PHONE)
    merge(ada, dup, UserFactory(role=roles.ADMIN))

    # when someone follows an old link to the duplicate
    response = admin_client.get(f"{CHANGELIST}{dup.pk}/change/", follow=True)

    # then they land on Ada, told why
    assert response.redirect_chain == [(f"{CHANGELIST}{ada.pk}/change/", 302)]
    assert f"Contact {dup.pk} was merged into this contact." in response.text
