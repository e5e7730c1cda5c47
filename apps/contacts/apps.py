from django.apps import AppConfig


class ContactsConfig(AppConfig):
    """The CRM core: contacts, companies, opportunities, events and segments."""

    name = "apps.contacts"
    label = "contacts"
    verbose_name = "Contacts"
