"""The audit trail's entries: each row of a source told as who, what, when, why, and the
values before and after (a historical row against the one before it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group
from django.db.models import OuterRef, Q, Subquery
from django.urls import NoReverseMatch, reverse

from apps.accounts.services import SYSTEM_USERNAME
from apps.contacts.models import Contact
from apps.core.logs import personal_data_mask

if TYPE_CHECKING:
    from apps.reporting.audit.trail import Source

HISTORY_ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}
UNCHANGED = "Saved, no tracked field changed"


@dataclass
class Entry:
    at: datetime
    source: Source
    pk: int
    object_label: str
    object_url: str
    action: str
    who: str
    why: str
    contact_id: int | None = None
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    record: object = None

    @property
    def is_change(self) -> bool:
        """False for a save that changed no tracked field: nothing to audit."""
        return self.action != UNCHANGED


@dataclass(frozen=True)
class Names:
    """How the rows of one page name what they concern: role names and contacts."""

    groups: dict
    contacts: dict

    def contact(self, contact_id: int | None) -> str:
        contact = self.contacts.get(contact_id)
        if contact is None:
            return f"Contact #{contact_id} (deleted)"
        return contact_audit_name(contact)


def contact_audit_name(contact: Contact) -> str:
    """'Priya Natarajan (+1••••••••42)': the name people use, the number masked."""
    address = personal_data_mask(str(contact.phone or contact.email or ""))
    name = contact.full_name or "Unnamed contact"
    return f"{name} ({address})" if address else name


def entries_build(chosen: list) -> list[Entry]:
    previous = _predecessors([(s, r) for s, r in chosen if s.kind == "history"])
    contact_ids = {_contact_id(source, row) for source, row in chosen} - {None}
    names = Names(
        groups=dict(Group.objects.values_list("pk", "name")),
        contacts=Contact.objects.in_bulk(contact_ids),
    )
    return [_ENTRY_BUILDERS[source.kind](source, row, previous, names) for source, row in chosen]


def _contact_id(source: Source, row) -> int | None:
    return getattr(row, source.contact_field, None) if source.contact_field else None


def _predecessors(history: list) -> dict:
    """{(source key, history_id): the previous historical row of the same object}: two
    queries per source for the whole page."""
    found = {}
    by_source: dict[str, list] = {}
    for source, row in history:
        by_source.setdefault(source.key, []).append(row)
    sources = {source.key: source for source, _ in history}
    for key, rows in by_source.items():
        model = sources[key].model
        earlier = (
            model.objects.filter(id=OuterRef("id"))
            .filter(
                Q(history_date__lt=OuterRef("history_date"))
                | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
            )
            .order_by("-history_date", "-history_id")
            .values("history_id")[:1]
        )
        pairs = dict(
            model.objects.filter(history_id__in=[row.history_id for row in rows])
            .annotate(previous=Subquery(earlier))
            .values_list("history_id", "previous")
        )
        olders = model.objects.in_bulk([p for p in pairs.values() if p], field_name="history_id")
        for history_id, previous_id in pairs.items():
            if previous_id in olders:
                found[(key, history_id)] = olders[previous_id]
    return found


def _who(user) -> str:
    if user is None:
        return "—"
    return "Cue (system)" if user.get_username() == SYSTEM_USERNAME else user.display_name


def _admin_url(model, object_id) -> str:
    opts = model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
    except NoReverseMatch:
        return ""


def _history_entry(source: Source, row, previous: dict, names: Names) -> Entry:
    before = previous.get((source.key, row.history_id))
    changes = _changes(row, before, names.groups)
    action = HISTORY_ACTIONS.get(row.history_type, row.history_type)
    if row.history_type == "~" and before is not None and not changes:
        action = UNCHANGED
    return Entry(
        at=row.history_date,
        source=source,
        pk=row.history_id,
        object_label=_history_label(source, row, names),
        object_url=_admin_url(source.live_model, row.id) if row.history_type != "-" else "",
        action=action,
        who=_who(row.history_user),
        why=row.history_change_reason or "",
        contact_id=_contact_id(source, row),
        changes=changes,
        record=row,
    )


def _history_label(source: Source, row, names: Names) -> str:
    """'User: Dana Reyes', 'Suppression of Priya Natarajan (+1••••••••42)'; the id only
    for what has no name of its own (a settings row)."""
    if source.contact_field:
        return f"{source.verbose_name} of {names.contact(_contact_id(source, row))}"
    if source.key == "accounts.user":
        return f"User: {f'{row.first_name} {row.last_name}'.strip() or row.username}"
    if source.label_field:
        return f"{source.verbose_name}: {getattr(row, source.label_field, '')}"
    return f"{source.verbose_name} #{row.id}"


def _changes(row, before, groups: dict) -> list[tuple[str, str, str]]:
    if before is None:
        if row.history_type != "+":
            return []
        fields = [f for f in row.tracked_fields if f.editable and f.name != "id"]
        return [
            (f.name, "", _shown(value, groups))
            for f in fields
            if (value := getattr(row, f.attname)) not in (None, "", [], {})
        ]
    delta = row.diff_against(before)
    m2m = {field.name for field in row._history_m2m_fields}
    return [
        (
            change.field,
            *(_shown(value, groups, change.field in m2m) for value in (change.old, change.new)),
        )
        for change in delta.changes
    ]


def _shown(value, groups: dict, many: bool = False) -> str:
    """A value as people read it; group memberships as role names."""
    if many:
        names = sorted(groups.get(item.get("group"), str(item)) for item in value or [])
        return ", ".join(names) or "(none)"
    if isinstance(value, datetime):
        return value.isoformat()
    text = "" if value is None else str(value)
    return text if len(text) <= 300 else f"{text[:300]}…"


def _ledger_entry(source: Source, row, previous: dict, names: Names) -> Entry:
    from apps.consent.proof import evidence_summary, record_title

    return Entry(
        at=row.recorded_at,
        source=source,
        pk=row.pk,
        object_label=f"Consent of {names.contact(row.contact_id)}",
        object_url=reverse("admin:consent_consentrecord_proof", args=[row.contact_id]),
        action=record_title(row),
        who=_who(row.actor),
        why=evidence_summary(row),
        contact_id=row.contact_id,
        changes=[("occurred_at", "", row.occurred_at.isoformat())],
        record=row,
    )


def _approval_entry(source: Source, row, previous: dict, names: Names) -> Entry:
    from apps.library.models import TemplateVersion

    version = row.version
    return Entry(
        at=row.at,
        source=source,
        pk=row.pk,
        object_label=f"{version.template.name} v{version.number}",
        object_url=_admin_url(TemplateVersion, row.version_id),
        action=f"{row.get_decision_display()} as {row.get_as_role_display().lower()}",
        who=_who(row.reviewer),
        why=row.comment,
        record=row,
    )


def _retention_entry(source: Source, row, previous: dict, names: Names) -> Entry:
    return Entry(
        at=row.ran_at,
        source=source,
        pk=row.pk,
        object_label=row.get_target_display(),
        object_url=_admin_url(source.live_model, row.pk),
        action=f"Pruned {row.rows} row{'s' if row.rows != 1 else ''}",
        who=_who(row.actor),
        why=f"Retention: older than {row.cutoff:%Y-%m-%d %H:%M}",
        changes=[(name, "", str(count)) for name, count in sorted(row.detail.items())],
        record=row,
    )


def _request_entry(source: Source, row, previous: dict, names: Names) -> Entry:
    """An export or erasure of a person's data: who, when, why and rows per kind."""
    return Entry(
        at=row.at,
        source=source,
        pk=row.pk,
        object_label=names.contact(row.contact_id),
        object_url=_admin_url(source.live_model, row.pk),
        action=row.get_kind_display() + (f" ({row.format})" if row.format else ""),
        who=_who(row.actor),
        why=row.reason,
        contact_id=row.contact_id,
        changes=[(name, "", str(count)) for name, count in row.counts.items()],
        record=row,
    )


def _token_entry(source: Source, row, previous: dict, names: Names) -> Entry:
    """An API token rotated or revoked: whose, by whom, when (never the key)."""
    return Entry(
        at=row.at,
        source=source,
        pk=row.pk,
        object_label=f"API token of {row.user.get_username()}",
        object_url=_admin_url(type(row.user), row.user_id),
        action=row.get_reason_display(),
        who=_who(row.actor),
        why="",
        record=row,
    )


_ENTRY_BUILDERS = {
    "history": _history_entry,
    "ledger": _ledger_entry,
    "approval": _approval_entry,
    "retention": _retention_entry,
    "request": _request_entry,
    "token": _token_entry,
}
