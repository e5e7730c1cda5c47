"""Merging two contacts that are one person: the duplicate's rows move to the survivor.

Contacts is the lowest app that knows a Contact, but most rows that point at one live in
the apps above it (the consent ledger, messages, tasks, enrollments, attribution). Each of
those apps registers a `MergePart` here from `AppConfig.ready()`: how many of the
duplicate's rows it holds (the preview) and how to move them (the merge). The merge runs
them in one transaction with both contacts locked in pk order, then deletes the duplicate;
its history keeps a last row saying who merged it into which contact and why.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction

from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact, ContactExternalId, ContactMerge, Event, Opportunity
from apps.contacts.selectors import TimelineEntry
from apps.core.text import text_storable


@dataclass(frozen=True)
class MergeContext:
    """What a part's mover is told besides the two contacts: who merges, and why."""

    actor: object
    reason: str
    notes: list[str] = field(default_factory=list)  # what a part decided, for the result


@dataclass(frozen=True)
class MergePart:
    """One kind of row that belongs to a contact, as its owning app moves it."""

    label: str
    count: Callable[[Contact], int]
    move: Callable[[Contact, Contact, MergeContext], int]


_parts: dict[str, MergePart] = {}


def merge_part_register(name: str, part: MergePart) -> None:
    """Registers a part under `name`; registering the same name again replaces it."""
    _parts[name] = part


# The contact's own fields a merge fills on the survivor when the survivor has none.
# kind and lifecycle stage always have a value, so the survivor's stand; so does the
# intent score, which the moved events recompute.
FILLED_FIELDS = (
    "first_name", "last_name", "email", "phone", "external_id", "time_zone", "region",
    "company", "owner", "buying_role", "source",
)  # fmt: skip
# Unique per contact: the duplicate gives them up before the survivor takes them.
UNIQUE_FIELDS = ("email", "phone", "external_id")


@dataclass(frozen=True)
class FieldOutcome:
    name: str
    survivor: object
    duplicate: object
    kept: object

    @property
    def from_duplicate(self) -> bool:
        return _is_empty(self.survivor) and not _is_empty(self.duplicate)


@dataclass(frozen=True)
class MergePreview:
    """What a merge of `duplicate` into `survivor` would do, computed without writing."""

    survivor: Contact
    duplicate: Contact
    counts: dict[str, int]  # part label -> rows that would move
    fields: list[FieldOutcome]


@dataclass(frozen=True)
class MergeResult:
    survivor: Contact
    duplicate_id: int
    moved: dict[str, int]  # part label -> rows moved
    filled: list[str]  # the survivor's fields filled from the duplicate
    notes: list[str]


def _is_empty(value) -> bool:
    return value is None or value == "" or value == {}


def _field_outcomes(survivor: Contact, duplicate: Contact) -> list[FieldOutcome]:
    outcomes = []
    for name in FILLED_FIELDS:
        mine, theirs = getattr(survivor, name), getattr(duplicate, name)
        kept = theirs if _is_empty(mine) and not _is_empty(theirs) else mine
        outcomes.append(FieldOutcome(name, mine, theirs, kept))
    return outcomes


def _merge_check(survivor: Contact, duplicate: Contact, reason: str | None = None) -> None:
    if survivor.pk is None or duplicate.pk is None:
        raise ContactsError("Both contacts must be saved contacts.", field="duplicate")
    if survivor.pk == duplicate.pk:
        raise ContactsError("A contact cannot be merged into itself.", field="duplicate")
    if reason is not None and not reason.strip():
        raise ContactsError("Say why these two contacts are one person.", field="reason")


def contact_merge_preview(*, survivor: Contact, duplicate: Contact) -> MergePreview:
    """Counts of what each part would move and each field's outcome; writes nothing."""
    _merge_check(survivor, duplicate)
    counts = {part.label: part.count(duplicate) for part in _all_parts().values()}
    return MergePreview(survivor, duplicate, counts, _field_outcomes(survivor, duplicate))


def contact_merge(*, survivor: Contact, duplicate: Contact, actor, reason: str) -> MergeResult:
    """Moves every row of `duplicate` to `survivor`, fills the survivor's empty fields from
    the duplicate, and deletes the duplicate, all in one transaction. ContactsError when
    the pair cannot be merged (the same contact, one already merged away, no reason)."""
    reason = text_storable(reason or "").strip()
    _merge_check(survivor, duplicate, reason)
    with transaction.atomic():
        survivor, duplicate = _lock_pair(survivor.pk, duplicate.pk)
        context = MergeContext(actor=actor, reason=reason)
        filled = _fields_fill(survivor, duplicate, context)
        moved = {
            part.label: part.move(survivor, duplicate, context) for part in _all_parts().values()
        }
        _leftovers_check(duplicate)
        result = MergeResult(survivor, duplicate.pk, moved, filled, context.notes)
        _duplicate_retire(duplicate, result, context)
    return result


def _duplicate_retire(duplicate: Contact, result: MergeResult, context: MergeContext) -> None:
    """The duplicate is deleted; its history's last row and a ContactMerge keep who merged
    it into which contact, why, and what moved."""
    ContactMerge.objects.create(
        survivor=result.survivor, duplicate_id=duplicate.pk, duplicate_label=str(duplicate)[:300],
        actor=context.actor, reason=context.reason, moved=result.moved, filled=result.filled,
        notes=result.notes,
    )  # fmt: skip
    duplicate._history_user = context.actor
    duplicate._change_reason = _history_reason(
        f"Merged into contact {result.survivor.pk}", context.reason
    )
    duplicate.delete()


