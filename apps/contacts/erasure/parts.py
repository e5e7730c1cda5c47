"""The contacts app's own parts of a data-subject request: the contact row and its
history, its ids per source, events, opportunities, company, merges, import reports and
the admin's log of changes to its rows."""

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q, TextField, Value
from django.db.models.functions import Cast, Concat

from apps.contacts.erasure.registry import (
    ErasureContext,
    ErasurePart,
    erasure_part_register,
    traces_gather,
)
from apps.contacts.erasure.rows import (
    history_count,
    history_export,
    history_scrub,
    rows_export,
    rows_scrub,
)
from apps.contacts.erasure.traces import ERASED, PersonTraces
from apps.contacts.models import (
    AttributeDefinition,
    AttributeObject,
    Company,
    Contact,
    ContactExternalId,
    ContactImport,
    ContactMerge,
    DataSubjectRequest,
    Event,
    EventHandlerFailure,
    Opportunity,
    OpportunityStageChange,
)

# What an erased contact keeps: its id, kind, stages, owner, company, country, intent and
# dates (reports and attribution count it); everything that says who it was goes.
CONTACT_BLANKS = {
    "first_name": "", "last_name": "", "email": "", "phone": "", "external_id": None,
    "time_zone": "", "region": "", "attributes": {},
}  # fmt: skip


# --- The contact ---------------------------------------------------------------------------


def _contact_traces(contact: Contact, traces: PersonTraces) -> None:
    for version in [contact, *Contact.history.filter(id=contact.pk)]:
        traces.address_add(version.email)
        traces.address_add(str(version.phone or ""))
        traces.identifier_add(version.external_id)
        for name in (version.first_name, version.last_name, _full_name(version)):
            traces.name_add(name)
        _attribute_traces(version.attributes, traces)
    for value in ContactExternalId.objects.filter(contact=contact).values_list("value", flat=True):
        traces.identifier_add(value)


def _full_name(version) -> str:
    return f"{version.first_name} {version.last_name}".strip()


def _attribute_traces(attributes, traces: PersonTraces) -> None:
    """A PII attribute's text (a nickname, a personal email) is an identifier too."""
    pii = _pii_keys(AttributeObject.CONTACT)
    for key, value in (attributes or {}).items():
        if key in pii and isinstance(value, str):
            traces.name_add(value)


def _pii_keys(object_type: str) -> set[str]:
    definitions = AttributeDefinition.objects.filter(object_type=object_type, pii=True)
    return set(definitions.values_list("key", flat=True))


def _contact_export(contact: Contact) -> list[dict]:
    rows = rows_export(Contact.objects.filter(pk=contact.pk))
    return rows + [{"history": row} for row in history_export(Contact, [contact.pk])]


def _contact_erase(contact: Contact, context: ErasureContext) -> int:
    """The row and every history row of it lose what says who the person was."""
    rows = Contact.objects.filter(pk=contact.pk).update(**CONTACT_BLANKS)
    return rows + history_scrub(
        Contact, [contact.pk], ["history_change_reason", "source"], context.traces,
        **CONTACT_BLANKS,
    )  # fmt: skip


# --- Ids per source, events ----------------------------------------------------------------


def _external_ids_erase(contact: Contact, context: ErasureContext) -> int:
    """An id names the person in another system: it goes (a later sync makes a new
    contact, which is what an erased person returning is)."""
    deleted, _ = ContactExternalId.objects.filter(contact=contact).delete()
    return deleted


def _events_export(contact: Contact) -> list[dict]:
    events = Event.objects.filter(contact=contact)
    failures = EventHandlerFailure.objects.filter(event__contact=contact)
    return rows_export(events) + [{"handler_failure": row} for row in rows_export(failures)]


def _events_erase(contact: Contact, context: ErasureContext) -> int:
    """Every property of the person's events goes, not only keys marked PII: properties
    are whatever a form, Segment or an integration sent (a name, an address, a free-text
    answer), with no definition saying which are personal. The type and the times stay, so
    funnels and attribution count the same. The idempotency key may hold an email or a
    Segment messageId: it becomes one made from the event's own id."""
    events = Event.objects.filter(contact=contact)
    changed = events.update(
        properties={},
        idempotency_key=Concat(Value("erased:event:"), Cast("id", CharField())),
    )
    failures = EventHandlerFailure.objects.filter(event__contact=contact)
    rows_scrub(failures, ["last_error"], context.traces)
    return changed


