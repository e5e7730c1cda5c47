"""The Segment intake's parts of a data-subject request (registered in ready()).

An anonymousId stood for the person: it goes (a later event with it makes a new contact,
which is what an erased person returning is). A rejected message that named the person
keeps why it was rejected, without the person's traits, ids or words.
"""

from django.db.models import Q

from apps.contacts.erasure.registry import (
    ErasureContext,
    ErasurePart,
    erasure_part_register,
    traces_gather,
)
from apps.contacts.erasure.rows import rows_export, rows_scrub
from apps.contacts.erasure.traces import PersonTraces
from apps.contacts.models import Contact
from apps.segment_intake.models import AnonymousId, SegmentRejection


def _anonymous_ids(contact: Contact):
    return AnonymousId.objects.filter(contact=contact)


def _anonymous_traces(contact: Contact, traces: PersonTraces) -> None:
    for value in _anonymous_ids(contact).values_list("anonymous_id", flat=True):
        traces.identifier_add(value)


def _anonymous_ids_erase(contact: Contact, context: ErasureContext) -> int:
    deleted, _ = _anonymous_ids(contact).delete()
    return deleted


def _rejections(contact: Contact, traces: PersonTraces | None = None):
    traces = traces or traces_gather(contact)
    mentions = Q(pk__in=[])
    for value in traces.selectors:
        mentions |= Q(payload__icontains=value)
    return SegmentRejection.objects.filter(mentions)


def _rejections_erase(contact: Contact, context: ErasureContext) -> int:
    return rows_scrub(
        _rejections(contact, context.traces), ["payload", "reason", "message_id"], context.traces
    )


def segment_erasure_parts_register() -> None:
    erasure_part_register(
        "segment_intake.anonymous_ids",
        ErasurePart(
            "Segment anonymous ids",
            lambda c: rows_export(_anonymous_ids(c)),
            lambda c: _anonymous_ids(c).count(),
            _anonymous_ids_erase,
            _anonymous_traces,
        ),
    )
    erasure_part_register(
        "segment_intake.rejections",
        ErasurePart(
            "Segment rejected messages naming them",
            lambda c: rows_export(_rejections(c)),
            lambda c: _rejections(c).count(),
            _rejections_erase,
        ),
    )
