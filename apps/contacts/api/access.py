"""Who may see and change what through the API, beyond the role's model permissions."""

from django.db.models import QuerySet

from apps.accounts.roles import SALES_REP
from apps.contacts.models import Contact
from apps.core.api.permissions import ModelPermissions


class UpsertPermissions(ModelPermissions):
    """An upsert may create a row or change one, so POST needs both permissions."""

    perms_map = {
        **ModelPermissions.perms_map,
        "POST": ["%(app_label)s.add_%(model_name)s", "%(app_label)s.change_%(model_name)s"],
    }


def contacts_visible_to(user) -> QuerySet[Contact]:
    """A sales rep sees only the contacts they own (DESIGN.md, role table); the other roles
    that may view contacts see them all."""
    contacts = Contact.objects.all()
    if not user.is_superuser and user.groups.filter(name=SALES_REP).exists():
        return contacts.filter(owner=user)
    return contacts
