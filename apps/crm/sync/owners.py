"""CRM owners (HubSpot owners, Salesforce Users) → the Cue users with the same email.

An owner with no Cue user is kept with no user: the admin lists it, and records it owns
are taken without an owner rather than dropped.
"""

from django.contrib.auth import get_user_model

from apps.crm.adapters import CrmRecord
from apps.crm.models import CrmOwner
from apps.crm.sync.context import SyncContext
from apps.crm.sync.tally import Tally


def owners_apply(context: SyncContext, object_type: str, records: list[CrmRecord]) -> Tally:
    tally = Tally()
    # A team has hundreds of users at most: all of them, compared case-insensitively.
    users = {
        email.lower(): pk
        for pk, email in get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .values_list("pk", "email")
    }
    known = {o.record_id: o for o in CrmOwner.objects.filter(system=context.system)}
    for record in records:
        values = {
            "email": _email(record),
            "name": _name(record)[:200],
            "user_id": users.get(_email(record)),
            "archived": record.archived,
        }
        owner = known.get(record.id)
        if owner is None:
            CrmOwner.objects.create(system=context.system, record_id=record.id, **values)
            tally.add("created", record.id)
        elif any(getattr(owner, k) != v for k, v in values.items()):
            CrmOwner.objects.filter(pk=owner.pk).update(**values)
            tally.add("updated", record.id)
        else:
            tally.add("unchanged", record.id)
    _owners_link(context.system, users)
    context.forget()
    return tally


def _owners_link(system: str, users: dict[str, int]) -> None:
    """Owners with no Cue user yet get the one made since with their email: an owner that
    did not change is not read again, but its new user must not wait for it to."""
    unlinked = CrmOwner.objects.filter(system=system, user__isnull=True).exclude(email="")
    for pk, email in unlinked.values_list("pk", "email"):
        if email in users:
            CrmOwner.objects.filter(pk=pk, user__isnull=True).update(user_id=users[email])


def _email(record: CrmRecord) -> str:
    props = record.properties
    return str(props.get("email") or props.get("Email") or "").strip().lower()


def _name(record: CrmRecord) -> str:
    props = record.properties
    if props.get("name") or props.get("Name"):
        return str(props.get("name") or props.get("Name"))
    first = props.get("firstName") or props.get("FirstName") or ""
    last = props.get("lastName") or props.get("LastName") or ""
    return f"{first} {last}".strip()
