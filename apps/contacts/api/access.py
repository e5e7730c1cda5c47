"""Who may see and change what through the API, beyond the role's model permissions."""

from django.db.models import QuerySet

from apps.accounts.roles import SALES_MANAGER, SALES_REP
from apps.contacts.models import Contact
from apps.core.api.permissions import ModelPermissions


class UpsertPermissions(ModelPermissions):
    """An upsert may create a row or change one, so POST needs both permissions."""

    perms_map = {
        **ModelPermissions.perms_map,
        "POST": ["%(app_label)s.add_%(model_name)s", "%(app_label)s.change_%(model_name)s"],
    }


def contacts_visible_to(user) -> QuerySet[Contact]:
    """A sales rep sees only the contacts they own, a sales manager those owned by the
    members of the teams they manage (DESIGN.md, role table: least privilege); the other
    roles that may view contacts see them all."""
    contacts = Contact.objects.all()
    if user.is_superuser:
        return contacts
    groups = set(user.groups.values_list("name", flat=True))
    if SALES_REP in groups:
        return contacts.filter(owner=user)
    if SALES_MANAGER in groups:
        return contacts.filter(owner__team__manager=user)
    return contacts
