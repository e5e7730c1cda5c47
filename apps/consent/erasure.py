"""The consent app's parts of a data-subject request (registered in ready()).

What the law needs kept stays, without the identity: the ledger keeps every row (who
consented or opted out is provable for the contact id, the time, the source, the wording
shown), each address replaced by its keyed hash; the suppression list keeps every entry
for the person's numbers and emails under that same hash, and the gate looks the hash up
too (apps/sends/policy.py), so an erased person who said STOP is never texted again, even
as a new contact. Only the ledger's evidence that names the person goes: IP address, user
agent, the note, and the page URL or keyword where they mention the person.
"""

from django.db import connection
from django.db.models import Q

from apps.consent.models import (
    ConsentAttempt,
    ConsentRecord,
    ConsentState,
    LedgerErasure,
    Preference,
    Suppression,
)
from apps.contacts.erasure.registry import (
    ErasureContext,
    ErasurePart,
    erasure_part_register,
    traces_gather,
)
from apps.contacts.erasure.rows import history_count, history_export, history_scrub, rows_export
from apps.contacts.erasure.traces import PersonTraces, address_erased_key
from apps.contacts.models import Contact

ONE_WORD_KEYWORD = 20  # "STOP", "UNSUBSCRIBE": kept; a sentence someone typed is not


def _consent_traces(contact: Contact, traces: PersonTraces) -> None:
    for model in (ConsentRecord, ConsentState, ConsentAttempt):
        for address in model.objects.filter(contact=contact).values_list("address", flat=True):
            traces.address_add(address)
    for row in ConsentRecord.objects.filter(contact=contact).values("note", "keyword"):
        traces.text_add(row["note"])
        if len(row["keyword"]) > ONE_WORD_KEYWORD or " " in row["keyword"].strip():
            traces.text_add(row["keyword"])
    for address in Suppression.objects.filter(contact=contact).values_list("address", flat=True):
        traces.address_add(address)


# --- The ledger ----------------------------------------------------------------------------


def _ledger_erase(contact: Contact, context: ErasureContext) -> int:
    """Each row keeps everything but the person: the one UPDATE the ledger's triggers allow
    an erasure, and only while this transaction's LedgerErasure row names the contact."""
    leave = LedgerErasure.objects.create(contact_id=contact.pk)
    changed = 0
    with connection.cursor() as cursor:
        for row in ConsentRecord.objects.filter(contact=contact).values(
            "pk", "address", "page_url", "keyword"
        ):
            cursor.execute(
                f"UPDATE {ConsentRecord._meta.db_table} SET address = %s, ip_address = NULL, "
                "user_agent = '', note = '', page_url = %s, keyword = %s WHERE id = %s",
                [
                    address_erased_key(row["address"]),
                    _kept_unless_mentioning(row["page_url"], context.traces),
                    _keyword_kept(row["keyword"], context.traces),
                    row["pk"],
                ],
            )
            changed += cursor.rowcount
    leave.delete()
    return changed


def _kept_unless_mentioning(value: str, traces: PersonTraces) -> str:
    return "" if traces.mentions(value) else value


def _keyword_kept(keyword: str, traces: PersonTraces) -> str:
    """A keyword (STOP) is evidence of how consent ended; free text is the person's words."""
    single_word = len(keyword) <= ONE_WORD_KEYWORD and " " not in keyword.strip()
    return keyword if single_word and not traces.mentions(keyword) else ""


def _states_erase(contact: Contact, context: ErasureContext) -> int:
    changed = 0
    for state in ConsentState.objects.filter(contact=contact).values("pk", "address"):
        changed += ConsentState.objects.filter(pk=state["pk"]).update(
            address=address_erased_key(state["address"])
        )
    return changed


# --- Suppressions and refused attempts -----------------------------------------------------


def _suppressions(contact: Contact, traces: PersonTraces | None = None):
    """The person's entries: linked to the contact, or for one of their addresses."""
    traces = traces or traces_gather(contact)
    return Suppression.objects.filter(Q(contact=contact) | Q(address__in=traces.address_forms))


def _suppressions_export(contact: Contact) -> list[dict]:
    """The entries, and every history row of an entry for their addresses (lifted ones too)."""
    traces = traces_gather(contact)
    ids = _suppression_history_ids(contact, traces)
    rows = rows_export(_suppressions(contact, traces))
    return rows + [{"history": row} for row in history_export(Suppression, ids)]