# --- Opportunities and the company ---------------------------------------------------------


def _opportunities(contact: Contact):
    return Opportunity.objects.filter(contact=contact)


def _opportunities_export(contact: Contact) -> list[dict]:
    ids = list(_opportunities(contact).values_list("pk", flat=True))
    changes = OpportunityStageChange.objects.filter(opportunity_id__in=ids)
    return (
        rows_export(_opportunities(contact))
        + [{"stage_change": row} for row in rows_export(changes)]
        + [{"history": row} for row in history_export(Opportunity, ids)]
    )


def _opportunities_count(contact: Contact) -> int:
    ids = list(_opportunities(contact).values_list("pk", flat=True))
    changes = OpportunityStageChange.objects.filter(opportunity_id__in=ids).count()
    return len(ids) + changes + history_count(Opportunity, ids)


def _opportunities_erase(contact: Contact, context: ErasureContext) -> int:
    """The deal stays (amount, stage, times: revenue reports need it); its PII attributes
    go and its name loses the person's name."""
    ids = list(_opportunities(contact).values_list("pk", flat=True))
    return _pii_attributes_erase(Opportunity, ids, AttributeObject.OPPORTUNITY, context, True)


def _pii_attributes_erase(model, ids, object_type: str, context, everything: bool) -> int:
    """PII attributes go from the rows and their history: all of them when `everything`,
    else those whose value mentions the person. Names are scrubbed of the person."""
    pii = _pii_keys(object_type)
    changed = 0
    for queryset in (model._base_manager.filter(pk__in=ids), _history_rows(model, ids)):
        for row in queryset.values("pk", "name", "attributes"):
            attributes = {
                key: value
                for key, value in (row["attributes"] or {}).items()
                if key not in pii or not (everything or context.traces.mentions(str(value)))
            }
            values = {"name": context.traces.scrub(row["name"]), "attributes": attributes}
            if values != {"name": row["name"], "attributes": row["attributes"]}:
                changed += queryset.model._base_manager.filter(pk=row["pk"]).update(**values)
    return changed


def _history_rows(model, ids):
    return model.history.model.objects.filter(id__in=ids)


def _company_export(contact: Contact) -> list[dict]:
    if contact.company_id is None:
        return []
    rows = rows_export(Company.objects.filter(pk=contact.company_id))
    return rows + [{"history": row} for row in history_export(Company, [contact.company_id])]


def _company_count(contact: Contact) -> int:
    if contact.company_id is None:
        return 0
    return 1 + history_count(Company, [contact.company_id])


def _company_erase(contact: Contact, context: ErasureContext) -> int:
    """The company is not the person's, and other contacts may belong to it: its PII
    attributes go only where they mention the person, or all of them when the person was
    its only contact."""
    if contact.company_id is None:
        return 0
    others = Contact.objects.filter(company_id=contact.company_id).exclude(pk=contact.pk)
    return _pii_attributes_erase(
        Company, [contact.company_id], AttributeObject.COMPANY, context, not others.exists()
    )


# --- Merges, import reports, the admin's log -----------------------------------------------


def _merges_erase(contact: Contact, context: ErasureContext) -> int:
    """A contact merged into this one was the same person: its label goes."""
    merges = ContactMerge.objects.filter(survivor=contact)
    return rows_scrub(merges, ["reason", "notes", "moved"], context.traces, duplicate_label=ERASED)


def _text_mentions(field: str, traces: PersonTraces) -> Q:
    """Rows whose column's text contains one of the person's addresses or ids."""
    found = Q(pk__in=[])
    for value in traces.selectors:
        found |= Q(**{f"{field}_text__icontains": value})
    return found


