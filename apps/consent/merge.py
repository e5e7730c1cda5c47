"""The consent app's part of a contact merge (registered in ready()).

The duplicate's ledger rows move to the survivor, each noting in `merged_from` the contact
it was recorded for: the ledger keeps both addresses' histories, and the survivor's proof
shows them all. Replays (`ConsentRecordQuery.of_contact`) read a moved row only for the
address the survivor now has, so the duplicate's opt-out of another number does not end the
survivor's consent for its own; that number stays suppressed by the suppression list.
"""

from django.db import connection

from apps.consent.models import (
    ConsentAttempt,
    ConsentRecord,
    ConsentState,
    LedgerRepoint,
    Preference,
    Suppression,
)
from apps.consent.services import consent_states_recompute
from apps.contacts.merge import MergeContext, MergePart, merge_part_register
from apps.contacts.models import Contact


def ledger_merge(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
    """Re-points the duplicate's ledger rows, the one UPDATE the ledger's triggers allow,
    and only while this transaction's LedgerRepoint row names the pair."""
    leave = LedgerRepoint.objects.create(from_contact_id=duplicate.pk, to_contact_id=survivor.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ConsentRecord._meta.db_table} SET contact_id = %s, merged_from = %s "
            "WHERE contact_id = %s",
            [survivor.pk, duplicate.pk, duplicate.pk],
        )
        moved = cursor.rowcount
    leave.delete()
    ConsentState.objects.filter(contact=duplicate).delete()  # derived: rebuilt below
    consent_states_recompute(contact=survivor)
    return moved


def consent_links_merge(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
    """Suppressions and refused attempts name the survivor now; the survivor's own
    preferences stand, and the duplicate's are taken only when it has none."""
    moved = Suppression.objects.filter(contact=duplicate).update(contact=survivor)
    moved += ConsentAttempt.objects.filter(contact=duplicate).update(contact=survivor)
    theirs = Preference.objects.filter(contact=duplicate).first()
    if theirs is None:
        return moved
    if Preference.objects.filter(contact=survivor).exists():
        theirs._history_user = context.actor
        theirs._change_reason = (
            f"Contact merged; the survivor's preferences stand: {context.reason}"[:100]
        )
        theirs.delete()
        context.notes.append("The survivor's preferences were kept; the duplicate's dropped.")
        return moved
    return moved + Preference.objects.filter(pk=theirs.pk).update(contact=survivor)


def _links_count(contact: Contact) -> int:
    return (
        Suppression.objects.filter(contact=contact).count()
        + ConsentAttempt.objects.filter(contact=contact).count()
        + Preference.objects.filter(contact=contact).count()
    )


def consent_merge_parts_register() -> None:
    merge_part_register(
        "consent.ledger",
        MergePart(
            "Consent ledger rows",
            lambda c: ConsentRecord.objects.filter(contact=c).count(),
            ledger_merge,
        ),
    )
    merge_part_register(
        "consent.links",
        MergePart("Suppressions, refused attempts, preferences", _links_count, consent_links_merge),
    )