def _suppressions_count(contact: Contact) -> int:
    traces = traces_gather(contact)
    ids = _suppression_history_ids(contact, traces)
    return _suppressions(contact, traces).count() + history_count(Suppression, ids)


def _suppressions_erase(contact: Contact, context: ErasureContext) -> int:
    """Each entry stays in force under the keyed hash of its address. Where the hash is
    already listed for that channel (the number was erased before), the first entry
    stands and this one goes."""
    changed = 0
    for entry in _suppressions(contact, context.traces).order_by("pk"):
        hashed = address_erased_key(entry.address)
        listed = Suppression.objects.filter(channel=entry.channel, address=hashed)
        if listed.exclude(pk=entry.pk).exists():
            changed += Suppression.objects.filter(pk=entry.pk).delete()[0]
            continue
        changed += Suppression.objects.filter(pk=entry.pk).update(
            address=hashed, note=context.traces.scrub(entry.note)
        )
    ids = _suppression_history_ids(contact, context.traces)
    history_scrub(Suppression, ids, ["note", "history_change_reason"], context.traces)
    _history_addresses_hash(ids)
    return changed


def _suppression_history_ids(contact: Contact, traces: PersonTraces) -> list[int]:
    history = Suppression.history.model.objects
    found = history.filter(Q(contact_id=contact.pk) | Q(address__in=traces.address_forms))
    return list(found.values_list("id", flat=True).distinct())


def _history_addresses_hash(ids: list[int]) -> None:
    history = Suppression.history.model.objects.filter(id__in=ids)
    for row in history.exclude(address__startswith="erased:").values("history_id", "address"):
        history.filter(history_id=row["history_id"]).update(
            address=address_erased_key(row["address"])
        )


def _attempts(contact: Contact, traces: PersonTraces | None = None):
    traces = traces or traces_gather(contact)
    return ConsentAttempt.objects.filter(Q(contact=contact) | Q(address__in=traces.address_forms))


def _attempts_erase(contact: Contact, context: ErasureContext) -> int:
    changed = 0
    for attempt in _attempts(contact, context.traces).values("pk", "address", "reason"):
        changed += ConsentAttempt.objects.filter(pk=attempt["pk"]).update(
            address=address_erased_key(attempt["address"]),
            reason=context.traces.scrub(attempt["reason"]),
            note="",
        )
    return changed


# --- Preferences ---------------------------------------------------------------------------


def _preferences_export(contact: Contact) -> list[dict]:
    rows = Preference.objects.filter(contact=contact)
    ids = list(rows.values_list("pk", flat=True))
    return rows_export(rows) + [{"history": row} for row in history_export(Preference, ids)]


def _preferences_count(contact: Contact) -> int:
    ids = list(Preference.objects.filter(contact=contact).values_list("pk", flat=True))
    return len(ids) + history_count(Preference, ids)


def consent_erasure_parts_register() -> None:
    register = erasure_part_register
    ledger = ConsentRecord.objects.filter
    register(
        "consent.ledger",
        ErasurePart(
            "Consent ledger rows (kept, address hashed)",
            lambda c: rows_export(ledger(contact=c)),
            lambda c: ledger(contact=c).count(),
            _ledger_erase,
            _consent_traces,
        ),
    )
    register(
        "consent.states",
        ErasurePart(
            "Current consent states",
            lambda c: rows_export(ConsentState.objects.filter(contact=c)),
            lambda c: ConsentState.objects.filter(contact=c).count(),
            _states_erase,
        ),
    )
    register(
        "consent.suppressions",
        ErasurePart(
            "Suppressions of their addresses (kept, address hashed)",
            _suppressions_export,
            _suppressions_count,
            _suppressions_erase,
        ),
    )
    register(
        "consent.attempts",
        ErasurePart(
            "Refused consent changes",
            lambda c: rows_export(_attempts(c)),
            lambda c: _attempts(c).count(),
            _attempts_erase,
        ),
    )
    register(
        "consent.preferences",
        ErasurePart(
            "Preferences",
            _preferences_export,
            _preferences_count,
            lambda c, context: 0,  # channels, topics and a window: nothing that identifies
        ),
    )