def _imports_mentioning(contact: Contact, traces: PersonTraces):
    imports = ContactImport.objects.annotate(rejected_rows_text=Cast("rejected_rows", TextField()))
    return imports.filter(_text_mentions("rejected_rows", traces))


def _imports_export(contact: Contact) -> list[dict]:
    """Only the rejected rows that name the person: the rest of a report is other people."""
    traces = traces_gather(contact)
    found = _imports_mentioning(contact, traces).order_by("pk")
    return [
        {
            "import_id": row.pk,
            "original_name": row.original_name,
            "created_at": row.created_at.isoformat(),
            "rejected_rows": [r for r in row.rejected_rows if traces.mentions(str(r))],
        }
        for row in found
    ]


def _imports_erase(contact: Contact, context: ErasureContext) -> int:
    """Rejected rows of an import report that name the person lose those values."""
    return rows_scrub(
        _imports_mentioning(contact, context.traces), ["rejected_rows", "error"], context.traces
    )


def _log_entries(contact: Contact, traces: PersonTraces):
    own = Q(content_type=ContentType.objects.get_for_model(Contact), object_id=str(contact.pk))
    entries = LogEntry.objects.annotate(
        object_repr_text=Cast("object_repr", TextField()),
        change_message_text=Cast("change_message", TextField()),
    )
    mentions = _text_mentions("object_repr", traces) | _text_mentions("change_message", traces)
    return entries.filter(own | mentions)


def _log_erase(contact: Contact, context: ErasureContext) -> int:
    """The admin's log keeps who changed what and when; the object's name as it read
    then (the person's name, number or email) goes."""
    return rows_scrub(
        _log_entries(contact, context.traces), ["object_repr", "change_message"], context.traces
    )


def _log_export(contact: Contact) -> list[dict]:
    ids = _log_entries(contact, traces_gather(contact)).values("pk")
    return rows_export(LogEntry.objects.filter(pk__in=ids))


def contacts_erasure_parts_register() -> None:
    register = erasure_part_register
    register(
        "contacts.contact",
        ErasurePart(
            "Contact (fields, custom attributes, history)", _contact_export,
            lambda c: 1 + history_count(Contact, [c.pk]), _contact_erase, _contact_traces,
        ),
    )  # fmt: skip
    register(
        "contacts.external_ids",
        ErasurePart(
            "External ids per source",
            lambda c: rows_export(ContactExternalId.objects.filter(contact=c)),
            lambda c: ContactExternalId.objects.filter(contact=c).count(),
            _external_ids_erase,
        ),
    )
    register(
        "contacts.events",
        ErasurePart(
            "Events", _events_export, lambda c: Event.objects.filter(contact=c).count(),
            _events_erase,
        ),
    )  # fmt: skip
    register(
        "contacts.opportunities",
        ErasurePart(
            "Opportunities and their stage changes", _opportunities_export,
            _opportunities_count, _opportunities_erase,
        ),
    )  # fmt: skip
    register(
        "contacts.company",
        ErasurePart("Company", _company_export, _company_count, _company_erase),
    )
    register(
        "contacts.merges",
        ErasurePart(
            "Contacts merged into it",
            lambda c: rows_export(ContactMerge.objects.filter(survivor=c)),
            lambda c: ContactMerge.objects.filter(survivor=c).count(),
            _merges_erase,
        ),
    )
    register(
        "contacts.imports",
        ErasurePart(
            "CSV import reports naming it",
            _imports_export,
            lambda c: _imports_mentioning(c, traces_gather(c)).count(),
            _imports_erase,
        ),
    )
    register(
        "contacts.admin_log",
        ErasurePart(
            "Admin change log entries",
            _log_export,
            lambda c: _log_entries(c, traces_gather(c)).count(),
            _log_erase,
        ),
    )
    register(
        "contacts.requests",
        ErasurePart(
            "Earlier data-subject requests",
            lambda c: rows_export(DataSubjectRequest.objects.filter(contact_id=c.pk)),
            lambda c: DataSubjectRequest.objects.filter(contact_id=c.pk).count(),
            lambda c, context: 0,  # who asked, when and why: no personal data of the person
        ),
    )