def contact_merged_into(contact_id: int) -> Contact | None:
    """The contact that a merged-away contact id lives on as, if it was merged."""
    merge = ContactMerge.objects.select_related("survivor").filter(duplicate_id=contact_id).first()
    return merge.survivor if merge else None


def merge_timeline_entries(contact: Contact, limit: int) -> list[TimelineEntry]:
    merges = ContactMerge.objects.filter(survivor=contact).select_related("actor")[:limit]
    return [
        TimelineEntry(
            at=merge.merged_at,
            kind="merge",
            title=f"Contact {merge.duplicate_id} ({merge.duplicate_label}) merged in",
            detail=f"By {merge.actor or 'Cue'}: {merge.reason}",
        )
        for merge in merges
    ]


def _lock_pair(survivor_pk: int, duplicate_pk: int) -> tuple[Contact, Contact]:
    """Both rows locked in pk order, so two merges of one pair cannot deadlock; a pair
    whose duplicate another merge already removed is a clear error."""
    rows = Contact.objects.select_for_update().filter(pk__in=[survivor_pk, duplicate_pk])
    locked = {contact.pk: contact for contact in rows.order_by("pk")}
    for pk, role in ((survivor_pk, "survivor"), (duplicate_pk, "duplicate")):
        if pk not in locked:
            raise ContactsError(
                f"Contact {pk} no longer exists (already merged or deleted).", field=role
            )
    return locked[survivor_pk], locked[duplicate_pk]


def _fields_fill(survivor: Contact, duplicate: Contact, context: MergeContext) -> list[str]:
    filled = [o.name for o in _field_outcomes(survivor, duplicate) if o.from_duplicate]
    taken = [name for name in filled if name in UNIQUE_FIELDS]
    if taken:
        # The unique indexes would refuse the survivor's copy while the duplicate holds it.
        cleared = {name: (None if name == "external_id" else "") for name in taken}
        Contact.objects.filter(pk=duplicate.pk).update(**cleared)
    for name in filled:
        setattr(survivor, name, getattr(duplicate, name))
    attributes_added = _attributes_fill(survivor, duplicate)
    # Saved even when nothing was filled: the survivor's history records the merge.
    survivor._history_user = context.actor
    survivor._change_reason = _history_reason(f"Merged contact {duplicate.pk} in", context.reason)
    survivor.save()
    return filled + attributes_added


def _attributes_fill(survivor: Contact, duplicate: Contact) -> list[str]:
    """Custom attributes the survivor lacks are taken from the duplicate, key by key."""
    mine, theirs = getattr(survivor, "attributes", None), getattr(duplicate, "attributes", None)
    if not isinstance(mine, dict) or not isinstance(theirs, dict):
        return []
    added = [
        key for key, value in theirs.items() if _is_empty(mine.get(key)) and not _is_empty(value)
    ]
    survivor.attributes = {**mine, **{key: theirs[key] for key in added}}
    return [f"attributes.{key}" for key in added]


def _leftovers_check(duplicate: Contact) -> None:
    """A relation no part moved would be cascaded away with the duplicate (or block its
    deletion): refuse the merge rather than lose rows silently."""
    relations = Contact._meta.get_fields(include_hidden=True)
    for relation in relations:
        if not (relation.auto_created and relation.is_relation and not relation.concrete):
            continue
        if relation.many_to_many or relation.on_delete is models.DO_NOTHING:  # history rows
            continue
        manager = relation.related_model._base_manager
        if manager.filter(**{relation.field.name: duplicate.pk}).exists():
            rows = relation.related_model._meta.verbose_name_plural
            raise ContactsError(
                f"Nothing moves the duplicate's {rows}; the merge was not made.",
                field="duplicate",
            )


def _history_reason(what: str, reason: str) -> str:
    return f"{what}: {reason}"[:100]  # simple-history keeps 100 characters


def _all_parts() -> dict[str, MergePart]:
    return {**_OWN_PARTS, **_parts}


def _events_move(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
    return Event.objects.filter(contact=duplicate).update(contact=survivor)


def _opportunities_move(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
    return Opportunity.objects.filter(contact=duplicate).update(contact=survivor)


def _merges_move(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
    """Contacts merged into the duplicate earlier now lead to the survivor too."""
    return ContactMerge.objects.filter(survivor=duplicate).update(survivor=survivor)


def _external_ids_move(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
    """The duplicate's id in a source the survivor has no id in moves to the survivor. In a
    source where both have one, the survivor's stays (a contact has one id per source) and
    the duplicate's is dropped, recorded in the merge's notes; the column follows the same
    rule (FILLED_FIELDS), so the "api" row and Contact.external_id stay the same."""
    taken = set(ContactExternalId.objects.filter(contact=survivor).values_list("source", flat=True))
    theirs = ContactExternalId.objects.filter(contact=duplicate)
    for row in theirs.filter(source__in=taken).order_by("source"):
        context.notes.append(
            f"The duplicate's {row.source} id {row.value!r} was dropped:"
            " the survivor keeps its own."
        )
    theirs.filter(source__in=taken).delete()
    return theirs.update(contact=survivor)


_OWN_PARTS = {
    "contacts.events": MergePart(
        "Events", lambda c: Event.objects.filter(contact=c).count(), _events_move
    ),
    "contacts.opportunities": MergePart(
        "Opportunities",
        lambda c: Opportunity.objects.filter(contact=c).count(),
        _opportunities_move,
    ),
    "contacts.external_ids": MergePart(
        "External ids",
        lambda c: ContactExternalId.objects.filter(contact=c).count(),
        _external_ids_move,
    ),
    "contacts.merges": MergePart(
        "Contacts merged into it before",
        lambda c: ContactMerge.objects.filter(survivor=c).count(),
        _merges_move,
    ),
}
