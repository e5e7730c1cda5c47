"""Writing segments: created and edited by a person (the admin and the API call these), their
rules checked by the same validator the compiler uses, each change in the history with who
made it and why."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.contacts.errors import ContactsError
from apps.contacts.models import Segment
from apps.contacts.segments import SegmentRulesError, segment_rules_validate

EDITABLE = ("name", "description", "rules")


@transaction.atomic
def segment_create(*, actor: User, name: str, rules, description: str = "") -> Segment:
    """A new segment; SegmentRulesError or ContactsError (naming the field) if it is unsound."""
    _permission_require(actor, "contacts.add_segment", "You may not create segments.")
    _rules_check(rules, segment_id=None)
    segment = Segment(name=name, description=description, rules=rules, created_by=actor)
    return _audited_save(segment, actor=actor, reason="Created")


@transaction.atomic
def segment_update(*, actor: User, segment: Segment, fields: dict) -> Segment:
    """Changes the segment's name, description or rules; a rule set that stops compiling
    (or includes the segment in itself) is refused whole."""
    _permission_require(actor, "contacts.change_segment", "You may not change segments.")
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ContactsError(f"These cannot be changed: {', '.join(unknown)}.", field=unknown[0])
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if "rules" in fields:
        _rules_check(fields["rules"], segment_id=segment.pk)
    changed = [name for name, value in fields.items() if getattr(segment, name) != value]
    if not changed:
        return segment
    for name in changed:
        setattr(segment, name, fields[name])
    return _audited_save(segment, actor=actor, reason=f"Changed {', '.join(changed)}")


def _rules_check(rules, *, segment_id: int | None) -> None:
    errors = segment_rules_validate(rules, segment_id=segment_id)
    if errors:
        raise SegmentRulesError(errors)


def _permission_require(actor: User, permission: str, message: str) -> None:
    if not actor.has_perm(permission):
        raise ContactsError(message, code="permission_denied")


def _audited_save(segment: Segment, *, actor: User, reason: str) -> Segment:
    try:
        segment.full_clean(exclude=["rules", "created_by"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise ContactsError(" ".join(messages), field=field) from error
    segment._history_user = actor
    segment._change_reason = reason
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as error:  # a twin saved between the check and the insert
        raise ContactsError("A segment with this name already exists.", field="name") from error
    return segment
