"""The reporting app's parts of a data-subject request (registered in ready()).

Attribution rows hold ids, times and credit, nothing that names the person: they are
exported and kept as they are, so revenue and attribution reports read the same after an
erasure. Audit findings copy offending messages' rows (with the number they went to):
there the person's addresses become the same keyed hash the messages now carry.
"""

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from apps.contacts.erasure.registry import (
    ErasureContext,
    ErasurePart,
    erasure_part_register,
    traces_gather,
)
from apps.contacts.erasure.rows import rows_export, rows_scrub
from apps.contacts.erasure.traces import PersonTraces
from apps.contacts.models import Contact
from apps.reporting.models import Attribution, AuditFinding


def _attribution(contact: Contact):
    return Attribution.objects.filter(contact_id=contact.pk)


def _findings(contact: Contact, traces: PersonTraces | None = None):
    traces = traces or traces_gather(contact)
    mentions = Q(pk__in=[])
    for value in traces.selectors:
        mentions |= Q(rows_text__icontains=value)
    return AuditFinding.objects.annotate(rows_text=Cast("rows", TextField())).filter(mentions)


def _findings_export(contact: Contact) -> list[dict]:
    """Only the finding rows about the person: the rest are other people's messages."""
    traces = traces_gather(contact)
    return [
        {"finding_id": finding.pk, "check": finding.check_name, "rows": about}
        for finding in _findings(contact, traces).order_by("pk")
        if (about := [row for row in finding.rows if traces.mentions(str(row))])
    ]


def _findings_erase(contact: Contact, context: ErasureContext) -> int:
    return rows_scrub(_findings(contact, context.traces), ["rows", "note"], context.traces)


def reporting_erasure_parts_register() -> None:
    erasure_part_register(
        "reporting.attribution",
        ErasurePart(
            "Attribution rows (kept as they are)",
            lambda c: rows_export(_attribution(c)),
            lambda c: _attribution(c).count(),
            lambda c, context: 0,
        ),
    )
    erasure_part_register(
        "reporting.audit_findings",
        ErasurePart(
            "Compliance audit findings naming them",
            _findings_export,
            lambda c: _findings(c).count(),
            _findings_erase,
        ),
    )
